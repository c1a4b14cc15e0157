/**
 * The firmware's measurement pipeline (src/core/session) run in Node against
 * a patient model, without the VM or the bus: the same core code, so its
 * metrics are the firmware's, only faster. For tuning the metric defaults
 * over many seeds and for the accuracy figures across many sessions; the e2e
 * tests still run the real firmware in the VM.
 *
 * The cue reaches the patient `cueDelaySamples` after the sample that began
 * it: the firmware publishes after each probe report, so at real time (2
 * samples a report) a patient sees a cue about 20 ms late.
 */
import { Cue } from "../../src/core/protocol/assessment"
import { Channel, DEFAULT_MEASUREMENT, MeasurementSession, SessionState, type MeasurementOptions } from "../../src/core/session/measurement-session"
import { cmH2OToHpa, uvToMv } from "../../src/core/units"
import { SESSION_STATES, type DeviceRep, type DeviceSummary } from "../device/trainer-client"
import type { AssessmentRunResult } from "./assessment-run"
import { makeProfile, PatientModel, type PatientProfile, type ProfileName } from "./patient"
import type { Program } from "../../src/core/program/types"
import { ButtonKind, DEFAULT_RUNNER, SessionRunner, type RunnerEvent } from "../../src/core/runner"
import type { PatientRunResult } from "./patient-run"
import { RELEASE_FRACTION, scoreSession, type NoiseFreeTrace } from "./scoring"

export interface OfflineRunOptions {
    profile: ProfileName
    seed: number
    /** the patient's parameters changed from the profile's */
    overrides?: Partial<PatientProfile>
    /** run this therapist program (the session runner, relaxation first) instead of the built-in assessment */
    program?: Program
    /** patient actions at session sample times: button presses and a low battery */
    actions?: OfflineAction[]
    /** [ms] session sample time after which the run stops (default: when the session is done, at most 1 h) */
    maxSessionMs?: number
    /** defaults to the firmware's */
    measurement?: MeasurementOptions
    /** samples between the cue's first sample and the patient seeing it (default 2) */
    cueDelaySamples?: number
    /** samples per probe report, for the model's lost-report pattern (default 2) */
    batchSize?: number
    /** after each sample the session took (for debugging and plots) */
    onSample?: (seq: number, session: MeasurementSession, model: PatientModel) => void
}

export interface OfflineAction {
    /** [ms] session sample time */
    atMs: number
    button?: ButtonKind
    batteryLow?: boolean
}

/** What a program's session did, cue by cue and event by event. */
export interface OfflineProgramLog {
    cues: { atMs: number; cue: Cue; block: number; repIndex: number }[]
    events: RunnerEvent[]
    /** session states seen, in order, without repeats */
    states: SessionState[]
}

const RATE_HZ = 100

export function runOffline(o: OfflineRunOptions): PatientRunResult & { program: OfflineProgramLog } {
    const model = new PatientModel(makeProfile(o.profile, o.overrides ?? {}), o.seed)
    const log: OfflineProgramLog = { cues: [], events: [], states: [] }
    const actions = [...(o.actions ?? [])].sort((a, b) => a.atMs - b.atMs)
    // every runner event is read after each sample: 64 is far more than a sample makes
    const session = new MeasurementSession({ ...(o.measurement ?? DEFAULT_MEASUREMENT), runnerEventsKept: 64 })
    const intervalMs = 1000 / RATE_HZ
    const batch = o.batchSize ?? 2
    const delay = o.cueDelaySamples ?? 2
    const trace: NoiseFreeTrace = { intervalMs, emgUv: [], pressureCmH2O: [] }
    session.setSampleInterval(intervalMs)
    let started = false
    let sessionStartMs = -1
    let zeroAtStartCmH2O = 0
    let dropped = 0
    let pushed = 0
    let lost = 0
    let dropping = false
    const pendingCues: { atSeq: number; cue: Cue; repIndex: number }[] = []
    const maxSeq = 60 * 60 * RATE_HZ
    for (let seq = 0; seq < maxSeq; seq++) {
        while (pendingCues.length && pendingCues[0].atSeq <= seq) {
            const c = pendingCues.shift()!
            model.seeCue(c.cue, seq * intervalMs, c.repIndex)
        }
        const s = model.sample(seq * intervalMs)
        const state = model.state()
        trace.emgUv[seq] = state.emgUv
        trace.pressureCmH2O[seq] = state.pressureAboveRestCmH2O
        if (seq % batch === 0) dropping = model.dropsBatch(seq)
        if (dropping) {
            dropped++
            lost++
            continue
        }
        session.push(seq, cmH2OToHpa(s.pressureCmH2O), uvToMv(s.emgUv), lost)
        pushed++
        lost = 0
        o.onSample?.(seq, session, model)
        if ((seq + 1) % batch === 0) {
            // as the firmware does after each report: the EMG's deferred fits, then the pressure's
            session.runDeferred(Channel.Emg)
            session.runDeferred(Channel.Pressure)
        }
        if (!started && session.sessionState() === SessionState.Ready) {
            session.start(o.program, o.program ? p => new SessionRunner(p, DEFAULT_RUNNER) : undefined)
            started = true
            continue
        }
        if (started && sessionStartMs >= 0) {
            const t = session.sampleTimeMs()
            while (actions.length && actions[0].atMs <= t) {
                const a = actions.shift()!
                if (a.button !== undefined) session.button(a.button)
                if (a.batteryLow) session.batteryLow()
            }
            log.events.push(...session.runnerEvents.splice(0))
            const st = session.sessionState()
            if (log.states[log.states.length - 1] !== st) log.states.push(st)
            if (o.maxSessionMs !== undefined && t >= o.maxSessionMs) break
        }
        if (started && sessionStartMs < 0 && session.sessionState() === SessionState.Running) {
            sessionStartMs = seq * intervalMs
            zeroAtStartCmH2O = session.zeroCmH2O()
        }
        if (session.takeCueChange()) {
            const c = session.cue()
            pendingCues.push({ atSeq: seq + delay, cue: c.cue, repIndex: c.repIndex })
            log.cues.push({ atMs: c.startedAtMs, cue: c.cue, block: c.block, repIndex: c.repIndex })
        }
        if (started && session.sessionState() === SessionState.Done) break
    }
    const reps = { emg: readReps(session, Channel.Emg), pressure: readReps(session, Channel.Pressure) }
    const summary = { emg: readSummary(session, Channel.Emg), pressure: readSummary(session, Channel.Pressure) }
    const run: AssessmentRunResult = { sessionStartMs, zeroAtStartCmH2O, reps, summary, droppedSamples: dropped, sentSamples: pushed, wallSeconds: 0, feedHeldSeconds: 0 }
    const truth = model.truth()
    const releaseMs: Record<number, number> = {}
    for (const r of truth.reps) releaseMs[r.repIndex] = model.crossingMs(r.repIndex, RELEASE_FRACTION * r.repPeakActivation, "fall")
    log.events.push(...session.runnerEvents.splice(0))
    return { run, truth, trace, score: scoreSession(run, truth, { trace, releaseMs }), program: log }
}

function readReps(session: MeasurementSession, channel: Channel): DeviceRep[] {
    const out: DeviceRep[] = []
    for (let i = 0; i < session.plannedReps(); i++) {
        const r = session.rep(i, channel)
        if (r) out.push({ ...r, channel })
    }
    return out
}

function readSummary(session: MeasurementSession, channel: Channel): DeviceSummary {
    return {
        ...session.summary(channel),
        channel,
        sessionState: SESSION_STATES[session.sessionState()],
        samplesLost: session.lostInSession(),
        durationMs: session.sampleTimeMs(),
    }
}
