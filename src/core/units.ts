/**
 * Unit conversions, in one place. Jacdac specs carry pressure in hPa (the
 * spec tool has no cmH2O unit) and EMG in mV; people see cmH2O and uV.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/**
 * 1 cmH2O = 98.0665 Pa = 0.980665 hPa (conventional value, g_n = 9.80665
 * m/s^2 and water at 4 degC: BIPM SI Brochure, 9th ed., Table 8 footnote /
 * NIST SP 811 B.8 "centimeter of water (4 degC)" = 98.0638 Pa; we use the
 * conventional 98.0665 Pa that clinical manometers such as the Peritron use).
 */
export const HPA_PER_CMH2O = 0.980665

/** [cmH2O] from [hPa] */
export function hpaToCmH2O(pressureHpa: number): number {
    return pressureHpa / HPA_PER_CMH2O
}

/** [hPa] from [cmH2O] */
export function cmH2OToHpa(pressureCmH2O: number): number {
    return pressureCmH2O * HPA_PER_CMH2O
}

/** [uV] from [mV] */
export function mvToUv(voltageMv: number): number {
    return voltageMv * 1000
}

/** [mV] from [uV] */
export function uvToMv(voltageUv: number): number {
    return voltageUv / 1000
}

/** Number of samples covering `windowMs` at `sampleRateHz`, at least 1. */
export function windowSamples(windowMs: number, sampleRateHz: number): number {
    const n = Math.round((windowMs * sampleRateHz) / 1000)
    return n < 1 ? 1 : n
}

/** Rounds to `decimals` places (DeviceScript has no toFixed). */
export function roundTo(value: number, decimals: number): number {
    const scale = Math.pow(10, decimals)
    return Math.round(value * scale) / scale
}
