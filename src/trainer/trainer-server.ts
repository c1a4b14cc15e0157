import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import type { RepMetrics, SessionMetrics } from "../core/metrics/types"
import type { CueState } from "../core/session/measurement-session"
import type { ProgramStore } from "../program/program-store"
import { bytesOf } from "../platform/buffers"

/** What the trainer reports live, in wire units. */
export interface LiveValues {
    lastSeq: number
    samplesReceived: number
    samplesLost: number
    /** [hPa] */
    pressureHpa: number
    /** [mV] */
    emgMv: number
    /** [hPa] */
    zeroHpa: number
    /** [ms] session sample time */
    sampleTimeMs: number
    probeState: number
    emgContact: number
}

/** What the server asks of the rest of the firmware. */
export interface TrainerBackend {
    sessionState(): number
    cue(): CueState
    startSession(): void
    stopSession(): void
    rep(index: number, channel: number): RepMetrics | undefined
    summary(channel: number): SessionMetrics
    repsPlanned(): number
    lostInSession(): number
    sessionTimeMs(): number
    programs: ProgramStore
    pressButton(button: number): void
    setBatteryLow(low: boolean): void
}

/** Fields of a multi-field command arrive as one array (servercore decodes the packet whole). */
function args(first: any): any[] {
    return Array.isArray(first) ? first : [first]
}

class TrainerServer extends Server implements ds.PftTrainerServerSpec {
    current: LiveValues = {
        lastSeq: 0,
        samplesReceived: 0,
        samplesLost: 0,
        pressureHpa: 0,
        emgMv: 0,
        zeroHpa: 0,
        sampleTimeMs: 0,
        probeState: 0,
        emgContact: 0,
    }
    /** [s] unix time at the moment `clockSetAtMs` (device monotonic) */
    private wallClockAtSetS = 0
    private clockSetAtMs = 0

    constructor(private readonly backend: TrainerBackend) {
        super(ds.PftTrainer.spec)
    }

    sessionState() {
        return this.backend.sessionState()
    }

    live(): [number, number, number, number, number, number, number, number, number] {
        const v = this.current
        return [v.lastSeq, v.samplesReceived, v.samplesLost, v.pressureHpa, v.emgMv, v.zeroHpa, v.sampleTimeMs, v.probeState, v.emgContact]
    }

    wallClock() {
        if (this.wallClockAtSetS === 0) return 0
        return this.wallClockAtSetS + Math.floor((ds.millis() - this.clockSetAtMs) / 1000)
    }

    cue(): [number, number, number, number, number] {
        const c = this.backend.cue()
        return [Math.round(c.startedAtMs), c.cue, c.block, c.repIndex, c.segmentIndex < 0 ? 0 : c.segmentIndex]
    }

    setWallClock(unixTime: number) {
        this.wallClockAtSetS = args(unixTime)[0]
        this.clockSetAtMs = ds.millis()
    }

    startSession() {
        this.backend.startSession()
    }

    stopSession() {
        this.backend.stopSession()
    }

    readRep(repIndex: number, channel: number): any {
        const a = args(repIndex)
        const index = a[0]
        const ch = a.length > 1 ? a[1] : channel
        const r = this.backend.rep(index, ch)
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
        const ch = args(channel)[0]
        const s = this.backend.summary(ch)
        return [
            ch,
            this.backend.sessionState(),
            this.backend.repsPlanned(),
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
            this.backend.lostInSession(),
            Math.round(this.backend.sessionTimeMs()),
        ]
    }

    async pushLive() {
        await this._send(this.spec.lookup("live").encode(this.live()))
    }

    async pushCue() {
        await this._send(this.spec.lookup("cue").encode(this.cue()))
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
        await this.backend.programs.provision(bytesOf(args(key)[0]))
        await this._send(this.spec.lookup("programResult").encode(this.programResult()))
    }

    programChunk(offset: number, total: number, data: Buffer) {
        const a = args(offset)
        this.backend.programs.chunk(a[0], a[1], a[2])
    }

    async programCommit(crc32: number, total: number) {
        const a = args(crc32)
        await this.backend.programs.commit(a[0], a[1])
        await this._send(this.spec.lookup("programResult").encode(this.programResult()))
    }

    readProgram(offset: number): any {
        const at = args(offset)[0]
        return [at, this.backend.programs.envelopeSize(), this.backend.programs.readEnvelope(at)]
    }

    pressButton(button: number) {
        this.backend.pressButton(args(button)[0])
    }

    setBatteryLow(low: boolean) {
        this.backend.setBatteryLow(!!args(low)[0])
    }

    async announceRep(index: number) {
        await this.sendEvent(this.spec.lookup("repFinished").encode(index))
    }

    async announceSessionEnd() {
        await this.sendEvent(this.spec.lookup("sessionFinished").encode([]))
    }
}

export interface TrainerHandle {
    setLive(values: LiveValues): void
    pushLive(): Promise<void>
    pushCue(): Promise<void>
    announceRep(index: number): Promise<void>
    announceSessionEnd(): Promise<void>
}

/** Starts the trainer service the host talks to. */
export function startTrainerServer(backend: TrainerBackend): TrainerHandle {
    const server = new TrainerServer(backend)
    startServer(server, { roleName: "trainer" })
    return {
        setLive: values => {
            server.current = values
        },
        pushLive: async () => await server.pushLive(),
        pushCue: async () => await server.pushCue(),
        announceRep: async index => await server.announceRep(index),
        announceSessionEnd: async () => await server.announceSessionEnd(),
    }
}
