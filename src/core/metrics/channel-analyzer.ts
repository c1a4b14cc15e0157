/**
 * Streaming contraction metrics for one channel (EMG envelope in uV, or
 * zeroed pressure in cmH2O), run per sample on the device and, from the same
 * file, on the host.
 *
 * Feed it the session's segments (`beginSegment`, from the protocol) and the
 * channel's samples (`push`) in sample-time order; it finds each
 * contraction's onset and offset and measures it (RepMetrics), the rest
 * baselines (RestMetrics) and the session (SessionMetrics).
 *
 * ## Thresholds (double threshold)
 *
 * From rest statistics (mean, SD):
 *
 * - high = restMean + kHigh * sd, kHigh = 3: the onset criterion of Hodges
 *   & Bui (P. W. Hodges, B. H. Bui, "A comparison of computer-based methods
 *   for the determination of onset of muscle contraction using
 *   electromyography", Electroencephalogr Clin Neurophysiol 1996;
 *   101:511-519: baseline mean + 3 SD, held over a short window);
 * - low = restMean + kLow * sd, kLow = 1: the upper edge of the rest band
 *   (`restBand()`),
 *
 * with sd = max(restSd, minThreshold / kHigh), so that a perfectly quiet
 * rest does not turn noise-sized wiggles into contractions.
 *
 * ## Onset
 *
 * The value stays above high for minOnMs: the "m consecutive samples above
 * threshold" rule of the double-threshold detector (P. Bonato, T.
 * D'Alessio, M. Knaflitz, "A statistical method for the measurement of
 * muscle activation intervals from surface myoelectric signal during gait",
 * IEEE Trans Biomed Eng 1998; 45:287-299). The onset is then backtracked to
 * the last sample at or below low, which takes out the detection delay of
 * the high threshold, and inputDelayMs is subtracted.
 *
 * - The search starts anticipationMs (300 ms) before the contract cue, so
 *   an anticipating patient gets a negative onsetLatencyMs; backtracking
 *   never goes further back than that (if the value was never at rest since
 *   then, the onset is where it crossed high).
 * - If the value has been above high since before that window when the cue
 *   comes, the rep is flagged StartedHigh and its onset is the cue time.
 *   StartedHigh uses the high threshold rather than the rest band: Gaussian
 *   rest noise is above mean + 1 SD a sixth of the time.
 * - A run above high must begin before the let-go cue; none: NoContraction.
 *
 * ## Offset
 *
 * The first sample at or below low (back within the rest band) followed by
 * minOffMs without a renewed contraction (above high for minOnMs, the onset
 * rule), minus inputDelayMs. That is hysteresis: rest noise between low and
 * high, or a one-sample spike above high, does not restart the wait
 * (requiring every sample to stay below low would, a sixth of the time).
 * An offset before the let-go cue (the patient let go early) stands unless
 * the patient contracts again before the cue; then the later one counts.
 * releaseLatencyMs = offset - cueOff, negative for an early release.
 *
 * Low rather than high, because the simulator's ground truth offset is when
 * the signal is back at rest (and its onset when it leaves rest): with a
 * half-cosine ramp of duration T and amplitude A, a crossing of
 * restMean + k * sd is about T * (2/pi) * sqrt(k * sd / A) off the truth
 * (onsets late, offsets early), so the low threshold is the closer one. For
 * A = 40 uV, sd = 0.3 uV, T = 300 ms that is 16 ms; with linear ramps it is
 * T * k * sd / A.
 *
 * ## When a rep finishes
 *
 * At its offset, but not before its work window has closed (the next
 * segment began). At the next Work segment or `finish()` without an offset
 * it finishes flagged NoRelease (if the value was back in the rest band and
 * only minOffMs had not passed yet, that counts as the offset);
 * `markInterrupted()` finishes it at once, flagged Interrupted. Without an
 * onset: NoContraction, finished when the window closes.
 *
 * ## Per-rep measures (work window [cueOnMs, cueOffMs))
 *
 * - peak: largest value in the window; peakPctMvc = 100 * peak / MVC so far,
 *   this rep included if it counts (has an onset, not interrupted);
 *   timeToPeakMs = time of the (first) peak - onset (before the delay
 *   correction: the delay is in both).
 * - meanWork: mean over the window.
 * - holdAtTargetMs: time at or above holdTargetPctMvc % of the MVC so far.
 *   Exact when the MVC comes from earlier reps; when this rep sets it, the
 *   target is only known at the end, and a 64-bin histogram of the window
 *   (ValueHistogram) gives it to within a bin of 2-3% of the peak.
 * - holdCv: sample SD / mean over the plateau, from the first sample at or
 *   above plateauPctPeak (90) % of the peak to the end of the window (the
 *   plateau start only moves within the last historyMs of samples when a
 *   later, higher peak raises the level).
 * - enduranceDeclinePct (Block.Endurance): 100 * (first - last) / first,
 *   the means of the first and last enduranceWindowMs (10 s) of the
 *   contraction, from the onset to the planned let-go cue (cue + segment
 *   duration); thirds if that is shorter than 20 s. Windows cut short by an
 *   early cueOff use what was seen; none seen: 0.
 *
 * ## Rest statistics, and which set the thresholds
 *
 * Each Baseline/Rest segment's statistics (Welford, sample SD) leave out its
 * first restSettleMs (1 s; half the segment if shorter than 2 s: the
 * patient settles, and the post-baseline starts right after the endurance
 * contraction's release) and its last anticipationMs (300 ms; a quarter of
 * the segment if shorter: an anticipating patient may already squeeze).
 * PreBaseline segments give `session().preBaseline`, PostBaseline ones
 * `postBaseline`. At each contract cue the thresholds are set from, in
 * order: the pre-baseline (if it has minRestMs of data); the latest
 * Baseline/Rest segment with minRestMs of data; the first startupMs (1 s) of
 * data, leaving out samples above the high threshold those same data give
 * (once there are minRestMs of them) and updated live while that first
 * second is still coming in, so a program that starts with a contract cue
 * uses the patient's reaction time as its baseline. The thresholds then stay
 * fixed for the rep. `markInterrupted` during a Baseline/Rest segment stops
 * its statistics for the rest of that segment.
 *
 * ## Memory and cost
 *
 * O(1) amortised per sample (no allocation): running sums, a ring of the
 * last historyMs (300 ms) of samples for the pre-cue rescan and the plateau
 * start, a 64-bin histogram. About 2-3 KB per analyzer at 100 Hz in the
 * simulator VM (whose heap is ~64 KB), plus 16 bytes per extra sample of
 * history at higher rates. Only the list of finished reps grows.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the
 * host (Node). Keep to the DeviceScript subset (docs/engineering.md).
 */
import { Block, SegmentKind, type Segment } from "../protocol/assessment"
import { MovingAverage } from "../filters"
import { windowSamples } from "../units"
import { RunningStats, restMetricsOf } from "./running-stats"
import { RepFlag, type RepMetrics, type SessionMetrics } from "./types"
import { ValueHistogram } from "./value-histogram"

export interface ChannelAnalyzerOptions {
    /** [Hz] samples per second of this channel */
    sampleRateHz: number
    /** onset when the value stays above restMean + kHigh * restSd (3: Hodges & Bui 1996) */
    kHigh: number
    /** onset backtracks to / offset is confirmed at restMean + kLow * restSd, the rest band's upper edge (1) */
    kLow: number
    /** [channel units] floor for kHigh * restSd (the low threshold is floored in proportion) */
    minThreshold: number
    /** [ms] the value stays above the high threshold this long to be an onset (Bonato et al. 1998) */
    minOnMs: number
    /** [ms] the value stays back near rest (not above high) this long to be an offset */
    minOffMs: number
    /** [ms] group delay of the smoothing before the analyzer, subtracted from onsets and offsets (see smoothingDelayMs) */
    inputDelayMs: number
    /** [%] hold target as a percentage of the MVC so far (50) */
    holdTargetPctMvc: number
    /** [ms] how long before the contract cue an onset may be (an anticipating patient); default 300 */
    anticipationMs?: number
    /** [ms] start of each Baseline/Rest segment left out of its statistics; default 1000 */
    restSettleMs?: number
    /** [ms] rest data a set of rest statistics needs to set thresholds; default 250 */
    minRestMs?: number
    /** [ms] the first data used as rest when no Baseline/Rest segment came first; default 1000 */
    startupMs?: number
    /** [%] the plateau for holdCv starts where the value first reaches this % of the rep's peak; default 90 */
    plateauPctPeak?: number
    /** [ms] endurance: compare the means of the first and last windows this long (thirds if the contraction is shorter than two); default 10000 */
    enduranceWindowMs?: number
    /** [ms] samples kept for the pre-cue rescan and the plateau start (16 bytes each); default and minimum: anticipationMs */
    historyMs?: number
    /**
     * [ms] the peak is the highest moving average over this window inside
     * the work window; 0 (default) takes the highest single sample. See
     * PEAK_WINDOW_MS.
     */
    peakWindowMs?: number
    /**
     * [ms] the onset backtracks to the level of the last preCueMs before the
     * contract cue (+ kLow * sd) rather than to the pre-baseline's rest band:
     * a wandering rest tone sits above or below the session's mean for
     * seconds. 0 (default): the rest band. Needs historyMs >= preCueMs plus
     * the slowest rise.
     */
    preCueMs?: number
}

/**
 * [ms] Peak amplitude as the highest 500 ms moving average: a single
 * envelope sample rides on noise, so sEMG practice takes MVC/peak values from
 * a 500 ms window around the maximum (P. Konrad, "The ABC of EMG", Noraxon,
 * 2005, ch. "Amplitude normalization": mean amplitude of the 500 ms around
 * the peak). The firmware and the scorer use the same window for pressure.
 */
export const PEAK_WINDOW_MS = 500


/**
 * For the firmware's EMG envelope in uV at 100 samples/s. minThreshold 2 uV:
 * resting sEMG of the pelvic floor is some 2-5 uV with intravaginal probes
 * (Glazer et al., J Reprod Med 1999; 44:779-782), so 2 uV is a clear step
 * above rest; minOnMs 30 ms: Hodges & Bui's 25 ms window rounded up to whole
 * 10 ms samples; minOffMs 100 ms (engineering choice: well under the 2 s of
 * a quick flick's rest). inputDelayMs 0: set it to
 * smoothingDelayMs(emgWindowMs, sampleRateHz) when the input is the
 * SignalChain output.
 */
export const DEFAULT_EMG_ANALYZER: ChannelAnalyzerOptions = {
    sampleRateHz: 100,
    kHigh: 3,
    kLow: 1,
    minThreshold: 2,
    minOnMs: 30,
    minOffMs: 100,
    inputDelayMs: 0,
    holdTargetPctMvc: 50,
    anticipationMs: 300,
    restSettleMs: 1000,
    minRestMs: 250,
    startupMs: 1000,
    plateauPctPeak: 90,
    enduranceWindowMs: 10000,
    historyMs: 300,
}

/**
 * For zeroed vaginal pressure in cmH2O at 100 samples/s. minThreshold 1 cmH2O
 * (engineering choice): ten times the ~0.1 cmH2O resolution of clinical
 * perineometers, below the few cmH2O of the weakest voluntary squeezes (Bo &
 * Sherburn, Phys Ther 2005; 85:269-282). minOnMs 50 ms: pressure rises more
 * slowly than EMG.
 */
export const DEFAULT_PRESSURE_ANALYZER: ChannelAnalyzerOptions = {
    ...DEFAULT_EMG_ANALYZER,
    minThreshold: 1,
    minOnMs: 50,
}

/**
 * [ms] group delay of a causal moving average of `windowMs` at
 * `sampleRateHz`: (N - 1) / 2 samples for N = windowSamples(windowMs). For
 * the SignalChain defaults at 100 Hz: EMG 100 ms -> 45 ms, pressure 50 ms
 * -> 20 ms.
 */
export function smoothingDelayMs(windowMs: number, sampleRateHz: number): number {
    return ((windowSamples(windowMs, sampleRateHz) - 1) / 2) * (1000 / sampleRateHz)
}

const PHASE_WAIT = 0
const PHASE_ACTIVE = 1

/** The rep in progress. */
class RepState {
    readonly m: RepMetrics
    phase = PHASE_WAIT
    flags = 0
    /** the work window [cueOn, cueOff) is still open */
    windowOpen = true
    /** [ms] earliest onset: cue - anticipationMs */
    windowStartMs = 0
    /** onset backtrack level: the pre-cue level + kLow * sd; -1: use the rest band */
    backLo = -1
    /** [ms] cue + segment duration */
    plannedOffMs = 0
    isEndurance = false
    /** MVC of the reps before this one */
    prevMvc = 0
    /** hold target from prevMvc, exact when this rep does not raise the MVC */
    fixedTarget = 0
    atFixedTargetN = 0
    windowN = 0
    windowSum = 0
    hasPeak = false
    peak = 0
    peakMs = 0
    /** [ms] onset before the delay correction */
    onsetRawMs = 0
    offsetFound = false
    /** an offset candidate: the value came back to the rest band at candMs */
    candidate = false
    candMs = 0
    /** plateau: from sample plateauSeq on, sums of (value - ref) and (value - ref)^2 */
    ref = 0
    firstSeq = 0
    plateauFound = false
    plateauSeq = 0
    plateauValue = 0
    plateauN = 0
    plateauS1 = 0
    plateauS2 = 0
    /** endurance windows [from, to) and their sums */
    e1From = 0
    e1To = 0
    e2From = 0
    e2To = 0
    e1Sum = 0
    e1N = 0
    e2Sum = 0
    e2N = 0

    constructor(m: RepMetrics) {
        this.m = m
    }
}

function optionOr(value: number | undefined, fallback: number): number {
    return value === undefined ? fallback : value
}

/**
 * Contraction metrics for one channel, one session. See the file comment for
 * the method. Methods taking `tMs` expect sample time in ms, not decreasing.
 */
export class ChannelAnalyzer {
    private readonly sampleMs: number
    private readonly kHigh: number
    private readonly kLow: number
    private readonly minThreshold: number
    private readonly minOnMs: number
    private readonly minOffMs: number
    private readonly delayMs: number
    private readonly targetFrac: number
    private readonly anticipationMs: number
    private readonly settleMs: number
    private readonly minRestN: number
    private readonly startupMs: number
    private readonly plateauFrac: number
    private readonly enduranceWindowMs: number
    private readonly repsPlanned: number

    // sample ring: the last ringLen samples
    private readonly ringLen: number
    private readonly ringT: number[] = []
    private readonly ringV: number[] = []
    private ringNext = 0
    private ringCount = 0
    /** samples accepted so far; the latest has seq - 1 */
    private seq = 0

    private done = false
    private hasSample = false
    private firstSampleMs = 0
    private lastSampleMs = 0
    private nowMs = 0

    // rest statistics
    private readonly pre = new RunningStats()
    private readonly post = new RunningStats()
    private readonly segStats = new RunningStats()
    private readonly lastRest = new RunningStats()
    private readonly startup = new RunningStats()
    private startupOpen = true
    private liveStartup = false

    // current segment
    private segRest = false
    private segBlock = -1
    private segSettleUntilMs = 0
    /** [ms] end of the part used for statistics, -1: open-ended */
    private segStatsUntilMs = -1
    private segFrozen = false
    private workOpen = false
    private workSinceMs = 0
    private workClosedMs = 0

    // thresholds and their tracking
    private hasThresh = false
    private restMean = 0
    private hi = 0
    private lo = 0
    /** peak smoothing (null: single samples) */
    private readonly peakAvg: MovingAverage | null
    /** [ms] delay of the peak smoothing, subtracted from peak times */
    private readonly peakDelayMs: number
    /** [ms] see ChannelAnalyzerOptions.preCueMs */
    private readonly preCueMs: number
    private above = false
    private aboveSinceMs = 0
    private hasLastLow = false
    private lastLowMs = 0

    // reps and session
    private rep: RepState | null = null
    private readonly finished: RepMetrics[] = []
    private taken = 0
    private readonly hist = new ValueHistogram(64)
    private mvc = 0
    private repsDone = 0
    private enduranceDecline = 0
    private fatN = 0
    private fatSx = 0
    private fatSy = 0
    private fatSxy = 0
    private fatSxx = 0
    private fatXMin = 0
    private fatXMax = 0

    constructor(options: ChannelAnalyzerOptions, repsPlanned: number) {
        const o = options
        if (!(o.sampleRateHz > 0)) throw new RangeError("sampleRateHz must be > 0, got " + o.sampleRateHz)
        if (!(o.kHigh > 0)) throw new RangeError("kHigh must be > 0, got " + o.kHigh)
        if (!(o.kLow >= 0 && o.kLow <= o.kHigh)) throw new RangeError("kLow must be in [0, kHigh], got " + o.kLow)
        if (!(o.minThreshold >= 0)) throw new RangeError("minThreshold must be >= 0, got " + o.minThreshold)
        if (!(o.minOnMs >= 0) || !(o.minOffMs >= 0)) throw new RangeError("minOnMs and minOffMs must be >= 0")
        if (!(o.inputDelayMs >= 0)) throw new RangeError("inputDelayMs must be >= 0, got " + o.inputDelayMs)
        if (!(o.holdTargetPctMvc >= 0)) throw new RangeError("holdTargetPctMvc must be >= 0, got " + o.holdTargetPctMvc)
        if (!(repsPlanned >= 0)) throw new RangeError("repsPlanned must be >= 0, got " + repsPlanned)
        this.sampleMs = 1000 / o.sampleRateHz
        this.kHigh = o.kHigh
        this.kLow = o.kLow
        this.minThreshold = o.minThreshold
        this.minOnMs = o.minOnMs
        this.minOffMs = o.minOffMs
        this.delayMs = o.inputDelayMs
        this.targetFrac = o.holdTargetPctMvc / 100
        this.anticipationMs = Math.max(0, optionOr(o.anticipationMs, 300))
        this.settleMs = Math.max(0, optionOr(o.restSettleMs, 1000))
        this.minRestN = Math.max(2, Math.ceil(optionOr(o.minRestMs, 250) / this.sampleMs))
        this.startupMs = Math.max(0, optionOr(o.startupMs, 1000))
        this.plateauFrac = Math.max(0, Math.min(100, optionOr(o.plateauPctPeak, 90))) / 100
        this.enduranceWindowMs = Math.max(0, optionOr(o.enduranceWindowMs, 10000))
        this.repsPlanned = repsPlanned
        const peakWindowMs = Math.max(0, optionOr(o.peakWindowMs, 0))
        this.peakAvg = peakWindowMs > 0 ? new MovingAverage(windowSamples(peakWindowMs, o.sampleRateHz)) : null
        this.peakDelayMs = peakWindowMs > 0 ? ((windowSamples(peakWindowMs, o.sampleRateHz) - 1) / 2) * this.sampleMs : 0
        this.preCueMs = Math.max(0, optionOr(o.preCueMs, 0))
        const historyMs = Math.max(optionOr(o.historyMs, this.anticipationMs), this.anticipationMs)
        this.ringLen = Math.ceil(historyMs / this.sampleMs) + 2
        for (let i = 0; i < this.ringLen; i++) {
            this.ringT.push(0)
            this.ringV.push(0)
        }
    }

    /**
     * A new segment (cue) starts at sample time `tMs`: samples pushed from now
     * on belong to it. Closes the previous segment (a work window ends here,
     * which is the rep's cueOffMs). A Work segment with repIndex >= 0 starts a
     * rep: the rep still open is finished (NoRelease if it had no offset), the
     * thresholds are set from the rest statistics and re-applied to the last
     * anticipationMs of samples.
     */
    beginSegment(segment: Segment, tMs: number): void {
        if (this.done) return
        this.seeTime(tMs)
        this.closeSegment(tMs)
        this.segBlock = segment.block
        this.segFrozen = false
        if (segment.kind === SegmentKind.Work) {
            this.workOpen = true
            this.workSinceMs = tMs
            if (segment.repIndex >= 0) {
                const open = this.rep
                if (open !== null) this.forceClose(open, tMs)
                this.startRep(segment, tMs)
            }
        } else {
            this.segRest = true
            let settle = this.settleMs
            let guard = this.anticipationMs
            if (segment.durationMs > 0) {
                if (segment.durationMs / 2 < settle) settle = segment.durationMs / 2
                if (segment.durationMs / 4 < guard) guard = segment.durationMs / 4
                this.segStatsUntilMs = tMs + segment.durationMs - guard
            } else this.segStatsUntilMs = -1
            this.segSettleUntilMs = tMs + settle
            this.segStats.reset()
        }
    }

    /**
     * One sample at sample time `tMs` (not before the previous one; an older
     * sample is ignored). A NaN or infinite value counts as a lost sample
     * (Dropout).
     */
    push(tMs: number, value: number): void {
        if (this.done) return
        if (value - value !== 0) {
            this.flagRep(RepFlag.Dropout)
            return
        }
        if (tMs - tMs !== 0) return
        if (this.hasSample && tMs < this.lastSampleMs) return
        if (!this.hasSample) {
            this.hasSample = true
            this.firstSampleMs = tMs
        }
        this.lastSampleMs = tMs
        this.seeTime(tMs)
        this.updateRest(tMs, value)
        if (this.liveStartup) {
            if (this.startup.count() >= this.minRestN) this.applyReference(this.startup)
            if (!this.startupOpen) this.liveStartup = false
        }
        this.track(tMs, value)

        const s = this.seq
        this.seq = s + 1
        const r = this.rep
        let inWindow = false
        let newPeak = false
        const peakValue = this.peakAvg !== null ? this.peakAvg.push(value) : value
        if (r !== null && r.windowOpen && tMs >= r.m.cueOnMs) {
            inWindow = true
            newPeak = this.accumulateWindow(r, tMs, value, peakValue)
        }
        this.ringWrite(tMs, value)
        if (r !== null) {
            if (newPeak) this.updatePlateau(r, s)
            this.detect(r, tMs, value, inWindow)
        }
    }

    /** `lostSamples` samples were lost just before `tMs`: the rep in progress gets Dropout. */
    markGap(tMs: number, lostSamples: number): void {
        if (this.done) return
        this.seeTime(tMs)
        if (lostSamples > 0) this.flagRep(RepFlag.Dropout)
    }

    /**
     * Probe removed / lead-off at `tMs`: the rep in progress is flagged
     * Interrupted and finished now (its work window, if still open, ends at
     * tMs); it does not count in repsDone, the MVC or the fatigue fit. During
     * a Baseline/Rest segment, that segment's statistics stop here.
     */
    markInterrupted(tMs: number): void {
        if (this.done) return
        this.seeTime(tMs)
        const r = this.rep
        if (r !== null) {
            r.flags |= RepFlag.Interrupted
            this.forceClose(r, tMs)
        }
        if (this.segRest) this.segFrozen = true
    }

    /** The current sample hit the sensor's range: the rep in progress gets Saturated (its peak is a lower bound). */
    markSaturated(tMs: number): void {
        if (this.done) return
        this.seeTime(tMs)
        this.flagRep(RepFlag.Saturated)
    }

    /** Reps finished since the last call, in order, each returned once. */
    takeFinishedReps(): RepMetrics[] {
        const out = this.finished.slice(this.taken)
        this.taken = this.finished.length
        return out
    }

    /** End of session at `tMs`: closes the segment and finishes the open rep. Later calls are ignored. */
    finish(tMs: number): void {
        if (this.done) return
        this.seeTime(tMs)
        this.closeSegment(tMs)
        const r = this.rep
        if (r !== null) this.forceClose(r, tMs)
        this.done = true
    }

    /** All finished reps so far (a copy of the list; the rep in progress is not in it). */
    reps(): RepMetrics[] {
        return this.finished.slice(0)
    }

    /**
     * Session metrics so far. mvc and repsDone count reps with an onset that
     * were not interrupted (a rep without a contraction has no voluntary
     * peak), the rep in progress included; holdFatiguePct fits the peaks of
     * such reps in the Holds block against their repIndex (least squares) and
     * gives 100 * (fitted first - fitted last) / fitted first, 0 below 2
     * holds; timeOnTaskMs is the time with a Work segment open up to the
     * latest time seen.
     */
    session(): SessionMetrics {
        let mvc = this.mvc
        let done = this.repsDone
        const r = this.rep
        if (r !== null && r.phase === PHASE_ACTIVE && (r.flags & RepFlag.Interrupted) === 0) {
            done++
            if (r.hasPeak && r.peak > mvc) mvc = r.peak
        }
        let onTask = this.workClosedMs
        if (this.workOpen && this.nowMs > this.workSinceMs) onTask += this.nowMs - this.workSinceMs
        return {
            preBaseline: restMetricsOf(this.pre, this.sampleMs),
            postBaseline: restMetricsOf(this.post, this.sampleMs),
            mvc: mvc,
            repsPlanned: this.repsPlanned,
            repsDone: done,
            holdFatiguePct: this.holdFatigue(),
            enduranceDeclinePct: this.enduranceDecline,
            timeOnTaskMs: onTask,
        }
    }

    /**
     * Upper edge of the rest band, restMean + kLow * sd, from the rest
     * statistics a contract cue would use now (0 before there are any).
     */
    restBand(): number {
        const ref = this.referenceStats()
        if (ref === null) return 0
        return ref.mean() + this.kLow * this.flooredSd(ref)
    }

    /** Upper edge of the onset band, restMean + kHigh * sd (see restBand). */
    onsetThreshold(): number {
        const ref = this.referenceStats()
        if (ref === null) return 0
        return ref.mean() + this.kHigh * this.flooredSd(ref)
    }

    // ---- internals ----

    private seeTime(tMs: number): void {
        if (tMs > this.nowMs) this.nowMs = tMs
    }

    private flagRep(bit: number): void {
        const r = this.rep
        if (r !== null) r.flags |= bit
    }

    private flooredSd(stats: RunningStats): number {
        const sd = stats.sd()
        const floor = this.minThreshold / this.kHigh
        return sd > floor ? sd : floor
    }

    private referenceStats(): RunningStats | null {
        if (this.pre.count() >= this.minRestN) return this.pre
        if (this.lastRest.count() >= this.minRestN) return this.lastRest
        if (this.startup.count() >= this.minRestN) return this.startup
        return null
    }

    private applyReference(stats: RunningStats): void {
        const sd = this.flooredSd(stats)
        this.restMean = stats.mean()
        this.hi = this.restMean + this.kHigh * sd
        this.lo = this.restMean + this.kLow * sd
        this.hasThresh = true
    }


    private updateRest(tMs: number, value: number): void {
        if (
            this.segRest &&
            !this.segFrozen &&
            tMs >= this.segSettleUntilMs &&
            (this.segStatsUntilMs < 0 || tMs < this.segStatsUntilMs)
        ) {
            this.segStats.add(value)
            if (this.segBlock === Block.PreBaseline) this.pre.add(value)
            else if (this.segBlock === Block.PostBaseline) this.post.add(value)
        }
        if (this.startupOpen) {
            if (tMs - this.firstSampleMs >= this.startupMs) this.startupOpen = false
            else if (this.startup.count() < this.minRestN) this.startup.add(value)
            else if (value <= this.startup.mean() + this.kHigh * this.flooredSd(this.startup)) this.startup.add(value)
        }
    }

    /** Threshold crossings, for every sample. */
    private track(tMs: number, value: number): void {
        if (!this.hasThresh) {
            this.above = false
            return
        }
        if (value <= this.lo) {
            this.lastLowMs = tMs
            this.hasLastLow = true
        }
        if (value > this.hi) {
            if (!this.above) {
                this.above = true
                this.aboveSinceMs = tMs
            }
        } else this.above = false
    }

    /** Re-applies new thresholds to the samples in the ring (at a cue). */
    private rescan(): void {
        this.above = false
        this.hasLastLow = false
        if (!this.hasThresh) return
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        let inRun = true
        for (let k = 0; k < this.ringCount; k++) {
            const v = this.ringV[p]
            if (v <= this.lo) {
                this.hasLastLow = true
                this.lastLowMs = this.ringT[p]
                return
            }
            if (inRun) {
                if (v > this.hi) {
                    this.above = true
                    this.aboveSinceMs = this.ringT[p]
                } else inRun = false
            }
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
    }

    /**
     * The onset backtrack level for a rep starting at `cueMs`: the mean of
     * the samples in the last preCueMs + kLow * the reference SD (floored
     * like the thresholds: a tighter band, e.g. the pre-cue window's own SD,
     * sends the backtrack into noise dips hundreds of ms early), never above
     * high; -1 if off or there are too few samples.
     */
    private preCueLevel(cueMs: number): number {
        if (this.preCueMs <= 0 || !this.hasThresh) return -1
        let sum = 0
        let n = 0
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        for (let k = 0; k < this.ringCount; k++) {
            const t = this.ringT[p]
            if (t < cueMs - this.preCueMs) break
            if (t < cueMs) {
                sum += this.ringV[p]
                n++
            }
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
        if (n < 2) return -1
        const sd = (this.lo - this.restMean) / (this.kLow > 0 ? this.kLow : 1)
        const level = sum / n + this.kLow * sd
        return level < this.hi ? level : this.hi
    }

    /** [ms] time of the last sample before `beforeMs` at or below `level` in the ring, -1 if none. */
    private lastAtOrBelow(level: number, beforeMs: number): number {
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        for (let k = 0; k < this.ringCount; k++) {
            const t = this.ringT[p]
            if (t < beforeMs && this.ringV[p] <= level) return t
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
        return -1
    }

    private ringWrite(tMs: number, value: number): void {
        const p = this.ringNext
        this.ringT[p] = tMs
        this.ringV[p] = value
        this.ringNext = p + 1 === this.ringLen ? 0 : p + 1
        if (this.ringCount < this.ringLen) this.ringCount++
    }

    /** Ring index of sample `s` (must be among the last ringCount). */
    private ringPos(s: number): number {
        let p = this.ringNext - 1 - (this.seq - 1 - s)
        if (p < 0) p += this.ringLen
        return p
    }

    private closeSegment(tMs: number): void {
        if (this.workOpen) {
            if (tMs > this.workSinceMs) this.workClosedMs += tMs - this.workSinceMs
            this.workOpen = false
            const r = this.rep
            if (r !== null && r.windowOpen) {
                r.windowOpen = false
                r.m.cueOffMs = tMs
                if (r.phase === PHASE_ACTIVE) {
                    if (r.offsetFound) this.finishRep(r)
                } else if (!(this.hasThresh && this.above && this.aboveSinceMs < tMs)) this.finishRep(r)
            }
        }
        if (this.segRest) {
            if (this.segStats.count() >= this.minRestN) this.lastRest.copyFrom(this.segStats)
            this.segRest = false
        }
    }

    private startRep(segment: Segment, tMs: number): void {
        const duration = segment.durationMs > 0 ? segment.durationMs : 0
        const m: RepMetrics = {
            repIndex: segment.repIndex,
            block: segment.block,
            cueOnMs: tMs,
            cueOffMs: tMs + duration,
            onsetMs: -1,
            offsetMs: -1,
            onsetLatencyMs: -1,
            peak: 0,
            peakPctMvc: 0,
            timeToPeakMs: -1,
            meanWork: 0,
            holdAtTargetMs: 0,
            holdCv: 0,
            releaseLatencyMs: -1,
            enduranceDeclinePct: 0,
            flags: 0,
        }
        const r = new RepState(m)
        r.windowStartMs = tMs - this.anticipationMs
        r.plannedOffMs = tMs + duration
        r.isEndurance = segment.block === Block.Endurance
        r.prevMvc = this.mvc
        r.fixedTarget = this.targetFrac * this.mvc
        this.hist.reset()

        const ref = this.referenceStats()
        this.liveStartup = this.startupOpen && (ref === null || ref === this.startup)
        if (ref !== null) this.applyReference(ref)
        else this.hasThresh = false
        r.ref = this.hasThresh ? this.restMean : 0
        r.backLo = this.preCueLevel(tMs)
        r.firstSeq = this.seq
        this.rescan()
        this.rep = r
        if (this.hasThresh && this.above && this.aboveSinceMs < r.windowStartMs) {
            r.flags |= RepFlag.StartedHigh
            this.confirmOnset(r, tMs, true)
        }
    }

    /** Adds an in-window sample (`peakValue`: its peak-smoothed value); true if it is a new peak. */
    private accumulateWindow(r: RepState, tMs: number, value: number, peakValue: number): boolean {
        r.windowN++
        r.windowSum += value
        if (value >= r.fixedTarget) r.atFixedTargetN++
        this.hist.add(value, 1)
        if (r.plateauFound) {
            const d = value - r.ref
            r.plateauN++
            r.plateauS1 += d
            r.plateauS2 += d * d
        }
        if (!r.hasPeak || peakValue > r.peak) {
            r.hasPeak = true
            r.peak = peakValue
            r.peakMs = tMs - this.peakDelayMs
            return true
        }
        return false
    }

    /**
     * The plateau starts at the first in-window sample at or above
     * plateauFrac * peak. The peak only grows, so the start only moves
     * later: scan forward from the current start, taking the samples passed
     * over out of the plateau sums (O(1) amortised). If the current start is
     * no longer in the ring (a new peak more than historyMs into the
     * plateau), the new start is searched among the ring's samples and the
     * sums are recomputed from them.
     */
    private updatePlateau(r: RepState, s: number): void {
        let level = this.plateauFrac * r.peak
        if (level > r.peak) level = r.peak
        if (r.plateauFound && r.plateauValue >= level) return
        const oldest = this.seq - this.ringCount
        // the plateau's start has left the ring: its samples can no longer be
        // taken out, so the plateau keeps its start (and no O(ring) rescan
        // runs on every new peak of a long hold)
        if (r.plateauFound && r.plateauSeq < oldest) return
        let q = r.firstSeq
        let recompute = true
        if (r.plateauFound && r.plateauSeq >= oldest) {
            q = r.plateauSeq
            recompute = false
        }
        if (q < oldest) q = oldest
        for (; q <= s; q++) {
            const v = this.ringV[this.ringPos(q)]
            if (v >= level) break
            if (!recompute) {
                const d = v - r.ref
                r.plateauN--
                r.plateauS1 -= d
                r.plateauS2 -= d * d
            }
        }
        // q <= s: the current sample is the peak, so it is >= level
        r.plateauFound = true
        r.plateauSeq = q
        r.plateauValue = this.ringV[this.ringPos(q)]
        if (!recompute) return
        r.plateauN = 0
        r.plateauS1 = 0
        r.plateauS2 = 0
        for (let k = q; k <= s; k++) {
            const d = this.ringV[this.ringPos(k)] - r.ref
            r.plateauN++
            r.plateauS1 += d
            r.plateauS2 += d * d
        }
    }

    private detect(r: RepState, tMs: number, value: number, inWindow: boolean): void {
        if (r.phase === PHASE_WAIT) {
            const runOk = this.hasThresh && this.above && (r.windowOpen || this.aboveSinceMs < r.m.cueOffMs)
            if (runOk && tMs - this.aboveSinceMs >= this.minOnMs) {
                const ws = r.windowStartMs
                let raw = this.hasLastLow && this.lastLowMs >= ws ? this.lastLowMs : this.aboveSinceMs
                const back = r.backLo >= 0 ? this.lastAtOrBelow(r.backLo, this.aboveSinceMs) : -1
                if (back >= 0) raw = back
                if (raw < ws) raw = ws
                this.confirmOnset(r, raw, false)
            } else if (!r.windowOpen && !runOk) this.finishRep(r)
            return
        }

        if (inWindow && r.isEndurance) this.addEndurance(r, tMs, value)
        if (r.offsetFound) {
            // an offset before the let-go cue stands unless the patient contracts again
            if (r.windowOpen && this.above && this.aboveSinceMs > r.candMs && tMs - this.aboveSinceMs >= this.minOnMs) {
                r.offsetFound = false
                r.candidate = false
            }
        } else if (this.hasThresh) {
            // a renewed contraction (above high for minOnMs, the onset rule)
            // cancels the candidate; a noise spike does not
            if (r.candidate && this.above && this.aboveSinceMs > r.candMs && tMs - this.aboveSinceMs >= this.minOnMs)
                r.candidate = false
            if (value <= this.lo && !r.candidate) {
                r.candidate = true
                r.candMs = tMs
            }
            if (r.candidate && tMs - r.candMs >= this.minOffMs) r.offsetFound = true
        }
        if (r.offsetFound && !r.windowOpen) this.finishRep(r)
    }

    private confirmOnset(r: RepState, rawMs: number, startedHigh: boolean): void {
        r.phase = PHASE_ACTIVE
        r.onsetRawMs = rawMs
        let onset = startedHigh ? rawMs : rawMs - this.delayMs
        if (onset < 0) onset = 0
        r.m.onsetMs = onset
        r.m.onsetLatencyMs = onset - r.m.cueOnMs
        r.candidate = false
        if (!r.isEndurance) return
        // first and last windows: enduranceWindowMs each, or a third of the
        // contraction (onset to let-go cue) if it is shorter than two windows
        const total = r.plannedOffMs - rawMs
        let w = total >= 2 * this.enduranceWindowMs ? this.enduranceWindowMs : total / 3
        if (w < 0) w = 0
        r.e1From = rawMs
        r.e1To = rawMs + w
        r.e2From = r.plannedOffMs - w
        r.e2To = r.plannedOffMs
        if (startedHigh) return
        // the samples from the onset up to now are in the ring
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        for (let k = 0; k < this.ringCount; k++) {
            const t = this.ringT[p]
            if (t < rawMs) break
            if (r.windowOpen || t < r.m.cueOffMs) this.addEndurance(r, t, this.ringV[p])
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
    }

    private addEndurance(r: RepState, tMs: number, value: number): void {
        if (tMs >= r.e1From && tMs < r.e1To) {
            r.e1Sum += value
            r.e1N++
        }
        if (tMs >= r.e2From && tMs < r.e2To) {
            r.e2Sum += value
            r.e2N++
        }
    }

    /** Finishes `r` now: next Work cue, finish(), markInterrupted. */
    private forceClose(r: RepState, tMs: number): void {
        if (r.windowOpen) {
            r.windowOpen = false
            r.m.cueOffMs = tMs
        }
        // back in the rest band, just not for minOffMs yet: that is the offset
        if (r.phase === PHASE_ACTIVE && !r.offsetFound && r.candidate) r.offsetFound = true
        this.finishRep(r)
    }

    private finishRep(r: RepState): void {
        const m = r.m
        const hasOnset = r.phase === PHASE_ACTIVE
        let flags = r.flags
        m.peak = r.hasPeak ? r.peak : 0
        m.meanWork = r.windowN > 0 ? r.windowSum / r.windowN : 0
        const counts = hasOnset && (flags & RepFlag.Interrupted) === 0
        let mvcSoFar = r.prevMvc
        if (counts && m.peak > mvcSoFar) mvcSoFar = m.peak
        m.peakPctMvc = mvcSoFar > 0 ? (100 * m.peak) / mvcSoFar : 0
        if (mvcSoFar <= 0) m.holdAtTargetMs = 0
        else if (mvcSoFar === r.prevMvc) m.holdAtTargetMs = r.atFixedTargetN * this.sampleMs
        else m.holdAtTargetMs = this.hist.weightAtOrAbove(this.targetFrac * mvcSoFar) * this.sampleMs

        if (hasOnset) {
            let ttp = r.hasPeak ? r.peakMs - r.onsetRawMs : 0
            if (ttp < 0) ttp = 0
            m.timeToPeakMs = ttp
            m.holdCv = this.plateauCv(r)
            if (r.offsetFound) {
                let offset = r.candMs - this.delayMs
                if (offset < m.onsetMs) offset = m.onsetMs
                m.offsetMs = offset
                m.releaseLatencyMs = offset - m.cueOffMs
            } else {
                // an interrupted rep was cut, not held on
                if ((flags & RepFlag.Interrupted) === 0) flags |= RepFlag.NoRelease
                m.offsetMs = -1
                m.releaseLatencyMs = -1
            }
            if (r.isEndurance && r.e1N > 0 && r.e2N > 0) {
                const first = r.e1Sum / r.e1N
                const last = r.e2Sum / r.e2N
                m.enduranceDeclinePct = first !== 0 ? (100 * (first - last)) / first : 0
            }
        } else {
            flags |= RepFlag.NoContraction
            m.onsetMs = -1
            m.onsetLatencyMs = -1
            m.timeToPeakMs = -1
            m.holdCv = 0
            m.offsetMs = -1
            m.releaseLatencyMs = -1
        }
        m.flags = flags

        if (counts) {
            this.repsDone++
            if (m.peak > this.mvc) this.mvc = m.peak
            if (m.block === Block.Holds) this.addHold(m.repIndex, m.peak)
            if (r.isEndurance) this.enduranceDecline = m.enduranceDeclinePct
        }
        this.finished.push(m)
        this.rep = null
    }

    /** SD / mean over [plateau start, last in-window sample] (sample SD). */
    private plateauCv(r: RepState): number {
        if (!r.plateauFound) return 0
        const n = r.plateauN
        if (n < 2) return 0
        const s1 = r.plateauS1
        const s2 = r.plateauS2
        const mean = s1 / n + r.ref
        let v = (s2 - (s1 * s1) / n) / (n - 1)
        if (!(v > 0)) v = 0
        return mean > 0 ? Math.sqrt(v) / mean : 0
    }

    private addHold(x: number, y: number): void {
        if (this.fatN === 0 || x < this.fatXMin) this.fatXMin = x
        if (this.fatN === 0 || x > this.fatXMax) this.fatXMax = x
        this.fatN++
        this.fatSx += x
        this.fatSy += y
        this.fatSxy += x * y
        this.fatSxx += x * x
    }

    private holdFatigue(): number {
        const n = this.fatN
        if (n < 2) return 0
        const den = n * this.fatSxx - this.fatSx * this.fatSx
        if (den === 0) return 0
        const b = (n * this.fatSxy - this.fatSx * this.fatSy) / den
        const a = (this.fatSy - b * this.fatSx) / n
        const first = a + b * this.fatXMin
        const last = a + b * this.fatXMax
        return first > 0 ? (100 * (first - last)) / first : 0
    }
}
