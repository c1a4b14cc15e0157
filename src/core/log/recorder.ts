/**
 * The session recorder of the log module: what the trainer (services/trainer.md
 * `live`, `runner`, `read_rep`, `read_summary`) and the stim supervisor
 * (services/stimcontrol.md `status`) report, turned into the session's log
 * records (records.ts), in order. Pure: every call carries what was heard
 * and the session sample time [ms]; the wiring (src/logger/) appends what
 * each call returns to the LogStore.
 *
 * The module only listens, so every rule below is read from the reports
 * (the runner's own events, src/core/runner/session-runner.ts, never reach
 * it). Reports repeat (the runner status every 500 ms): only changes count.
 *
 * Trace (10 Hz by default, DEFAULT_TRACE_CHUNK_SAMPLES a chunk):
 * - slot k = floor(sampleTimeMs / intervalMs); a chunk is traceChunkSamples
 *   consecutive slots from the slot of the sample that opened it; the
 *   first sample in a slot wins; a slot without one is TRACE_MISSING.
 * - pressure [cmH2O x 10] is missing unless the probe is Ready; EMG [uV x 10]
 *   is missing on lead-off (contact FlatLine or Saturated) and, as in
 *   MeasurementSession.feedChannels, while the probe is not Ready.
 * - a sample past the chunk writes it out (holes padded) and opens a new
 *   chunk at its own slot, so no chunk is ever all missing; a sample before
 *   the chunk's start is dropped; finish() writes the open chunk up to its
 *   last sample.
 *
 * Phases: a phase is what the runner report names (phase_index,
 * phase_kind). The runner's gate work before a toning phase carries the
 * toning phase's index with kind relax, so a change of the kind at the same
 * index is a new phase too (gate work, then the toning it guarded; toning
 * cut by a spasm sign, then gate work again). The phase that ends gets:
 * - GateNotMet if notice 2 (gate not met) came while it ran: the runner
 *   ends the gate work with PhaseOutcome.GateNotMet and skips the toning
 *   phase, in the same step (the notice and the next phase arrive together);
 * - Stopped if notice 3 (spasm sign) came while it ran (the runner logs
 *   PhaseOutcome.SpasmSign as Stopped);
 * - Fault if the runner went to Fault; Stopped if the phases ended early
 *   (stop: Running/Paused -> Done; paused too long: Paused -> Rating;
 *   battery low) or the phase is still open at finish(); else Completed.
 * - repsDone: distinct rep indexes of done reps (neither NoContraction
 *   nor Interrupted, on either channel) whose cue came in the phase. A
 *   rep's metrics are final only after its let-go, and a rep that ends a
 *   phase (no release, battery low) is read after the report of the next
 *   phase: the phase change is held back until a rep or event of the next
 *   phase, repGraceMs of sample time, or finish(), and reps cued before it
 *   (by more than PHASE_EDGE_SLACK_MS) are counted in the held phase.
 *
 * Events (timeMs = the sample time given with the report):
 * - Pause / Resume: Running -> Paused / Paused -> Running.
 * - GateMet / GateNotMet / SpasmSign when the notice changes to 1 / 2 / 3:
 *   cause = options.levelChannel (LogChannel.Emg unless given: the report
 *   does not say which channel its level is), value = level x 100 (0 if
 *   NaN; the report's level, not the runner's window mean), GateNotMet
 *   extra = the gated phase's index.
 * - Fault when fault_cause changes to non-zero (cause = fault_cause).
 * - Stop with its cause when the phases end early (see Summary).
 * - Rating: PainRating when the step turns to the dilator (flags bit 4: the
 *   pain was confirmed), or PainRating / DilatorSize (the last value seen)
 *   when Rating goes to Done with notice 4 (Notice.RatingRecorded: the
 *   runner sets it only when the patient confirmed). Not recorded: a stop
 *   during the rating, the rating timeout, Rating -> Fault, dilator size 0
 *   (none used).
 * - StimLevel when the supervisor's peak level moves by >= STIM_LEVEL_STEP_MA
 *   from the last one logged, compared in the uA logged (so f32 noise
 *   cannot hide a step): value and extra (the previous) in uA, cause
 *   StimReason.LevelUp (or NewSession: only a new configuration lowers it).
 *   The session starts from 0 logged.
 * - StimStop when running goes true -> false or last_stop changes to
 *   non-zero: cause = stopCauseOfStimReason(last_stop) (Fault if running
 *   stopped with no reason: the supervisor's last-resort failSafe), value =
 *   the StimReason itself (finer than the StopCause). The first status ever
 *   heard is only the baseline.
 *
 * Summary (outcome, stop cause), first match:
 * 1. a fault seen (fault_cause != 0 or state Fault): Fault, Fault;
 * 2. the phases ended (the runner left Running/Paused) with the battery-low
 *    flag seen before or in that report: Stopped, LowBattery;
 * 3. ... into Done (the stop button, or the host's stop_session): Stopped,
 *    Button;
 * 4. ... from Paused into Rating (paused too long): Stopped, ProbeMissing
 *    if the probe was out then, else None;
 * 5. ... from Running into Rating (the program's phases are over):
 *    Completed, Completed (a probe taken out during the rating changes
 *    nothing);
 * 6. the built-in assessment (no runner report with a state other than
 *    Idle nor a phase), or a session joined after its end: Completed,
 *    Completed if every channel summary given has repsDone >= repsPlanned
 *    (and there is one), else as 7;
 * 7. otherwise: Stopped, ProbeMissing if the probe is out at the end, else
 *    None.
 * A stim stop does not change the session's outcome (its own event says it).
 *
 * Outside a session (before start(), after finish()) nothing is returned,
 * but the last runner report, stim status and probe state are kept: a
 * repeated report is not news in the next session. If the last runner
 * report shows a session running (Running/Paused), start() opens its phase
 * at 0: the trainer pushes the new session's runner status before the
 * session's first live report, which is what starts the recording.
 *
 * A session the module joined while it ran (SessionStart.joinedAtMs: it
 * booted after the session began) opens with a JoinedLate event at that
 * time, and its running phase opens then, not at 0: nothing before was heard.
 * One joined after its end (joinedAfterEnd) says so in the event's cause and
 * ends as rule 6 says whether or not a program ran.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { optionOr } from "../options"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../metrics/types"
import { Notice, RunnerState } from "../runner/types"
import { EmgContact } from "../sensing/emg-contact"
import { ProbeState } from "../sensing/pressure-conditioner"
import { StimReason } from "../stim/reasons"
import { hpaToCmH2O, mvToUv } from "../units"
import {
    channelSummaryFromMetrics,
    DEFAULT_TRACE_CHUNK_SAMPLES,
    DEFAULT_TRACE_INTERVAL_MS,
    EventCode,
    JoinedLateCause,
    fixedPoint,
    LogChannel,
    MAX_TRACE_SAMPLES,
    PhaseOutcome,
    RecordKind,
    repRecordFromMetrics,
    sessionHeader,
    SessionOutcome,
    StopCause,
    TimeSync,
    traceSample,
    TRACE_MISSING,
    type ChannelSummary,
    type EventRecord,
    type LogRecord,
    type PhaseEndRecord,
    type PhaseStartRecord,
} from "./records"
import { RunnerFlag, type LiveReportFields, type RunnerReportFields } from "../protocol/trainer-reports"

/** The trainer's `live` report (services/trainer.md), as received (wire units: hPa, mV; the trace stores cmH2O and uV x10). */
export type LiveObservation = LiveReportFields

/** The trainer's `runner` report (services/trainer.md): the fields the log keeps. */
export type RunnerObservation = Pick<RunnerReportFields, "state" | "phaseIndex" | "phaseKind" | "flags" | "notice" | "ratingValue" | "faultCause" | "level">

/** The stim supervisor's `status` register (services/stimcontrol.md). */
export interface StimObservation {
    /** [mA] */
    levelMa: number
    /** [mA] highest level chosen this session */
    peakLevelMa: number
    running: boolean
    /** StimReason of the last stop, 0 none */
    lastStop: number
    /** StimReason why the last deliberate start was refused, 0 none (services/stimcontrol.md last_refusal; absent from an older module) */
    lastRefusal?: number
    /** deliberate starts refused since the module's boot, modulo 256 (absent from an older module) */
    refusedStarts?: number
}

export interface SessionStart {
    deviceId: string
    firmwareVersion: string
    programId: string
    programVersion: number
    bootCount: number
    /** [ms] since boot */
    startMonoMs: number
    /** [ms] Unix time, 0 = clock not set */
    startWallMs: number
    /**
     * [ms] session sample time at which recording began, when the session
     * was already running (the module booted after its start); 0 or absent:
     * from its start
     */
    joinedAtMs?: number
    /**
     * the session had already ended when recording began (joinedAtMs is its
     * end): JoinedLate says so, and the outcome comes from the channel
     * summaries as for the built-in assessment (rule 6), the runner's
     * transitions not having been seen
     */
    joinedAfterEnd?: boolean
}

export interface SessionRecorderOptions {
    /** [ms] trace slot, 1..65535; default DEFAULT_TRACE_INTERVAL_MS */
    traceIntervalMs?: number
    /** slots per trace chunk, 1..MAX_TRACE_SAMPLES; default DEFAULT_TRACE_CHUNK_SAMPLES */
    traceChunkSamples?: number
    /** [ms] a phase change waits at most this long for the ended phase's last reps; default DEFAULT_REP_GRACE_MS */
    repGraceMs?: number
    /** the channel of the runner's level (GateMet, GateNotMet, SpasmSign cause); default LogChannel.Emg */
    levelChannel?: LogChannel
}

/** `phase_kind` outside a session (services/trainer.md) */
export const NO_PHASE_KIND = 255
/**
 * [ms] how long a phase change waits for the ended phase's last reps.
 * Engineering choice: the trainer announces a rep in the same batch as the
 * runner status that ends its phase, and reading it takes two read_rep
 * round trips (tens of ms on an idle bus); 3 s leaves room for a busy VM.
 */
export const DEFAULT_REP_GRACE_MS = 3000
/**
 * [ms] a rep belongs to an earlier phase only if cued this long before the
 * phase change was heard. Reports are timed with the last live sample time
 * (up to a 100 ms report period and a batch off), while the last cue of a
 * phase lies at least a work and a rest period (seconds) before its end.
 */
export const PHASE_EDGE_SLACK_MS = 1000
/** [mA] the supervisor's intensity step (AMPLITUDE_STEP_MA, src/core/limits.ts): a peak change this big is logged */
export const STIM_LEVEL_STEP_MA = 0.5

/** Not a sample value (traceSample gives -32767..32767 or TRACE_MISSING): the slot is still empty. */
const SLOT_EMPTY = -40000
const UA_PER_MA = 1000

/**
 * The log's StopCause for a StimReason (src/core/stim/reasons.ts). Stop
 * causes map one to one where the log has the cause; the finer reason goes
 * in the StimStop event's value. Reasons that are not stop causes (refusals,
 * plan stages, level changes) and unknown numbers give Fault: a stop
 * reported with one of them is not understood.
 */
export function stopCauseOfStimReason(reason: number): StopCause {
    switch (reason) {
        case StimReason.None:
            return StopCause.None
        case StimReason.StopButton:
            return StopCause.Button
        case StimReason.LeadOff:
            return StopCause.LeadOff
        case StimReason.ImpedanceLow:
        case StimReason.ImpedanceHigh:
            return StopCause.ImpedanceOutOfRange
        case StimReason.ProbeRemoved:
            return StopCause.ProbeMissing
        // the trainer went silent (BusLost) or the module's watchdog cut a supervisor not stepped (KeepAliveGap)
        case StimReason.BusLost:
        case StimReason.KeepAliveGap:
            return StopCause.StimHeartbeatLost
        case StimReason.BatteryLow:
            return StopCause.LowBattery
        case StimReason.StimTimeOver:
            return StopCause.SessionTimeOver
        case StimReason.Contraindication:
            return StopCause.Contraindication
        // a program installed by the host, or a new session configuration: not a fault of the stimulation
        case StimReason.ProgramChanged:
            return StopCause.Host
        // the session moved on from the stim phase
        case StimReason.PhaseEnded:
            return StopCause.Completed
    }
    // ModuleFault, Exception, InvalidPhase, ClockFault, and anything else
    return StopCause.Fault
}

function msOf(t: number): number {
    return t >= 0 ? Math.floor(t) : 0
}

function isActive(state: number): boolean {
    return state === RunnerState.Running || state === RunnerState.Paused
}

function isIntIn(x: number, lo: number, hi: number): boolean {
    return Math.floor(x) === x && x >= lo && x <= hi
}

function eventRecord(timeMs: number, code: EventCode, cause: number, value: number, extra: number): EventRecord {
    return { kind: RecordKind.Event, timeMs: timeMs, code: code, cause: cause, value: value, extra: extra }
}

export class SessionRecorder {
    private readonly intervalMs: number
    private readonly chunkSamples: number
    private readonly repGraceMs: number
    private readonly levelChannel: LogChannel

    private on = false
    /** [ms] latest sample time heard in the session */
    private lastMs = 0

    // kept across sessions: the last of each report
    private probe = ProbeState.NotInserted as number
    private last: RunnerObservation | null = null
    private stimSeen = false
    private stimRunning = false
    private stimLastStop = 0
    private stimRefusedStarts = 0

    // trace chunk: slot of sample 0, -1 none
    private traceSlot = -1
    private traceTop = -1
    private traceP: number[] = []
    private traceE: number[] = []

    // the open phase (index -1: none)
    private phase = -1
    private phaseKind = NO_PHASE_KIND
    private phaseStartMs = 0
    /** PhaseOutcome a notice gave it, 0 none */
    private phaseMark = 0
    private phaseReps: number[] = []

    // a phase change held back for the ended phase's last reps
    private heldEnd: PhaseEndRecord | null = null
    private heldStart: PhaseStartRecord | null = null
    private heldReps: number[] = []
    /** [ms] when the held phase started and when it ended */
    private heldFromMs = 0
    private heldAtMs = 0

    // what decides the summary
    private programSeen = false
    private faultSeen = false
    private batterySeen = false
    /** SessionOutcome decided when the phases ended, 0 not yet */
    private endOutcome = 0
    /** recording began after the session's end (SessionStart.joinedAfterEnd) */
    private afterEnd = false
    private endCause = StopCause.None as number

    // rating step
    private ratingDilator = false
    private ratingValue = 0

    /** [uA] the last StimLevel logged */
    private peakUa = 0

    constructor(options?: SessionRecorderOptions) {
        const o: SessionRecorderOptions = options ? options : {}
        this.intervalMs = optionOr(o.traceIntervalMs, DEFAULT_TRACE_INTERVAL_MS)
        this.chunkSamples = optionOr(o.traceChunkSamples, DEFAULT_TRACE_CHUNK_SAMPLES)
        this.repGraceMs = optionOr(o.repGraceMs, DEFAULT_REP_GRACE_MS)
        this.levelChannel = o.levelChannel === undefined ? LogChannel.Emg : o.levelChannel
        if (!isIntIn(this.intervalMs, 1, 0xffff)) throw new RangeError("traceIntervalMs out of range: " + this.intervalMs + " (allowed 1..65535)")
        if (!isIntIn(this.chunkSamples, 1, MAX_TRACE_SAMPLES))
            throw new RangeError("traceChunkSamples out of range: " + this.chunkSamples + " (allowed 1.." + MAX_TRACE_SAMPLES + ")")
    }

    /** A session is being recorded. */
    recording(): boolean {
        return this.on
    }

    /** Opens a session: [SessionHeader] (+ JoinedLate when joined late) (after the records that close the one still open: summary Stopped, None, no channels). */
    start(s: SessionStart): LogRecord[] {
        const out: LogRecord[] = []
        if (this.on) this.close(out, this.lastMs, SessionOutcome.Stopped, StopCause.None, [])
        this.on = true
        this.lastMs = 0
        this.traceSlot = -1
        this.phase = -1
        this.phaseKind = NO_PHASE_KIND
        this.phaseReps = []
        this.programSeen = false
        this.faultSeen = false
        this.batterySeen = false
        this.endOutcome = 0
        this.endCause = StopCause.None
        this.peakUa = 0
        this.afterEnd = s.joinedAfterEnd === true
        out.push(
            sessionHeader({
                bootCount: s.bootCount,
                startMonoMs: s.startMonoMs,
                startWallMs: s.startWallMs > 0 ? s.startWallMs : 0,
                timeSync: s.startWallMs > 0 ? TimeSync.Host : TimeSync.None,
                deviceId: s.deviceId,
                firmwareVersion: s.firmwareVersion,
                programId: s.programId,
                programVersion: s.programVersion,
            })
        )
        const joinedAtMs = s.joinedAtMs !== undefined && s.joinedAtMs > 0 ? msOf(s.joinedAtMs) : 0
        if (joinedAtMs > 0) {
            this.lastMs = joinedAtMs
            this.put(out, eventRecord(joinedAtMs, EventCode.JoinedLate, this.afterEnd ? JoinedLateCause.AfterEnd : JoinedLateCause.Running, joinedAtMs, 0))
        }
        // the new session's runner status usually arrives before its first live report: its phase started at 0
        // (joined late: the phase is known from when recording began)
        const r = this.last
        if (r !== null && isActive(r.state)) {
            this.programSeen = true
            this.phaseChange(out, r, joinedAtMs, 0)
        }
        return out
    }

    /** A live report: the trace; returns a chunk when one is complete. */
    live(o: LiveObservation): LogRecord[] {
        this.probe = o.probeState
        const out: LogRecord[] = []
        if (!this.on || !(o.sampleTimeMs >= 0)) return out
        const t = o.sampleTimeMs
        this.noteTime(t)
        if (this.heldEnd !== null && t >= this.heldAtMs + this.repGraceMs) this.flushHeld(out)
        const slot = Math.floor(t / this.intervalMs)
        if (this.traceSlot >= 0 && slot < this.traceSlot) return out
        if (this.traceSlot >= 0 && slot >= this.traceSlot + this.chunkSamples) this.takeChunk(out, this.chunkSamples)
        if (this.traceSlot < 0) this.openChunk(slot)
        const k = slot - this.traceSlot
        if (this.traceP[k] !== SLOT_EMPTY) return out
        const ready = o.probeState === ProbeState.Ready
        const leadOff = o.emgContact === EmgContact.FlatLine || o.emgContact === EmgContact.Saturated
        this.traceP[k] = ready ? traceSample(hpaToCmH2O(o.pressureHpa)) : TRACE_MISSING
        this.traceE[k] = ready && !leadOff ? traceSample(mvToUv(o.emgMv)) : TRACE_MISSING
        if (k > this.traceTop) this.traceTop = k
        return out
    }

    /** A runner report: phase starts and ends, and the events of its changes. */
    runner(o: RunnerObservation, sampleTimeMs: number): LogRecord[] {
        const out: LogRecord[] = []
        const prev = this.last
        this.last = o
        if (!this.on) return out
        const t = msOf(sampleTimeMs)
        this.noteTime(t)
        const was = prev !== null ? prev.state : RunnerState.Idle
        this.noteRunner(o)
        // decided on when the phases end (phasesEnded): a flag first seen in the rating comes too late to count
        if ((o.flags & RunnerFlag.BatteryLow) !== 0) this.batterySeen = true
        if (prev === null || o.notice !== prev.notice) this.noticeEvent(out, o, t)
        const faultBefore = prev !== null ? prev.faultCause : 0
        if (o.faultCause !== 0 && o.faultCause !== faultBefore) this.put(out, eventRecord(t, EventCode.Fault, o.faultCause, 0, 0))
        let closing = 0
        if (isActive(was) && !isActive(o.state)) closing = this.phasesEnded(out, was, o.state, t)
        else if (was === RunnerState.Running && o.state === RunnerState.Paused) this.put(out, eventRecord(t, EventCode.Pause, 0, 0, 0))
        else if (was === RunnerState.Paused && o.state === RunnerState.Running) this.put(out, eventRecord(t, EventCode.Resume, 0, 0, 0))
        this.rating(out, o, was, t)
        this.phaseChange(out, o, t, closing)
        return out
    }

    /** A stim status: StimLevel when the peak level moves by a step, StimStop when the output stops. */
    stim(o: StimObservation, sampleTimeMs: number): LogRecord[] {
        const out: LogRecord[] = []
        if (this.on) {
            const t = msOf(sampleTimeMs)
            this.noteTime(t)
            const ua = fixedPoint(o.peakLevelMa, UA_PER_MA)
            if (!isNaN(o.peakLevelMa) && Math.abs(ua - this.peakUa) >= STIM_LEVEL_STEP_MA * UA_PER_MA) {
                this.put(out, eventRecord(t, EventCode.StimLevel, ua > this.peakUa ? StimReason.LevelUp : StimReason.NewSession, ua, this.peakUa))
                this.peakUa = ua
            }
            const stopped = this.stimRunning && !o.running
            const newStop = o.lastStop !== this.stimLastStop && o.lastStop !== StimReason.None
            if (this.stimSeen && (stopped || newStop)) {
                const cause = o.lastStop === StimReason.None ? StopCause.Fault : stopCauseOfStimReason(o.lastStop)
                this.put(out, eventRecord(t, EventCode.StimStop, cause, o.lastStop, 0))
            }
            // a start refused in this session (the rest between sessions too short, the probe out...): one event per refusal
            const refused = o.refusedStarts === undefined ? 0 : o.refusedStarts
            if (this.stimSeen && refused !== this.stimRefusedStarts && o.lastRefusal !== undefined && o.lastRefusal !== StimReason.None)
                this.put(out, eventRecord(t, EventCode.StimRefused, o.lastRefusal, (refused - this.stimRefusedStarts) & 255, 0))
        }
        this.stimSeen = true
        this.stimRunning = o.running
        this.stimLastStop = o.lastStop
        this.stimRefusedStarts = o.refusedStarts === undefined ? 0 : o.refusedStarts
        return out
    }

    /** One finished rep's metrics on one channel (read_rep): [Rep] (after a held phase change it does not belong to). */
    rep(channel: LogChannel, m: RepMetrics): LogRecord[] {
        const out: LogRecord[] = []
        if (!this.on) return out
        const r = repRecordFromMetrics(channel, m)
        const done = (r.flags & (RepFlag.NoContraction | RepFlag.Interrupted)) === 0
        if (this.heldEnd !== null && r.cueOnMs < this.heldAtMs - PHASE_EDGE_SLACK_MS) {
            if (done && r.cueOnMs >= this.heldFromMs - PHASE_EDGE_SLACK_MS) countRep(this.heldReps, r.repIndex)
            out.push(r)
            return out
        }
        this.flushHeld(out)
        if (done && this.phase >= 0 && r.cueOnMs >= this.phaseStartMs - PHASE_EDGE_SLACK_MS) countRep(this.phaseReps, r.repIndex)
        out.push(r)
        return out
    }

    /** The session ended: the open trace chunk, the open phase's end, the Summary; [] if no session is open. */
    finish(endMs: number, channels: { channel: LogChannel; metrics: SessionMetrics }[]): LogRecord[] {
        const out: LogRecord[] = []
        if (!this.on) return out
        const summaries: ChannelSummary[] = []
        let allDone = channels.length > 0
        for (const c of channels) {
            summaries.push(channelSummaryFromMetrics(c.channel, c.metrics))
            if (!(c.metrics.repsDone >= c.metrics.repsPlanned)) allDone = false
        }
        let outcome = SessionOutcome.Stopped
        let cause = this.probe === ProbeState.Removed ? StopCause.ProbeMissing : StopCause.None
        if (this.faultSeen) {
            outcome = SessionOutcome.Fault
            cause = StopCause.Fault
        } else if (this.endOutcome !== 0) {
            outcome = this.endOutcome
            cause = this.endCause
        } else if ((!this.programSeen || this.afterEnd) && allDone) {
            outcome = SessionOutcome.Completed
            cause = StopCause.Completed
        }
        this.close(out, msOf(endMs), outcome, cause, summaries)
        return out
    }

    // ------------------------------------------------------------ session

    private noteTime(t: number): void {
        if (t > this.lastMs) this.lastMs = t
    }

    private noteRunner(o: RunnerObservation): void {
        if (o.state !== RunnerState.Idle || o.phaseIndex >= 0) this.programSeen = true
        if (o.state === RunnerState.Fault || o.faultCause !== 0) this.faultSeen = true
    }

    private close(out: LogRecord[], t: number, outcome: SessionOutcome, cause: number, channels: ChannelSummary[]): void {
        if (this.traceSlot >= 0) this.takeChunk(out, this.traceTop + 1)
        this.flushHeld(out)
        if (this.phase >= 0) out.push(this.phaseEnd(t, PhaseOutcome.Stopped, this.phaseReps.length))
        this.phase = -1
        out.push({ kind: RecordKind.Summary, endMs: t, outcome: outcome, stopCause: cause, channels: channels })
        this.on = false
    }

    /** A record other than a rep or trace: the held phase change goes first, so the records stay in time order. */
    private put(out: LogRecord[], rec: LogRecord): void {
        this.flushHeld(out)
        out.push(rec)
    }

    // ------------------------------------------------------------ trace

    private openChunk(slot: number): void {
        this.traceSlot = slot
        this.traceTop = -1
        this.traceP = []
        this.traceE = []
        for (let k = 0; k < this.chunkSamples; k++) {
            this.traceP.push(SLOT_EMPTY)
            this.traceE.push(SLOT_EMPTY)
        }
    }

    /** Writes out the chunk's first `count` slots (empty ones as TRACE_MISSING) and closes it. */
    private takeChunk(out: LogRecord[], count: number): void {
        const p = count < this.chunkSamples ? this.traceP.slice(0, count) : this.traceP
        const e = count < this.chunkSamples ? this.traceE.slice(0, count) : this.traceE
        for (let k = 0; k < count; k++) {
            if (p[k] === SLOT_EMPTY) {
                p[k] = TRACE_MISSING
                e[k] = TRACE_MISSING
            }
        }
        out.push({ kind: RecordKind.Trace, startMs: this.traceSlot * this.intervalMs, intervalMs: this.intervalMs, pressureCmH2OX10: p, emgUvX10: e })
        this.traceSlot = -1
        this.traceP = []
        this.traceE = []
    }

    // ------------------------------------------------------------ runner

    private noticeEvent(out: LogRecord[], o: RunnerObservation, t: number): void {
        const value = fixedPoint(o.level, 100)
        if (o.notice === Notice.GateMet) this.put(out, eventRecord(t, EventCode.GateMet, this.levelChannel, value, 0))
        else if (o.notice === Notice.GateNotMet) {
            const gated = this.phase >= 0 ? this.phase : o.phaseIndex
            this.put(out, eventRecord(t, EventCode.GateNotMet, this.levelChannel, value, gated))
            if (this.phase >= 0) this.phaseMark = PhaseOutcome.GateNotMet
        } else if (o.notice === Notice.SpasmSign) {
            this.put(out, eventRecord(t, EventCode.SpasmSign, this.levelChannel, value, 0))
            if (this.phase >= 0) this.phaseMark = PhaseOutcome.Stopped
        }
    }

    /** The runner left Running/Paused: decides how the session ended; returns the outcome of the phase it closes. */
    private phasesEnded(out: LogRecord[], was: number, now: number, t: number): PhaseOutcome {
        if (now === RunnerState.Fault) {
            this.endOutcome = SessionOutcome.Fault
            this.endCause = StopCause.Fault
            return PhaseOutcome.Fault
        }
        if (now === RunnerState.Rating && was === RunnerState.Running && !this.batterySeen) {
            this.endOutcome = SessionOutcome.Completed
            this.endCause = StopCause.Completed
            return PhaseOutcome.Completed
        }
        let cause = StopCause.None
        if (this.batterySeen) cause = StopCause.LowBattery
        else if (now === RunnerState.Done) cause = StopCause.Button
        else if (this.probe === ProbeState.Removed) cause = StopCause.ProbeMissing
        this.endOutcome = SessionOutcome.Stopped
        this.endCause = cause
        this.put(out, eventRecord(t, EventCode.Stop, cause, 0, 0))
        return PhaseOutcome.Stopped
    }

    private rating(out: LogRecord[], o: RunnerObservation, was: number, t: number): void {
        const dilator = (o.flags & RunnerFlag.DilatorStep) !== 0
        if (o.state === RunnerState.Rating) {
            if (was !== RunnerState.Rating || (dilator && !this.ratingDilator)) {
                if (was === RunnerState.Rating) this.putRating(out, t, false)
                this.ratingDilator = dilator
            }
            this.ratingValue = o.ratingValue
            return
        }
        // confirmed: the runner sets Notice.RatingRecorded as it goes Done; a stop or the rating timeout leaves the notice alone
        if (was !== RunnerState.Rating || o.state !== RunnerState.Done || o.notice !== Notice.RatingRecorded) return
        this.putRating(out, t, this.ratingDilator)
    }

    private putRating(out: LogRecord[], t: number, dilator: boolean): void {
        const v = this.ratingValue
        if (dilator && isIntIn(v, 1, 0xff)) this.put(out, eventRecord(t, EventCode.DilatorSize, 0, v, 0))
        else if (!dilator && isIntIn(v, 0, 10)) this.put(out, eventRecord(t, EventCode.PainRating, 0, v, 0))
    }

    /** The report's phase differs from the open one: ends it (held for its last reps) and starts the new one. */
    private phaseChange(out: LogRecord[], o: RunnerObservation, t: number, closing: number): void {
        const index = o.phaseIndex >= 0 ? o.phaseIndex : -1
        const kind = index >= 0 ? o.phaseKind : NO_PHASE_KIND
        if (index === this.phase && kind === this.phaseKind) return
        const start: PhaseStartRecord | null = index >= 0 ? { kind: RecordKind.PhaseStart, phaseIndex: index, phaseKind: kind, timeMs: t } : null
        if (this.phase >= 0) {
            this.flushHeld(out)
            let outcome = PhaseOutcome.Completed
            if (this.phaseMark !== 0) outcome = this.phaseMark
            else if (closing !== 0) outcome = closing
            else if (!isActive(o.state)) outcome = PhaseOutcome.Stopped
            this.heldEnd = this.phaseEnd(t, outcome, 0)
            this.heldStart = start
            this.heldReps = this.phaseReps
            this.heldFromMs = this.phaseStartMs
            this.heldAtMs = t
        } else if (start !== null) this.put(out, start)
        this.phase = index
        this.phaseKind = kind
        this.phaseStartMs = t
        this.phaseMark = 0
        this.phaseReps = []
    }

    private phaseEnd(t: number, outcome: PhaseOutcome, repsDone: number): PhaseEndRecord {
        return { kind: RecordKind.PhaseEnd, phaseIndex: this.phase, phaseKind: this.phaseKind, timeMs: t, outcome: outcome, repsDone: repsDone }
    }

    private flushHeld(out: LogRecord[]): void {
        const e = this.heldEnd
        if (e === null) return
        e.repsDone = this.heldReps.length
        out.push(e)
        if (this.heldStart !== null) out.push(this.heldStart)
        this.heldEnd = null
        this.heldStart = null
        this.heldReps = []
    }
}

function countRep(reps: number[], repIndex: number): void {
    if (reps.indexOf(repIndex) < 0) reps.push(repIndex)
}
