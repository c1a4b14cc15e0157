/**
 * The fields of the trainer's `runner` and `live` reports
 * (services/trainer.md), for the modules that follow the trainer
 * (src/platform/trainer-reports.ts decodes them) and the core code that
 * takes them (the log recorder, the stim follower).
 *
 * Types and an enum only, on purpose: in DeviceScript even a type-only
 * import compiles the imported module into the image (importing the
 * recorder's types cost the stim module ~4 KB); this file has no code.
 */

/** Bits of the runner report's `flags` (services/trainer.md `runner`; src/feedback/runner-status.ts sets them). */
export enum RunnerFlag {
    GateWork = 1,
    Toning = 2,
    GateMet = 4,
    BatteryLow = 8,
    /** the Rating asks the dilator size (else the pain) */
    DilatorStep = 16,
    /** `level` and the band are pressure (else EMG) */
    LevelPressure = 32,
}

/** A `runner` report's fields (services/trainer.md). */
export interface RunnerReportFields {
    /** SessionState */
    state: number
    /** -1 none */
    phaseIndex: number
    /** index in PHASE_KINDS, 255 none */
    phaseKind: number
    /** RunnerFlag bits */
    flags: number
    notice: number
    ratingValue: number
    faultCause: number
    /** [uV or cmH2O] NaN unknown */
    level: number
    /** [uV or cmH2O] NaN unknown */
    bandLow: number
    /** Up minus Down intensity presses, modulo 256 */
    intensitySteps: number
}

/** A `live` report's fields, in wire units. */
export interface LiveReportFields {
    /** [ms] session sample time, 0 outside a session */
    sampleTimeMs: number
    /** [hPa] */
    pressureHpa: number
    /** [mV] */
    emgMv: number
    /** ProbeState */
    probeState: number
    /** EmgContact */
    emgContact: number
}
