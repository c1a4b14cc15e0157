/**
 * Why the stim supervisor did what it did: every step it takes returns an
 * `{ action, reason }` pair, and the same pair goes into the session log
 * (issue 6 encodes the numbers; `stimReasonName` gives the text for people).
 *
 * The numbers are stable log codes: add new ones, never renumber.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** What the supervisor did in one step. */
export enum StimAction {
    /** output off, nothing changed */
    Off = 0,
    /** output on, following the plan */
    On = 1,
    /** a deliberate start turned the output on (from AMPLITUDE_START_MA) */
    Started = 2,
    /** a stop cause turned the output off in this very step; it stays off until a deliberate start */
    Stopped = 3,
    /** a request (start, intensity up/down) was refused; `reason` says why */
    Refused = 4,
    /** the patient's intensity level went up or down */
    LevelChanged = 5,
    /** new phase settings were taken (through zero if running) */
    PhaseSet = 6,
    /** phase settings were invalid and dropped */
    PhaseRejected = 7,
    /** a new session configuration (caps, contraindications) was taken */
    Configured = 8,
}

/** The reason attached to every step: stop causes, refusals, plan stages. */
export enum StimReason {
    None = 0,

    // --- stop causes (the output goes to zero in the same step and latches off)
    StopButton = 1,
    LeadOff = 2,
    ImpedanceLow = 3,
    /** above LOAD_IMPEDANCE_MAX_OHM, or not a number (an unreadable load counts as open) */
    ImpedanceHigh = 4,
    ProbeRemoved = 5,
    /** no module status for longer than STIM_STATUS_TIMEOUT_MS */
    BusLost = 6,
    /** the supervisor itself was not stepped for longer than the module's watchdog */
    KeepAliveGap = 7,
    ModuleFault = 8,
    BatteryLow = 9,
    StimTimeOver = 10,
    Contraindication = 11,
    Exception = 12,
    ProgramChanged = 13,
    InvalidPhase = 14,
    /** `now` went backwards or is not a number */
    ClockFault = 15,
    /**
     * the stim phase is over (the runner moved on to the next phase or to
     * the end-of-session rating): the output stops as on any stop cause and
     * the next stim phase starts again from zero
     */
    PhaseEnded = 16,

    // --- refusals (nothing turns on, nothing goes up)
    /** no session configuration, or caps that allow no stimulation */
    NoStimCaps = 20,
    NoPhase = 21,
    AlreadyRunning = 22,
    NotRunning = 23,
    /** intensity up only in the adjust window after a start or phase change */
    AdjustWindowClosed = 24,
    /** intensity up only while stimulation is being delivered (not in a rest) */
    NoStimNow = 25,
    /** the level is already at the highest the caps allow for this phase */
    AtMaximum = 26,
    AtZero = 27,
    /** less than SESSION_REST_MIN_MS since the last stim session */
    SessionRestTooShort = 28,
    /** an identical phase was set again (a retried command): nothing changed */
    Unchanged = 29,

    // --- plan stages (output on)
    RampUp = 40,
    Work = 41,
    RampDown = 42,
    Rest = 43,
    Continuous = 44,
    EtsWaiting = 45,
    EtsArmed = 46,
    EtsAssist = 47,

    // --- level and configuration
    LevelUp = 50,
    LevelDown = 51,
    NewPhase = 52,
    NewSession = 53,
}

/** Is `r` a cause that stops stimulation? */
export function isStopCause(r: StimReason): boolean {
    return r >= StimReason.StopButton && r <= StimReason.PhaseEnded
}

/** Text for logs and messages (DeviceScript has no reverse enum mapping). */
export function stimReasonName(r: StimReason): string {
    switch (r) {
        case StimReason.None:
            return "none"
        case StimReason.StopButton:
            return "stop button"
        case StimReason.LeadOff:
            return "lead-off"
        case StimReason.ImpedanceLow:
            return "impedance too low"
        case StimReason.ImpedanceHigh:
            return "impedance too high"
        case StimReason.ProbeRemoved:
            return "probe removed"
        case StimReason.BusLost:
            return "stimulator silent (bus lost)"
        case StimReason.KeepAliveGap:
            return "keep-alive gap"
        case StimReason.ModuleFault:
            return "stimulator fault"
        case StimReason.BatteryLow:
            return "battery low"
        case StimReason.StimTimeOver:
            return "stim time over"
        case StimReason.Contraindication:
            return "contraindication"
        case StimReason.Exception:
            return "exception in the stim path"
        case StimReason.ProgramChanged:
            return "program changed"
        case StimReason.InvalidPhase:
            return "invalid phase settings"
        case StimReason.ClockFault:
            return "clock fault"
        case StimReason.PhaseEnded:
            return "stim phase over"
        case StimReason.NoStimCaps:
            return "no stim caps"
        case StimReason.NoPhase:
            return "no phase"
        case StimReason.AlreadyRunning:
            return "already running"
        case StimReason.NotRunning:
            return "not running"
        case StimReason.AdjustWindowClosed:
            return "adjust window closed"
        case StimReason.NoStimNow:
            return "no stimulation now"
        case StimReason.AtMaximum:
            return "at maximum"
        case StimReason.AtZero:
            return "at zero"
        case StimReason.SessionRestTooShort:
            return "too soon after the last session"
        case StimReason.Unchanged:
            return "unchanged"
        case StimReason.RampUp:
            return "ramp up"
        case StimReason.Work:
            return "work"
        case StimReason.RampDown:
            return "ramp down"
        case StimReason.Rest:
            return "rest"
        case StimReason.Continuous:
            return "continuous"
        case StimReason.EtsWaiting:
            return "ETS waiting"
        case StimReason.EtsArmed:
            return "ETS armed"
        case StimReason.EtsAssist:
            return "ETS assist"
        case StimReason.LevelUp:
            return "level up"
        case StimReason.LevelDown:
            return "level down"
        case StimReason.NewPhase:
            return "new phase"
        case StimReason.NewSession:
            return "new session"
    }
    return "reason " + r
}
