/**
 * Deterministic test waveforms for the simulated probe. (The patient model
 * with cues, fatigue and ground truth comes with the metrics issue.)
 */
import type { SampleSource } from "./probe-feed"

export interface ContractionWaveOptions {
    /** [cmH2O] resting vaginal pressure */
    restCmH2O: number
    /** [cmH2O] pressure rise at the top of a squeeze */
    squeezeCmH2O: number
    /** [uV] resting EMG envelope */
    restUv: number
    /** [uV] EMG envelope at the top of a squeeze */
    squeezeUv: number
    /** [ms] one squeeze + rest cycle */
    periodMs: number
    /** [ms] of the cycle spent squeezing */
    squeezeMs: number
    /** [ms] rise and fall time */
    rampMs: number
}

/**
 * Resting values taken from clinical descriptions: resting sEMG 2-5 uV in
 * healthy women with intravaginal probes (Glazer et al., J Reprod Med 1999;
 * 44:779-782), resting vaginal pressure some 10-30 cmH2O with balloon probes
 * and a maximal squeeze adding 20-50 cmH2O (Bo & Sherburn, Phys Ther 2005;
 * 85:269-282).
 */
export const DEFAULT_CONTRACTION_WAVE: ContractionWaveOptions = {
    restCmH2O: 15,
    squeezeCmH2O: 30,
    restUv: 4,
    squeezeUv: 45,
    periodMs: 10000,
    squeezeMs: 5000,
    rampMs: 500,
}

/** Activation 0..1 at `timeMs` for a trapezoid squeeze train. */
export function trapezoid(timeMs: number, o: ContractionWaveOptions): number {
    const t = ((timeMs % o.periodMs) + o.periodMs) % o.periodMs
    if (t < o.rampMs) return t / o.rampMs
    if (t < o.squeezeMs) return 1
    if (t < o.squeezeMs + o.rampMs) return 1 - (t - o.squeezeMs) / o.rampMs
    return 0
}

/** Squeezes repeating every `periodMs`, same shape on both channels. */
export function contractionWave(options: ContractionWaveOptions = DEFAULT_CONTRACTION_WAVE): SampleSource {
    return (_seq, timeMs) => {
        const a = trapezoid(timeMs, options)
        return {
            pressureCmH2O: options.restCmH2O + a * options.squeezeCmH2O,
            emgUv: options.restUv + a * (options.squeezeUv - options.restUv),
        }
    }
}
