/**
 * Scores what the firmware measured against the patient model's ground
 * truth: onset/offset timing, peaks, rest tone and rep counts.
 */
import { RepFlag } from "../../src/core/metrics/types"
import { PEAK_WINDOW_MS } from "../../src/core/metrics/channel-analyzer"
import { DEFAULT_MEASUREMENT, movingAverageDelayMs } from "../../src/core/session/measurement-session"
import type { DeviceRep } from "../device/trainer-client"
import type { AssessmentRunResult } from "./assessment-run"
import type { GroundTruth, TrueRep } from "./patient"

/** The model's noise-free signals, indexed by probe sample seq. */
export interface NoiseFreeTrace {
    /** [ms] */
    intervalMs: number
    /** [uV] */
    emgUv: number[]
    /** [cmH2O] above the full-rest balloon reading */
    pressureCmH2O: number[]
}

/**
 * The device's peak is the highest PEAK_WINDOW_MS moving average in the work
 * window (src/core/metrics/channel-analyzer.ts); the truth's peak is the same
 * operator on the noise-free signal.
 */
export { PEAK_WINDOW_MS }

/** Max over [fromMs, toMs] of a causal `windowMs` moving average of `values` (sample i at i * intervalMs). */
export function windowedPeak(values: number[], intervalMs: number, fromMs: number, toMs: number, windowMs: number): number {
    const n = Math.max(1, Math.round(windowMs / intervalMs))
    const first = Math.max(n - 1, Math.ceil(fromMs / intervalMs))
    const last = Math.min(values.length - 1, Math.floor(toMs / intervalMs))
    let best = -Infinity
    for (let i = first; i <= last; i++) {
        let sum = 0
        let complete = true
        for (let k = i - n + 1; k <= i && complete; k++) {
            if (values[k] === undefined) complete = false
            else sum += values[k]
        }
        if (complete) best = Math.max(best, sum / n)
    }
    return best
}

/**
 * The truth's offset is when the contraction is back within the rest band,
 * as the metrics issue defines release ("time back to within the rest band
 * after the cue to relax"): the true activation has fallen below this
 * fraction of the rep's peak activation. (Activation exactly 0 is never
 * observable: the last few percent of a slow release hide in the rest tone's
 * own variability.) 5 % is the usual "return to baseline" criterion of
 * relaxation-time measurements (e.g. time to 95 % relaxation).
 */
export const RELEASE_FRACTION = 0.05

export interface TruthExtras {
    /** noise-free signals, to apply the device's peak definition to the truth */
    trace?: NoiseFreeTrace
    /** [ms] per repIndex: the truth's release time (RELEASE_FRACTION); the model's activation-back-at-0 time if absent */
    releaseMs?: Record<number, number>
}

/**
 * [%] the peak errors of the reps the device did not flag PoorContact (those
 * its peak target applies to), or with `flagged` of those it did
 */
export function peakErrorsPct(reps: RepScore[], flagged = false): number[] {
    return reps.filter(r => r.poorContact === flagged).map(r => r.peakErrorPct)
}

export interface RepScore {
    repIndex: number
    /** [ms] device - truth */
    onsetErrorMs: number
    /** [ms] device - truth */
    offsetErrorMs: number
    /** [%] |device - truth| / truth */
    peakErrorPct: number
    /**
     * the device flagged the rep PoorContact (the EMG electrode noisy or
     * jumpy inside it): its amplitudes carry the artefacts, and the device
     * says so; scored apart from the peak target (peakErrorsPct)
     */
    poorContact: boolean
}

export interface ChannelScore {
    reps: RepScore[]
    /** reps the device counted as done */
    repsDone: number
    /** reps the truth says were done (not interrupted) */
    repsExpected: number
    /**
     * reps the device flagged StartedHigh (already above its onset threshold
     * at the cue: e.g. after a spasm raised the tone); left out of the timing
     * errors: their onset is the start of a rise on top of the raised tone
     * when the device finds one, else the cue
     */
    startedHigh: number
    /**
     * of those, the reps whose patient had let go of the previous contraction
     * (its release, RELEASE_FRACTION) before the device's anticipation window
     * opened (anticipationMs before the cue): a flag the patient's activation
     * does not explain (a tone above the onset band can, on the overactive
     * profiles). A patient who let go late, because she saw the rest cue
     * late (a VM behind its feed reports it late), was still contracting:
     * the device is right to flag that rep.
     */
    startedHighAtRest: number
    /** [ms] device - truth onset of those StartedHigh reps, on their own */
    startedHighOnsetErrorsMs: number[]
    /** truth says interrupted and the device flagged the same rep Interrupted */
    interruptedFlagged: number
    interruptedExpected: number
    /** [channel unit] |device pre-baseline mean - true rest mean| */
    restToneError: number
}

export interface SessionScore {
    emg: ChannelScore
    pressure: ChannelScore
}

/** Percentile by linear interpolation (p in 0..100); NaN for no data. */
export function percentile(values: number[], p: number): number {
    if (!values.length) return NaN
    const sorted = [...values].sort((a, b) => a - b)
    const rank = (p / 100) * (sorted.length - 1)
    const lo = Math.floor(rank)
    const hi = Math.ceil(rank)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo)
}

/**
 * The true peak. With the noise-free trace: the device's definition over the
 * device's own work window (its cue times, in model time), so the bus delay
 * before the patient sees a cue does not shift one window against the other.
 */
function truePeak(rep: TrueRep, channel: "emg" | "pressure", device: DeviceRep, sessionStartMs: number, trace?: NoiseFreeTrace): number {
    if (!trace) return channel === "emg" ? rep.peakEmgUv : rep.peakPressureCmH2O
    const values = channel === "emg" ? trace.emgUv : trace.pressureCmH2O
    // the device's window is in the sample times of its smoothed input, which lags the muscle by the smoothing delay
    const chain = DEFAULT_MEASUREMENT.chain
    const lagMs = movingAverageDelayMs(channel === "emg" ? chain.emgWindowMs : chain.pressureWindowMs, chain.sampleRateHz)
    const from = device.cueOnMs + sessionStartMs - lagMs
    const to = device.cueOffMs + sessionStartMs - lagMs
    return windowedPeak(values, trace.intervalMs, from, to, PEAK_WINDOW_MS)
}

/**
 * What the device's value must be shifted by to compare with the truth: EMG
 * is absolute on both sides; the device's pressure is relative to its zero,
 * the truth's to the full-rest balloon reading.
 */
function deviceToTruthShift(channel: "emg" | "pressure", run: AssessmentRunResult, truth: GroundTruth): number {
    return channel === "emg" ? 0 : run.zeroAtStartCmH2O - truth.balloonCmH2O
}

/**
 * The patient had let go of her previous contraction (if any) by the time
 * the device's onset window for `t` opened (`windowOpensMs`, in the truth's
 * time).
 */
function atRestAtWindow(t: TrueRep, windowOpensMs: number, truth: GroundTruth, extras: TruthExtras): boolean {
    const prev = truth.reps.find(p => p.repIndex === t.repIndex - 1)
    if (!prev) return true
    const releaseMs = extras.releaseMs?.[prev.repIndex] ?? prev.offsetMs
    return prev.released && releaseMs >= 0 && releaseMs <= windowOpensMs
}

function scoreChannel(
    deviceReps: DeviceRep[],
    truth: GroundTruth,
    channel: "emg" | "pressure",
    run: AssessmentRunResult,
    extras: TruthExtras
): ChannelScore {
    const trace = extras.trace
    const offset = run.sessionStartMs
    const shift = deviceToTruthShift(channel, run, truth)
    const reps: RepScore[] = []
    let interruptedFlagged = 0
    let interruptedExpected = 0
    let repsExpected = 0
    let startedHigh = 0
    let startedHighAtRest = 0
    // the channel's own analyzer opens a rep's onset window this long before the cue
    const anticipationMs = (channel === "emg" ? DEFAULT_MEASUREMENT.emgAnalyzer : DEFAULT_MEASUREMENT.pressureAnalyzer).anticipationMs ?? 0
    const startedHighOnsetErrorsMs: number[] = []
    for (const t of truth.reps) {
        const interrupted = channel === "emg" ? t.interrupted : false
        const d = deviceReps.find(r => r.repIndex === t.repIndex)
        if (interrupted) {
            interruptedExpected++
            if (d && d.flags & RepFlag.Interrupted) interruptedFlagged++
            continue
        }
        repsExpected++
        if (!d || d.onsetMs < 0) continue
        if (d.flags & RepFlag.StartedHigh) {
            startedHigh++
            if (atRestAtWindow(t, d.cueOnMs + offset - anticipationMs, truth, extras)) startedHighAtRest++
            startedHighOnsetErrorsMs.push(d.onsetMs - (t.onsetMs - offset))
            continue
        }
        const peak = truePeak(t, channel, d, offset, trace)
        const trueOffset = extras.releaseMs?.[t.repIndex] ?? t.offsetMs
        reps.push({
            repIndex: t.repIndex,
            onsetErrorMs: d.onsetMs - (t.onsetMs - offset),
            offsetErrorMs: d.offsetMs < 0 || trueOffset < 0 ? NaN : d.offsetMs - (trueOffset - offset),
            peakErrorPct: (Math.abs(d.peak + shift - peak) / peak) * 100,
            poorContact: (d.flags & RepFlag.PoorContact) !== 0,
        })
    }
    const summary = channel === "emg" ? run.summary.emg : run.summary.pressure
    const rest = channel === "emg" ? truth.restEmgUv : truth.restPressureCmH2O
    // the pre-baseline window: the first rest window of the session
    const pre = rest.find(w => w.endMs > offset) ?? rest[0]
    return {
        reps,
        repsDone: summary.repsDone,
        repsExpected,
        startedHigh,
        startedHighAtRest,
        startedHighOnsetErrorsMs,
        interruptedFlagged,
        interruptedExpected,
        restToneError: pre ? Math.abs(summary.preBaseline.mean + shift - pre.meanUv) : NaN,
    }
}

/**
 * Scores a run. With the noise-free `trace`, peaks are compared under the
 * device's own definition (highest PEAK_WINDOW_MS average); without it, with
 * the model's instantaneous noise-free peak.
 */
export function scoreSession(run: AssessmentRunResult, truth: GroundTruth, extras: TruthExtras = {}): SessionScore {
    return {
        emg: scoreChannel(run.reps.emg, truth, "emg", run, extras),
        pressure: scoreChannel(run.reps.pressure, truth, "pressure", run, extras),
    }
}
