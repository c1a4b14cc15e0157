/**
 * The session runner's vocabulary: states, buttons, the finer guidance it
 * gives (breathe in / out, contract, hold, let go), the events it reports
 * and the view the LED bar and the trainer service read.
 *
 * The numbers are stable codes (the firmware logs them): add new ones,
 * never renumber.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import type { Cue, Segment } from "../protocol/assessment"

/**
 * Where the session is. 0..5 are the trainer spec's SessionState values
 * (services/trainer.md); Rating is the end-of-session pain (and dilator)
 * question, which the trainer reports as Running until the spec has it.
 */
export enum RunnerState {
    /** no probe (or not zeroed yet) */
    Idle = 0,
    /** probe in and zeroed: press start */
    Ready = 1,
    Running = 2,
    Paused = 3,
    /** the session is over (completed, rated, or stopped) */
    Done = 4,
    /** a fault ended it; create a new runner for the next session */
    Fault = 5,
    /** the session ended: pain rating 0..10 (and dilator size) */
    Rating = 6,
}

/** The patient's buttons. One button starts, pauses and resumes (and confirms a rating). */
export enum ButtonKind {
    StartPause = 1,
    Up = 2,
    Down = 3,
    Stop = 4,
}

/**
 * What the patient is asked to do now, finer than the trainer's Cue
 * (which stays Rest / Contract / Release for the metrics): the LED bar
 * gives each its own colour (docs/feedback.md).
 */
export enum Guide {
    None = 0,
    /** baseline: stay still and relaxed */
    Rest = 1,
    /** relaxation work: breathe in (the bar grows) */
    BreatheIn = 2,
    /** relaxation work: breathe out and let the pelvic floor drop (the bar shrinks) */
    BreatheOut = 3,
    /** a quick squeeze (flicks) */
    Contract = 4,
    /** squeeze and hold (holds, the assessment's holds and endurance) */
    Hold = 5,
    /** let go and rest between contractions (countdown) */
    LetGo = 6,
    /** a stimulation phase: the stim supervisor drives the output */
    Stim = 7,
}

/** How the current phase's target reads. */
export enum BandKind {
    /** no target (assessment, rest countdown, MVC unknown) */
    None = 0,
    /** relaxation: the level at or below `high` is on target */
    AtOrBelow = 1,
    /** toning: the level between `low` and `high` (inclusive) is on target */
    Between = 2,
}

/** Which question the rating step asks. */
export enum RatingStep {
    None = 0,
    /** pain or discomfort 0..10 (numeric rating scale) */
    Pain = 1,
    /** the dilator size used this session (0 = none) */
    Dilator = 2,
}

/** What the runner last told the patient; the LED bar shows it for a moment (NOTICE_MS). */
export enum Notice {
    None = 0,
    /** the relaxation criterion is met: toning may start */
    GateMet = 1,
    /** not met within its timeout: toning is skipped today */
    GateNotMet = 2,
    /** back to relaxation */
    SpasmSign = 3,
    /**
     * the last rating step was confirmed (set as the session goes Done, where
     * the LED bar shows no notice): a stop during the rating leaves the notice
     * as it was, so a listener on the bus (the log module) tells a rating the
     * patient gave from one skipped
     */
    RatingRecorded = 4,
}

/**
 * Fault causes the firmware passes to `fault()`; the LED bar shows cause k
 * as k red pixels blinking fast (docs/feedback.md). Other numbers are
 * accepted and shown as Other.
 */
export enum FaultCause {
    /** the stimulator module reported a fault or went silent */
    Stimulator = 1,
    /** electrode contact: lead-off, impedance out of range */
    Electrodes = 2,
    /** the probe module went silent */
    ProbeSilent = 3,
    /** the session log could not be written */
    Storage = 4,
    /** an exception in the firmware */
    Software = 5,
    /** the clock went backwards or stopped */
    Clock = 6,
    Other = 7,
}

/** Probe channels, the same values as the trainer spec's Channel and the log's LogChannel. */
export enum RunnerChannel {
    None = -1,
    Emg = 0,
    Pressure = 1,
}

/**
 * How a phase instance ended (PhaseEnded `limit`). 1..4 are the session
 * log's PhaseOutcome values (src/core/log/records.ts); the others are the
 * runner's finer reasons, which the wiring logs as noted.
 */
export enum PhaseOutcome {
    Completed = 1,
    /** gate work timed out (the toning phase it guarded is skipped) */
    GateNotMet = 2,
    Stopped = 3,
    Fault = 4,
    /** gate work ended because the gate was met (log: Completed) */
    GateMet = 5,
    /** a toning phase interrupted by a spasm sign (log: Stopped, with the SpasmSign event) */
    SpasmSign = 6,
    /** ended early, cleanly, on low battery (log: Stopped, with StopCause LowBattery) */
    BatteryLow = 7,
    /** paused for longer than pauseTimeoutMs (log: Stopped) */
    PauseTimeout = 8,
}

/** What happened; each event's fields are described per kind. */
export enum RunnerEventKind {
    /** probe in and zeroed: Idle -> Ready */
    Ready = 1,
    /** probe out before a session: Ready -> Idle */
    NotReady = 2,
    /** start pressed in Ready */
    SessionStarted = 3,
    /** a phase (or gate work: `gateWork`) begins; reason: why (StartOfPhase, GateRequired, SpasmRestTone/SpasmNoRelease, ResumeAfterRelaxation); value: [ms] the phase's length (gate work: its timeout) */
    PhaseStarted = 4,
    /** value: [ms] running time in this phase instance, limit: PhaseOutcome, extra: reps done so far in the phase */
    PhaseEnded = 5,
    /** a phase not run at all; reason: ContraindicationProbe/Stim, GateAbandoned, SpasmLimit, NoCriterion */
    PhaseSkipped = 6,
    /** `segment` begins at atMs: pass it to ChannelAnalyzer.beginSegment(segment, atMs) */
    SegmentStarted = 7,
    /** value: rest-tone mean, limit: the criterion's level, channel, extra: [ms] held */
    GateMet = 8,
    /** gate work timed out; value: lowest rest-tone mean reached (NaN if never measured), limit: level, channel, extra: [ms] waited */
    GateNotMet = 9,
    /** value: rest tone between reps (or NoRelease reps in a row), limit: the criterion's level (or the count), channel */
    SpasmSign = 10,
    /** reason: PauseButton or ProbeRemoved */
    Paused = 11,
    Resumed = 12,
    /** the stop button: the session is over, no rating asked */
    Stopped = 13,
    /** value: 1 if the current rep is finished first, 0 if the session ends at once (or no session runs) */
    BatteryLow = 14,
    /** a phase locked by the patient's contraindications; value: how many flags lock it */
    ContraindicationLock = 15,
    /** the session's phases are over (reason: SessionComplete, BatteryLow, PauseTimeout): rating follows */
    SessionEnded = 16,
    /** value: pain 0..10 */
    RatingRecorded = 17,
    /** value: dilator size (0 = none used) */
    DilatorRecorded = 18,
    /** reason: RatingConfirmed, StopButton, RatingTimeout, NothingToRun */
    Done = 19,
    /** value: the fault cause the caller gave */
    Fault = 20,
    /** intensity button in a stim phase: value +1 (up) or -1 (down); pass it to the stim supervisor */
    Intensity = 21,
    /** a button or call that does nothing now; reason says why, value: the ButtonKind (0 for rate/dilator) */
    Refused = 22,
}

/** Why; stable codes for the log, text by runnerReasonName. */
export enum RunnerReason {
    None = 0,
    // --- inputs
    StartButton = 1,
    PauseButton = 2,
    StopButton = 3,
    ProbeReady = 4,
    ProbeRemoved = 5,
    BatteryLow = 6,
    Fault = 7,
    UpButton = 8,
    DownButton = 9,
    // --- sequencing
    StartOfPhase = 10,
    PhaseComplete = 11,
    SessionComplete = 12,
    /** a toning phase comes up and the gate is not met: relaxation work first */
    GateRequired = 13,
    GateMet = 14,
    /** gate work lasted the criterion's timeoutS */
    GateTimeout = 15,
    /** toning skipped: the gate was not met and this session waits no more */
    GateAbandoned = 16,
    /** rest tone between reps above the criterion's level */
    SpasmRestTone = 17,
    /** reps in a row that did not let go (RepFlag.NoRelease) */
    SpasmNoRelease = 18,
    /** toning over for this session after spasmSignsMax spasm signs */
    SpasmLimit = 19,
    /** a toning phase in a program without a relaxation criterion (never met: fail-safe) */
    NoCriterion = 20,
    ContraindicationProbe = 21,
    ContraindicationStim = 22,
    PauseTimeout = 23,
    RatingTimeout = 24,
    /** every phase was skipped: no rating */
    NothingToRun = 25,
    /** the interrupted toning phase goes on after the gate was met again */
    ResumeAfterRelaxation = 26,
    RatingConfirmed = 27,
    // --- refusals
    ProbeNotReady = 30,
    BatteryIsLow = 31,
    /** intensity buttons only work in a stim phase */
    NoStimNow = 32,
    NotRating = 33,
    OutOfRange = 34,
    NotRunning = 35,
    /** start/pause again within buttonRepeatMs: a bounce or a double press */
    ButtonRepeat = 36,
}

/** Text for logs and messages (DeviceScript has no reverse enum mapping). */
export function runnerReasonName(r: RunnerReason): string {
    switch (r) {
        case RunnerReason.None:
            return "none"
        case RunnerReason.StartButton:
            return "start button"
        case RunnerReason.PauseButton:
            return "pause button"
        case RunnerReason.StopButton:
            return "stop button"
        case RunnerReason.ProbeReady:
            return "probe ready"
        case RunnerReason.ProbeRemoved:
            return "probe removed"
        case RunnerReason.BatteryLow:
            return "battery low"
        case RunnerReason.Fault:
            return "fault"
        case RunnerReason.UpButton:
            return "up button"
        case RunnerReason.DownButton:
            return "down button"
        case RunnerReason.StartOfPhase:
            return "next phase"
        case RunnerReason.PhaseComplete:
            return "phase complete"
        case RunnerReason.SessionComplete:
            return "session complete"
        case RunnerReason.GateRequired:
            return "relaxation first: the gate is not met yet"
        case RunnerReason.GateMet:
            return "relaxation criterion met"
        case RunnerReason.GateTimeout:
            return "relaxation criterion not met within its timeout"
        case RunnerReason.GateAbandoned:
            return "toning skipped: the relaxation criterion was not met this session"
        case RunnerReason.SpasmRestTone:
            return "spasm sign: rest tone between reps above the criterion"
        case RunnerReason.SpasmNoRelease:
            return "spasm sign: reps in a row did not let go"
        case RunnerReason.SpasmLimit:
            return "toning over for this session: repeated spasm signs"
        case RunnerReason.NoCriterion:
            return "toning skipped: the program has no relaxation criterion"
        case RunnerReason.ContraindicationProbe:
            return "contraindication: the probe is locked"
        case RunnerReason.ContraindicationStim:
            return "contraindication: stimulation is locked"
        case RunnerReason.PauseTimeout:
            return "paused too long"
        case RunnerReason.RatingTimeout:
            return "no rating given"
        case RunnerReason.NothingToRun:
            return "no phase could run"
        case RunnerReason.ResumeAfterRelaxation:
            return "toning resumes after relaxation"
        case RunnerReason.RatingConfirmed:
            return "rating confirmed"
        case RunnerReason.ProbeNotReady:
            return "probe not ready"
        case RunnerReason.BatteryIsLow:
            return "battery is low"
        case RunnerReason.NoStimNow:
            return "no stimulation phase now"
        case RunnerReason.NotRating:
            return "not asking for a rating now"
        case RunnerReason.OutOfRange:
            return "value out of range"
        case RunnerReason.NotRunning:
            return "no session running"
        case RunnerReason.ButtonRepeat:
            return "button pressed again too soon"
    }
    return "reason " + r
}

/** One thing that happened, for the caller to log and act on (drained by takeEvents). */
export interface RunnerEvent {
    kind: RunnerEventKind
    /** [ms] session sample time */
    atMs: number
    reason: RunnerReason
    /** the program's phase index, -1 for none */
    phaseIndex: number
    /** the phase instance is relaxation work inserted before a toning phase */
    gateWork: boolean
    /** kind-specific (RunnerEventKind) */
    value: number
    /** kind-specific (RunnerEventKind) */
    limit: number
    /** kind-specific (RunnerEventKind) */
    extra: number
    /** RunnerChannel, -1 for none */
    channel: number
    /** SegmentStarted only */
    segment: Segment | null
}

/** The levels of one probe sample, smoothed (SignalChain) and zeroed; NaN when the channel does not measure now. */
export interface Levels {
    /** [uV] EMG envelope */
    emgUv: number
    /** [cmH2O] pressure above the insertion zero */
    pressureCmH2O: number
}

/**
 * What the LED bar, the trainer's registers and a host display need, in
 * one flat object (`SessionRunner.view`).
 */
export interface RunnerView {
    state: RunnerState
    /** the program's phase index, -1 outside a session */
    phaseIndex: number
    /** the program phase's kind ("" outside a session); gate work reads "relax" */
    phaseKind: string
    gateWork: boolean
    /** a toning phase is running (flicks, holds, strengthening stim) */
    toning: boolean
    /** the trainer cue (Idle outside Running/Paused) */
    cue: Cue
    guide: Guide
    /** [channel units] the live level shown: the band's channel, else the program's first channel; NaN unknown */
    level: number
    /** RunnerChannel of `level` */
    levelChannel: number
    bandKind: BandKind
    /** [channel units] Between: lower edge */
    bandLow: number
    /** [channel units] upper edge (AtOrBelow: the level to stay at or below) */
    bandHigh: number
    /** [channel units] the level that fills the bar */
    scaleMax: number
    /** [ms] left in the current segment (gate work: until its timeout), -1 open */
    segmentRemainingMs: number
    /** [ms] the current segment's length, 0 open-ended */
    segmentDurationMs: number
    /** [ms] left in the phase (gate work: until its timeout) */
    phaseRemainingMs: number
    /** breathing pacer 0..1: grows while breathing in, shrinks while breathing out */
    breath: number
    /** 0..1 of the relaxation hold; 1 once met in this session */
    gateProgress: number
    gateMet: boolean
    /** the fault cause given to fault(), 0 none */
    faultCause: number
    ratingStep: RatingStep
    /** the value being chosen (pain 0..10, or dilator size) */
    ratingValue: number
    /** the largest value of the current rating step */
    ratingMax: number
    batteryLow: boolean
    probeReady: boolean
    /** [% of target] ets phases: the level against the phase's target (StimEventKind.MeasuredLevel), NaN unknown */
    levelPctOfTarget: number
    /** [ms] running time of the session (pauses excluded) */
    runningMs: number
    /** the latest Notice */
    notice: Notice
    /** [ms] since the latest notice, -1 none */
    noticeAgeMs: number
    /**
     * Up minus Down presses the runner took as intensity steps (in a stim
     * phase), modulo 256, counted since the runner was made: the stim module
     * applies the change since the last status it saw (services/trainer.md
     * `runner.intensity_steps`), so a lost or repeated status loses or
     * repeats no press
     */
    intensitySteps: number
}
