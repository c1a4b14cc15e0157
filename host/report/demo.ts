/**
 * A demo archive for the progress report: a simulated patient who starts
 * hypertonic and relaxes over six weeks of home sessions.
 *
 * The patient (a seeded model, repeatable): EMG rest tone falls from about
 * 12.5 uV to about 4 uV and its variability with it, so the relaxation gate
 * (rest tone under 5 uV, SD under 1.5 uV, for 20 s) is never met in week 1
 * and nearly always from week 3; MVC rises once toning starts; release
 * after a contraction gets quicker; pain ratings fall. Some days are
 * missed (about one in eight, and a weekend away), two sessions stop early
 * (stop button, low battery), one stimulation stops on lead-off.
 *
 * Nothing is inserted by hand: every session is a list of the firmware's
 * own records (src/core/log/records.ts), with a 10 Hz trace from which its
 * summary is computed. `via: "pull"` (the default) appends them to the
 * firmware's LogStore on a simulated W25Q flash, encrypted, and pulls them
 * with `pft logs pull`'s own pipeline at two clinic visits (half-way, when
 * program version 2 is pushed, and at the end). `via: "save"` skips the
 * flash and the link: each record is encoded, decoded and checked by the
 * same codec and saved with Archive.saveBatch, as the pull's save step
 * does; a year of sessions builds in seconds that way (bench/report.ts).
 */
import { join } from "node:path"
import { MemoryNor } from "../../src/core/log/memory-nor"
import {
    decodeRecord,
    encodeRecord,
    EventCode,
    LogChannel,
    PhaseOutcome,
    RecordKind,
    sessionHeader,
    SessionOutcome,
    StopCause,
    TimeSync,
    TRACE_MISSING,
    traceSample,
    type ChannelSummary,
    type LogRecord,
    type RecordCipher,
    type RepRecord,
} from "../../src/core/log/records"
import { LogStore } from "../../src/core/log/store"
import { PHASE_KINDS, type Program } from "../../src/core/program/types"
import { Block } from "../../src/core/protocol/assessment"
import { FaultCause } from "../../src/core/runner/types"
import { Archive } from "../archive/archive"
import { logCipher } from "../logs/cipher"
import { pullLogs } from "../logs/pull"
import { StoreLogSource } from "../logs/source"
import type { VerifiedRecord } from "../logs/verify"
import { DEMO_GATE_HOLD_S, DEMO_GATE_SD_UV, DEMO_GATE_UV, DEMO_PATIENT, demoProgram } from "./demo-program"

export const DEMO_DEVICE_ID = "d3a0c0ffee5e55f1"
export const DEMO_STORE_ID = 0x0de70001
/** The demo clinic key (not a secret: it only encrypts the simulated flash). */
export const DEMO_CLINIC_KEY = Buffer.alloc(32, 0x6d)
/** [ms] of trace per sample: the firmware traces at 10 Hz */
const TRACE_MS = 100
/** samples per trace record, as the firmware writes them */
const CHUNK = 50

export interface DemoOptions {
    /** archive file to create (or add to) */
    file: string
    patientRef?: string
    /** first day of the program (local midnight of this date; default Monday 2026-09-07) */
    start?: Date
    /** default 42 (six weeks) */
    days?: number
    /** seeds the patient model (default 7) */
    seed?: number
    /** "pull" (default): through the firmware's LogStore and the pull; "save": codec + Archive.saveBatch */
    via?: "pull" | "save"
    /** days with no session besides the random ones (default: a weekend away in week 3) */
    missedDays?: number[]
    /** share of days missed at random (default 0.12) */
    missRate?: number
    /** device id (several demo patients in one archive need one each) */
    deviceId?: string
    /** the records' cipher (default: encrypted with the demo clinic key) */
    encrypted?: boolean
}

/** What the model made, for tests and the report's `until`. */
export interface DemoResult {
    file: string
    patientRef: string
    /** [ms] local midnight of the first day */
    startMs: number
    /** [ms] local midnight after the last day: the report's end */
    untilMs: number
    sessions: DemoSessionTruth[]
}

export interface DemoSessionTruth {
    day: number
    startWallMs: number
    programVersion: number
    /** [uV] the model's rest tone today */
    restUv: number
    gateMet: boolean
    outcome: SessionOutcome
    records: number
}

/** Mulberry32: small, seeded, repeatable. */
function rng(seed: number): () => number {
    let a = seed >>> 0
    return () => {
        a = (a + 0x6d2b79f5) >>> 0
        let t = a
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}

function gauss(r: () => number): number {
    return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** The patient on one day: what her muscles do today (the model's truth). */
interface DayState {
    /** [uV] EMG rest tone and its SD at the start of the session */
    restUv: number
    restSdUv: number
    /** [uV] the lowest rest tone she reaches in relaxation work today */
    relaxedUv: number
    /** [uV] MVC today */
    mvcUv: number
    /** [cmH2O] resting pressure above the insertion zero, and the MVC squeeze */
    restCmH2O: number
    mvcCmH2O: number
    /** [ms] from the end of the cue to back at rest */
    releaseMs: number
    /** [ms] onset after the cue */
    onsetMs: number
    /** [s] of a 6 s hold she keeps at the target */
    holdS: number
    /** [mA] the stim intensity she turns up to */
    stimMa: number
    pain: number
}

function dayState(day: number, days: number, r: () => number): DayState {
    const tau = Math.max(1, days / 3.5) // about 12 days over six weeks
    const left = Math.exp(-day / tau) // 1 at the start, ~0.03 at the end
    const restUv = Math.max(2.5, 4 + 8.5 * left + 0.5 * gauss(r))
    const restSdUv = Math.max(0.3, 0.7 + 2.6 * left + 0.15 * gauss(r))
    return {
        restUv,
        restSdUv,
        relaxedUv: Math.max(1.5, restUv * 0.62 + 0.6 * gauss(r)),
        mvcUv: 21 + 17 * (1 - left) + 1.5 * gauss(r),
        restCmH2O: Math.max(0.3, 1.2 + 3.5 * left + 0.3 * gauss(r)),
        mvcCmH2O: 16 + 14 * (1 - left) + 1.2 * gauss(r),
        releaseMs: Math.max(250, 350 + 1400 * left + 80 * gauss(r)),
        onsetMs: Math.max(180, 420 - 120 * (1 - left) + 40 * gauss(r)),
        holdS: Math.min(6, Math.max(1, 3 + 2.4 * (1 - left) + 0.3 * gauss(r))),
        stimMa: Math.min(24, Math.max(6, Math.round((8 + 7 * (day / days) + gauss(r)) * 2) / 2)),
        pain: Math.max(0, Math.min(10, Math.round(6.5 - 4.5 * (1 - left) + 0.7 * gauss(r)))),
    }
}

/** How a session ends early, if it does. */
type Ending = "completed" | "button" | "battery"

interface SessionPlanInput {
    program: Program
    state: DayState
    ending: Ending
    /** stimulation stops on lead-off in this session */
    leadOff: boolean
    startWallMs: number
    bootCount: number
    deviceId: string
    r: () => number
}

/** One channel's trace being built: sample k at k x 100 ms, NaN = missing. */
class Track {
    readonly v: number[] = []
    push(x: number) {
        this.v.push(x)
    }
}

interface RepPlan {
    block: number
    repIndex: number
    cueOnMs: number
    cueOffMs: number
    /** share of MVC reached */
    share: number
    /** [ms] kept at the target (holds) */
    holdMs: number
}

const kindCode = (k: (typeof PHASE_KINDS)[number]) => PHASE_KINDS.indexOf(k)

function stats(xs: number[]): { mean: number; sd: number } {
    const ok = xs.filter(x => !Number.isNaN(x))
    if (ok.length === 0) return { mean: 0, sd: 0 }
    const mean = ok.reduce((a, b) => a + b, 0) / ok.length
    const sd = Math.sqrt(ok.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ok.length - 1))
    return { mean, sd }
}

/**
 * One session's records, as the firmware writes them: header, phases (a
 * toning phase the gate does not allow is ended at once with
 * GateNotMet), gate, rep, stim, stop, fault and pain events, the 10 Hz
 * trace in 50-sample chunks (EMG blanked under stimulation), and the
 * summary computed from that trace. The trace is quantised before the
 * summary is computed, so the summary is what the firmware would find in
 * the samples it logged.
 */
export function demoSessionRecords(p: SessionPlanInput): { records: LogRecord[]; gateMet: boolean } {
    const { program, state: s, r } = p
    const emg = new Track()
    const prs = new Track()
    const recs: LogRecord[] = []
    const late: LogRecord[] = [] // phase, rep and event records, in time order, interleaved with the trace below
    let t = 0 // [ms] session time of the next sample
    let tone = s.restUv // current EMG rest tone
    let toneCm = s.restCmH2O
    let gateMet = false
    let stopped = false
    const reps: RepPlan[] = []
    const stopAtMs = p.ending === "button" ? 200_000 : p.ending === "battery" ? 560_000 : Infinity
    const sample = (emgUv: number, cm: number) => {
        emg.push(emgUv)
        prs.push(cm)
        t += TRACE_MS
    }
    const restSample = (sdScale: number) => sample(Math.max(0.2, tone + s.restSdUv * sdScale * gauss(r)), Math.max(0, toneCm + 0.25 * gauss(r)))
    const until = (endMs: number, each: () => void): boolean => {
        while (t < endMs) {
            if (t >= stopAtMs) return false
            each()
        }
        return true
    }
    const event = (timeMs: number, code: EventCode, cause: number, value: number, extra: number) =>
        late.push({ kind: RecordKind.Event, timeMs, code, cause, value: Math.round(value), extra: Math.round(extra) })
    const phaseStart = (i: number) => late.push({ kind: RecordKind.PhaseStart, phaseIndex: i, phaseKind: kindCode(program.phases[i].kind), timeMs: t })
    const phaseEnd = (i: number, outcome: PhaseOutcome, repsDone: number) =>
        late.push({ kind: RecordKind.PhaseEnd, phaseIndex: i, phaseKind: kindCode(program.phases[i].kind), timeMs: t, outcome, repsDone })
    const stop = (i: number) => {
        stopped = true
        const cause = p.ending === "button" ? StopCause.Button : StopCause.LowBattery
        event(t, EventCode.Stop, cause, 0, 0)
        phaseEnd(i, PhaseOutcome.Stopped, 0)
    }
    const criterion = program.relaxation!
    const gateUv = criterion.restToneMaxUv ?? DEMO_GATE_UV
    let baselines = 0
    const contraction = (rp: RepPlan, work: () => void) => {
        // before the cue: at rest; the contraction starts onsetMs after the cue, holds, releases over releaseMs
        const onset = rp.cueOnMs + s.onsetMs
        const release = rp.cueOffMs
        const relEnd = release + s.releaseMs
        while (t < relEnd + 1000) {
            let a = 0
            if (t >= onset && t < release) a = Math.min(1, (t - onset) / 400)
            else if (t >= release && t < relEnd) a = 1 - (t - release) / s.releaseMs
            if (t >= onset && t < release && rp.holdMs > 0 && t > onset + 400 + rp.holdMs) a *= 0.8 // fatigue: drops under the target
            work()
            const e = tone + a * (s.mvcUv * rp.share - tone) + 0.6 * gauss(r)
            const c = toneCm + a * (s.mvcCmH2O * rp.share - toneCm) + 0.3 * gauss(r)
            emg.v[emg.v.length - 1] = Math.max(0.2, e)
            prs.v[prs.v.length - 1] = Math.max(0, c)
        }
        reps.push(rp)
    }
    for (let i = 0; i < program.phases.length && !stopped; i++) {
        const ph = program.phases[i]
        phaseStart(i)
        const t0 = t
        if (ph.kind === "baseline") {
            baselines++
            if (!until(t0 + ph.durationS * 1000, () => restSample(1))) stop(i)
            else phaseEnd(i, PhaseOutcome.Completed, 0)
        } else if (ph.kind === "relax") {
            // rest tone falls toward today's relaxed level (time constant 60 s); the gate: under the level for holdS
            const from = tone
            const fromCm = toneCm
            const target = s.relaxedUv
            const sdAt = (ms: number) => 0.45 + (s.restSdUv * 0.5 - 0.45) * Math.exp(-ms / 90_000)
            let under = -1
            const ok = until(t0 + ph.durationS * 1000, () => {
                const el = t - t0
                tone = target + (from - target) * Math.exp(-el / 60_000)
                toneCm = fromCm * 0.6 + fromCm * 0.4 * Math.exp(-el / 60_000)
                const sd = sdAt(el)
                sample(Math.max(0.2, tone + sd * gauss(r)), Math.max(0, toneCm + 0.2 * gauss(r)))
                if (!gateMet && tone < gateUv && sd < (criterion.restToneSdMaxUv ?? DEMO_GATE_SD_UV)) {
                    if (under < 0) under = t
                    if (t - under >= (criterion.holdS ?? DEMO_GATE_HOLD_S) * 1000) {
                        gateMet = true
                        event(t, EventCode.GateMet, LogChannel.Emg, tone * 100, t - under)
                    }
                } else if (!gateMet) under = -1
            })
            if (!ok) stop(i)
            else {
                const nextToning = program.phases.findIndex((q, j) => j > i && (q.kind === "flicks" || q.kind === "holds"))
                if (!gateMet && nextToning > i && i === 1) event(t, EventCode.GateNotMet, LogChannel.Emg, target * 100, nextToning)
                phaseEnd(i, PhaseOutcome.Completed, 0)
            }
        } else if (ph.kind === "flicks" || ph.kind === "holds") {
            if (!gateMet) {
                phaseEnd(i, PhaseOutcome.GateNotMet, 0)
                continue
            }
            const onMs = (ph.kind === "flicks" ? ph.onS : ph.workS) * 1000
            const offMs = (ph.kind === "flicks" ? ph.offS : ph.restS) * 1000
            let done = 0
            for (let k = 0; k < ph.reps && !stopped; k++) {
                const cueOn = t0 + k * (onMs + offMs) + 1000
                if (!until(cueOn, () => restSample(0.5))) {
                    stop(i)
                    break
                }
                const share = ph.kind === "flicks" ? (k === 3 ? 1 : 0.6 + 0.25 * r()) : 0.42 + 0.06 * r()
                contraction(
                    { block: ph.kind === "flicks" ? Block.Flicks : Block.Holds, repIndex: k, cueOnMs: cueOn, cueOffMs: cueOn + onMs, share, holdMs: ph.kind === "holds" ? s.holdS * 1000 : 0 },
                    () => restSample(0.5)
                )
                done++
            }
            if (!stopped && until(t0 + ph.reps * (onMs + offMs) + 1000, () => restSample(0.5))) phaseEnd(i, PhaseOutcome.Completed, done)
            else if (!stopped) stop(i)
        } else if (ph.kind === "stim") {
            // the patient turns the intensity up in 1 mA steps to today's level; EMG is blanked under stimulation
            let levelUa = 0
            let off = false
            const leadOffAt = t0 + 60_000
            const ok = until(t0 + ph.durationS * 1000, () => {
                const el = t - t0
                if (!off && levelUa < s.stimMa * 1000 && el >= 5000 && el % 4000 === 0) {
                    const next = Math.min(s.stimMa * 1000, levelUa + 1000)
                    event(t, EventCode.StimLevel, 1, next, levelUa)
                    levelUa = next
                }
                if (p.leadOff && !off && t >= leadOffAt) {
                    off = true
                    event(t, EventCode.Fault, FaultCause.Electrodes, 8200, 0)
                    event(t, EventCode.StimStop, StopCause.LeadOff, 0, 0)
                }
                tone = Math.max(s.relaxedUv, tone * 0.9995)
                sample(off ? Math.max(0.2, tone + 0.5 * gauss(r)) : NaN, Math.max(0, toneCm + 0.25 * gauss(r)))
            })
            if (!ok) stop(i)
            else {
                if (!off) event(t, EventCode.StimStop, StopCause.Completed, 0, 0)
                phaseEnd(i, p.leadOff ? PhaseOutcome.Fault : PhaseOutcome.Completed, 0)
            }
        }
    }
    if (!stopped) event(t, EventCode.PainRating, 0, s.pain, 0)
    const endMs = t

    // the trace, quantised as logged, then the records in time order with the trace chunks
    const emgX10 = emg.v.map(traceSample)
    const prsX10 = prs.v.map(traceSample)
    const timeline: { at: number; rec: LogRecord }[] = late.map(rec => ({ at: "timeMs" in rec ? rec.timeMs : 0, rec }))
    for (let at = 0; at < emgX10.length; at += CHUNK) {
        const n = Math.min(CHUNK, emgX10.length - at)
        // a chunk is written when its last sample is in
        timeline.push({
            at: (at + n) * TRACE_MS - 1,
            rec: { kind: RecordKind.Trace, startMs: at * TRACE_MS, intervalMs: TRACE_MS, pressureCmH2OX10: prsX10.slice(at, at + n), emgUvX10: emgX10.slice(at, at + n) },
        })
    }
    // rep records follow their rep's release
    const repRecs: RepRecord[] = []
    for (const rp of reps) for (const ch of [LogChannel.Emg, LogChannel.Pressure]) repRecs.push(repRecord(rp, ch, ch === LogChannel.Emg ? emgX10 : prsX10, s))
    for (const rr of repRecs) timeline.push({ at: rr.cueOffMs + s.releaseMs + 1000, rec: rr })
    timeline.sort((a, b) => a.at - b.at)

    recs.push(
        sessionHeader({
            bootCount: p.bootCount,
            startMonoMs: 3_600_000,
            startWallMs: p.startWallMs,
            timeSync: TimeSync.Host,
            deviceId: p.deviceId,
            firmwareVersion: "0.1.0",
            programId: program.programId,
            programVersion: program.programVersion,
        })
    )
    for (const x of timeline) recs.push(x.rec)
    const summaries = [LogChannel.Emg, LogChannel.Pressure].map(ch =>
        channelSummary(ch, ch === LogChannel.Emg ? emgX10 : prsX10, repRecs.filter(x => x.channel === ch), { program, endMs, stopped, baselines })
    )
    recs.push({
        kind: RecordKind.Summary,
        endMs,
        outcome: stopped ? SessionOutcome.Stopped : SessionOutcome.Completed,
        stopCause: stopped ? (p.ending === "button" ? StopCause.Button : StopCause.LowBattery) : StopCause.Completed,
        channels: summaries,
    })
    return { records: recs, gateMet }
}

/** The rep's metrics measured on the logged trace, as the firmware's analyzer reports them. */
function repRecord(rp: RepPlan, channel: LogChannel, x10: number[], s: DayState): RepRecord {
    const i0 = Math.floor(rp.cueOnMs / TRACE_MS)
    const i1 = Math.min(x10.length, Math.ceil((rp.cueOffMs + s.releaseMs) / TRACE_MS))
    let peak = -Infinity
    let at = i0
    let sum = 0
    let n = 0
    for (let i = i0; i < i1; i++) {
        if (x10[i] === TRACE_MISSING) continue
        if (x10[i] > peak) {
            peak = x10[i]
            at = i
        }
        if (i * TRACE_MS < rp.cueOffMs) {
            sum += x10[i]
            n++
        }
    }
    const mvc = channel === LogChannel.Emg ? s.mvcUv : s.mvcCmH2O
    const onsetMs = Math.round(rp.cueOnMs + s.onsetMs)
    const offsetMs = Math.round(rp.cueOffMs + s.releaseMs)
    return {
        kind: RecordKind.Rep,
        channel,
        block: rp.block,
        repIndex: rp.repIndex,
        flags: 0,
        cueOnMs: rp.cueOnMs,
        cueOffMs: rp.cueOffMs,
        onsetMs,
        offsetMs,
        onsetLatencyMs: Math.round(s.onsetMs),
        timeToPeakMs: Math.max(0, at * TRACE_MS - onsetMs),
        releaseLatencyMs: Math.round(s.releaseMs),
        holdAtTargetMs: Math.round(rp.holdMs > 0 ? Math.min(rp.holdMs, rp.cueOffMs - onsetMs) : 0),
        peakX100: peak * 10,
        meanWorkX100: n ? Math.round((sum / n) * 10) : 0,
        peakPctMvcX10: Math.round(((peak / 10) * 1000) / mvc),
        holdCvX1000: rp.holdMs > 0 ? 80 : 0,
        enduranceDeclinePctX10: 0,
    }
}

/** The summary of one channel from the logged trace: rest before (first baseline), rest after (last baseline), MVC = largest rep peak. */
function channelSummary(channel: LogChannel, x10: number[], reps: RepRecord[], o: { program: Program; endMs: number; stopped: boolean; baselines: number }): ChannelSummary {
    const first = o.program.phases[0]
    const last = o.program.phases[o.program.phases.length - 1]
    const preN = first.kind === "baseline" ? (first.durationS * 1000) / TRACE_MS : 0
    const postN = !o.stopped && o.baselines > 1 && last.kind === "baseline" ? (last.durationS * 1000) / TRACE_MS : 0
    const phys = (xs: number[]) => xs.map(v => (v === TRACE_MISSING ? NaN : v / 10))
    const pre = stats(phys(x10.slice(0, preN)))
    const post = postN > 0 ? stats(phys(x10.slice(x10.length - postN))) : { mean: 0, sd: 0 }
    const holds = reps.filter(r => r.block === Block.Holds)
    const peaks = holds.map(r => r.peakX100)
    const fatigue = peaks.length >= 2 ? ((peaks[0] - peaks[peaks.length - 1]) / peaks[0]) * 100 : 0
    const x100 = (v: number) => Math.floor(v * 100 + 0.5)
    return {
        channel,
        preMeanX100: x100(pre.mean),
        preSdX100: x100(pre.sd),
        preCvX1000: pre.mean > 0 ? Math.floor((pre.sd / pre.mean) * 1000 + 0.5) : 0,
        preDurationMs: preN * TRACE_MS,
        postMeanX100: x100(post.mean),
        postSdX100: x100(post.sd),
        postCvX1000: post.mean > 0 ? Math.floor((post.sd / post.mean) * 1000 + 0.5) : 0,
        postDurationMs: postN * TRACE_MS,
        mvcX100: reps.length ? Math.max(...reps.map(r => r.peakX100)) : 0,
        repsPlanned: o.program.phases.reduce((n, ph) => n + (ph.kind === "flicks" || ph.kind === "holds" ? ph.reps : 0), 0),
        repsDone: reps.length,
        holdFatiguePctX10: Math.round(fatigue * 10),
        enduranceDeclinePctX10: 0,
        timeOnTaskMs: reps.reduce((n, r) => n + (r.cueOffMs - r.cueOnMs), 0),
    }
}

/** [ms] local midnight of `date`'s day plus `days` */
function localDay(date: Date, days: number): number {
    return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days).getTime()
}

export interface DemoSession {
    day: number
    records: LogRecord[]
    truth: DemoSessionTruth
}

/** The demo patient's sessions, day by day (no archive involved). */
export function demoSessions(o: Omit<DemoOptions, "file" | "via"> = {}): { sessions: DemoSession[]; startMs: number; untilMs: number; programs: Program[] } {
    const days = o.days ?? 42
    const start = o.start ?? new Date(2026, 8, 7)
    const patientRef = o.patientRef ?? DEMO_PATIENT
    const r = rng(o.seed ?? 7)
    const missed = new Set(o.missedDays ?? [19, 20])
    const missRate = o.missRate ?? 0.12
    const half = Math.floor(days / 2)
    const programs = [demoProgram(1, patientRef), demoProgram(2, patientRef)]
    const sessions: DemoSession[] = []
    for (let d = 0; d < days; d++) {
        const state = dayState(d, days, r)
        const skip = r() < missRate
        const minuteOfDay = 19 * 60 + 30 + Math.round(40 * gauss(r))
        const ending: Ending = d === Math.round(days * 0.22) ? "button" : d === Math.round(days * 0.79) ? "battery" : "completed"
        const leadOff = d === Math.round(days * 0.62)
        // the first day, the early stops and the lead-off always happen: the report shows each
        if (missed.has(d) || (skip && d > 0 && ending === "completed" && !leadOff)) continue
        const program = d < half ? programs[0] : programs[1]
        const startWallMs = localDay(start, d) + minuteOfDay * 60_000 + Math.floor(r() * 60_000)
        const { records, gateMet } = demoSessionRecords({
            program,
            state,
            ending,
            leadOff,
            startWallMs,
            bootCount: 1 + Math.floor(d / 5),
            deviceId: o.deviceId ?? DEMO_DEVICE_ID,
            r,
        })
        sessions.push({
            day: d,
            records,
            truth: {
                day: d,
                startWallMs,
                programVersion: program.programVersion,
                restUv: state.restUv,
                gateMet,
                outcome: ending === "completed" ? SessionOutcome.Completed : SessionOutcome.Stopped,
                records: records.length,
            },
        })
    }
    return { sessions, startMs: localDay(start, 0), untilMs: localDay(start, days), programs }
}

/** Builds the demo archive (see the module comment); returns what the model made. */
export async function buildDemoArchive(o: DemoOptions): Promise<DemoResult> {
    const plan = demoSessions(o)
    const patientRef = o.patientRef ?? DEMO_PATIENT
    const deviceId = o.deviceId ?? DEMO_DEVICE_ID
    const cipher = o.encrypted === false ? undefined : logCipher(DEMO_CLINIC_KEY, DEMO_STORE_ID)
    const archive = Archive.open(o.file)
    try {
        const half = plan.sessions.findIndex(s => s.truth.programVersion === 2)
        const visits = [plan.sessions.slice(0, half < 0 ? plan.sessions.length : half), half < 0 ? [] : plan.sessions.slice(half)]
        if ((o.via ?? "pull") === "pull") await viaPull(archive, visits, plan.programs, { deviceId, cipher })
        else viaSave(archive, plan.sessions, plan.programs, { deviceId, cipher })
    } finally {
        archive.close()
    }
    return { file: o.file, patientRef, startMs: plan.startMs, untilMs: plan.untilMs, sessions: plan.sessions.map(s => s.truth) }
}

/** The trainer's flash and the pull, at two clinic visits: each pull acknowledges, so the store frees the space. */
async function viaPull(archive: Archive, visits: DemoSession[][], programs: Program[], o: { deviceId: string; cipher?: RecordCipher }) {
    const nor = new MemoryNor({ geometry: { sectorSize: 4096, pageSize: 256, sectorCount: 512 } })
    const store = new LogStore(nor, { cipher: o.cipher, newStoreId: DEMO_STORE_ID })
    await store.recover()
    for (let v = 0; v < visits.length; v++) {
        for (const s of visits[v]) for (const rec of s.records) await store.append(rec)
        const program = programs[Math.min(v, programs.length - 1)]
        const source = new StoreLogSource(store, {
            deviceId: o.deviceId,
            program: { programId: program.programId, programVersion: program.programVersion, patientRef: program.patientRef, programJson: JSON.stringify(program) },
        })
        await pullLogs({ archive, connect: async () => source, cipherFor: () => o.cipher, keepOpen: true, inFlight: 8 })
    }
}

/** The same records through the codec and the archive's save step, without flash or link (fast). */
function viaSave(archive: Archive, sessions: DemoSession[], programs: Program[], o: { deviceId: string; cipher?: RecordCipher }) {
    saveSessionsDirect(archive, sessions.map(s => s.records), { deviceId: o.deviceId, cipher: o.cipher, programs })
}

export interface DirectSaveOptions {
    deviceId: string
    storeId?: number
    cipher?: RecordCipher
    /** recorded first (with their documents), so the sessions find their patient */
    programs: Program[]
    /** the device's first session number (default 1) and sequence number (default 1) */
    firstSession?: number
    firstSeq?: number
}

/**
 * Saves whole sessions as the pull's save step does, in one transaction:
 * each record is encoded (and encrypted with `cipher`), decoded and checked
 * by the firmware's codec, and handed to Archive.saveBatch with the
 * device's listing of the session. No flash, no link: for building big
 * archives (bench/report.ts).
 */
export function saveSessionsDirect(archive: Archive, sessions: LogRecord[][], o: DirectSaveOptions): void {
    const storeId = o.storeId ?? DEMO_STORE_ID
    archive.db.transaction(() => {
        for (const p of o.programs) archive.recordProgram({ programId: p.programId, programVersion: p.programVersion, patientRef: p.patientRef, programJson: JSON.stringify(p) })
        const deviceRow = archive.upsertDevice(o.deviceId)
        let seq = o.firstSeq ?? 1
        sessions.forEach((recs, i) => {
            const session = (o.firstSession ?? 1) + i
            const records: VerifiedRecord[] = []
            let offset = 0
            for (const rec of recs) {
                const frame = encodeRecord(rec, { session, seq: seq++ }, o.cipher)
                records.push({ offset, frame, decoded: decodeRecord(frame, 0, o.cipher) })
                offset += frame.length
            }
            const header = recs[0] as Extract<LogRecord, { kind: RecordKind.SessionHeader }>
            const state = archive.noteListed(deviceRow, storeId, {
                session,
                firstSeq: records[0].decoded.seq,
                lastSeq: records[records.length - 1].decoded.seq,
                sizeBytes: offset,
                startMonoMs: header.startMonoMs,
                startWallMs: header.startWallMs,
                timeSync: header.timeSync,
                bootCount: header.bootCount,
                hasHeader: true,
                complete: true,
                open: false,
                archived: false,
                ackedSeq: 0,
            })
            archive.saveBatch(state.id, { records, quarantine: [], bytesStored: offset, lastSeqStored: records[records.length - 1].decoded.seq }, { deviceId: o.deviceId })
        })
    })()
}

/** Default file for `pft report --demo --out DIR`. */
export function demoArchiveFile(dir: string): string {
    return join(dir, "demo-archive.sqlite")
}
