/**
 * Pressure-probe conditioning, per sample: detects insertion, auto-zeros
 * on a stable rest, tracks slow zero drift while resting, detects removal
 * and flags saturation (clipping).
 *
 *     NotInserted --raw > insertion--> Zeroing --window stable--> Ready
 *                                        ^  \                      |
 *                        raw > insertion |   `--raw < removal for hold--,
 *                                        |                         |    v
 *                                      Removed <--raw < removal for hold
 *
 * Only these transitions happen (tests/core/sensing.test.ts checks it on
 * random signals): NotInserted->Zeroing, Zeroing->Ready, Zeroing->Removed,
 * Ready->Removed, Removed->Zeroing.
 *
 * What "zero" means: the balloon inside the vagina reads a resting
 * pressure above atmospheric (tissue around the balloon, abdominal
 * pressure, the balloon's own fill). The auto-zero takes the mean of the
 * first stable window after insertion as 0, so the output is pressure
 * above that rest; `zeroCmH2O()` keeps the absolute rest pressure for the
 * log (absolute = output + zero).
 *
 * Why drift tracking is slow and clamped: what drifts in a session is the
 * sensor and the balloon, not the patient. A piezoresistive gauge's offset
 * moves with temperature, and the air in a balloon probe warms from room
 * to body temperature over minutes after insertion; both move the reading
 * on a time scale of minutes. The patient's resting tone also moves, and
 * that IS what down-training measures (the design's "relax first": rest
 * tone falling under a threshold is the gate to toning). A fast tracker
 * would erase a real drop in rest tone, or hide a slow rise in tone
 * (spasm). So the tracker (1) only runs while the program says the patient
 * is resting (`setResting`), (2) only while the zeroed window is near 0 and
 * stable, (3) follows with a time constant of a minute, and (4) never moves
 * the zero more than `maxDriftCmH2O` from the auto-zero.
 *
 * Limits of the SD test: a window that still holds the slow end of a
 * settling transient can pass it, and the zero then sits a fraction of a
 * cmH2O above the final rest (tests/cases/sensing.cases.ts: ~0.5 cmH2O for
 * a 30 -> 12 cmH2O settle with a 0.2 s time constant); drift tracking at
 * rest pulls that in.
 *
 * Cost: O(1) amortised per sample (a ring with running sums, re-summed
 * every >= window samples: window-stats.ts); no allocation after
 * construction.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { windowSamples } from "../units"
import { isUsableSample, WindowStats } from "../window-stats"
import { requireOptions } from "../options"

export enum ProbeState {
    NotInserted = 0,
    Zeroing = 1,
    Ready = 2,
    Removed = 3,
}

export interface PressureConditionerOptions {
    /** [Hz] samples per second */
    sampleRateHz: number
    /** [cmH2O] raw gauge pressure above this = probe inserted */
    insertionThresholdCmH2O: number
    /** [ms] auto-zero when the last window this long is stable */
    stabilityWindowMs: number
    /** [cmH2O] stable = population SD over the window below this */
    stabilitySdCmH2O: number
    /** [cmH2O] raw pressure below this for removalHoldMs = probe removed; must be < insertionThresholdCmH2O */
    removalThresholdCmH2O: number
    /** [ms] */
    removalHoldMs: number
    /** [cmH2O] sensor range: samples at/above = saturated */
    fullScaleCmH2O: number
    /** [ms] time constant of the zero's drift tracking while resting */
    driftTimeConstantMs: number
    /** [cmH2O] the tracked zero stays within this of the auto-zero */
    maxDriftCmH2O: number
}

/**
 * Defaults. Sources and choices:
 * - sampleRateHz 100: the probe's default rate (services/pelvicprobe.md).
 * - insertionThresholdCmH2O 3: engineering choice. Resting vaginal
 *   pressures on an inserted balloon are several cmH2O and voluntary
 *   squeezes tens of cmH2O (Bo 1992, Neurourol Urodyn, doi:10.1002/
 *   nau.1930110205: median squeeze 5-15 cmH2O by balloon position; Bo et
 *   al. 2005, Acta Obstet Gynecol Scand, doi:10.1111/j.0001-6349.2005.
 *   00676.x: mean maximum 36.5 cmH2O on the Peritron), while a probe
 *   lying on a table reads 0 +- the ICS accuracy of +-1 cmH2O (ICS Good
 *   Urodynamic Practices, Schafer et al. 2002). 3 cmH2O is clear of both.
 * - stabilityWindowMs 2000, stabilitySdCmH2O 0.75: breathing moves
 *   intra-abdominal (and so vaginal) pressure with each breath; we allow a
 *   ripple of +-1 cmH2O amplitude at rest, whose SD is 1/sqrt(2) = 0.71
 *   cmH2O (a sine's SD), so 0.75 accepts it. The ~0.5 of the brief would
 *   refuse to zero a patient who breathes visibly on the trace. The settling
 *   transient after insertion (several cmH2O over a second or two) and any
 *   squeeze (SD of several cmH2O over 2 s) stay well above 0.75. Engineering
 *   choice. A 2 s window covers about half a breath (12-20 breaths/min),
 *   so the zero can sit up to ~0.64 x the ripple amplitude off the mean
 *   breathing level: acceptable next to the +-1 cmH2O ICS accuracy, and the
 *   drift tracker pulls it in while resting.
 * - removalThresholdCmH2O 1.5, removalHoldMs 500: engineering choice; half
 *   the insertion threshold gives hysteresis, and 0.5 s below it is longer
 *   than the dip of a cough/strain artefact but short enough to stop
 *   feedback (and later, stimulation) promptly.
 * - fullScaleCmH2O 300: the display range of the Peritron perineometer
 *   (0-300 cmH2O; Peritron, Laborie, the reference clinic manometer in
 *   the studies above; range as given in its product literature, not
 *   re-checked here) and above the 0-250 cmH2O range ICS Good Urodynamic
 *   Practices asks of urodynamic pressure transducers. The real value is
 *   the fitted transducer's range: set it from the board.
 * - driftTimeConstantMs 60000, maxDriftCmH2O 2: engineering choices (see the
 *   header: minutes-scale thermal drift; 2 cmH2O is twice the ICS accuracy
 *   and well under the rest-tone changes a down-training session looks for).
 */
export const DEFAULT_PRESSURE_CONDITIONER: PressureConditionerOptions = {
    sampleRateHz: 100,
    insertionThresholdCmH2O: 3,
    stabilityWindowMs: 2000,
    stabilitySdCmH2O: 0.75,
    removalThresholdCmH2O: 1.5,
    removalHoldMs: 500,
    fullScaleCmH2O: 300,
    driftTimeConstantMs: 60000,
    maxDriftCmH2O: 2,
}

/**
 * A clipping plateau: this many identical samples in a row, at or above
 * CLIP_PLATEAU_FRACTION of full scale, count as saturated even under the
 * nominal full scale (an amplifier or ADC that rails early). Real pressure
 * always carries sensor noise far above the wire resolution (i22.10 hPa,
 * ~0.001 hPa), so exact repeats at a high value are the rail, not the
 * patient; squeezes stay far under half of 300 cmH2O (see the defaults).
 * Engineering choices.
 */
const CLIP_PLATEAU_SAMPLES = 3
const CLIP_PLATEAU_FRACTION = 0.5

/**
 * Drift tracking runs only while the window mean is within this many
 * stability SDs of the zero (default 2 x 0.75 = 1.5 cmH2O): near 0, inside
 * the allowed breathing ripple. A larger offset is a real change (tone,
 * a squeeze), not drift. Engineering choice.
 */
const DRIFT_NEAR_ZERO_SDS = 2

function checkOptions(o: PressureConditionerOptions): void {
    requireOptions(o, ["sampleRateHz", "stabilityWindowMs", "stabilitySdCmH2O", "driftTimeConstantMs"], ["removalHoldMs", "maxDriftCmH2O"])
    if (windowSamples(o.stabilityWindowMs, o.sampleRateHz) < 2)
        throw new RangeError("stabilityWindowMs must cover at least 2 samples")
    if (!(o.removalThresholdCmH2O < o.insertionThresholdCmH2O))
        throw new RangeError("removalThresholdCmH2O must be below insertionThresholdCmH2O")
    if (!(o.fullScaleCmH2O > o.insertionThresholdCmH2O))
        throw new RangeError("fullScaleCmH2O must be above insertionThresholdCmH2O")
}

export class PressureConditioner {
    private readonly insertion: number
    private readonly removal: number
    private readonly stableSd: number
    private readonly fullScale: number
    private readonly clipLevel: number
    private readonly maxDrift: number
    private readonly nearZero: number
    private readonly window: WindowStats
    private readonly removalHoldSamples: number
    /** per-sample weight of the drift tracker: 1 - exp(-T/tau) */
    private readonly driftAlpha: number

    private st = ProbeState.NotInserted
    /** [cmH2O] the zero as auto-zeroing set it, before drift tracking */
    autoZeroCmH2O = 0
    private zero = 0
    private isResting = false
    private belowRemoval = 0
    private lastOut = 0
    private lastSaturated = false
    private hasLastRaw = false
    private lastRaw = 0
    private equalRun = 0
    /** samples since the last saturated one (zeroing waits for a whole clean window) */
    private sinceSaturated = 0
    // counters, public for tests and diagnostics and written only here (a getter each would cost
    // ~50 bytes of the 64 KB firmware image, docs/engineering.md)
    /** times the probe was removed (from Zeroing or Ready) */
    removals = 0
    /** samples for which `saturated()` was true */
    saturatedSamples = 0
    /** samples refused as unusable (NaN, infinite, |x| >= 1e9) */
    invalidSamples = 0

    constructor(options: PressureConditionerOptions) {
        checkOptions(options)
        this.insertion = options.insertionThresholdCmH2O
        this.removal = options.removalThresholdCmH2O
        this.stableSd = options.stabilitySdCmH2O
        this.fullScale = options.fullScaleCmH2O
        this.clipLevel = options.fullScaleCmH2O * CLIP_PLATEAU_FRACTION
        this.maxDrift = options.maxDriftCmH2O
        this.nearZero = options.stabilitySdCmH2O * DRIFT_NEAR_ZERO_SDS
        this.window = new WindowStats(windowSamples(options.stabilityWindowMs, options.sampleRateHz))
        this.removalHoldSamples = windowSamples(options.removalHoldMs, options.sampleRateHz)
        this.driftAlpha = 1 - Math.exp(-1000 / (options.driftTimeConstantMs * options.sampleRateHz))
        this.sinceSaturated = this.window.length
    }

    /**
     * Takes one raw gauge sample [cmH2O] and returns the zeroed pressure
     * (raw - zero) when the probe is Ready after this sample, else 0. An
     * unusable sample (NaN, infinite, absurd) changes nothing, is counted
     * (`invalidSamples`) and returns the previous output.
     */
    push(rawCmH2O: number): number {
        if (!isUsableSample(rawCmH2O)) {
            this.invalidSamples++
            return this.lastOut
        }
        this.updateSaturation(rawCmH2O)
        const st = this.st
        if (st === ProbeState.NotInserted || st === ProbeState.Removed) {
            if (rawCmH2O > this.insertion) {
                this.st = ProbeState.Zeroing
                this.window.reset()
                this.belowRemoval = 0
                this.window.push(rawCmH2O)
            }
        } else {
            this.window.push(rawCmH2O)
            if (this.checkRemoval(rawCmH2O)) {
                // removed: nothing else this sample
            } else if (st === ProbeState.Zeroing) {
                if (
                    this.window.isFull() &&
                    this.sinceSaturated >= this.window.length &&
                    this.window.sd() < this.stableSd
                ) {
                    this.autoZeroCmH2O = this.window.mean()
                    this.zero = this.autoZeroCmH2O
                    this.st = ProbeState.Ready
                }
            } else this.trackDrift(rawCmH2O)
        }
        this.lastOut = this.st === ProbeState.Ready ? rawCmH2O - this.zero : 0
        return this.lastOut
    }

    state(): ProbeState {
        return this.st
    }

    /**
     * [cmH2O] the current zero: the auto-zero plus tracked drift. 0 before
     * the first zeroing; after a removal it keeps the last value until the
     * probe is zeroed again.
     */
    zeroCmH2O(): number {
        return this.zero
    }

    /** The last sample was at/over full scale, or on a clipping plateau. */
    saturated(): boolean {
        return this.lastSaturated
    }

    /**
     * Drift tracking adapts the zero only while resting (the program's
     * baseline/rest cues), Ready, and the zeroed signal is near 0 and stable.
     */
    setResting(resting: boolean): void {
        this.isResting = resting
    }


    /** Back to NotInserted with all counters cleared (a new session). */
    reset(): void {
        this.st = ProbeState.NotInserted
        this.autoZeroCmH2O = 0
        this.zero = 0
        this.isResting = false
        this.belowRemoval = 0
        this.lastOut = 0
        this.lastSaturated = false
        this.hasLastRaw = false
        this.lastRaw = 0
        this.equalRun = 0
        this.sinceSaturated = this.window.length
        this.removals = 0
        this.saturatedSamples = 0
        this.invalidSamples = 0
        this.window.reset()
    }

    private updateSaturation(raw: number): void {
        if (this.hasLastRaw && raw === this.lastRaw) this.equalRun++
        else this.equalRun = 1
        this.hasLastRaw = true
        this.lastRaw = raw
        const sat = raw >= this.fullScale || (raw >= this.clipLevel && this.equalRun >= CLIP_PLATEAU_SAMPLES)
        this.lastSaturated = sat
        if (sat) {
            this.saturatedSamples++
            this.sinceSaturated = 0
        } else if (this.sinceSaturated < this.window.length) this.sinceSaturated++
    }

    /** Counts samples under the removal threshold; true when the probe was just removed. */
    private checkRemoval(raw: number): boolean {
        if (raw >= this.removal) {
            this.belowRemoval = 0
            return false
        }
        this.belowRemoval++
        if (this.belowRemoval < this.removalHoldSamples) return false
        this.belowRemoval = 0
        this.st = ProbeState.Removed
        this.removals++
        return true
    }

    private trackDrift(raw: number): void {
        if (!this.isResting || this.lastSaturated || !this.window.isFull()) return
        if (this.window.sd() >= this.stableSd) return
        if (Math.abs(this.window.mean() - this.zero) > this.nearZero) return
        let z = this.zero + this.driftAlpha * (raw - this.zero)
        const lo = this.autoZeroCmH2O - this.maxDrift
        const hi = this.autoZeroCmH2O + this.maxDrift
        if (z < lo) z = lo
        if (z > hi) z = hi
        this.zero = z
    }
}
