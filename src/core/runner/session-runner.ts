/**
 * The session runner: a deterministic state machine that takes a validated
 * therapist program (src/core/program) through one session, phase by phase,
 * relaxation first. Pure: every call carries `now` [ms, session sample
 * time, not decreasing]; no timers, no I/O. The firmware feeds it probe
 * samples, buttons, battery and faults, drains its events (log them, pass
 * SegmentStarted to the metrics, Intensity to the stim supervisor) and
 * shows its view on the LED bar (src/core/feedback/led-bar.ts).
 *
 * ```
 *  idle --probe ready--> ready --start--> running <--start/pause--> paused
 *    ^                     |                 |  phases end, battery low,  |
 *    +----probe out--------+                 v  pause timeout             |
 *                                          rating --confirm--> done <-----+ stop (from any state: done)
 *  fault(cause) from any state: fault (terminal; create a new runner)
 * ```
 *
 * Rules (docs/feedback.md has the patient's side; each rule has a named test
 * in tests/core/runner/session-runner.test.ts):
 *
 * - **Relaxation first.** A toning phase (isToningPhase: flicks, holds,
 *   strengthen and ets stim) starts only once the relaxation criterion was
 *   met in this session (RelaxationGate: rest tone at or below the level(s),
 *   SD at or below the SD(s), for holdS). The gate is judged during every
 *   relaxation segment: baseline and relax phases, the assessment's
 *   baselines and the inserted gate work. If a toning phase comes up and the
 *   gate is not met, the runner inserts gate work (relaxation with a
 *   breathing pacer, open-ended) until it is met (the toning phase starts at
 *   once) or until the criterion's timeoutS of gate work (event GateNotMet).
 * - **Gate not met.** After a timeout the session waits no more: every toning
 *   phase is skipped (PhaseSkipped, GateAbandoned) and the other phases run
 *   as programmed, so the session ends with its relaxation work and does not
 *   get longer than the program's length plus one wait (what the validator
 *   budgets). If the gate is met later during a relax or baseline phase, the
 *   later toning phases run: the rule is "met in this session".
 * - **Spasm sign.** During a toning phase, the rest tone between reps (mean
 *   of each Release segment after spasmSettleMs, at most half the rest)
 *   above the criterion's level on any of its channels, or
 *   noReleaseSpasmReps reps in a row flagged NoRelease (repFinished), is a
 *   spasm sign: the toning phase stops at once, the gate must be met again
 *   (gate work, a fresh timeout), then the phase goes on from its next rep.
 *   After spasmSignsMax signs toning is over for the session (PhaseSkipped,
 *   SpasmLimit). A rest is judged only once it is over, so one high sample
 *   or the fall right after a contraction does not count.
 * - **One button** starts, pauses, resumes and confirms: a second press
 *   within buttonRepeatMs is ignored (a bounce or a double press must not
 *   start and pause at once, or confirm both rating steps).
 * - **Stop wins** from every state: the session is over (Done), nothing else
 *   happens, no rating is asked; in Fault it stays Fault.
 * - **Pause** keeps phase time: the phase's clock stands still while paused
 *   and the session resumes at the same point of the same segment. Pulling
 *   the probe out pauses; resuming needs the probe back and a press. Paused
 *   longer than pauseTimeoutMs ends the session cleanly (rating follows).
 * - **Battery low** finishes the current rep (its contraction and up to
 *   batteryReleaseMs of the rest after it, so the let-go is measured) and
 *   then ends the session cleanly (rating follows); outside a contraction
 *   it ends at once. A session cannot start on low battery.
 * - **Contraindications** are enforced again here (defense in depth; the
 *   validator refuses such programs): a phase that uses a locked modality
 *   (lockingFlags: the probe locks every phase, stim locks stim phases) is
 *   skipped with a ContraindicationLock event.
 * - **Rating.** A session that ran and ended cleanly asks the pain rating
 *   (0..10: up/down, start confirms; `rate()` directly) and, when the
 *   program uses dilators, the dilator size (0 = none used, up to
 *   dilatorSizeMax). The pain rating starts at 0. No answer within
 *   ratingTimeoutMs: done, no rating recorded.
 * - **MVC** for % MVC targets: `mvcUv`/`mvcCmH2O` in the options (from
 *   earlier sessions), updated by the caller with `setMvc` (e.g. the
 *   ChannelAnalyzer's session MVC so far). Unknown (0): toning shows the
 *   level without a band, against fullScaleUv/fullScaleCmH2O.
 *
 * Per-sample work is O(1): the rest windows have fixed buckets, phases are
 * computed segment by segment, and one call crosses at most
 * MAX_BOUNDARIES_PER_CALL segment boundaries (the rest follows at the next
 * call), so a jump in time cannot run the device's VM out of its step
 * budget.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { RepFlag, type RepMetrics } from "../metrics/types"
import type { Program, RelaxPhase, StimPhase } from "../program/types"
import { Block, Cue, SegmentKind, type Segment } from "../protocol/assessment"
import { RelaxationGate } from "./gate"
import { gateBreathPeriodMs, gateWorkSegment, planPhases, planSegment, planSegmentOffsetMs, type PhasePlan } from "./phase-plan"
import { REST_WINDOW_BUCKETS, REST_WINDOW_MS } from "./rest-window"
import {
    BandKind,
    ButtonKind,
    Guide,
    Notice,
    PhaseOutcome,
    RatingStep,
    RunnerChannel,
    RunnerEventKind,
    RunnerReason,
    RunnerState,
    type Levels,
    type RunnerEvent,
    type RunnerView,
} from "./types"

export interface RunnerOptions {
    /** sessions of this program done before this one (the holds' target ramp) */
    sessionsDone: number
    /** [uV] MVC from earlier sessions, 0 unknown */
    mvcUv: number
    /** [cmH2O] MVC from earlier sessions, 0 unknown */
    mvcCmH2O: number
    /** [ms] rest tone = mean over this window (RestWindow) */
    restWindowMs: number
    restWindowBuckets: number
    /** [ms] a between-rep rest is judged from this long after the let-go cue (at most half the rest) */
    spasmSettleMs: number
    /** spasm signs after which toning is over for the session */
    spasmSignsMax: number
    /** reps in a row flagged NoRelease that make a spasm sign; 0: not used */
    noReleaseSpasmReps: number
    /** [% MVC] the toning band: from the target to this much above it */
    toningBandPct: number
    /** [ms] battery low: the rest after the last rep lasts at most this long */
    batteryReleaseMs: number
    /** [ms] paused longer than this ends the session; 0: never */
    pauseTimeoutMs: number
    /** [ms] no rating within this: done without one; 0: wait forever */
    ratingTimeoutMs: number
    /** largest dilator size of the kit */
    dilatorSizeMax: number
    /** [ms] breathing period of gate work; 0: the program's nearest relax phase, else 10 s */
    gateBreathPeriodMs: number
    /** [ms] a start/pause press this soon after the previous one is ignored (bounce, double press) */
    buttonRepeatMs: number
    /** [uV] a full bar in toning without an MVC */
    fullScaleUv: number
    /** [cmH2O] a full bar in toning without an MVC */
    fullScaleCmH2O: number
    /** [uV] a full bar in relaxation without a target */
    restScaleUv: number
    /** [cmH2O] a full bar in relaxation without a target */
    restScaleCmH2O: number
}

/**
 * Defaults, each an engineering choice unless cited:
 * - restWindowMs 5 s: the shortest holdS a program may ask, so even that
 *   hold is judged on full windows;
 * - spasmSettleMs 1 s: the metrics' rest statistics skip the first second
 *   of a rest too (ChannelAnalyzer restSettleMs), the fall after a
 *   contraction is over by then;
 * - spasmSignsMax 2: one more chance after relaxing again, then no more
 *   toning that day; the session stays within phases + two gate waits;
 * - noReleaseSpasmReps 2: one slow let-go is common, two in a row are not;
 * - toningBandPct 20: enough and not too much: these patients over-squeeze;
 * - batteryReleaseMs 2 s: the let-go of a typical contraction is over within
 *   about 1-2 s (metrics offsets);
 * - buttonRepeatMs 300 ms: longer than a contact bounce or a double click,
 *   shorter than a deliberate second press (start, then pause);
 * - pauseTimeoutMs 10 min, ratingTimeoutMs 5 min: nobody is left with a
 *   session hanging; dilatorSizeMax 8: the largest kits have 8 sizes;
 * - full scales 40 uV / 40 cmH2O: above typical pelvic-floor MVCs (Glazer
 *   flicks about 20-40 uV; Bo & Sherburn 2005 for pressure); rest scales
 *   10 uV / 10 cmH2O: twice a typical rest tone.
 */
export const DEFAULT_RUNNER: RunnerOptions = {
    sessionsDone: 0,
    mvcUv: 0,
    mvcCmH2O: 0,
    restWindowMs: REST_WINDOW_MS,
    restWindowBuckets: REST_WINDOW_BUCKETS,
    spasmSettleMs: 1000,
    spasmSignsMax: 2,
    noReleaseSpasmReps: 2,
    toningBandPct: 20,
    batteryReleaseMs: 2000,
    pauseTimeoutMs: 10 * 60 * 1000,
    ratingTimeoutMs: 5 * 60 * 1000,
    dilatorSizeMax: 8,
    gateBreathPeriodMs: 0,
    buttonRepeatMs: 300,
    fullScaleUv: 40,
    fullScaleCmH2O: 40,
    restScaleUv: 10,
    restScaleCmH2O: 10,
}

/** Events kept until drained; the oldest are dropped beyond this (and counted). */
export const EVENT_QUEUE_MAX = 128
/** Segment boundaries one call crosses at most (the VM's step budget). */
export const MAX_BOUNDARIES_PER_CALL = 32
/** The pain scale's top (0..10 numeric rating scale). */
export const PAIN_MAX = 10
/** Share of a breath spent breathing in: a longer out-breath relaxes (4 s in, 6 s out at 10 s; Lehrer & Gevirtz 2014). */
export const INHALE_FRACTION = 0.4

function isIntIn(x: number, lo: number, hi: number): boolean {
    return x - x === 0 && Math.floor(x) === x && x >= lo && x <= hi
}

function fmod(a: number, b: number): number {
    return a - b * Math.floor(a / b)
}

/**
 * A view with every field at its idle value (each enum at Idle / None), to
 * fill with SessionRunner.view. JSON text: as data it costs the 64 KB
 * firmware image less than an object literal's bytecode.
 */
export function emptyView(): RunnerView {
    const v: RunnerView = JSON.parse(
        '{"state":0,"phaseIndex":-1,"phaseKind":"","gateWork":false,"toning":false,"cue":0,"guide":0,"levelChannel":-1,' +
            '"bandKind":0,"bandLow":0,"bandHigh":0,"scaleMax":1,"segmentRemainingMs":0,"segmentDurationMs":0,"phaseRemainingMs":0,' +
            '"breath":0,"gateProgress":0,"gateMet":false,"faultCause":0,"ratingStep":0,"ratingValue":0,"ratingMax":0,' +
            '"batteryLow":false,"probeReady":false,"runningMs":0,"notice":0,"noticeAgeMs":-1,"intensitySteps":0}'
    )
    // not JSON values
    v.level = NaN
    v.levelPctOfTarget = NaN
    return v
}

export class SessionRunner {
    private readonly program: Program
    private readonly o: RunnerOptions
    private readonly plans: PhasePlan[]
    private readonly gate: RelaxationGate
    private readonly primary: RunnerChannel

    private st = RunnerState.Idle
    private probeOk = false
    private batteryIsLow = false
    private faultCode = 0
    private hasTime = false
    /** [ms] time processed so far */
    private lastMs = 0
    private runningMs = 0

    // the current phase instance and segment
    private plan: PhasePlan | null = null
    private gateWorkOn = false
    private gateBreathMs = 0
    private seg: Segment | null = null
    private segIdx = -1
    /** [ms] position in the phase's timeline where the segment began */
    private segStartPos = 0
    /** [ms] position in the phase's timeline (gate work: its running time) */
    private pos = 0
    /** [ms] running time of this phase instance */
    private instanceMs = 0
    private ranAny = false
    private contractionsSeen = false
    private readonly repsDone: number[] = []
    private repSeenMax = -1

    // gate and spasm
    private gateMetNow = false
    private gateAbandoned = false
    private toningOver = false
    private spasmSigns = 0
    /** segment to resume the interrupted toning phase at after gate work, -1 none */
    private resumeSeg = -1
    private spasmOn = false
    private spasmFromPos = 0
    private readonly spN: number[] = [0, 0]
    private readonly spS: number[] = [0, 0]
    private noReleaseRun = 0
    private notice = Notice.None
    private noticeAtMs = 0

    // battery, pause, rating
    private endPending = false
    private endAtPos = -1
    private pausedAtMs = 0
    private lastStartPauseMs = -Infinity
    private ratingStep = RatingStep.None
    private ratingValue = 0
    /** Up minus Down presses taken as intensity steps in stim phases, modulo 256 (RunnerView.intensitySteps) */
    private intensitySteps = 0
    private ratingSinceMs = 0

    private levelEmg = NaN
    private levelP = NaN
    private readonly mvc: number[] = [0, 0]
    private events: RunnerEvent[] = []
    /** events dropped because the queue was full (drain after every call); public, written only here: a getter costs device bytecode */
    droppedEvents = 0

    constructor(program: Program, options?: RunnerOptions) {
        this.program = program
        this.o = options ?? DEFAULT_RUNNER
        this.plans = planPhases(program, this.o.sessionsDone)
        for (let i = 0; i < this.plans.length; i++) this.repsDone.push(0)
        this.gate = new RelaxationGate(program.relaxation, this.o.restWindowMs, this.o.restWindowBuckets)
        this.primary = program.channels === "pressure" ? RunnerChannel.Pressure : RunnerChannel.Emg
        this.setMvc(RunnerChannel.Emg, this.o.mvcUv)
        this.setMvc(RunnerChannel.Pressure, this.o.mvcCmH2O)
    }

    // ------------------------------------------------------------ inputs

    /** The probe is in and zeroed (true), or out (false). Out while running pauses the session. */
    probeReady(nowMs: number, ready: boolean): void {
        this.tick(nowMs)
        const t = this.lastMs
        if (ready === this.probeOk) return
        this.probeOk = ready
        if (this.st === RunnerState.Idle && ready) {
            this.st = RunnerState.Ready
            this.emit(RunnerEventKind.Ready, t, RunnerReason.ProbeReady)
        } else if (this.st === RunnerState.Ready && !ready) {
            this.st = RunnerState.Idle
            this.emit(RunnerEventKind.NotReady, t, RunnerReason.ProbeRemoved)
        } else if (this.st === RunnerState.Running && !ready) this.pause(t, RunnerReason.ProbeRemoved)
    }

    /**
     * One probe sample at `nowMs`: time moves on (segments, phases, timeouts)
     * and the levels are judged (gate, spasm signs). NaN levels are unknown
     * (lead-off, probe out): they break a relaxation hold.
     */
    sample(nowMs: number, levels: Levels): void {
        if (!this.tick(nowMs)) return
        this.levelEmg = levels.emgUv
        this.levelP = levels.pressureCmH2O
        if (this.st !== RunnerState.Running || this.lastMs !== nowMs || this.seg === null) return
        if (!this.gateMetNow && this.isRelaxSegment()) {
            if (this.gate.push(nowMs, levels)) this.onGateMet(nowMs)
        } else if (this.spasmOn && this.pos >= this.spasmFromPos) {
            const e = levels.emgUv
            const p = levels.pressureCmH2O
            if (e - e === 0) {
                this.spN[0] += 1
                this.spS[0] += e
            }
            if (p - p === 0) {
                this.spN[1] += 1
                this.spS[1] += p
            }
        }
    }

    /** A button press (debounced by the caller). */
    button(nowMs: number, kind: ButtonKind): void {
        this.tick(nowMs)
        const t = this.lastMs
        if (kind === ButtonKind.Stop) {
            this.stop(t)
            return
        }
        if (kind === ButtonKind.StartPause) {
            const since = t - this.lastStartPauseMs
            this.lastStartPauseMs = t
            if (since < this.o.buttonRepeatMs) this.refuse(t, RunnerReason.ButtonRepeat, kind)
            else this.startPause(t)
            return
        }
        if (kind !== ButtonKind.Up && kind !== ButtonKind.Down) {
            this.refuse(t, RunnerReason.OutOfRange, kind)
            return
        }
        const step = kind === ButtonKind.Up ? 1 : -1
        if (this.st === RunnerState.Rating) {
            const v = this.ratingValue + step
            const max = this.ratingMax()
            this.ratingValue = v < 0 ? 0 : v > max ? max : v
            return
        }
        const p = this.plan
        if (this.st === RunnerState.Running && p !== null && !this.gateWorkOn && p.phase.kind === "stim") {
            this.intensitySteps = (this.intensitySteps + step) & 255
            const e = this.emit(RunnerEventKind.Intensity, t, step > 0 ? RunnerReason.UpButton : RunnerReason.DownButton)
            e.phaseIndex = p.index
            e.value = step
            return
        }
        this.refuse(t, RunnerReason.NoStimNow, kind)
    }

    /** The battery is low: finish the current rep, then end cleanly; no new session. Repeats change nothing. */
    batteryLow(nowMs: number): void {
        this.tick(nowMs)
        const t = this.lastMs
        if (this.batteryIsLow) return
        this.batteryIsLow = true
        const e = this.emit(RunnerEventKind.BatteryLow, t, RunnerReason.BatteryLow)
        const s = this.seg
        if (this.st === RunnerState.Running && s !== null) {
            e.phaseIndex = this.plan !== null ? this.plan.index : -1
            if (s.kind === SegmentKind.Work && s.repIndex >= 0) {
                this.endPending = true
                e.value = 1
            } else this.endSession(t, RunnerReason.BatteryLow, PhaseOutcome.BatteryLow)
        } else if (this.st === RunnerState.Paused) this.endSession(t, RunnerReason.BatteryLow, PhaseOutcome.BatteryLow)
    }

    /** The battery is fine again (charger): a session can start. Only before a session. */
    batteryOk(nowMs: number): void {
        this.tick(nowMs)
        if (this.st === RunnerState.Idle || this.st === RunnerState.Ready) this.batteryIsLow = false
    }

    /** A fault ends everything: Fault, from any state; the first cause stays. */
    fault(nowMs: number, cause: number): void {
        this.tick(nowMs)
        if (this.st === RunnerState.Fault) return
        const t = this.lastMs
        if (this.plan !== null) this.endPhase(t, PhaseOutcome.Fault, RunnerReason.Fault)
        this.st = RunnerState.Fault
        this.faultCode = cause
        this.seg = null
        const e = this.emit(RunnerEventKind.Fault, t, RunnerReason.Fault)
        e.value = cause
    }

    /**
     * A rep's metrics became final (once per rep: repeats and other channels
     * of the same rep are ignored). Counts the phase's reps done and judges
     * NoRelease runs.
     */
    repFinished(nowMs: number, rep: RepMetrics): void {
        this.tick(nowMs)
        if (!(rep.repIndex > this.repSeenMax)) return
        this.repSeenMax = rep.repIndex
        let owner = -1
        for (let i = 0; i < this.plans.length; i++) {
            const p = this.plans[i]
            if (rep.repIndex >= p.firstRep && rep.repIndex < p.firstRep + p.reps) owner = i
        }
        if (owner < 0) return
        if ((rep.flags & (RepFlag.NoContraction | RepFlag.Interrupted)) === 0) this.repsDone[owner] += 1
        const p = this.plan
        if (this.st !== RunnerState.Running || p === null || this.gateWorkOn || !p.toning || p.index !== owner) return
        if ((rep.flags & RepFlag.NoRelease) !== 0) this.noReleaseRun += 1
        else this.noReleaseRun = 0
        const limit = this.o.noReleaseSpasmReps
        if (limit > 0 && this.noReleaseRun >= limit) this.spasm(this.lastMs, { reason: RunnerReason.SpasmNoRelease, value: this.noReleaseRun, limit: limit, channel: RunnerChannel.None })
    }

    /** [channel units] the MVC for % MVC targets; ignored unless > 0. */
    setMvc(channel: RunnerChannel, value: number): void {
        if (!(value > 0) || value === Infinity) return
        if (channel === RunnerChannel.Emg) this.mvc[0] = value
        else if (channel === RunnerChannel.Pressure) this.mvc[1] = value
    }

    /** Records the pain rating 0..10 (the rating step must be asking it). */
    rate(nowMs: number, score: number): boolean {
        this.tick(nowMs)
        const t = this.lastMs
        if (this.st !== RunnerState.Rating || this.ratingStep !== RatingStep.Pain) return this.refuse(t, RunnerReason.NotRating, 0)
        if (!isIntIn(score, 0, PAIN_MAX)) return this.refuse(t, RunnerReason.OutOfRange, 0)
        const e = this.emit(RunnerEventKind.RatingRecorded, t, RunnerReason.RatingConfirmed)
        e.value = score
        if (this.program.usesDilators === true) {
            this.ratingStep = RatingStep.Dilator
            this.ratingValue = this.o.dilatorSizeMax >= 1 ? 1 : 0
            this.ratingSinceMs = t
        } else this.toDone(t, RunnerReason.RatingConfirmed)
        return true
    }

    /** Records the dilator size used, 0 (none) .. dilatorSizeMax (the rating step must be asking it). */
    dilator(nowMs: number, size: number): boolean {
        this.tick(nowMs)
        const t = this.lastMs
        if (this.st !== RunnerState.Rating || this.ratingStep !== RatingStep.Dilator) return this.refuse(t, RunnerReason.NotRating, 0)
        if (!isIntIn(size, 0, this.o.dilatorSizeMax)) return this.refuse(t, RunnerReason.OutOfRange, 0)
        const e = this.emit(RunnerEventKind.DilatorRecorded, t, RunnerReason.RatingConfirmed)
        e.value = size
        this.toDone(t, RunnerReason.RatingConfirmed)
        return true
    }

    // ------------------------------------------------------------ outputs

    state(): RunnerState {
        return this.st
    }

    /** Events since the last call, in order. */
    takeEvents(): RunnerEvent[] {
        const out = this.events
        this.events = []
        return out
    }


    /** The current segment (null outside Running/Paused). */
    segment(): Segment | null {
        return this.st === RunnerState.Running || this.st === RunnerState.Paused ? this.seg : null
    }

    /** The trainer cue: Idle outside Running/Paused. */
    cue(): Cue {
        const s = this.segment()
        return s !== null ? s.cue : Cue.Idle
    }

    /** 0..1 of the relaxation hold (1 once met). */
    gateProgress(): number {
        return this.gateMetNow ? 1 : this.gate.progress()
    }

    /** Contractions the program asks for in phases not locked (ChannelAnalyzer repsPlanned). */
    plannedReps(): number {
        let n = 0
        for (const p of this.plans) if (p.lock === RunnerReason.None) n += p.reps
        return n
    }

    /** Fills `out` (or a new view) with what the patient should see now. */
    view(out?: RunnerView): RunnerView {
        const v = out ?? emptyView()
        const p = this.plan
        const s = this.segment()
        const active = s !== null && p !== null
        v.state = this.st
        v.phaseIndex = active ? p.index : -1
        v.phaseKind = active ? (this.gateWorkOn ? "relax" : p.phase.kind) : ""
        v.gateWork = active && this.gateWorkOn
        v.toning = active && !this.gateWorkOn && p.toning
        v.cue = active ? s.cue : Cue.Idle
        v.guide = Guide.None
        v.breath = 0
        v.bandKind = BandKind.None
        v.bandLow = 0
        v.bandHigh = 0
        v.level = this.levelOf(this.primary)
        v.levelChannel = this.primary
        v.scaleMax = this.restScale(this.primary)
        v.levelPctOfTarget = NaN
        v.segmentDurationMs = 0
        v.segmentRemainingMs = 0
        v.phaseRemainingMs = 0
        if (active) this.fillActive(v, p, s)
        v.gateProgress = this.gateProgress()
        v.gateMet = this.gateMetNow
        v.faultCause = this.faultCode
        v.ratingStep = this.st === RunnerState.Rating ? this.ratingStep : RatingStep.None
        v.ratingValue = this.st === RunnerState.Rating ? this.ratingValue : 0
        v.ratingMax = this.st === RunnerState.Rating ? this.ratingMax() : 0
        v.batteryLow = this.batteryIsLow
        v.probeReady = this.probeOk
        v.runningMs = this.runningMs
        v.intensitySteps = this.intensitySteps
        v.notice = this.notice
        v.noticeAgeMs = this.noticeAgeMs()
        return v
    }

    /** [ms] how long ago the latest notice was given, -1 if none. */
    noticeAgeMs(): number {
        return this.notice === Notice.None ? -1 : this.lastMs - this.noticeAtMs
    }

    // ------------------------------------------------------------ view helpers

    private fillActive(v: RunnerView, p: PhasePlan, s: Segment): void {
        const timeout = this.gate.timeoutMs()
        v.segmentDurationMs = s.durationMs
        if (this.gateWorkOn) {
            const left = timeout - this.instanceMs
            v.segmentRemainingMs = left > 0 ? left : 0
            v.phaseRemainingMs = v.segmentRemainingMs
        } else {
            v.segmentRemainingMs = s.durationMs > 0 ? this.segStartPos + s.durationMs - this.pos : -1
            const left = p.durationMs - this.pos
            v.phaseRemainingMs = left > 0 ? left : 0
        }
        const kind = p.phase.kind
        if (this.gateWorkOn || kind === "relax") {
            const period = this.gateWorkOn ? this.gateBreathMs : p.breathPeriodMs
            const ph = period > 0 ? fmod(this.pos, period) / period : 0
            if (ph < INHALE_FRACTION) {
                v.guide = Guide.BreatheIn
                v.breath = ph / INHALE_FRACTION
            } else {
                v.guide = Guide.BreatheOut
                v.breath = 1 - (ph - INHALE_FRACTION) / (1 - INHALE_FRACTION)
            }
        } else if (kind === "stim") v.guide = Guide.Stim
        else if (s.kind === SegmentKind.Work) v.guide = kind === "flicks" || (kind === "assessment" && s.block === Block.Flicks) ? Guide.Contract : Guide.Hold
        else if (s.cue === Cue.Release) v.guide = Guide.LetGo
        else v.guide = Guide.Rest
        this.fillBand(v, p)
    }

    private fillBand(v: RunnerView, p: PhasePlan): void {
        const g = v.guide
        let ch = this.primary
        if (g === Guide.Rest || g === Guide.BreatheIn || g === Guide.BreatheOut) {
            let level = NaN
            if (!this.gateWorkOn && p.phase.kind === "relax") {
                const r = p.phase as RelaxPhase
                const uv = r.restToneMaxUv
                const cm = r.restToneMaxCmH2O
                if (uv !== undefined && (ch === RunnerChannel.Emg || cm === undefined)) {
                    level = uv
                    ch = RunnerChannel.Emg
                } else if (cm !== undefined) {
                    level = cm
                    ch = RunnerChannel.Pressure
                }
            } else {
                level = this.gate.levelOf(ch)
                if (!(level > 0) && this.gate.usable()) {
                    level = this.gate.level()
                    ch = this.gate.channel()
                }
            }
            if (level > 0) {
                v.bandKind = BandKind.AtOrBelow
                v.bandHigh = level
                v.scaleMax = 2 * level
            } else v.scaleMax = this.restScale(ch)
        } else {
            let pct = this.gateWorkOn ? 0 : p.targetPctMvc
            if (g === Guide.Stim) {
                const sp = p.phase as StimPhase
                if (sp.mode === "ets") {
                    if (sp.triggerChannel === "pressure") ch = RunnerChannel.Pressure
                    else if (sp.triggerChannel === "emg") ch = RunnerChannel.Emg
                } else pct = 0
            } else if (g === Guide.LetGo) pct = 0
            const m = ch === RunnerChannel.Pressure ? this.mvc[1] : this.mvc[0]
            v.scaleMax = m > 0 ? m : ch === RunnerChannel.Pressure ? this.o.fullScaleCmH2O : this.o.fullScaleUv
            if (pct > 0 && m > 0) {
                const top = pct + this.o.toningBandPct
                v.bandKind = BandKind.Between
                v.bandLow = (pct / 100) * m
                v.bandHigh = ((top < 100 ? top : 100) / 100) * m
                if (g === Guide.Stim) v.levelPctOfTarget = (100 * this.levelOf(ch)) / v.bandLow
            }
        }
        v.level = this.levelOf(ch)
        v.levelChannel = ch
    }

    private levelOf(ch: RunnerChannel): number {
        return ch === RunnerChannel.Pressure ? this.levelP : this.levelEmg
    }

    private restScale(ch: RunnerChannel): number {
        return ch === RunnerChannel.Pressure ? this.o.restScaleCmH2O : this.o.restScaleUv
    }

    private ratingMax(): number {
        return this.ratingStep === RatingStep.Dilator ? this.o.dilatorSizeMax : PAIN_MAX
    }

    // ------------------------------------------------------------ time

    /**
     * Time passes without a sample (timeouts, phases): moves time on to
     * `now`; false if `now` is not usable (not a number, or before the time
     * already processed). Every input calls it first.
     */
    tick(now: number): boolean {
        if (now - now !== 0) return false
        if (!this.hasTime) {
            this.hasTime = true
            this.lastMs = now
            return true
        }
        if (now < this.lastMs) return false
        if (this.st === RunnerState.Running) this.runTo(now)
        if (this.st === RunnerState.Paused) {
            const limit = this.o.pauseTimeoutMs
            if (limit > 0 && now - this.pausedAtMs >= limit) {
                const at = this.pausedAtMs + limit
                this.lastMs = at
                this.endSession(at, RunnerReason.PauseTimeout, PhaseOutcome.PauseTimeout)
            }
        }
        if (this.st === RunnerState.Rating) {
            const limit = this.o.ratingTimeoutMs
            if (limit > 0 && now - this.ratingSinceMs >= limit) this.toDone(this.ratingSinceMs + limit, RunnerReason.RatingTimeout)
        }
        if (this.st !== RunnerState.Running) this.lastMs = now
        return true
    }

    private move(d: number): void {
        this.pos += d
        this.instanceMs += d
        this.runningMs += d
        this.lastMs += d
    }

    /** Runs the session to `now`, crossing segment boundaries, the gate timeout and the battery end. */
    private runTo(now: number): void {
        let crossed = 0
        while (this.st === RunnerState.Running && this.lastMs < now && this.seg !== null) {
            const dt = now - this.lastMs
            const s = this.seg
            // only gate work is open-ended; a zero-length segment of a phase (not a valid program) ends at once
            const segLeft = s.durationMs > 0 ? this.segStartPos + s.durationMs - this.pos : this.gateWorkOn ? Infinity : 0
            const endLeft = this.endAtPos >= 0 ? this.endAtPos - this.pos : Infinity
            const gateLeft = this.gateWorkOn ? this.gate.timeoutMs() - this.instanceMs : Infinity
            // a sample exactly at the timeout is still judged: the timeout fires only after it
            const segFires = dt >= segLeft
            const endFires = dt >= endLeft
            const gateFires = dt > gateLeft
            if (!segFires && !endFires && !gateFires) {
                this.move(dt)
                return
            }
            if (crossed >= MAX_BOUNDARIES_PER_CALL) return
            crossed++
            let d = Infinity
            let which = 0
            if (segFires) {
                d = segLeft
                which = 1
            }
            if (endFires && endLeft <= d) {
                d = endLeft
                which = 2
            }
            if (gateFires && gateLeft < d) {
                d = gateLeft
                which = 3
            }
            this.move(d > 0 ? d : 0)
            if (which === 1) this.segmentOver(this.lastMs)
            else if (which === 2) this.endSession(this.lastMs, RunnerReason.BatteryLow, PhaseOutcome.BatteryLow)
            else this.gateTimeout(this.lastMs)
        }
    }

    // ------------------------------------------------------------ sequencing

    private startPause(t: number): void {
        switch (this.st) {
            case RunnerState.Idle:
                this.refuse(t, RunnerReason.ProbeNotReady, ButtonKind.StartPause)
                return
            case RunnerState.Ready:
                if (this.batteryIsLow) this.refuse(t, RunnerReason.BatteryIsLow, ButtonKind.StartPause)
                else this.startSession(t)
                return
            case RunnerState.Running:
                this.pause(t, RunnerReason.PauseButton)
                return
            case RunnerState.Paused:
                if (!this.probeOk) this.refuse(t, RunnerReason.ProbeNotReady, ButtonKind.StartPause)
                else this.resume(t)
                return
            case RunnerState.Rating:
                if (this.ratingStep === RatingStep.Pain) this.rate(t, this.ratingValue)
                else this.dilator(t, this.ratingValue)
                return
        }
        this.refuse(t, RunnerReason.NotRunning, ButtonKind.StartPause)
    }

    private startSession(t: number): void {
        this.st = RunnerState.Running
        this.lastMs = t
        this.runningMs = 0
        this.emit(RunnerEventKind.SessionStarted, t, RunnerReason.StartButton)
        this.enterNext(t, 0)
    }

    private pause(t: number, reason: RunnerReason): void {
        this.st = RunnerState.Paused
        this.pausedAtMs = t
        if (!this.gateMetNow) this.gate.breakStreak()
        const e = this.emit(RunnerEventKind.Paused, t, reason)
        e.phaseIndex = this.plan !== null ? this.plan.index : -1
        e.gateWork = this.gateWorkOn
    }

    private resume(t: number): void {
        this.st = RunnerState.Running
        this.lastMs = t
        const e = this.emit(RunnerEventKind.Resumed, t, RunnerReason.StartButton)
        e.phaseIndex = this.plan !== null ? this.plan.index : -1
        e.gateWork = this.gateWorkOn
    }

    private stop(t: number): void {
        if (this.st === RunnerState.Done || this.st === RunnerState.Fault) return
        if (this.plan !== null) this.endPhase(t, PhaseOutcome.Stopped, RunnerReason.StopButton)
        this.emit(RunnerEventKind.Stopped, t, RunnerReason.StopButton)
        this.toDone(t, RunnerReason.StopButton)
    }

    /** Starts the first phase from `from` that may run now, skipping (with a reason) those that may not. */
    private enterNext(t: number, from: number): void {
        for (let i = from; i < this.plans.length; i++) {
            const p = this.plans[i]
            if (p.lock !== RunnerReason.None) {
                const e = this.emit(RunnerEventKind.ContraindicationLock, t, p.lock)
                e.phaseIndex = i
                e.value = p.lockFlags
                this.skip(t, i, p.lock)
                continue
            }
            if (p.toning) {
                let why = RunnerReason.None
                if (!this.gate.usable()) why = RunnerReason.NoCriterion
                else if (this.toningOver) why = RunnerReason.SpasmLimit
                else if (!this.gateMetNow && this.gateAbandoned) why = RunnerReason.GateAbandoned
                if (why !== RunnerReason.None) {
                    this.skip(t, i, why)
                    continue
                }
                if (!this.gateMetNow) {
                    this.startGateWork(t, i, RunnerReason.GateRequired)
                    return
                }
            }
            this.startPhase(t, p, 0, RunnerReason.StartOfPhase)
            return
        }
        this.endSession(t, RunnerReason.SessionComplete, PhaseOutcome.Completed)
    }

    private skip(t: number, index: number, why: RunnerReason): void {
        const e = this.emit(RunnerEventKind.PhaseSkipped, t, why)
        e.phaseIndex = index
    }

    private startPhase(t: number, p: PhasePlan, segIndex: number, reason: RunnerReason): void {
        this.plan = p
        this.gateWorkOn = false
        this.instanceMs = 0
        this.ranAny = true
        this.noReleaseRun = 0
        const e = this.emit(RunnerEventKind.PhaseStarted, t, reason)
        e.phaseIndex = p.index
        e.value = p.durationMs
        this.enterSegment(t, segIndex, planSegmentOffsetMs(p, segIndex))
    }

    private startGateWork(t: number, index: number, reason: RunnerReason): void {
        const p = this.plans[index]
        this.plan = p
        this.gateWorkOn = true
        this.gateBreathMs = this.o.gateBreathPeriodMs > 0 ? this.o.gateBreathPeriodMs : gateBreathPeriodMs(this.plans, index)
        this.instanceMs = 0
        this.ranAny = true
        this.spasmOn = false
        this.gate.resetLowest()
        const e = this.emit(RunnerEventKind.PhaseStarted, t, reason)
        e.phaseIndex = index
        e.gateWork = true
        e.value = this.gate.timeoutMs()
        this.seg = gateWorkSegment()
        this.segIdx = 0
        this.segStartPos = 0
        this.pos = 0
        this.announceSegment(t)
    }

    private enterSegment(t: number, j: number, posMs: number): void {
        const p = this.plan
        if (p === null) return
        const s = planSegment(p, j, this.contractionsSeen)
        this.seg = s
        this.segIdx = j
        this.segStartPos = posMs
        this.pos = posMs
        if (s.kind === SegmentKind.Work && s.repIndex >= 0) this.contractionsSeen = true
        // a relaxation hold is "without a break": any other segment breaks it
        if (!this.gateMetNow && !this.isRelaxSegment()) this.gate.breakStreak()
        this.spasmOn = p.toning && s.kind === SegmentKind.Rest
        if (this.spasmOn) {
            const half = s.durationMs / 2
            const settle = this.o.spasmSettleMs
            this.spasmFromPos = posMs + (settle < half ? settle : half)
            this.spN[0] = 0
            this.spN[1] = 0
            this.spS[0] = 0
            this.spS[1] = 0
        }
        this.announceSegment(t)
    }

    private announceSegment(t: number): void {
        const s = this.seg
        const e = this.emit(RunnerEventKind.SegmentStarted, t, RunnerReason.None)
        e.phaseIndex = this.plan !== null ? this.plan.index : -1
        e.gateWork = this.gateWorkOn
        e.segment = s
        e.value = s !== null ? s.durationMs : 0
    }

    /** Relaxation work, where the gate is judged: baseline and relax phases, the assessment's baselines, gate work. */
    private isRelaxSegment(): boolean {
        const p = this.plan
        const s = this.seg
        if (p === null || s === null) return false
        if (this.gateWorkOn) return true
        const k = p.phase.kind
        if (k === "relax" || k === "baseline") return true
        return k === "assessment" && s.kind === SegmentKind.Baseline
    }

    /** The current segment's time is over at `t`. */
    private segmentOver(t: number): void {
        const p = this.plan
        const s = this.seg
        if (p === null || s === null) return
        if (this.spasmOn && this.restToneSpasm(t)) return
        const next = this.segIdx + 1
        const nextPos = this.segStartPos + s.durationMs
        if (this.endPending) {
            // battery low: the rep's contraction is over; give it its let-go, then end
            this.endPending = false
            if (s.kind === SegmentKind.Work && s.repIndex >= 0 && next < p.segmentCount) {
                const after = planSegment(p, next, true)
                if (after.kind === SegmentKind.Rest) {
                    this.enterSegment(t, next, nextPos)
                    const release = this.o.batteryReleaseMs
                    this.endAtPos = nextPos + (after.durationMs < release ? after.durationMs : release)
                    return
                }
            }
            this.endSession(t, RunnerReason.BatteryLow, PhaseOutcome.BatteryLow)
            return
        }
        if (next < p.segmentCount) {
            this.enterSegment(t, next, nextPos)
            return
        }
        this.endPhase(t, PhaseOutcome.Completed, RunnerReason.PhaseComplete)
        this.enterNext(t, p.index + 1)
    }

    /** The between-rep rest that just ended: its tone above the criterion's level is a spasm sign. */
    private restToneSpasm(t: number): boolean {
        const chans = [RunnerChannel.Emg, RunnerChannel.Pressure]
        for (let c = 0; c < 2; c++) {
            const level = this.gate.levelOf(chans[c])
            const n = this.spN[c]
            if (!(level > 0) || n < 1) continue
            const mean = this.spS[c] / n
            if (mean > level) {
                this.spasm(t, { reason: RunnerReason.SpasmRestTone, value: mean, limit: level, channel: chans[c] })
                return true
            }
        }
        return false
    }

    private spasm(t: number, sign: { reason: RunnerReason; value: number; limit: number; channel: RunnerChannel }): void {
        const p = this.plan
        const s = this.seg
        if (p === null || s === null) return
        const e = this.emit(RunnerEventKind.SpasmSign, t, sign.reason)
        e.phaseIndex = p.index
        e.value = sign.value
        e.limit = sign.limit
        e.channel = sign.channel
        this.notify(t, Notice.SpasmSign)
        this.spasmSigns += 1
        this.gateMetNow = false
        this.gate.rearm()
        this.noReleaseRun = 0
        this.endPending = false
        const index = p.index
        // go on from the next rep: after a rest, the next segment; in a contraction, the one after its rest
        const next = s.kind === SegmentKind.Work ? this.segIdx + 2 : this.segIdx + 1
        this.endPhase(t, PhaseOutcome.SpasmSign, sign.reason)
        if (this.batteryIsLow) {
            // the battery-low end was waiting for this rep: end now rather than start relaxation work
            this.endSession(t, RunnerReason.BatteryLow, PhaseOutcome.BatteryLow)
            return
        }
        if (this.spasmSigns >= this.o.spasmSignsMax) this.toningOver = true
        if (!this.toningOver && !this.gateAbandoned && next < p.segmentCount) {
            this.resumeSeg = next
            this.startGateWork(t, index, sign.reason)
            return
        }
        this.enterNext(t, index + 1)
    }

    private onGateMet(t: number): void {
        this.gateMetNow = true
        const e = this.emit(RunnerEventKind.GateMet, t, RunnerReason.GateMet)
        e.phaseIndex = this.plan !== null ? this.plan.index : -1
        e.gateWork = this.gateWorkOn
        e.value = this.gate.mean()
        e.limit = this.gate.level()
        e.channel = this.gate.channel()
        e.extra = this.gate.heldMs()
        this.notify(t, Notice.GateMet)
        const p = this.plan
        if (!this.gateWorkOn || p === null) return
        this.endPhase(t, PhaseOutcome.GateMet, RunnerReason.GateMet)
        const rs = this.resumeSeg
        this.resumeSeg = -1
        if (rs >= 0 && rs < p.segmentCount && !this.toningOver) this.startPhase(t, p, rs, RunnerReason.ResumeAfterRelaxation)
        else this.enterNext(t, p.index)
    }

    private gateTimeout(t: number): void {
        const p = this.plan
        if (p === null) return
        const e = this.emit(RunnerEventKind.GateNotMet, t, RunnerReason.GateTimeout)
        e.phaseIndex = p.index
        e.gateWork = true
        e.value = this.gate.lowestMean()
        e.limit = this.gate.level()
        e.channel = this.gate.channel()
        e.extra = this.instanceMs
        this.notify(t, Notice.GateNotMet)
        this.gateAbandoned = true
        this.resumeSeg = -1
        this.endPhase(t, PhaseOutcome.GateNotMet, RunnerReason.GateTimeout)
        this.enterNext(t, p.index)
    }

    private endPhase(t: number, outcome: PhaseOutcome, reason: RunnerReason): void {
        const p = this.plan
        if (p === null) return
        const e = this.emit(RunnerEventKind.PhaseEnded, t, reason)
        e.phaseIndex = p.index
        e.gateWork = this.gateWorkOn
        e.value = this.instanceMs
        e.limit = outcome
        e.extra = this.repsDone[p.index]
        this.plan = null
        this.seg = null
        this.spasmOn = false
        this.endAtPos = -1
        this.gateWorkOn = false
    }

    /** The session's phases are over (cleanly): rating, or done if nothing ran. */
    private endSession(t: number, reason: RunnerReason, outcome: PhaseOutcome): void {
        if (this.plan !== null) this.endPhase(t, outcome, reason)
        this.endPending = false
        this.endAtPos = -1
        this.emit(RunnerEventKind.SessionEnded, t, reason)
        if (!this.ranAny) {
            this.toDone(t, RunnerReason.NothingToRun)
            return
        }
        this.st = RunnerState.Rating
        this.ratingStep = RatingStep.Pain
        this.ratingValue = 0
        this.ratingSinceMs = t
    }

    private toDone(t: number, reason: RunnerReason): void {
        this.st = RunnerState.Done
        this.plan = null
        this.seg = null
        this.ratingStep = RatingStep.None
        if (reason === RunnerReason.RatingConfirmed) this.notify(t, Notice.RatingRecorded)
        this.emit(RunnerEventKind.Done, t, reason)
    }

    private notify(t: number, n: Notice): void {
        this.notice = n
        this.noticeAtMs = t
    }

    // ------------------------------------------------------------ events

    private emit(kind: RunnerEventKind, t: number, reason: RunnerReason): RunnerEvent {
        const e: RunnerEvent = {
            kind: kind,
            atMs: t,
            reason: reason,
            phaseIndex: -1,
            gateWork: false,
            value: 0,
            limit: 0,
            extra: 0,
            channel: RunnerChannel.None,
            segment: null,
        }
        if (this.events.length >= EVENT_QUEUE_MAX) {
            this.events.shift()
            this.droppedEvents += 1
        }
        this.events.push(e)
        return e
    }

    private refuse(t: number, reason: RunnerReason, button: number): boolean {
        const e = this.emit(RunnerEventKind.Refused, t, reason)
        e.value = button
        e.phaseIndex = this.plan !== null ? this.plan.index : -1
        return false
    }
}
