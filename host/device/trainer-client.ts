/**
 * The host's view of the trainer service (services/trainer.md): finds it on
 * a bus and decodes its live reports. Formats come from the spec.
 */
import { crc32 as zlibCrc32 } from "node:zlib"
import * as jd from "jacdac-ts"
import { ProgramStatus } from "../../src/core/program/install-status"
import { hpaToCmH2O, mvToUv } from "../../src/core/units"
import type { RepMetrics, RestMetrics, SessionMetrics } from "../../src/core/metrics/types"
import { Channel } from "../../src/core/session/measurement-session"
import { PHASE_KINDS } from "../../src/core/program/types"
import { RunnerFlag } from "../../src/core/protocol/trainer-reports"
import { TRAINER_SERVICE, packetInfo, registerReportCode } from "../spec"
import { currentService, findService, onRegisterReport, onServiceReport, readRegisterValues } from "./jd-service"

/** A live report, in the units people read. */
export interface LiveReport {
    lastSeq: number
    samplesReceived: number
    samplesLost: number
    /** [cmH2O] relative to zeroCmH2O once the probe is ready */
    pressureCmH2O: number
    /** [uV] */
    emgUv: number
    /** [cmH2O] */
    zeroCmH2O: number
    /** [ms] session sample time */
    sampleTimeMs: number
    probeState: ProbeStateName
    emgContact: EmgContactName
    /** [ms] host clock when it arrived */
    receivedAtMs: number
}

export const PROBE_STATES = ["not inserted", "zeroing", "ready", "removed"] as const
export type ProbeStateName = (typeof PROBE_STATES)[number]
export const EMG_CONTACTS = ["unknown", "good", "flat line", "saturated", "jumpy", "noisy"] as const
export type EmgContactName = (typeof EMG_CONTACTS)[number]

/** The cue report. */
export interface CueReport {
    /** Cue value (src/core/protocol/assessment.ts) */
    cue: number
    block: number
    repIndex: number
    segmentIndex: number
    /** [ms] session sample time the cue began */
    startedAtMs: number
}

/** A finished rep as the device reports it (RepMetrics of one channel). */
export interface DeviceRep extends RepMetrics {
    channel: Channel
}

export interface DeviceSummary extends SessionMetrics {
    channel: Channel
    sessionState: SessionState
    samplesLost: number
    /** [ms] session sample time */
    durationMs: number
}

export const SESSION_STATES = ["idle", "ready", "running", "paused", "done", "fault", "rating"] as const
export type SessionState = (typeof SESSION_STATES)[number]

/** The LED bar as the patient sees it (the `led` report). */
export interface LedReport {
    /** [ms] session sample time the frame was drawn at */
    sampleTimeMs: number
    /** Blink (src/core/feedback/led-bar.ts): 0 steady, 1 slow, 2 fast */
    blink: number
    /** 0xRRGGBB, pixel 0 at the bottom */
    pixels: number[]
    /** [ms] host clock when it arrived */
    receivedAtMs: number
}

/** The program runner's status (the `runner` report). */
export interface RunnerReport {
    state: SessionState
    /** -1 outside a program's session */
    phaseIndex: number
    /** the phase's kind (PHASE_KINDS), "" outside a session */
    phaseKind: string
    /** relaxation work before (or back from) toning */
    gateWork: boolean
    toning: boolean
    /** the relaxation criterion was met this session */
    gateMet: boolean
    batteryLow: boolean
    /** [%] of the relaxation hold done */
    gateProgressPct: number
    /** Notice (src/core/runner/types.ts): 0 none, 1 gate met, 2 gate not met, 3 spasm sign */
    notice: number
    ratingValue: number
    faultCause: number
    /** [uV or cmH2O, `levelChannel`] NaN unknown */
    level: number
    /** the channel of `level` and the band (flags bit 5) */
    levelChannel: "emg" | "pressure"
    bandLow: number
    bandHigh: number
    /** Up minus Down presses taken as intensity steps in stim phases, modulo 256, since the trainer booted */
    intensitySteps: number
    /** [ms] host clock when it arrived */
    receivedAtMs: number
}

/** phase_kind 255: no phase */
const NO_PHASE_KIND = 255

/** [bytes] envelope bytes per program_chunk command (the packet holds 236) */
const PUSH_CHUNK_BYTES = 200

export interface ProgramResultReport {
    /** counts the device's provisionings and commits since boot */
    seq: number
    version: number
    status: ProgramStatus
    /** the device's own sentence */
    message: string
}

export interface ProgramStatusReport {
    /** 0: none installed */
    version: number
    /** 0: not provisioned */
    keyId: number
    /** [bytes] signed envelope in force */
    size: number
    result: ProgramResultReport
}

export class TrainerClient {
    constructor(private readonly found: jd.JDService) {}

    /** The trainer service now (it restarts into a newly installed program: currentService). */
    get service(): jd.JDService {
        return currentService(this.found)
    }

    /** Calls `handler` for every live report; returns an unsubscribe. */
    onLive(handler: (report: LiveReport) => void): () => void {
        return this.onReport("live", values => {
            const v = values as number[]
            handler({
                lastSeq: v[0],
                samplesReceived: v[1],
                samplesLost: v[2],
                pressureCmH2O: hpaToCmH2O(v[3]),
                emgUv: mvToUv(v[4]),
                zeroCmH2O: hpaToCmH2O(v[5]),
                sampleTimeMs: v[6],
                probeState: PROBE_STATES[v[7]] ?? "not inserted",
                emgContact: EMG_CONTACTS[v[8]] ?? "unknown",
                receivedAtMs: Date.now(),
            })
        })
    }

    /** Resolves with the first live report that satisfies `accept`. */
    nextLive(accept: (r: LiveReport) => boolean, timeoutMs: number): Promise<LiveReport> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                off()
                reject(new Error(`no matching live report from the trainer within ${timeoutMs} ms`))
            }, timeoutMs)
            const off = this.onLive(r => {
                if (!accept(r)) return
                clearTimeout(timer)
                off()
                resolve(r)
            })
        })
    }

    async sessionState(): Promise<SessionState> {
        const v = (await this.readRegister("session_state"))[0] as number | undefined
        return SESSION_STATES[v ?? 0] ?? "idle"
    }

    /** Calls `handler` for every cue report (pushed on change and with each live report). */
    onCue(handler: (cue: CueReport) => void): () => void {
        return this.onReport("cue", values => {
            const [startedAtMs, cue, block, repIndex, segmentIndex] = values as number[]
            handler({ cue, block, repIndex, segmentIndex, startedAtMs })
        })
    }

    /** Calls `handler` for every LED frame the device pushes (on change, and every 500 ms while a program runs). */
    onLed(handler: (led: LedReport) => void): () => void {
        return this.onReport("led", v => handler(decodeLed(v)))
    }

    /** Calls `handler` for every runner status the device pushes (when its state, phase, flags, notice, rating or fault change, every 500 ms while a program runs, and as it ends). */
    onRunner(handler: (runner: RunnerReport) => void): () => void {
        return this.onReport("runner", v => handler(decodeRunner(v)))
    }

    /** The LED frame now. */
    async led(): Promise<LedReport> {
        return decodeLed(await this.readRegister("led"))
    }

    /** The program runner's status now. */
    async runner(): Promise<RunnerReport> {
        return decodeRunner(await this.readRegister("runner"))
    }

    /** Calls `handler` with the unpacked fields of every report of `register`; returns an unsubscribe. */
    private onReport(register: string, handler: (values: unknown[]) => void): () => void {
        return onRegisterReport(this.service, TRAINER_SERVICE, register, handler)
    }

    /** Sends a command and waits for its report, retrying (commands are idempotent). */
    /**
     * Sends command `name` and waits for its report. The report must echo the
     * command's fields (read_rep: rep index and channel; read_summary: the
     * channel; read_program: the offset): the log module asks the trainer the
     * same questions, and its answers reach every client on the bus.
     */
    private async request(name: string, values: unknown[], timeoutMs = 1000, tries = 3): Promise<number[]> {
        const cmd = packetInfo(TRAINER_SERVICE, name, "command")
        const report = packetInfo(TRAINER_SERVICE, name, "report")
        const pkt = jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat ?? "", values as any))
        for (let i = 0; i < tries; i++) {
            let off: () => void = () => {}
            const answer = new Promise<number[] | undefined>(resolve => {
                const timer = setTimeout(() => resolve(undefined), timeoutMs)
                off = onServiceReport(this.service, r => {
                    if (r.serviceCommand !== cmd.identifier) return
                    const v = jd.jdunpack<number[]>(r.data, report.packFormat!)
                    if (!values.every((x, k) => v[k] === x)) return
                    clearTimeout(timer)
                    resolve(v)
                })
            })
            try {
                await this.service.sendPacketAsync(pkt)
                const v = await answer
                if (v) return v
            } finally {
                off()
            }
        }
        throw new Error(`trainer did not answer ${name} after ${tries} tries`)
    }

    private async command(name: string): Promise<void> {
        const cmd = packetInfo(TRAINER_SERVICE, name, "command")
        await this.service.sendPacketAsync(jd.Packet.onlyHeader(cmd.identifier))
    }

    /** Starts the assessment if the probe is ready (idempotent). */
    async startSession(): Promise<void> {
        await this.command("start_session")
    }

    /**
     * Starts a session and waits until it runs. `start_session` is harmless
     * when one runs (services/trainer.md), so a start the trainer missed
     * (busy, or restarting into a newly installed program) is sent again
     * every 200 ms until `timeoutMs`.
     */
    async startRunning(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs
        for (;;) {
            await this.startSession()
            if ((await this.sessionState()) === "running") return
            if (Date.now() > deadline) throw new Error(`the trainer did not start a session within ${timeoutMs} ms of start commands (is the probe in and ready?)`)
            await new Promise(r => setTimeout(r, 200))
        }
    }

    /** Ends the running session (idempotent). */
    async stopSession(): Promise<void> {
        await this.command("stop_session")
    }

    /** A press of one of the patient's buttons (1 start/pause, 2 up, 3 down, 4 stop: the spec's Button). */
    async pressButton(button: number): Promise<void> {
        const cmd = packetInfo(TRAINER_SERVICE, "press_button", "command")
        await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat!, [button])))
    }

    /** The battery monitor's verdict (the simulated power supply): low during a session ends it cleanly after the rep in progress. */
    async setBatteryLow(low: boolean): Promise<void> {
        const cmd = packetInfo(TRAINER_SERVICE, "set_battery_low", "command")
        await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat!, [low ? 1 : 0])))
    }

    /** A finished rep on one channel, or undefined if it has not finished. */
    async readRep(repIndex: number, channel: Channel): Promise<DeviceRep | undefined> {
        const v = await this.request("read_rep", [repIndex, channel])
        if (!v[3]) return undefined
        return {
            repIndex: v[0],
            channel: v[1],
            block: v[2],
            cueOnMs: v[4],
            cueOffMs: v[5],
            onsetMs: v[6],
            offsetMs: v[7],
            onsetLatencyMs: v[8],
            timeToPeakMs: v[9],
            releaseLatencyMs: v[10],
            holdAtTargetMs: v[11],
            peak: v[12],
            peakPctMvc: v[13],
            meanWork: v[14],
            holdCv: v[15],
            enduranceDeclinePct: v[16],
            flags: v[17],
        }
    }

    async readSummary(channel: Channel): Promise<DeviceSummary> {
        const v = await this.request("read_summary", [channel])
        const rest = (mean: number, sd: number, cv: number): RestMetrics => ({ mean, sd, cv, durationMs: 0 })
        return {
            channel: v[0],
            sessionState: SESSION_STATES[v[1]] ?? "idle",
            repsPlanned: v[2],
            repsDone: v[3],
            preBaseline: rest(v[4], v[5], v[6]),
            postBaseline: rest(v[7], v[8], v[9]),
            mvc: v[10],
            holdFatiguePct: v[11],
            enduranceDeclinePct: v[12],
            timeOnTaskMs: v[13],
            samplesLost: v[14],
            durationMs: v[15],
        }
    }

    /**
     * Polls the session state until `accept` says yes. A poll the trainer
     * does not answer (a VM or link busy for a moment) is one that saw
     * nothing: the next one asks again, up to `timeoutMs`, and the error
     * then says what the last poll got.
     */
    async waitForState(accept: (s: SessionState) => boolean, timeoutMs: number): Promise<SessionState> {
        const deadline = Date.now() + timeoutMs
        for (;;) {
            let seen: string
            try {
                const s = await this.sessionState()
                if (accept(s)) return s
                seen = `stayed '${s}'`
            } catch (e) {
                seen = `did not answer (${(e as Error).message})`
            }
            if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for the trainer's session state; at the last poll it ${seen}`)
            await new Promise(r => setTimeout(r, 200))
        }
    }

    private async readRegister(name: string): Promise<unknown[]> {
        return await readRegisterValues(() => this.service, TRAINER_SERVICE, name, "the trainer")
    }

    /** The program in force, the clinic key id and the outcome of the last install or provisioning. */
    async programStatus(): Promise<ProgramStatusReport> {
        const [version] = (await this.readRegister("program_version")) as number[]
        const [keyId] = (await this.readRegister("clinic_key_id")) as number[]
        const [size] = (await this.readRegister("program_size")) as number[]
        const r = await this.readRegister("program_result")
        return {
            version: version ?? 0,
            keyId: keyId ?? 0,
            size: size ?? 0,
            result: { seq: r[0] as number, version: r[1] as number, status: r[2] as ProgramStatus, message: String(r[3] ?? "") },
        }
    }

    /**
     * Sends a command and waits for the program_result report it makes the
     * device push; retries the command (it is idempotent) if none comes.
     */
    private async commandForResult(name: string, values: unknown[], timeoutMs = 2000, tries = 3): Promise<ProgramResultReport> {
        const cmd = packetInfo(TRAINER_SERVICE, name, "command")
        const code = registerReportCode(TRAINER_SERVICE, "program_result")
        const format = packetInfo(TRAINER_SERVICE, "program_result").packFormat!
        // only an outcome newer than the one before the command answers it (reports of earlier reads may still arrive)
        const before = (await this.programStatus()).result.seq
        for (let i = 0; i < tries; i++) {
            const got = new Promise<ProgramResultReport | undefined>(resolve => {
                const timer = setTimeout(() => {
                    off()
                    resolve(undefined)
                }, timeoutMs)
                const off = onServiceReport(this.service, pkt => {
                    if (pkt.serviceCommand !== code) return
                    const v = jd.jdunpack<[number, number, number, string]>(pkt.data, format)
                    if (v[0] <= before) return
                    clearTimeout(timer)
                    off()
                    resolve({ seq: v[0], version: v[1], status: v[2] as ProgramStatus, message: v[3] })
                })
            })
            await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat ?? "", values as any)))
            const r = await got
            if (r) return r
        }
        throw new Error(`the trainer did not answer ${name} after ${tries} tries`)
    }

    /** Installs the clinic key (once; the same key again is harmless). */
    async provisionKey(key: Buffer): Promise<ProgramResultReport> {
        return this.commandForResult("provision_key", [key])
    }

    /**
     * Uploads a signed envelope in chunks and commits it; if the device says
     * the upload is incomplete (a lost chunk), uploads it again (chunks are
     * written at their offset: repeats change nothing).
     */
    async pushProgram(
        envelope: Buffer,
        onProgress?: (sentBytes: number, total: number) => void,
        chunkBytes: number = PUSH_CHUNK_BYTES
    ): Promise<ProgramResultReport> {
        const step = Math.max(1, Math.min(PUSH_CHUNK_BYTES, Math.floor(chunkBytes)))
        const cmd = packetInfo(TRAINER_SERVICE, "program_chunk", "command")
        const crc = zlibCrc32(envelope)
        // the device restarts into a new program unless a session runs
        const inSession = ["running", "paused", "rating"].includes(await this.sessionState())
        let result: ProgramResultReport | undefined
        for (let attempt = 0; attempt < 3; attempt++) {
            for (let at = 0; at < envelope.length; at += step) {
                const data = envelope.subarray(at, Math.min(envelope.length, at + step))
                await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat!, [at, envelope.length, data])))
                onProgress?.(at + data.length, envelope.length)
            }
            const before = this.service
            result = await this.commandForResult("program_commit", [crc, envelope.length])
            if (result.status === ProgramStatus.Installed && !inSession) await this.waitForRestart(before)
            if (result.status !== ProgramStatus.Incomplete) return result
        }
        return result!
    }

    /**
     * After installing a program the device restarts into it when no session
     * runs (services/trainer.md, program_commit): waits until it answers
     * again, reporting its stored program (seq 0: nothing since boot), and
     * jacdac-ts has replaced `before`, the service object of the device
     * before the restart (subscriptions made on that one hear nothing more).
     */
    private async waitForRestart(before: jd.JDService, timeoutMs = 20000): Promise<void> {
        const deadline = Date.now() + timeoutMs
        for (;;) {
            await new Promise(r => setTimeout(r, 200))
            const s = this.service !== before ? await this.programStatus().catch(() => undefined) : undefined
            if (s && s.result.seq === 0) return
            if (Date.now() > deadline)
                throw new Error(`the trainer did not answer within ${timeoutMs} ms of restarting into the new program: check its connection, then run \`pft program show\``)
        }
    }

    /** The signed envelope of the program in force (empty if none). */
    async readProgram(): Promise<Buffer> {
        const parts: Buffer[] = []
        let at = 0
        for (;;) {
            const [offset, total, data] = (await this.request("read_program", [at])) as unknown as [number, number, Uint8Array]
            if (offset !== at) throw new Error(`read_program answered offset ${offset} for ${at}`)
            if (total === 0) return Buffer.alloc(0)
            parts.push(Buffer.from(data))
            at += data.length
            if (at >= total || data.length === 0) break
        }
        return Buffer.concat(parts)
    }

    /** Sets the device's wall clock (idempotent). */
    async setWallClock(unixSeconds: number): Promise<void> {
        const cmd = packetInfo(TRAINER_SERVICE, "set_wall_clock", "command")
        await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat!, [unixSeconds])))
    }

    /** [s] the device's wall clock, 0 if never set. */
    async wallClock(): Promise<number> {
        const reg = this.service.register(packetInfo(TRAINER_SERVICE, "wall_clock").identifier)
        if (!(await reg.refresh())) throw new Error("the trainer did not answer a register read")
        return (reg.unpackedValue?.[0] as number) ?? 0
    }
}

/** The `led` fields; the repeated colours come flat or as one-element rows, depending on the unpacker. */
function decodeLed(v: unknown[]): LedReport {
    const rest = v.slice(3).flat(2) as number[]
    const count = Number(v[2] ?? 0)
    return { sampleTimeMs: Number(v[0] ?? 0), blink: Number(v[1] ?? 0), pixels: rest.slice(0, count), receivedAtMs: Date.now() }
}

/** A `runner` report's unpacked fields (services/trainer.md) as the host reads them. */
export function decodeRunner(v: unknown[]): RunnerReport {
    const n = v.map(x => Number(x))
    const flags = n[3] ?? 0
    return {
        state: SESSION_STATES[n[0]] ?? "idle",
        phaseIndex: n[1] ?? -1,
        phaseKind: n[2] === NO_PHASE_KIND ? "" : (PHASE_KINDS[n[2]] ?? ""),
        gateWork: (flags & RunnerFlag.GateWork) !== 0,
        toning: (flags & RunnerFlag.Toning) !== 0,
        gateMet: (flags & RunnerFlag.GateMet) !== 0,
        batteryLow: (flags & RunnerFlag.BatteryLow) !== 0,
        gateProgressPct: n[4] ?? 0,
        notice: n[5] ?? 0,
        ratingValue: n[6] ?? 0,
        faultCause: n[7] ?? 0,
        level: n[8] ?? NaN,
        levelChannel: (flags & RunnerFlag.LevelPressure) !== 0 ? "pressure" : "emg",
        bandLow: n[9] ?? NaN,
        bandHigh: n[10] ?? NaN,
        intensitySteps: n[11] ?? 0,
        receivedAtMs: Date.now(),
    }
}

/** Waits until a trainer service shows up on `bus`. */
export async function findTrainer(bus: jd.JDBus, timeoutMs: number): Promise<TrainerClient> {
    return new TrainerClient(
        await findService(bus, TRAINER_SERVICE, timeoutMs, `no trainer found on the bus within ${timeoutMs} ms: is the device connected and running its firmware?`)
    )
}
