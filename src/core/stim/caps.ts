/**
 * The effective stimulation caps and the ONE choke point every output goes
 * through on its way to the stimulator module.
 *
 * Effective caps = the smaller of the device's hard limits
 * (`src/core/limits.ts`, each with its source) and the therapist's caps in
 * the program; the current-density cap becomes an rms-current cap through
 * the electrode area of the configured probe. Missing or invalid
 * configuration means no stimulation at all (`NO_CAPS`, fail safe).
 *
 * `clampOutput(requested, caps, ramp?)` limits, in this order: pulse width
 * and frequency into their ranges, then the amplitude to the smallest of
 * the amplitude cap, the amplitude that keeps charge per phase, average
 * current, rms current density and pulse energy under their caps, and the
 * ramp-rate limit from the previous output. It reduces the amplitude rather
 * than the pulse width or frequency: the amplitude is what the patient
 * chose and feels, the timing is what the therapist prescribed. The result
 * is quantized DOWN to what the module's registers carry
 * (services/stimulator.md: amplitude u8.8 mA, pulse width and frequency
 * u16), then re-checked with the very functions of limits.ts, so the
 * numbers the module receives satisfy every cap exactly, not just to
 * rounding.
 *
 * It returns the binding reason (the limit that set the amplitude, else the
 * pulse width's, else the frequency's) and a bit mask of every limit that
 * acted, for the log.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    AVERAGE_CURRENT_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    CURRENT_DENSITY_MAX_MA_PER_CM2,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_ENERGY_MAX_MJ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    RATED_LOAD_OHM,
    SESSION_STIM_MAX_MS,
    averageCurrentMa,
    chargePerPhaseUc,
    pulseEnergyMj,
    rmsCurrentDensityMaPerCm2,
    type StimOutput,
} from "../limits"

/** The therapist's caps for one patient (from the signed program). They can only lower the hard limits. */
export interface TherapistCaps {
    /** [mA] */
    amplitudeMaxMa: number
    /** [us] */
    pulseWidthMaxUs: number
    /** [Hz] */
    frequencyMaxHz: number
    /** [ms] stimulation time in one session */
    sessionStimMaxMs: number
}

export interface CapsInput {
    /** missing: no stimulation */
    therapist: TherapistCaps | undefined
    /** [cm^2] area of the smaller stimulation electrode of the configured probe; missing or <= 0: no stimulation */
    electrodeAreaCm2: number | undefined
}

/** The caps in force: every field is already the smaller of the hard limit and the therapist's cap. */
export interface StimCaps {
    /** false: configuration missing or invalid; every output is zero */
    usable: boolean
    /** [mA] */
    amplitudeMaxMa: number
    amplitudeByTherapist: boolean
    /** [us] integers, as the module's u16 register */
    pulseWidthMinUs: number
    pulseWidthMaxUs: number
    pulseWidthByTherapist: boolean
    /** [Hz] integers, as the module's u16 register */
    frequencyMinHz: number
    frequencyMaxHz: number
    frequencyByTherapist: boolean
    /** [uC] */
    chargePerPhaseMaxUc: number
    /** [mA] */
    averageCurrentMaxMa: number
    /** [mA/cm^2] */
    currentDensityMaxMaPerCm2: number
    /** [cm^2] */
    electrodeAreaCm2: number
    /** [mJ] */
    pulseEnergyMaxMj: number
    /** [ms] */
    sessionStimMaxMs: number
    sessionByTherapist: boolean
}

/** Fail-safe default: no configuration, no stimulation. */
export const NO_CAPS: StimCaps = {
    usable: false,
    amplitudeMaxMa: 0,
    amplitudeByTherapist: false,
    pulseWidthMinUs: PULSE_WIDTH_MIN_US,
    pulseWidthMaxUs: PULSE_WIDTH_MIN_US,
    pulseWidthByTherapist: false,
    frequencyMinHz: FREQUENCY_MIN_HZ,
    frequencyMaxHz: FREQUENCY_MIN_HZ,
    frequencyByTherapist: false,
    chargePerPhaseMaxUc: 0,
    averageCurrentMaxMa: 0,
    currentDensityMaxMaPerCm2: 0,
    electrodeAreaCm2: 0,
    pulseEnergyMaxMj: 0,
    sessionStimMaxMs: 0,
    sessionByTherapist: false,
}

/** Amplitude resolution of the module's u8.8 register [mA]. */
export const AMPLITUDE_RESOLUTION_MA = 1 / 256

/** finite number (DeviceScript has no isFinite / Number.isFinite) */
export function isFiniteNumber(x: number | undefined): boolean {
    return typeof x === "number" && !isNaN(x) && x !== Infinity && x !== -Infinity
}

function positive(x: number | undefined): boolean {
    return x !== undefined && x !== null && isFiniteNumber(x) && x > 0
}

/** The caps in force for one patient and probe. Invalid or missing input gives NO_CAPS. */
export function effectiveCaps(input: CapsInput): StimCaps {
    const t = input.therapist
    const area = input.electrodeAreaCm2
    if (!t || !positive(area)) return NO_CAPS
    if (!positive(t.amplitudeMaxMa) || !positive(t.pulseWidthMaxUs) || !positive(t.frequencyMaxHz) || !positive(t.sessionStimMaxMs))
        return NO_CAPS
    const pwMax = Math.floor(Math.min(t.pulseWidthMaxUs, PULSE_WIDTH_MAX_US))
    const fMax = Math.floor(Math.min(t.frequencyMaxHz, FREQUENCY_MAX_HZ))
    // a therapist cap under the hard minimum leaves no valid setting
    if (pwMax < PULSE_WIDTH_MIN_US || fMax < FREQUENCY_MIN_HZ) return NO_CAPS
    return {
        usable: true,
        amplitudeMaxMa: Math.min(t.amplitudeMaxMa, AMPLITUDE_MAX_MA),
        amplitudeByTherapist: t.amplitudeMaxMa < AMPLITUDE_MAX_MA,
        pulseWidthMinUs: PULSE_WIDTH_MIN_US,
        pulseWidthMaxUs: pwMax,
        pulseWidthByTherapist: t.pulseWidthMaxUs < PULSE_WIDTH_MAX_US,
        frequencyMinHz: FREQUENCY_MIN_HZ,
        frequencyMaxHz: fMax,
        frequencyByTherapist: t.frequencyMaxHz < FREQUENCY_MAX_HZ,
        chargePerPhaseMaxUc: CHARGE_PER_PHASE_MAX_UC,
        averageCurrentMaxMa: AVERAGE_CURRENT_MAX_MA,
        currentDensityMaxMaPerCm2: CURRENT_DENSITY_MAX_MA_PER_CM2,
        electrodeAreaCm2: area as number,
        pulseEnergyMaxMj: PULSE_ENERGY_MAX_MJ,
        sessionStimMaxMs: Math.min(t.sessionStimMaxMs, SESSION_STIM_MAX_MS),
        sessionByTherapist: t.sessionStimMaxMs < SESSION_STIM_MAX_MS,
    }
}

/** Which limit changed a requested output. Stable log codes: add, never renumber. */
export enum ClampReason {
    None = 0,
    NotANumber = 1,
    AmplitudeNegative = 2,
    /** caps not usable (no or invalid configuration): amplitude 0 */
    NoStimCaps = 3,
    AmplitudeHardCap = 4,
    AmplitudeTherapistCap = 5,
    PulseWidthMin = 6,
    PulseWidthHardCap = 7,
    PulseWidthTherapistCap = 8,
    FrequencyMin = 9,
    FrequencyHardCap = 10,
    FrequencyTherapistCap = 11,
    ChargePerPhase = 12,
    AverageCurrent = 13,
    CurrentDensity = 14,
    PulseEnergy = 15,
    RampRate = 16,
}

/** The bit of `r` in `ClampResult.limits`. */
export function clampBit(r: ClampReason): number {
    return 1 << r
}

export function clampReasonName(r: ClampReason): string {
    switch (r) {
        case ClampReason.None:
            return "none"
        case ClampReason.NotANumber:
            return "not a number"
        case ClampReason.AmplitudeNegative:
            return "negative amplitude"
        case ClampReason.NoStimCaps:
            return "no stim caps"
        case ClampReason.AmplitudeHardCap:
            return "amplitude hard cap"
        case ClampReason.AmplitudeTherapistCap:
            return "amplitude therapist cap"
        case ClampReason.PulseWidthMin:
            return "pulse width minimum"
        case ClampReason.PulseWidthHardCap:
            return "pulse width hard cap"
        case ClampReason.PulseWidthTherapistCap:
            return "pulse width therapist cap"
        case ClampReason.FrequencyMin:
            return "frequency minimum"
        case ClampReason.FrequencyHardCap:
            return "frequency hard cap"
        case ClampReason.FrequencyTherapistCap:
            return "frequency therapist cap"
        case ClampReason.ChargePerPhase:
            return "charge per phase"
        case ClampReason.AverageCurrent:
            return "average current"
        case ClampReason.CurrentDensity:
            return "current density"
        case ClampReason.PulseEnergy:
            return "pulse energy"
        case ClampReason.RampRate:
            return "ramp rate"
    }
    return "clamp " + r
}

/** The previous output and the time since: the amplitude may rise by at most AMPLITUDE_RAMP_MAX_MA_PER_S. */
export interface RampLimit {
    /** [mA] amplitude of the previous output (0 when it was off) */
    fromMa: number
    /** [ms] since the previous output */
    elapsedMs: number
}

export interface ClampResult {
    /** what to send: every cap holds exactly on these numbers */
    output: StimOutput
    /** some limit changed the request (quantization alone does not count) */
    clamped: boolean
    /** the binding limit: the one that set the amplitude, else the pulse width's, else the frequency's */
    reason: ClampReason
    /** every limit that acted, `clampBit(reason)` ORed */
    limits: number
}

/** [mA] highest amplitude the ramp allows after `ramp` (the expression the invariant checker uses too) */
export function rampCeilingMa(ramp: RampLimit): number {
    const from = isFiniteNumber(ramp.fromMa) && ramp.fromMa > 0 ? ramp.fromMa : 0
    const dt = isFiniteNumber(ramp.elapsedMs) && ramp.elapsedMs > 0 ? ramp.elapsedMs : 0
    return from + (AMPLITUDE_RAMP_MAX_MA_PER_S * dt) / 1000
}

/**
 * Does going from `ramp.fromMa` to `toMa` in `ramp.elapsedMs` respect the
 * ramp rate? Written as the rule reads (rise <= rate x time), the same
 * expression the invariant checker evaluates.
 */
function withinRamp(toMa: number, ramp: RampLimit | undefined): boolean {
    if (!ramp) return true
    const from = isFiniteNumber(ramp.fromMa) && ramp.fromMa > 0 ? ramp.fromMa : 0
    const dt = isFiniteNumber(ramp.elapsedMs) && ramp.elapsedMs > 0 ? ramp.elapsedMs : 0
    return toMa - from <= (AMPLITUDE_RAMP_MAX_MA_PER_S * dt) / 1000
}

interface IntBound {
    value: number
    reason: ClampReason
}

/** floor to an integer inside [lo, hi]; NaN goes to lo (the gentler end) */
function boundInt(v: number, lo: number, hi: number, hiReason: ClampReason, loReason: ClampReason): IntBound {
    if (!isFiniteNumber(v)) return { value: lo, reason: ClampReason.NotANumber }
    const f = Math.floor(v)
    if (hi < lo) return { value: lo, reason: f === lo ? ClampReason.None : ClampReason.NoStimCaps }
    if (f < lo) return { value: lo, reason: loReason }
    if (f > hi) return { value: hi, reason: hiReason }
    return { value: f, reason: ClampReason.None }
}

function minCap(a: number, b: number): number {
    return isFiniteNumber(a) ? Math.min(a, b) : 0
}

/** Each derived limit, evaluated with the same functions the invariant checker uses. */
function withinDerived(o: StimOutput, caps: StimCaps): boolean {
    return (
        o.amplitudeMa <= minCap(caps.amplitudeMaxMa, AMPLITUDE_MAX_MA) &&
        chargePerPhaseUc(o) <= minCap(caps.chargePerPhaseMaxUc, CHARGE_PER_PHASE_MAX_UC) &&
        averageCurrentMa(o) <= minCap(caps.averageCurrentMaxMa, AVERAGE_CURRENT_MAX_MA) &&
        rmsCurrentDensityMaPerCm2(o, caps.electrodeAreaCm2) <= minCap(caps.currentDensityMaxMaPerCm2, CURRENT_DENSITY_MAX_MA_PER_CM2) &&
        pulseEnergyMj(o) <= minCap(caps.pulseEnergyMaxMj, PULSE_ENERGY_MAX_MJ)
    )
}

/**
 * The choke point: every output to the stimulator goes through here.
 * `caps` fields can only lower the hard limits (each is min'ed with its
 * limits.ts constant again here, so a hand-made caps object cannot raise
 * them). With `ramp`, the amplitude also rises no faster than
 * AMPLITUDE_RAMP_MAX_MA_PER_S from the previous output.
 */
export function clampOutput(requested: StimOutput, caps: StimCaps, ramp?: RampLimit): ClampResult {
    let limits = 0
    const pwLo = Math.ceil(Math.max(caps.pulseWidthMinUs, PULSE_WIDTH_MIN_US))
    const pwHi = Math.floor(minCap(caps.pulseWidthMaxUs, PULSE_WIDTH_MAX_US))
    const pw = boundInt(
        requested.pulseWidthUs,
        pwLo,
        pwHi,
        caps.pulseWidthByTherapist ? ClampReason.PulseWidthTherapistCap : ClampReason.PulseWidthHardCap,
        ClampReason.PulseWidthMin
    )
    if (pw.reason !== ClampReason.None) limits |= clampBit(pw.reason)
    const fLo = Math.ceil(Math.max(caps.frequencyMinHz, FREQUENCY_MIN_HZ))
    const fHi = Math.floor(minCap(caps.frequencyMaxHz, FREQUENCY_MAX_HZ))
    const f = boundInt(
        requested.frequencyHz,
        fLo,
        fHi,
        caps.frequencyByTherapist ? ClampReason.FrequencyTherapistCap : ClampReason.FrequencyHardCap,
        ClampReason.FrequencyMin
    )
    if (f.reason !== ClampReason.None) limits |= clampBit(f.reason)

    const asked = requested.amplitudeMa
    let a = asked
    let ampReason = ClampReason.None
    if (!isFiniteNumber(a)) {
        a = 0
        ampReason = ClampReason.NotANumber
    } else if (a < 0) {
        a = 0
        ampReason = ClampReason.AmplitudeNegative
    } else if (!caps.usable && a > 0) {
        a = 0
        ampReason = ClampReason.NoStimCaps
    }
    if (ampReason !== ClampReason.None) limits |= clampBit(ampReason)

    if (a > 0) {
        const pwS = pw.value / 1e6 // [s]
        const hz = f.value
        // Each bound is the amplitude at which that limit is just met; the
        // smallest one under the request binds (first one wins a tie).
        const bounds: number[] = [
            minCap(caps.amplitudeMaxMa, AMPLITUDE_MAX_MA),
            (minCap(caps.chargePerPhaseMaxUc, CHARGE_PER_PHASE_MAX_UC) * 1000) / pw.value,
            minCap(caps.averageCurrentMaxMa, AVERAGE_CURRENT_MAX_MA) / (2 * pwS * hz),
            (minCap(caps.currentDensityMaxMaPerCm2, CURRENT_DENSITY_MAX_MA_PER_CM2) * caps.electrodeAreaCm2) / Math.sqrt(2 * pwS * hz),
            Math.sqrt(minCap(caps.pulseEnergyMaxMj, PULSE_ENERGY_MAX_MJ) / (RATED_LOAD_OHM * 2 * pwS * 1e-3)),
            ramp ? rampCeilingMa(ramp) : Infinity,
        ]
        const reasons: ClampReason[] = [
            caps.amplitudeByTherapist ? ClampReason.AmplitudeTherapistCap : ClampReason.AmplitudeHardCap,
            ClampReason.ChargePerPhase,
            ClampReason.AverageCurrent,
            ClampReason.CurrentDensity,
            ClampReason.PulseEnergy,
            ClampReason.RampRate,
        ]
        for (let i = 0; i < bounds.length; i++) {
            const b = isFiniteNumber(bounds[i]) || bounds[i] === Infinity ? bounds[i] : 0
            if (b < asked) limits |= clampBit(reasons[i])
            if (b < a) {
                a = b
                ampReason = reasons[i]
            }
        }
    }

    // down to the register's resolution, then prove it with limits.ts itself
    a = Math.floor(a / AMPLITUDE_RESOLUTION_MA) * AMPLITUDE_RESOLUTION_MA
    if (!(a > 0)) a = 0
    const out: StimOutput = { amplitudeMa: a, pulseWidthUs: pw.value, frequencyHz: f.value }
    for (let i = 0; i < 4 && out.amplitudeMa > 0 && !(withinDerived(out, caps) && withinRamp(out.amplitudeMa, ramp)); i++)
        out.amplitudeMa = Math.max(0, out.amplitudeMa - AMPLITUDE_RESOLUTION_MA)
    if (out.amplitudeMa > 0 && !(withinDerived(out, caps) && withinRamp(out.amplitudeMa, ramp))) out.amplitudeMa = 0

    let reason = ampReason
    if (reason === ClampReason.None) reason = pw.reason
    if (reason === ClampReason.None) reason = f.reason
    return { output: out, clamped: limits !== 0, reason, limits }
}

/**
 * [mA] The highest amplitude the caps allow at this pulse width and
 * frequency (what the intensity-up button may reach), with the limit that
 * sets it.
 */
export function maxAmplitude(pulseWidthUs: number, frequencyHz: number, caps: StimCaps): ClampResult {
    return clampOutput({ amplitudeMa: AMPLITUDE_MAX_MA, pulseWidthUs, frequencyHz }, caps)
}
