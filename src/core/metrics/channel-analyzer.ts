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
 *   (the tests' `InspectableAnalyzer.restBand()`),
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
 *   comes, the rep is flagged StartedHigh and its onset is the cue time;
 *   with shapeFit, the start of a rise on top of the raised tone when one
 *   comes (after a spasm: over 16 seeds, 57 such reps went from p50/p95
 *   407/550 ms off, the cue, to 41/98 ms).
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
 * ## Shape fit (option shapeFit; the firmware's setting)
 *
 * A band crossing is late at the onset and early at the offset by an
 * amount that grows with the band and the ramp time (above): about 90 ms for
 * a weak patient's 600 ms rise through a 2/3 uV band, and a wandering tone
 * shifts it further. With shapeFit the thresholds above only *detect* the
 * contraction; its onset and offset are then *located* from the shape of
 * the rise and the fall, modelled as half-cosine ramps (smooth recruitment
 * and de-recruitment, zero slope at both ends; the patient model uses the
 * same shape):
 *
 * - Onset: RISE_FIT_AFTER_MS after detection, the rise's top is the mean
 *   around the highest value since the rough onset (TOP_HALF_SPAN_MS) and
 *   its foot the level the rise left from:
 *   the mean of the preCueMs before the rough onset (not before the cue: a
 *   patient who reacts a second late gives a wandering tone that second to
 *   move; over 8 seeds with the cue seen 0.3-1.5 s late, hypertonic onsets'
 *   p95 went from 138-591 ms to 61-88 ms). The first upward crossing of 60 % of
 *   that height and the last of 15 % before it, interpolated between
 *   samples, give the ramp's start
 *   by the half-cosine's phase at those fractions. Low fractions keep a top
 *   raised by tracking wobble from moving the estimate (a 10 % error in the
 *   top moves it by under 1 % of the rise time). A fit that finds no rise
 *   of the onset band's height while the cue lasts (noise on a tone raised
 *   to the band made the rough onset, as after a spasm) is done again
 *   RISE_FIT_AFTER_MS later (spasm onset p95 112 -> 91 ms over 16 seeds;
 *   docs/engineering.md, "Fitting a late rise again").
 * - Offset: after the let-go cue, the fall is over once the value changed by
 *   less than SETTLE_FRACTION of the contraction's height over SETTLE_MS,
 *   and that window starts after the fitted fall's end. Its mean is the
 *   rest the fall went to (not the pre-cue level: tone wanders and rises
 *   over a hold). The 60 % and 15 % crossings of the fall from its top (the
 *   mean around the highest value in FALL_TOP_SPAN_MS before the 15 %
 *   crossing) give the
 *   fall's start and duration; the offset is where it is down to 5 % of the
 *   rep's height ("time to 95 % relaxation"; RELEASE_FRACTION). An early release (inside the work
 *   window) uses the band rule to find it and the pre-cue level as its
 *   rest.
 * - When a fit is not possible (no clear rise or fall in the kept history,
 *   height under the onset band) the band estimate stands.
 *
 * Simulated over 8 seeds per profile (host/sim/offline-run.ts) this takes
 * the onset error's p95 from ~140 to ~80 ms on weak and hypertonic patients
 * and the offset's from ~150-350 to ~20-80 ms except where the tone wanders
 * by several uV during a 1.6 s release (hypertonic), which no single-channel
 * observer can tell from the release itself.
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
import { newNumberStore, type NumberStore } from "../number-store"
import { windowSamples } from "../units"
import { RunningStats, restMetricsOf } from "./running-stats"
import { RepFlag, type RepMetrics, type SessionMetrics } from "./types"
import { ValueHistogram } from "./value-histogram"
import { optionOr, requireOptions } from "../options"

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
    /**
     * Locate onsets and offsets by the shape of the rise and fall rather than
     * by where they leave or enter a band (see "Shape fit" in the file
     * comment). Needs preCueMs > 0 and historyMs >= the slowest fall plus
     * minOffMs. Default false.
     */
    shapeFit?: boolean
}

/**
 * [ms] Peak amplitude as the highest 1 s moving average: a single envelope
 * sample rides on noise, so sEMG practice takes MVC/peak values as the mean
 * of a 500 ms or 1 s window around the maximum (P. Konrad, "The ABC of EMG",
 * Noraxon, 2005, ch. "Amplitude normalization"). 1 s halves the noise a
 * 500 ms window leaves (about 2 % of the peak with a 5 %-noise envelope, so
 * the highest of many windows read 3-4 % high) and still fits inside a 2 s
 * quick flick. The firmware and the scorer use the same window for pressure.
 */
export const PEAK_WINDOW_MS = 1000


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

/** [ms] the rise is fitted this long after the onset is confirmed (the slowest rise left by then) */
const RISE_FIT_AFTER_MS = 800
/**
 * The rise is located by its 15 % and 60 % crossings: low enough that a top
 * raised by tracking wobble barely moves them, high enough to stand clear of
 * the rest noise. A half-cosine rise (1 - cos(pi u)) / 2 reaches a fraction
 * f at u = acos(1 - 2 f) / pi: 0.253183 for 15 %, 0.564094 for 60 %
 * (constants: DeviceScript has no Math.acos).
 */
const RISE_LO = 0.15
const RISE_HI = 0.6
const RISE_PH_LO = 0.253183
const RISE_PH_HI = 0.564094
/**
 * [ms] The rise's top is the mean of the samples within this of its highest
 * one: the highest sample alone rides on the envelope's noise, which put
 * the 60 % level too high and the onset early (noisy electrode: signed
 * median -19 ms, p95 107 ms). Core, seeds 1-16, onset p95 with 50 / 100 /
 * 150 / 250 ms: noisy electrode 85 / 82 / 78 / 60 ms, spasm 92 / 94 / 98 /
 * 106 ms (91 with the highest sample), other profiles within 4 ms. Seeds
 * 17-32 with 100: noisy electrode 114 -> 83 ms. The fall's top likewise:
 * offset p95 noisy electrode 104 -> 87 ms (seeds 17-32: 88 -> 79), weak
 * 80 -> 65 (seeds 17-32), hypertonic with every cue seen 1 s late 488 ->
 * 324, the others within 11 ms (200 ms: hypertonic 339 -> 309 on seeds
 * 17-32 but noisy offsets no better and weak ones worse).
 */
const TOP_HALF_SPAN_MS = 100
/** [ms] how far before the offset candidate the fall's top is looked for */
const FALL_FIT_SPAN_MS = 2000
/** [ms] the fall's top is the highest value this long before its 15 % crossing (2/3 of the slowest fall, 1.8 s) */
const FALL_TOP_SPAN_MS = 1200
/** [ms] a fall is over when the value changed by less than SETTLE_FRACTION of the contraction's height over this long */
const SETTLE_MS = 300
/**
 * A fitted fall is at least this fraction of the rep's height (work-window
 * peak above the rise's foot). After the let-go cue the value "settles"
 * wherever it stops moving in the lower half, and a fatigued endurance
 * plateau (half the height after the weak profile's 50 % fatigue) is
 * there already: in one VM run a 200 ms dip of it was fitted as the fall,
 * the release read 688 ms early. A release falls from the plateau to the
 * rest; a dip is a fraction of that. Core, 5 profiles x 32 seeds x 3 cue
 * delays: offsets over 800 ms off 39 -> 10 with 0.35 (15 with 0.45, 32
 * with 0.25), hypertonic p95 421 -> 378 ms (seeds 1-16). Below 0.35 of
 * the height left at the cue (fatigue over 65 %) a release is not fitted
 * and SETTLE_GIVE_UP_MS takes over.
 */
const FALL_MIN_FRACTION = 0.35
/**
 * The fall is located by its 60 % and 15 % crossings (as the rise, and for
 * the same reasons). A half-cosine fall (1 + cos(pi u)) / 2 is down to f at
 * u = acos(2 f - 1) / pi: 0.435906 for 60 %, 0.746817 for 15 %. Tried:
 * 10 % (nearer the 5 % offset, less extrapolated) took the core's offset
 * p95 down on seeds 1-16 and 17-32 (hypertonic 438 -> 393 and 389 -> 337
 * ms, noisy electrode 109 -> 88), but with every cue seen 1 s late
 * hypertonic went 488 -> 838 ms and one VM rep of 22 came 1.9 s off: kept
 * at 15 %.
 */
const FALL_LO = 0.15
const FALL_HI = 0.6
const FALL_PH_LO = 0.746817
const FALL_PH_HI = 0.435906
const SETTLE_FRACTION = 0.1
/**
 * [ms] after the let-go cue, a settled value with no fall to fit is taken as
 * the offset this late: the slowest fall (1.8 s) after a reaction a second
 * late. 2000 put late-cue hypertonic offsets' p95 at 702 ms (488 with
 * 3000; core, seeds 1-16, each cue seen 1 s late).
 */
const SETTLE_GIVE_UP_MS = 3000
/**
 * A step up between two kept samples of more than this fraction of the
 * rep's height, from below the fall's FALL_LO level, is a movement spike
 * (the noisy electrode's 30 uV bumps: +2-3 uV a sample through the 100 ms
 * envelope window against a 40-45 uV rep). A release only falls, and rest
 * noise or a sinking tone moves a tenth of that a sample. Core, noisy
 * electrode, 16 seeds: a spike just after a release had its decay fitted as
 * the fall (offsets 455-704 ms late); offset p95 84.8 -> 78.8 ms (cue seen
 * 20 ms late), 91.2 -> 69.1 (300 ms), the other five profiles unchanged on
 * seeds 1-32 and both channels (case "a movement spike after the release").
 * checkSettled watches for it from the let-go cue to the offset; the step
 * must start below FALL_LO, or a noisy hold's wobble under a first fit made
 * too early kept that fit (two holds 1.1-1.3 s early).
 */
const SPIKE_STEP = 0.03
/** [ms] a settled value with no fall to fit is looked at again this much later (the fit scans the history) */
const SETTLE_RETRY_MS = 100
/**
 * The offset is where the fall is down to 5 % of the rep's height (its
 * work-window peak above the rise's foot, or the fall's height if more):
 * the usual "back to baseline" criterion of
 * relaxation-time measurements (time to 95 % relaxation), and the
 * simulator's truth. A fatigued hold falls from part of that height: down
 * to 5 % of the fall's own height put weak patients' endurance releases
 * 200-600 ms late (one VM run: 597 ms). A half-cosine fall (1 + cos(pi u)) / 2
 * is down to a fraction f of its own height at u = acos(2 f - 1) / pi =
 * 1 - x / pi with 1 - cos x = 2 f, x = 2 sqrt(f) (1 + f / 6) to within
 * 0.05 % of the fall for f <= 0.15 (DeviceScript has no Math.acos). Core,
 * 6 profiles x 16 seeds x cue seen 20 ms, 0.3 s, 1 s late, offset p95:
 * weak 78/57/79 -> 66/52/71 ms, typical 19 -> 17, hypertonic 378/339/324
 * -> 345/359/298, spasm 361/355/288 -> 352/340/331, the others within
 * 3 ms; seeds 17-32: weak 65/59/65 -> 44/51/59, no profile worse by over
 * 6 ms (hypertonic 328 -> 334 at 0.3 s).
 */
const RELEASE_FRACTION = 0.05
/**
 * [ms] A burst back in the rest band this soon after its onset, followed by
 * a renewed contraction while the cue lasts, was not the rep's contraction
 * (a movement artefact, or noise on a raised tone): the renewed one's onset
 * counts. A voluntary pelvic-floor contraction lasts longer: fast voluntary
 * contractions take 514-526 ms from onset to their EMG peak alone, and fall
 * at 74-121 %MVC/s (M. Leitner et al., "Pelvic floor muscle activity during
 * fast voluntary contractions in continent and incontinent women",
 * Neurourol Urodyn 2019; 38:625-631). The noisy electrode's movement spikes
 * (30 uV, 50 ms decay) make bursts of 150-280 ms through the 100 ms
 * smoothing; with the patient seeing the cue late one was taken as the
 * onset, 0.7-1.2 s early (core, seeds 1-24, cue seen 0.3 and 0.7 s late:
 * reps over 200 ms off 12 -> 3 of 528, the worst 1215 -> 370 ms; the other
 * profiles' results unchanged).
 */
const MIN_BURST_MS = 500
const PHASE_WAIT = 0
const PHASE_ACTIVE = 1

/**
 * RepMetrics' fields in the order a finished rep is stored. Finished reps
 * are kept as numbers in a NumberStore (4-byte floats on the device), not
 * as objects: an object costs ~29 bytes of the simulator's ~64 KB heap per
 * field, ~0.5 KB a rep and channel (docs/engineering.md).
 */
const REP_KEYS = [
    "repIndex",
    "block",
    "cueOnMs",
    "cueOffMs",
    "onsetMs",
    "offsetMs",
    "onsetLatencyMs",
    "peak",
    "peakPctMvc",
    "timeToPeakMs",
    "meanWork",
    "holdAtTargetMs",
    "holdCv",
    "releaseLatencyMs",
    "enduranceDeclinePct",
    "flags",
]

/** The rep in progress. Fields declared with `!` are set by startRep (or, e*From/e*To, by confirmOnset before addEndurance reads them): an initializer costs board bytes. */
class RepState {
    readonly m: RepMetrics
    phase = PHASE_WAIT
    flags = 0
    /** the work window [cueOn, cueOff) is still open */
    windowOpen = true
    /** [ms] earliest onset: cue - anticipationMs, or the end of a burst that was not the contraction (MIN_BURST_MS) */
    windowStartMs!: number
    /** onset backtrack level: the pre-cue level + kLow * sd; -1: use the rest band */
    backLo!: number
    /** mean of the last preCueMs before the cue, then (after the rise fit) before the rough onset: the level the contraction leaves from; valid if hasBase */
    base = 0
    hasBase = false
    /** [ms] sample time the onset was confirmed */
    confirmMs = 0
    /** the rise has been fitted (or given up on) */
    riseFitted = false
    /** [ms] offset from the fall's shape (before the delay correction), -1: none */
    fallFitMs = -1
    /** [ms] checkSettled fits no earlier than this */
    settleRetryMs = 0
    /** [ms] the last movement spike checkSettled saw (SPIKE_STEP) */
    spikeMs = -1
    /**
     * Fits asked for and not yet run (runDeferred, or before the rep
     * finishes), each with the sample time it was asked at: a fit looks
     * only at samples up to then, so when it runs does not change its result.
     */
    riseAskedMs = -1
    settleAskedMs = -1
    candFitAskedMs = -1
    /** [ms] cue + segment duration */
    plannedOffMs!: number
    isEndurance!: boolean
    /** MVC of the reps before this one */
    prevMvc!: number
    /** hold target from prevMvc, exact when this rep does not raise the MVC */
    fixedTarget!: number
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
    ref!: number
    firstSeq!: number
    plateauFound = false
    plateauSeq = 0
    plateauValue = 0
    plateauN = 0
    plateauS1 = 0
    plateauS2 = 0
    /** endurance windows [from, to) and their sums */
    e1From!: number
    e1To!: number
    e2From!: number
    e2To!: number
    e1Sum = 0
    e1N = 0
    e2Sum = 0
    e2N = 0

    constructor(m: RepMetrics) {
        this.m = m
    }
}

/**
 * Contraction metrics for one channel, one session. See the file comment for
 * the method. Methods taking `tMs` expect sample time in ms, not decreasing.
 */
export class ChannelAnalyzer {
    private readonly sampleMs: number
    private readonly kHigh: number
    protected readonly kLow: number
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
    private readonly ringT: NumberStore
    private readonly ringV: NumberStore
    private ringNext = 0
    private ringCount = 0
    /** samples accepted so far; the latest has seq - 1 */
    private seq = 0

    private done = false
    private hasSample = false
    // set before they are read (with the first sample), no initializers: 8 bytes of the board's image each
    private firstSampleMs!: number
    private lastSampleMs!: number
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
    /** set with segRest */
    private segSettleUntilMs!: number
    /** [ms] end of the part used for statistics, -1: open-ended; set with segRest */
    private segStatsUntilMs!: number
    private segFrozen = false
    private workOpen = false
    /** set with workOpen */
    private workSinceMs!: number
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
    private readonly shapeFit: boolean
    /** SETTLE_MS in samples */
    private readonly settleSamples: number
    private above = false
    /** set with above */
    private aboveSinceMs!: number
    private hasLastLow = false
    // the scans' results, each written before it is read: no initializers
    // (8 bytes of the board's full bytecode image each)
    /** crossPair's result */
    private pairLoMs!: number
    private pairHiMs!: number
    /** ringSpan's count and last index */
    private ringSpanCount!: number
    private ringLastP!: number
    /** crossBack's samples left */
    private crossLeft!: number
    /** [ms] end of the fall fitFall found last */
    private fallEndMs!: number
    /** [ms] time of ringMax's result */
    private ringMaxMs!: number
    /** set with hasLastLow */
    private lastLowMs!: number

    // reps and session
    private rep: RepState | null = null
    /** finished reps, REP_KEYS.length numbers each, in the order they finished */
    private repStore: NumberStore
    private repCapacity: number
    private repCount = 0
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
    /** set with the first point (fatN 0): no initializers */
    private fatXMin!: number
    private fatXMax!: number

    constructor(options: ChannelAnalyzerOptions, repsPlanned: number) {
        const o = options
        requireOptions(o, ["sampleRateHz", "kHigh"], ["kLow", "minThreshold", "minOnMs", "minOffMs", "inputDelayMs", "holdTargetPctMvc"])
        if (!(o.kLow <= o.kHigh)) throw new RangeError("kLow must be in [0, kHigh], got " + o.kLow)
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
        this.repCapacity = repsPlanned > 0 ? repsPlanned : 1
        this.repStore = newNumberStore(this.repCapacity * REP_KEYS.length)
        const peakWindowMs = Math.max(0, optionOr(o.peakWindowMs, 0))
        this.peakAvg = peakWindowMs > 0 ? new MovingAverage(windowSamples(peakWindowMs, o.sampleRateHz)) : null
        this.peakDelayMs = peakWindowMs > 0 ? ((windowSamples(peakWindowMs, o.sampleRateHz) - 1) / 2) * this.sampleMs : 0
        this.preCueMs = Math.max(0, optionOr(o.preCueMs, 0))
        this.shapeFit = o.shapeFit === true && this.preCueMs > 0
        this.settleSamples = Math.round(SETTLE_MS / this.sampleMs)
        const historyMs = Math.max(optionOr(o.historyMs, this.anticipationMs), this.anticipationMs)
        this.ringLen = Math.ceil(historyMs / this.sampleMs) + 2
        this.ringT = newNumberStore(this.ringLen)
        this.ringV = newNumberStore(this.ringLen)
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

    /**
     * The current sample is suspect: the rep in progress gets `flag`
     * (Saturated: it hit the sensor's range, its peak is a lower bound;
     * PoorContact: the electrode's noise is in its amplitudes).
     */
    markSample(tMs: number, flag: RepFlag): void {
        if (this.done) return
        this.seeTime(tMs)
        this.flagRep(flag)
    }

    /** Reps finished since the last call, in order, each returned once. */
    takeFinishedReps(): RepMetrics[] {
        const out: RepMetrics[] = []
        for (let slot = this.taken; slot < this.repCount; slot++) out.push(this.storedRep(slot))
        this.taken = this.repCount
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
        const out: RepMetrics[] = []
        for (let slot = 0; slot < this.repCount; slot++) out.push(this.storedRep(slot))
        return out
    }

    /** The finished rep with this repIndex (the first, if a rep was cued twice), undefined if none. */
    repByIndex(repIndex: number): RepMetrics | undefined {
        const n = REP_KEYS.length
        for (let slot = 0; slot < this.repCount; slot++) if (this.repStore.get(slot * n) === repIndex) return this.storedRep(slot)
        return undefined
    }

    private storeRep(m: RepMetrics): void {
        const n = REP_KEYS.length
        if (this.repCount === this.repCapacity) {
            // more reps than planned (a rep cued again): a bigger store
            const bigger = newNumberStore(2 * this.repCapacity * n)
            for (let i = 0; i < this.repCount * n; i++) bigger.set(i, this.repStore.get(i))
            this.repStore = bigger
            this.repCapacity *= 2
        }
        const values = m as unknown as Record<string, number>
        const base = this.repCount * n
        for (let k = 0; k < n; k++) this.repStore.set(base + k, values[REP_KEYS[k]])
        this.repCount++
    }

    private storedRep(slot: number): RepMetrics {
        const n = REP_KEYS.length
        const out: Record<string, number> = {}
        for (let k = 0; k < n; k++) out[REP_KEYS[k]] = this.repStore.get(slot * n + k)
        return out as unknown as RepMetrics
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

    // ---- internals ----

    private seeTime(tMs: number): void {
        if (tMs > this.nowMs) this.nowMs = tMs
    }

    private flagRep(bit: number): void {
        const r = this.rep
        if (r !== null) r.flags |= bit
    }

    protected flooredSd(stats: RunningStats): number {
        const sd = stats.sd()
        const floor = this.minThreshold / this.kHigh
        return sd > floor ? sd : floor
    }

    protected referenceStats(): RunningStats | null {
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
        // the oldest sample of the run above hi that ends at the newest: its time is read once
        let runP = -1
        let inRun = true
        for (let k = 0; k < this.ringCount; k++) {
            const v = this.ringV.get(p)
            if (v <= this.lo) {
                this.hasLastLow = true
                this.lastLowMs = this.ringT.get(p)
                break
            }
            if (inRun) {
                if (v > this.hi) runP = p
                else inRun = false
            }
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
        if (runP >= 0) {
            this.above = true
            this.aboveSinceMs = this.ringT.get(runP)
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
        const mean = this.preCueMean(cueMs)
        if (mean !== mean) return -1
        const sd = (this.lo - this.restMean) / (this.kLow > 0 ? this.kLow : 1)
        const level = mean + this.kLow * sd
        return level < this.hi ? level : this.hi
    }

    /** Mean of the ring's samples in [cueMs - preCueMs, cueMs); NaN if fewer than 2. */
    private preCueMean(cueMs: number): number {
        return this.ringMean(cueMs - this.preCueMs, cueMs, true, 2)
    }

    /** [ms] time of the last sample before `beforeMs` at or below `level` in the ring, -1 if none. */
    private lastAtOrBelow(level: number, beforeMs: number): number {
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        for (let k = 0; k < this.ringCount; k++) {
            const t = this.ringT.get(p)
            if (t < beforeMs && this.ringV.get(p) <= level) return t
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
        return -1
    }

    private ringWrite(tMs: number, value: number): void {
        const p = this.ringNext
        this.ringT.set(p, tMs)
        this.ringV.set(p, value)
        this.ringNext = p + 1 === this.ringLen ? 0 : p + 1
        if (this.ringCount < this.ringLen) this.ringCount++
    }

    /** Ring index of sample `s` (among the last ringCount, or the one before them). */
    private ringPos(s: number): number {
        let p = this.ringNext - 1 - (this.seq - 1 - s)
        // twice for the sample before the oldest kept (ringSpan's last index when none is in the span)
        while (p < 0) p += this.ringLen
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
                if (this.shapeFit && r.phase === PHASE_ACTIVE && !r.riseFitted) {
                    if (r.riseAskedMs < 0) r.riseAskedMs = this.nowMs
                    this.runFits(r)
                }
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
        if (this.shapeFit) {
            const base = this.preCueMean(tMs)
            r.hasBase = base === base
            r.base = r.hasBase ? base : 0
        }
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
            const v = this.ringV.get(this.ringPos(q))
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
        r.plateauValue = this.ringV.get(this.ringPos(q))
        if (!recompute) return
        r.plateauN = 0
        r.plateauS1 = 0
        r.plateauS2 = 0
        for (let k = q; k <= s; k++) {
            const d = this.ringV.get(this.ringPos(k)) - r.ref
            r.plateauN++
            r.plateauS1 += d
            r.plateauS2 += d * d
        }
    }

    private detect(r: RepState, tMs: number, value: number, inWindow: boolean): void {
        if (r.phase === PHASE_WAIT) {
            const runOk = this.hasThresh && this.above && (r.windowOpen || this.aboveSinceMs < r.m.cueOffMs)
            if (runOk && tMs - this.aboveSinceMs >= this.minOnMs) this.confirmOnset(r, this.roughOnset(r), false)
            else if (!r.windowOpen && !runOk) this.finishRep(r)
            return
        }

        if (inWindow && r.isEndurance) this.addEndurance(r, tMs, value)
        if (this.shapeFit && !r.riseFitted && r.riseAskedMs < 0 && tMs - r.confirmMs >= RISE_FIT_AFTER_MS) r.riseAskedMs = tMs
        if (this.shapeFit && r.hasBase && r.riseFitted && !r.offsetFound && !r.windowOpen) this.checkSettled(r, tMs, value)
        if (r.offsetFound) {
            // an offset before the let-go cue stands unless the patient contracts again
            if (r.windowOpen && this.above && this.aboveSinceMs > r.candMs && tMs - this.aboveSinceMs >= this.minOnMs) {
                if (r.candMs - r.onsetRawMs < MIN_BURST_MS) {
                    // the burst was not the contraction: the onset is after it, the rise fitted again from the renewed one's
                    r.windowStartMs = r.candMs
                    r.riseFitted = false
                    r.riseAskedMs = -1
                    this.confirmOnset(r, this.roughOnset(r), false)
                }
                r.offsetFound = false
                r.candidate = false
                r.candFitAskedMs = -1
                r.fallFitMs = -1
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
            // shape fit: after the let-go cue, checkSettled decides
            if (r.candidate && tMs - r.candMs >= this.minOffMs && !(this.shapeFit && r.hasBase && !r.windowOpen)) this.foundOffset(r)
        }
        if (r.offsetFound && !r.windowOpen) this.finishRep(r)
    }

    /** [ms] The onset of the run above high that just lasted minOnMs: backtracked to the last sample at rest, not before the window. */
    private roughOnset(r: RepState): number {
        const ws = r.windowStartMs
        let raw = this.hasLastLow && this.lastLowMs >= ws ? this.lastLowMs : this.aboveSinceMs
        const back = r.backLo >= 0 ? this.lastAtOrBelow(r.backLo, this.aboveSinceMs) : -1
        if (back >= 0) raw = back
        return raw < ws ? ws : raw
    }

    private confirmOnset(r: RepState, rawMs: number, startedHigh: boolean): void {
        r.phase = PHASE_ACTIVE
        r.onsetRawMs = rawMs
        r.confirmMs = this.nowMs
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
        // an onset confirmed again: its first window starts over
        r.e1Sum = 0
        r.e1N = 0
        if (startedHigh) return
        // the samples from the onset up to now are in the ring
        let p = this.ringNext - 1
        if (p < 0) p += this.ringLen
        for (let k = 0; k < this.ringCount; k++) {
            const t = this.ringT.get(p)
            if (t < rawMs) break
            if (r.windowOpen || t < r.m.cueOffMs) this.addEndurance(r, t, this.ringV.get(p))
            p = p === 0 ? this.ringLen - 1 : p - 1
        }
    }

    private foundOffset(r: RepState): void {
        r.offsetFound = true
        r.fallFitMs = -1
        if (this.shapeFit) r.candFitAskedMs = this.nowMs
    }

    /**
     * Runs the shape fits asked for since the last call. The firmware calls
     * it after each probe report, in a turn of its own: a fit scans up to
     * a few hundred kept samples, and the VM kills a synchronous stretch
     * that runs too long. Results do not depend on when it is called (each
     * fit looks at the samples up to the time it was asked), as long as
     * that is within about a second.
     */
    runDeferred(): void {
        const r = this.rep
        if (r === null) return
        this.runFits(r)
        if (r.offsetFound && !r.windowOpen) this.finishRep(r)
    }

    private runFits(r: RepState): void {
        if (r.riseAskedMs >= 0) {
            const at = r.riseAskedMs
            r.riseAskedMs = -1
            this.fitRise(r, at)
        }
        if (r.candFitAskedMs >= 0) {
            const at = r.candFitAskedMs
            r.candFitAskedMs = -1
            r.fallFitMs = this.fitFall(r, r.base, r.candMs, at)
        }
        if (r.settleAskedMs >= 0) {
            const at = r.settleAskedMs
            r.settleAskedMs = -1
            this.settleFit(r, at)
        }
    }

    /**
     * Shape fit, after the let-go cue: the fall is over when the value has
     * changed by less than SETTLE_FRACTION of the contraction's height over
     * the last SETTLE_MS and is in the lower half. The level it settled at
     * is the rest the fall went to, which is not the pre-cue level when the
     * tone wandered or rose during the hold (hypertonic patients).
     */
    private checkSettled(r: RepState, tMs: number, value: number): void {
        const height = r.peak - r.base
        const prev = this.ringV.get(this.ringPos(this.seq - 2))
        if (prev < r.base + FALL_LO * height && value - prev > SPIKE_STEP * height) r.spikeMs = tMs
        if (!(height > this.hi - this.restMean)) return
        if (value > r.base + 0.5 * height) return
        if (this.settleSamples >= this.ringCount) return
        const old = this.ringV.get(this.ringPos(this.seq - 1 - this.settleSamples))
        const change = value > old ? value - old : old - value
        if (change >= SETTLE_FRACTION * height) return
        if (tMs < r.settleRetryMs || r.settleAskedMs >= 0) return
        r.settleAskedMs = tMs
    }

    private settleFit(r: RepState, tMs: number): void {
        const prevEndMs = this.fallEndMs
        let off = this.fitFall(r, this.ringMean(tMs - SETTLE_MS, tMs), tMs, tMs)
        // a movement spike since the last fit's fall (checkSettled): its decay is no fall, the last fit stands
        if (r.fallFitMs >= 0 && r.spikeMs > prevEndMs) off = -1
        // the rest level is only known once measured after the whole fall:
        // try again when that is so (or in SETTLE_RETRY_MS if no fall was found).
        // A tone still sinking after the release stretches each new fit a
        // little further, until the fall leaves the fit's span: the first fit
        // then stands. A fall too small to fit (a fatigued end of an
        // endurance hold on a high, wandering tone) gives up SETTLE_GIVE_UP_MS
        // after the let-go cue: the band's re-entry, fitted as an early
        // release's, else the settled value's time. Both read tens of seconds
        // late before (hypertonic and spasm: 8 releases 5-55 s late over 5
        // profiles x 32 seeds x 3 cue delays, none now): the band's re-entry
        // was taken only at the next cue, by then often a later one
        if (off < 0) {
            if (r.fallFitMs < 0) {
                if (tMs - r.m.cueOffMs < SETTLE_GIVE_UP_MS) {
                    r.settleRetryMs = tMs + SETTLE_RETRY_MS
                    return
                }
                if (r.candidate) {
                    this.foundOffset(r)
                    return
                }
            }
        } else {
            if (this.fallEndMs > tMs - SETTLE_MS) {
                if (r.fallFitMs < 0) r.fallFitMs = off
                r.settleRetryMs = this.fallEndMs + SETTLE_MS
                return
            }
            r.fallFitMs = off
        }
        r.offsetFound = true
        r.candMs = tMs
    }

    /** Mean of the ring's values in [fromMs, toMs] ([fromMs, toMs) with excludeTo); NaN if fewer than minCount (1). */
    private ringMean(fromMs: number, toMs: number, excludeTo?: boolean, minCount?: number): number {
        // only the window's samples (ringSpan finds its ends): walking from the newest sample
        // back to a window early in the history, the spans around the tops ran the VM out of steps
        // at a segment start in every hypertonic VM run
        let sum = 0
        let p = this.ringSpan(fromMs, toMs, excludeTo)
        const n = this.ringSpanCount
        for (let k = 0; k < n; k++) {
            sum += this.ringV.get(p)
            p = p + 1 === this.ringLen ? 0 : p + 1
        }
        return n > 0 && n >= (minCount ?? 1) ? sum / n : NaN
    }

    /** [ms] interpolated time the ring's samples at `o` and the next one pass `level` */
    private crossAt(o: number, level: number): number {
        const q = o + 1 === this.ringLen ? 0 : o + 1
        const ot = this.ringT.get(o)
        const ov = this.ringV.get(o)
        return ot + ((level - ov) / (this.ringV.get(q) - ov)) * (this.ringT.get(q) - ot)
    }

    /**
     * Ring index of the oldest kept sample at or after `fromMs`; how many
     * samples from there are at or before `toMs` (before it, with
     * excludeTo): ringSpanCount; and the index of the last of them:
     * ringLastP. The scans read values only, and a time only where they
     * need one: the VM kills a synchronous stretch that runs long, and a
     * segment start's closing fall fits (both channels) took 90 % of its
     * budget when the scans read every sample's time and scanned each fall
     * from its oldest sample.
     */
    private ringSpan(fromMs: number, toMs: number, excludeTo?: boolean): number {
        const n = this.ringNewer(fromMs, true)
        const m = this.ringNewer(toMs, excludeTo === true)
        this.ringSpanCount = n > m ? n - m : 0
        this.ringLastP = this.ringPos(this.seq - 1 - m)
        return this.ringPos(this.seq - n)
    }

    /**
     * How many of the newest kept samples are after `ms` (or at it, with
     * `orAt`): a binary search on the ring's times, 8 reads whatever the
     * gaps. (Estimating the count from the sample rate and walking past the
     * samples a gap had made older cost up to a ring's length of reads per
     * call: at 12x with lost samples a rep's fits ran the VM out of steps.)
     */
    private ringNewer(ms: number, orAt: boolean): number {
        let lo = 0
        let hi = this.ringCount
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1
            const t = this.ringT.get(this.ringPos(this.seq - mid))
            if (t > ms || (orAt && t === ms)) lo = mid
            else hi = mid - 1
        }
        return lo
    }

    /**
     * Onset from the rise's shape: the 15 % and 60 % crossings of the rise
     * from the level before the rough onset to the highest value since give
     * the start of a half-cosine rise (by its phases at those fractions,
     * RISE_PH_*; see "Shape fit").
     * Keeps the rough onset if the rise is not clear.
     */
    private fitRise(r: RepState, untilMs: number): void {
        r.riseFitted = true
        if (!r.hasBase) return
        // the foot is the level just before the rough onset, not before the cue: a patient who reacts late
        // (or the VM's lag at 12x) leaves the tone time to wander between the two
        const foot = this.preCueMean(r.onsetRawMs)
        if (foot === foot) r.base = foot
        this.ringMax(r.onsetRawMs, untilMs)
        const amp = this.ringMean(this.ringMaxMs - TOP_HALF_SPAN_MS, this.ringMaxMs + TOP_HALF_SPAN_MS) - r.base
        if (!(amp > this.hi - this.restMean)) {
            // no rise yet: noise on a raised tone made the rough onset; the patient may still start while the cue lasts
            if (r.windowOpen) {
                r.riseFitted = false
                r.confirmMs = untilMs
            }
            return
        }
        const topMs = this.ringMaxMs
        if (!this.crossPair(r.base + RISE_LO * amp, r.base + RISE_HI * amp, true, r.windowStartMs, topMs)) return
        const t25 = this.pairLoMs
        const t75 = this.pairHiMs
        let raw = t25 - RISE_PH_LO * (t75 - t25) / (RISE_PH_HI - RISE_PH_LO)
        if (raw < r.windowStartMs) raw = r.windowStartMs
        r.onsetRawMs = raw
        let onset = raw - this.delayMs
        if (onset < 0) onset = 0
        r.m.onsetMs = onset
        r.m.onsetLatencyMs = onset - r.m.cueOnMs
    }

    /**
     * [ms] Offset from the fall's shape (before the delay correction): the
     * 60 % and 15 % crossings of the fall from its top to `base` give a
     * half-cosine fall's start and duration (by its phases at those
     * fractions, FALL_PH_*); the offset is where such a fall is down to
     * RELEASE_FRACTION of the rep's height. -1 if the fall is not clear.
     */
    private fitFall(r: RepState, base: number, atMs: number, untilMs: number): number {
        if (base !== base) return -1
        const minAmp = this.hi - this.restMean
        // the top: first the highest value of the last FALL_FIT_SPAN_MS, then
        // the highest of the FALL_TOP_SPAN_MS before the fall's 15 % crossing,
        // so a hold that sagged or wobbled since does not count as its top
        let from = atMs - FALL_FIT_SPAN_MS
        if (from < r.onsetRawMs) from = r.onsetRawMs
        const top = this.ringMax(from, atMs)
        if (!(top - base > minAmp)) return -1
        let t25 = this.crossing(base + FALL_LO * (top - base), false, from, untilMs)
        if (t25 < 0) return -1
        let from2 = t25 - FALL_TOP_SPAN_MS
        if (from2 < from) from2 = from
        this.ringMax(from2, t25)
        const amp = this.ringMean(this.ringMaxMs - TOP_HALF_SPAN_MS, this.ringMaxMs + TOP_HALF_SPAN_MS) - base
        // a fall must bring the signal down by FALL_MIN_FRACTION of the rep's height, not dip off a plateau
        if (!(amp > minAmp) || amp < FALL_MIN_FRACTION * (r.peak - r.base)) return -1
        if (!this.crossPair(base + FALL_LO * amp, base + FALL_HI * amp, false, from2, untilMs)) return -1
        t25 = this.pairLoMs
        const t75 = this.pairHiMs
        // a half-cosine fall (1 + cos(pi u)) / 2 is down to f at u = acos(2 f - 1) / pi
        const fallMs = (t25 - t75) / (FALL_PH_LO - FALL_PH_HI)
        const start = t75 - FALL_PH_HI * fallMs
        // down to RELEASE_FRACTION of the rep's height or the fall's, whichever is more (a late rise peaks after the window)
        let f = (RELEASE_FRACTION * (r.peak - r.base)) / amp
        if (f < RELEASE_FRACTION) f = RELEASE_FRACTION
        // 1 - x / pi, 2 / pi = 0.63662
        const off = start + (1 - 0.63662 * Math.sqrt(f) * (1 + f / 6)) * fallMs
        this.fallEndMs = start + fallMs
        return off > r.onsetRawMs ? off : -1
    }


    /**
     * Highest ring value with time in [fromMs, toMs] (ringMaxMs: its time);
     * -Infinity if none. Every other sample: the top of a smoothed rise or
     * fall moves by a fraction of a percent between samples, and the VM
     * kills long synchronous runs.
     */
    private ringMax(fromMs: number, toMs: number): number {
        let best = -Infinity
        let bestP = -1
        let p = this.ringSpan(fromMs, toMs)
        const n = this.ringSpanCount
        for (let k = 0; k < n; k += 2) {
            const v = this.ringV.get(p)
            if (v > best) {
                best = v
                bestP = p
            }
            p = p + 2 >= this.ringLen ? p + 2 - this.ringLen : p + 2
        }
        this.ringMaxMs = bestP < 0 ? -1 : this.ringT.get(bestP)
        return best
    }

    /**
     * A crossing of `hi` and one of `lo` that belong together, with every
     * sample in [fromMs, toMs]: rising (`up`), the first crossing of hi and
     * the last crossing of lo before it (a noisy top dips below hi and
     * crosses it again: the last crossing of hi took the noisy electrode's
     * onsets 200-500 ms early), scanned from the oldest sample; falling, the
     * last crossing of lo and the last crossing of hi before it, scanned
     * from the newest back (a fall just ended is near the newest samples).
     * Times are interpolated between samples (pairLoMs, pairHiMs). False if
     * none.
     */
    private crossPair(lo: number, hi: number, up: boolean, fromMs: number, toMs: number): boolean {
        let p = this.ringSpan(fromMs, toMs)
        const n = this.ringSpanCount
        let loP = -1
        if (up) {
            let pv = this.ringV.get(p)
            for (let k = 1; k < n; k++) {
                const q = p + 1 === this.ringLen ? 0 : p + 1
                const v = this.ringV.get(q)
                if (pv < lo && v >= lo) loP = p
                if (pv < hi && v >= hi && loP >= 0) {
                    this.pairLoMs = this.crossAt(loP, lo)
                    this.pairHiMs = this.crossAt(p, hi)
                    return true
                }
                p = q
                pv = v
            }
            return false
        }
        loP = this.crossBack(lo, false, this.ringLastP, n)
        if (loP < 0) return false
        // from the lo crossing's older sample back: a pair that crosses both pairs its lo crossing with an earlier hi crossing
        const hiP = this.crossBack(hi, false, loP, this.crossLeft)
        if (hiP < 0) return false
        this.pairLoMs = this.crossAt(loP, lo)
        this.pairHiMs = this.crossAt(hiP, hi)
        return true
    }

    /**
     * [ms] Interpolated time the ring's samples cross `level` upwards (`up`)
     * or downwards, with both samples in [fromMs, toMs]: the last such
     * crossing (scanned from the newest back). -1 if none.
     */
    private crossing(level: number, up: boolean, fromMs: number, toMs: number): number {
        this.ringSpan(fromMs, toMs)
        const o = this.crossBack(level, up, this.ringLastP, this.ringSpanCount)
        return o < 0 ? -1 : this.crossAt(o, level)
    }

    /**
     * From ring index `p` back over `n` samples: the older index of the
     * newest pair of samples that crosses `level` upwards (`up`) or
     * downwards, -1 if none; crossLeft: how many samples from that index back.
     */
    private crossBack(level: number, up: boolean, p: number, n: number): number {
        let v = this.ringV.get(p)
        for (let k = 1; k < n; k++) {
            const o = p === 0 ? this.ringLen - 1 : p - 1
            const ov = this.ringV.get(o)
            if (up ? ov < level && v >= level : ov > level && v <= level) {
                this.crossLeft = n - k
                return o
            }
            p = o
            v = ov
        }
        return -1
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
        this.runFits(r)
        // back in the rest band, just not for minOffMs yet: that is the offset
        if (r.phase === PHASE_ACTIVE && !r.offsetFound && r.candidate) this.foundOffset(r)
        if (this.shapeFit && r.phase === PHASE_ACTIVE && !r.riseFitted && r.riseAskedMs < 0) r.riseAskedMs = this.nowMs
        this.runFits(r)
        this.finishRep(r)
    }

    private finishRep(r: RepState): void {
        this.runFits(r)
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
                let offset = (r.fallFitMs >= 0 ? r.fallFitMs : r.candMs) - this.delayMs
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
        this.storeRep(m)
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
