import * as ds from "@devicescript/core"
import { commandArgs } from "../platform/command-args"
import { Server, startServer } from "@devicescript/server"
import { SessionState, type MeasurementSession } from "../core/session/measurement-session"
import { ProgramStatus } from "../core/program/install-status"
import type { ProgramStore } from "../program/program-store"
import type { RunnerStatus } from "../feedback/runner-status"
import { cmH2OToHpa, uvToMv } from "../core/units"
import { bytesOf } from "../platform/buffers"

/**
 * What the server serves: the session, the program store and the runner's
 * status, read directly (each forwarding closure would cost bytecode: the
 * image holds at most 64 KB, docs/engineering.md).
 */
export interface TrainerBackend {
    session: MeasurementSession
    programs: ProgramStore
    status: RunnerStatus
    /** starts the program in force, or the built-in assessment */
    startSession(): Promise<void>
    /** a patient button (ButtonKind), as if pressed on the device */
    pressButton(kind: number): Promise<void>
}


class TrainerServer extends Server implements ds.PftTrainerServerSpec, TrainerHandle {
    lastSeq = 0
    taken = 0
    lost = 0
    /** [s] unix time at the moment `clockSetAtMs` (device monotonic) */
    private wallClockAtSetS = 0
    private clockSetAtMs = 0

    constructor(private readonly backend: TrainerBackend) {
        super(ds.PftTrainer.spec)
    }

    sessionState(): number {
        return this.backend.session.sessionState()
    }

    live(): [number, number, number, number, number, number, number, number, number] {
        const s = this.backend.session
        return [
            this.lastSeq,
            this.taken,
            this.lost,
            cmH2OToHpa(s.pressureCmH2O()),
            uvToMv(s.emgUv()),
            cmH2OToHpa(s.zeroCmH2O()),
            Math.round(s.sampleTimeMs()),
            s.probeState(),
            s.emgContact(),
        ]
    }

    wallClock() {
        if (this.wallClockAtSetS === 0) return 0
        return this.wallClockAtSetS + Math.floor((ds.millis() - this.clockSetAtMs) / 1000)
    }

    cue(): [number, number, number, number, number] {
        const c = this.backend.session.cue()
        return [Math.round(c.startedAtMs), c.cue, c.block, c.repIndex, c.segmentIndex < 0 ? 0 : c.segmentIndex]
    }

    setWallClock(unixTime: number) {
        this.wallClockAtSetS = commandArgs(unixTime)[0]
        this.clockSetAtMs = ds.millis()
    }

    async startSession() {
        await this.backend.startSession()
    }

    stopSession() {
        this.backend.session.stop()
    }

    readRep(repIndex: number, channel: number): any {
        const a = commandArgs(repIndex)
        const index = a[0]
        const ch = a.length > 1 ? a[1] : channel
        const r = this.backend.session.rep(index, ch)
        if (!r) return [index, ch, 0, 0, 0, 0, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0]
        return [
            index,
            ch,
            r.block,
            1,
            Math.round(r.cueOnMs),
            Math.round(r.cueOffMs),
            Math.round(r.onsetMs),
            Math.round(r.offsetMs),
            Math.round(r.onsetLatencyMs),
            Math.round(r.timeToPeakMs),
            Math.round(r.releaseLatencyMs),
            Math.round(r.holdAtTargetMs),
            r.peak,
            r.peakPctMvc,
            r.meanWork,
            r.holdCv,
            r.enduranceDeclinePct,
            r.flags,
        ]
    }

    readSummary(channel: number): any {
        const ch = commandArgs(channel)[0]
        const session = this.backend.session
        const s = session.summary(ch)
        return [
            ch,
            session.sessionState(),
            session.plannedReps(),
            s.repsDone,
            s.preBaseline.mean,
            s.preBaseline.sd,
            s.preBaseline.cv,
            s.postBaseline.mean,
            s.postBaseline.sd,
            s.postBaseline.cv,
            s.mvc,
            s.holdFatiguePct,
            s.enduranceDeclinePct,
            Math.round(s.timeOnTaskMs),
            session.lostInSession(),
            Math.round(session.sampleTimeMs()),
        ]
    }

    led(): any {
        return this.backend.status.led()
    }

    runner(): any {
        return this.backend.status.runner()
    }

    /** Sends register `name`'s value now as a report (one method for the four: device bytecode is scarce). */
    async push(name: PushedReport) {
        const value = name === "live" ? this.live() : name === "cue" ? this.cue() : name === "led" ? this.led() : this.runner()
        await this._send(this.spec.lookup(name).encode(value))
    }

    programVersion() {
        return this.backend.programs.programVersion()
    }

    clinicKeyId() {
        return this.backend.programs.clinicKeyId()
    }

    programResult(): [number, number, number, string] {
        const r = this.backend.programs.result()
        return [r.seq, r.version, r.status, r.message]
    }

    programSize() {
        return this.backend.programs.envelopeSize()
    }

    async provisionKey(key: Buffer) {
        await this.backend.programs.provision(bytesOf(commandArgs(key)[0]))
        await this._send(this.spec.lookup("programResult").encode(this.programResult()))
    }

    programChunk(offset: number, total: number, data: Buffer) {
        const a = commandArgs(offset)
        this.backend.programs.chunk(a[0], a[1], a[2])
    }

    async programCommit(crc32: number, total: number) {
        const a = commandArgs(crc32)
        const r = await this.backend.programs.commit(a[0], a[1])
        await this._send(this.spec.lookup("programResult").encode(this.programResult()))
        // a new program in force and no session running: restart into it from a clean heap (services/trainer.md)
        const state = this.backend.session.sessionState()
        if (r.status === ProgramStatus.Installed && state !== SessionState.Running && state !== SessionState.Paused && state !== SessionState.Rating) {
            await ds.sleep(50)
            ds.restart()
        }
    }

    readProgram(offset: number): any {
        const at = commandArgs(offset)[0]
        return [at, this.backend.programs.envelopeSize(), this.backend.programs.readEnvelope(at)]
    }

    async pressButton(button: number) {
        await this.backend.pressButton(commandArgs(button)[0])
    }

    setBatteryLow(low: boolean) {
        if (commandArgs(low)[0]) this.backend.session.batteryLow()
        else this.backend.session.batteryIsLow = false
    }

    async announceRep(index: number) {
        await this.sendEvent(this.spec.lookup("repFinished").encode(index))
    }

    async announceSessionEnd() {
        await this.sendEvent(this.spec.lookup("sessionFinished").encode([]))
    }
}

/** the registers the firmware pushes as reports (services/trainer.md) */
export type PushedReport = "live" | "cue" | "led" | "runner"

export interface TrainerHandle {
    /** the last probe sample the session took (the `live` report's last_seq) */
    lastSeq: number
    /** samples the session took, and those lost before them, up to `lastSeq` (samples_received, samples_lost): counted as they are taken, not as they arrive, so a report agrees with its last_seq */
    taken: number
    lost: number
    /** sends the register's value now as a report */
    push(name: PushedReport): Promise<void>
    announceRep(index: number): Promise<void>
    announceSessionEnd(): Promise<void>
}

/** Starts the trainer service the host talks to. */
export function startTrainerServer(backend: TrainerBackend): TrainerHandle {
    const server = new TrainerServer(backend)
    startServer(server, { roleName: "trainer" })
    return server
}
