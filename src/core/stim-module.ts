/**
 * The stimulator module's contract in numbers (services/stimulator.md): its
 * fault codes, the wire layout of its `status` report, the amplitude
 * encoding, its timing and its hardware limits. The firmware's driver
 * (`src/stim/stim-output.ts`) and the simulated module
 * (`host/sim/stim-module.ts`) both use these, and
 * `tests/host/sim/stim-spec.test.ts` checks them against what the spec tool
 * generates from the spec.
 *
 * `status` report (8 bytes, little endian):
 *
 *   offset  size  field
 *   0       4     delivered_amplitude  f32 mA
 *   4       2     load_impedance       u16 Ohm, 0 = not measured
 *   6       1     fault                u8  StimModuleFault
 *   7       1     flags                u8  StimStatusFlags
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    CHARGE_PER_PHASE_MAX_UC,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    STIM_WATCHDOG_TIMEOUT_MS,
} from "./limits"

/** The module's `Fault` enum. Stable codes: the supervisor logs them as the `ModuleFault` detail. */
export enum StimModuleFault {
    None = 0,
    LeadOff = 1,
    ImpedanceHigh = 2,
    ImpedanceLow = 3,
    OverCurrent = 4,
    WatchdogExpired = 5,
    Internal = 6,
}

/** The module's `StatusFlags` (bits of the status report's `flags`). */
export enum StimStatusFlags {
    /** the `enabled` register as last written */
    Enabled = 0x01,
    /** the output stage is on: enabled and no fault latched */
    OutputOn = 0x02,
    /** a hardware limit changed a setting since the output was last enabled */
    Clamped = 0x04,
}

/** Byte layout of the `status` report. */
export const STIM_STATUS = {
    bytes: 8,
    deliveredOffset: 0,
    loadOffset: 4,
    faultOffset: 6,
    flagsOffset: 7,
} as const

/** [ms] The module pushes `status` this often (services/stimulator.md `status_interval`). */
export const STIM_STATUS_INTERVAL_MS = 50

/** [ms] The module's watchdog (`watchdog_timeout`), the same number as limits.ts. */
export const STIM_MODULE_WATCHDOG_MS = STIM_WATCHDOG_TIMEOUT_MS

/** `amplitude` is u8.8: raw = mA x 256. */
export const STIM_AMPLITUDE_SCALE = 256

/** Largest raw u8.8 value (255.996 mA). */
export const STIM_AMPLITUDE_RAW_MAX = 0xffff

/**
 * The raw u8.8 register value for `amplitudeMa`, rounded DOWN (never more
 * current than asked); NaN and negatives give 0. The supervisor's outputs are
 * already multiples of 1/256 mA, for which this is exact.
 */
export function amplitudeToRaw(amplitudeMa: number): number {
    if (!(amplitudeMa > 0)) return 0
    const raw = Math.floor(amplitudeMa * STIM_AMPLITUDE_SCALE)
    return raw > STIM_AMPLITUDE_RAW_MAX ? STIM_AMPLITUDE_RAW_MAX : raw
}

/** The module's own limits (services/stimulator.md `hardware_limits`). */
export interface StimHardwareLimits {
    /** [mA] */
    maxAmplitudeMa: number
    /** [us] */
    minPulseWidthUs: number
    /** [us] */
    maxPulseWidthUs: number
    /** [Hz] */
    minFrequencyHz: number
    /** [Hz] */
    maxFrequencyHz: number
    /** [nC] */
    maxChargePerPhaseNc: number
    /** [ms] time from 0 to maxAmplitudeMa at the fastest rise the hardware allows */
    minRampUpMs: number
    /** [Ohm] a load above this is an open electrode: LeadOff */
    leadOffOhm: number
}

/**
 * The module's hardware limits: the device's hard limits (limits.ts), so
 * the module holds them even if the firmware does not, and any clamp it
 * makes is a firmware bug. Lead-off at 10 kOhm: a vaginal probe is a few
 * hundred Ohm, the firmware already stops above 2500 Ohm.
 */
export const STIM_HARDWARE_LIMITS: StimHardwareLimits = {
    maxAmplitudeMa: AMPLITUDE_MAX_MA,
    minPulseWidthUs: PULSE_WIDTH_MIN_US,
    maxPulseWidthUs: PULSE_WIDTH_MAX_US,
    minFrequencyHz: FREQUENCY_MIN_HZ,
    maxFrequencyHz: FREQUENCY_MAX_HZ,
    maxChargePerPhaseNc: CHARGE_PER_PHASE_MAX_UC * 1000,
    minRampUpMs: Math.ceil((1000 * AMPLITUDE_MAX_MA) / AMPLITUDE_RAMP_MAX_MA_PER_S),
    leadOffOhm: 10000,
}

/**
 * [cm^2] Area of the smaller of the two stimulation electrodes of the probe
 * this module drives; the current-density cap (IEC 60601-2-10
 * 201.7.9.2.101 g), CURRENT_DENSITY_MAX_MA_PER_CM2) turns into an rms
 * current cap through it. Design value of this product's probe
 * (docs/hardware.md, "Probe and stimulator modules"): two stainless ring
 * electrodes 12 mm wide on a 26 mm body, pi * 2.6 cm * 1.2 cm = 9.8 cm^2,
 * rounded down (the smaller the area, the lower the cap). Replace it with
 * the measured area of the probe that ships.
 */
export const PROBE_STIM_ELECTRODE_AREA_CM2 = 9.5
