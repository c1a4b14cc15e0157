/**
 * EMG electrode-contact monitor, per sample, on the front end's amplitude
 * envelope [uV] (services/pelvicprobe.md: the probe reports the
 * rectified/RMS envelope, not the raw EMG).
 *
 * States, judged after every sample, first match wins:
 * - Saturated: the envelope stayed at/above `saturationUv` for
 *   `saturationHoldMs`. An open electrode lets the input float: it picks up
 *   mains hum and drifts to the amplifier's rails, so the envelope sits at
 *   the top of the range. The state is latched until the envelope has been
 *   below the level for `saturationHoldMs` again (hysteresis in time, so a
 *   lead that flickers on and off counts as one event, not dozens).
 * - FlatLine: the envelope's SD over the last `flatWindowMs` is below
 *   `flatSdUv`. An intact electrode on tissue always shows amplifier and
 *   electrode-tissue noise, of the order of a microvolt RMS (orders of
 *   magnitude from sEMG practice: SENIAM, Hermens et al. 1999, "European
 *   recommendations for surface electromyography"; Merletti & Parker,
 *   "Electromyography", 2004), so an envelope that does not move at all is
 *   a shorted or disconnected input (or a dead front end).
 * - Jumpy: at least `jumpCountLimit` sample-to-sample steps larger than
 *   `jumpUv` within `jumpWindowMs`: movement, electrode pops, a loose probe.
 *   The channel is still connected but its numbers are not to be trusted
 *   for metrics. Note that one pop is two jumps (up, then down).
 * - Noisy: over the last `flatWindowMs` the envelope's mean sample-to-sample
 *   change (jumps left out: one pop is not noise) is over `noisyStepRatio`
 *   of its mean level plus `noisyFloorUv`.
 *   The front end's envelope is already RMS-smoothed, so with good contact
 *   it moves little from one sample to the next at any level; a loose or
 *   dry electrode (high, changing electrode-tissue impedance) adds broadband
 *   noise that grows with the level. Connected, but its amplitudes (peak,
 *   means, hold CV) carry that noise: the session flags the reps
 *   (RepFlag.PoorContact).
 * - Unknown: fewer than a flat window of samples seen (cannot judge yet).
 * - Good: otherwise.
 *
 * `leadOff()` (FlatLine or Saturated) means: stop trusting the channel;
 * stimulation must stop (the supervisor's job, a later issue). This is
 * the software side of what clinical units do in hardware too: sEMG
 * biofeedback devices (MyoTrac Infiniti, NeuroTrac MyoPlus) run an
 * electrode check / "lead-off" indication before and during a session, and
 * bio-potential front ends detect it with a small excitation current and
 * comparators (TI ADS1292 datasheet SBAS502C, "Lead-Off Detection": a
 * DC lead-off current of 6 nA-22 uA pulls an open input towards the rail,
 * comparator thresholds 70-95 % of the supply). When the front end has
 * such a flag it should be ORed with this monitor; this one also catches
 * shorted inputs, which pull the signal flat rather than to a rail.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { windowSamples } from "../units"
import { isUsableSample, WindowStats } from "../window-stats"
import { requireOptions } from "../options"

export enum EmgContact {
    Unknown = 0,
    Good = 1,
    FlatLine = 2,
    Saturated = 3,
    Jumpy = 4,
    Noisy = 5,
}

export interface EmgContactOptions {
    /** [Hz] samples per second */
    sampleRateHz: number
    /** [ms] */
    flatWindowMs: number
    /** [uV] envelope SD over the flat window below this = flat line */
    flatSdUv: number
    /** [uV] envelope at/above this = front end saturated */
    saturationUv: number
    /** [ms] saturated this long = lead-off (and below this long to clear) */
    saturationHoldMs: number
    /** [uV] sample-to-sample step above this = a jump (artefact) */
    jumpUv: number
    /** [ms] */
    jumpWindowMs: number
    /** Jumpy when at least this many jumps fall within jumpWindowMs */
    jumpCountLimit: number
    /** Noisy when the mean |step| over the flat window is over this fraction of (mean level + noisyFloorUv) */
    noisyStepRatio: number
    /** [uV] added to the level for the Noisy test, so a quiet rest's amplifier noise is not read as poor contact */
    noisyFloorUv: number
}

/**
 * Defaults. Sources and choices:
 * - sampleRateHz 100: the probe's default rate (services/pelvicprobe.md).
 * - flatWindowMs 1000, flatSdUv 0.05: engineering choice. Surface EMG
 *   baseline noise with good contact is of the order of 1 uV RMS (SENIAM,
 *   Hermens et al. 1999, as an order of magnitude, not a quoted limit), and
 *   its envelope after a 100 ms smoothing still moves
 *   by tenths of a uV sample to sample. 0.05 uV is 20x below that and 3
 *   steps of the wire resolution (u16.16 mV = 0.015 uV). One second is
 *   long enough that a quiet rest never looks flat by chance.
 * - saturationUv 1500: depends on the front end's range. Clinical sEMG
 *   biofeedback units measure up to about 2000 uV RMS (MyoTrac Infiniti,
 *   NeuroTrac MyoPlus product specifications: EMG range to 2000 uV RMS;
 *   not re-checked here), while pelvic-floor squeezes on a vaginal probe
 *   are tens of uV. 75 % of a 2000 uV range is far above any physiological
 *   value and below the rail. Set it from the real front end's range.
 * - saturationHoldMs 200: engineering choice; longer than an electrode pop
 *   (tens of ms), short enough to stop stimulation promptly. IEC 60601-2-40
 *   (EMG and evoked-response equipment) sets the safety frame, not this
 *   number.
 * - jumpUv 150: engineering choice. At 100 Hz a 150 uV change of the
 *   envelope in 10 ms is several times a pelvic-floor MVC, which the
 *   smoothed envelope cannot do physiologically; movement and electrode
 *   pops can.
 * - jumpWindowMs 2000, jumpCountLimit 4: engineering choice. One pop is 2
 *   jumps and is tolerated; two pops (or a burst of motion) within 2 s
 *   mark the channel Jumpy.
 * - noisyStepRatio 0.15, noisyFloorUv 1: engineering choice from the
 *   patient model (host/sim/patient), to be checked on recordings. Over 4
 *   simulated sessions of each profile the ratio (mean |step| / (mean +
 *   1 uV), 1 s windows) stayed under 0.13 with good contact (typical,
 *   weak, hypertonic, spasm, lead-off; the weak profile's 12 % tracking
 *   wobble and the hypertonic tone's wander included) and over 0.14 in 99 %
 *   of the windows of the noisy electrode (noise 25 % of the level + 1 uV,
 *   which reads peaks 7 % high at the median). The floor is of the order of
 *   good surface-EMG baseline noise, about 1 uV (SENIAM, Hermens et al.
 *   1999; P. Konrad, "The ABC of EMG", Noraxon 2005: baseline noise
 *   1-2 uV with good skin preparation).
 */
export const DEFAULT_EMG_CONTACT: EmgContactOptions = {
    sampleRateHz: 100,
    flatWindowMs: 1000,
    flatSdUv: 0.05,
    saturationUv: 1500,
    saturationHoldMs: 200,
    jumpUv: 150,
    jumpWindowMs: 2000,
    jumpCountLimit: 4,
    noisyStepRatio: 0.15,
    noisyFloorUv: 1,
}

function checkOptions(o: EmgContactOptions): void {
    requireOptions(o, ["sampleRateHz", "flatWindowMs", "flatSdUv", "saturationUv", "jumpUv", "jumpWindowMs", "noisyStepRatio"], ["saturationHoldMs", "noisyFloorUv"])
    if (windowSamples(o.flatWindowMs, o.sampleRateHz) < 2)
        throw new RangeError("flatWindowMs must cover at least 2 samples")
    if (!(o.jumpCountLimit >= 1) || Math.floor(o.jumpCountLimit) !== o.jumpCountLimit)
        throw new RangeError("jumpCountLimit must be an integer >= 1")
}

export class EmgContactMonitor {
    private readonly flatSd: number
    private readonly saturation: number
    private readonly jump: number
    private readonly window: WindowStats
    /** the last flat window's worth of |steps| between consecutive samples, jumps left out */
    private readonly steps: WindowStats
    private readonly noisyRatio: number
    private readonly noisyFloor: number
    private readonly holdSamples: number
    private readonly jumpWindowSamples: number
    private readonly jumpLimit: number
    /** sample numbers of the last `jumpLimit` jumps, a ring; jumpNext is the oldest once full */
    private readonly jumpAt: number[] = []
    private jumpNext = 0
    private jumpsStored = 0

    private st = EmgContact.Unknown
    private sampleNo = 0
    private hasPrev = false
    private prev = 0
    private overRun = 0
    private underRun = 0
    private saturatedLatched = false
    // counters, public for tests and diagnostics and written only here (a getter each costs bytecode)
    /** sample-to-sample steps above jumpUv */
    jumps = 0
    /** times the state went from not lead-off to lead-off */
    leadOffEvents = 0
    /** samples refused as unusable (NaN, infinite, |x| >= 1e9) */
    invalidSamples = 0

    constructor(options: EmgContactOptions) {
        checkOptions(options)
        this.flatSd = options.flatSdUv
        this.saturation = options.saturationUv
        this.jump = options.jumpUv
        const flatSamples = windowSamples(options.flatWindowMs, options.sampleRateHz)
        this.window = new WindowStats(flatSamples)
        this.steps = new WindowStats(flatSamples)
        this.noisyRatio = options.noisyStepRatio
        this.noisyFloor = options.noisyFloorUv
        this.holdSamples = windowSamples(options.saturationHoldMs, options.sampleRateHz)
        this.jumpWindowSamples = windowSamples(options.jumpWindowMs, options.sampleRateHz)
        this.jumpLimit = options.jumpCountLimit
        for (let i = 0; i < this.jumpLimit; i++) this.jumpAt.push(0)
    }

    /**
     * Takes one envelope sample [uV] and returns the contact state after it.
     * An unusable sample (NaN, infinite, absurd) changes nothing and is
     * counted (`invalidSamples`).
     */
    push(emgUv: number): EmgContact {
        if (!isUsableSample(emgUv)) {
            this.invalidSamples++
            return this.st
        }
        this.sampleNo++
        this.window.push(emgUv)

        if (this.hasPrev) {
            const step = Math.abs(emgUv - this.prev)
            if (step > this.jump) {
                this.jumps++
                this.jumpAt[this.jumpNext] = this.sampleNo
                this.jumpNext = this.jumpNext + 1 === this.jumpLimit ? 0 : this.jumpNext + 1
                if (this.jumpsStored < this.jumpLimit) this.jumpsStored++
            } else this.steps.push(step) // a jump is the Jumpy rule's, not noise
        }
        this.hasPrev = true
        this.prev = emgUv

        if (emgUv >= this.saturation) {
            this.underRun = 0
            this.overRun++
            if (this.overRun >= this.holdSamples) this.saturatedLatched = true
        } else {
            this.overRun = 0
            if (this.saturatedLatched) {
                this.underRun++
                if (this.underRun >= this.holdSamples) {
                    this.saturatedLatched = false
                    this.underRun = 0
                }
            }
        }

        const wasLeadOff = this.leadOff()
        this.st = this.judge()
        if (!wasLeadOff && this.leadOff()) this.leadOffEvents++
        return this.st
    }

    contact(): EmgContact {
        return this.st
    }

    /** FlatLine or Saturated: stop trusting the channel (and stop stimulation). */
    leadOff(): boolean {
        return this.st === EmgContact.FlatLine || this.st === EmgContact.Saturated
    }


    /** Back to Unknown with all counters cleared (a new session). */
    reset(): void {
        this.window.reset()
        this.steps.reset()
        this.jumpNext = 0
        this.jumpsStored = 0
        this.st = EmgContact.Unknown
        this.sampleNo = 0
        this.hasPrev = false
        this.prev = 0
        this.overRun = 0
        this.underRun = 0
        this.saturatedLatched = false
        this.jumps = 0
        this.leadOffEvents = 0
        this.invalidSamples = 0
    }

    private judge(): EmgContact {
        if (this.saturatedLatched) return EmgContact.Saturated
        const full = this.window.isFull()
        if (full && this.window.sd() < this.flatSd) return EmgContact.FlatLine
        if (this.isJumpy()) return EmgContact.Jumpy
        if (!full) return EmgContact.Unknown
        return this.steps.mean() > this.noisyRatio * (this.window.mean() + this.noisyFloor) ? EmgContact.Noisy : EmgContact.Good
    }

    /** The oldest of the last jumpLimit jumps is inside the jump window. */
    private isJumpy(): boolean {
        if (this.jumpsStored < this.jumpLimit) return false
        return this.sampleNo - this.jumpAt[this.jumpNext] < this.jumpWindowSamples
    }
}
