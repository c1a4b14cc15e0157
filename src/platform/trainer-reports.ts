/**
 * The trainer's `runner` and `live` reports (services/trainer.md) as the
 * modules that follow the trainer read them: the log module
 * (src/logger/trainer-watch.ts) and the stim module
 * (src/stim/trainer-link.ts). The field offsets live here only.
 */
import type { LiveReportFields, RunnerReportFields } from "../core/protocol/trainer-reports"

/** bytes of a `runner` report up to `intensity_steps` */
export const RUNNER_REPORT_BYTES = 21
/** bytes of a `live` report up to `emg_contact` */
export const LIVE_REPORT_BYTES = 30

/** A `runner` report's fields; null when it is too short to be one. */
export function runnerReportOf(p: Buffer): RunnerReportFields | null {
    if (p.length < RUNNER_REPORT_BYTES) return null
    return {
        state: p.getAt(0, "u8"),
        phaseIndex: p.getAt(1, "i8"),
        phaseKind: p.getAt(2, "u8"),
        flags: p.getAt(3, "u8"),
        notice: p.getAt(5, "u8"),
        ratingValue: p.getAt(6, "u8"),
        faultCause: p.getAt(7, "u8"),
        level: p.getAt(8, "f32"),
        bandLow: p.getAt(12, "f32"),
        intensitySteps: p.getAt(20, "u8"),
    }
}

/** A `live` report's fields (wire units: hPa, mV); null when it is too short to be one. */
export function liveReportOf(p: Buffer): LiveReportFields | null {
    if (p.length < LIVE_REPORT_BYTES) return null
    return {
        sampleTimeMs: p.getAt(24, "u32"),
        pressureHpa: p.getAt(12, "f32"),
        emgMv: p.getAt(16, "f32"),
        probeState: p.getAt(28, "u8"),
        emgContact: p.getAt(29, "u8"),
    }
}
