import { cmH2OToHpa, hpaToCmH2O, mvToUv, roundTo, uvToMv, windowSamples } from "../../src/core/units"
import type { NumericCase } from "./types"

export const unitCases: NumericCase[] = [
    { name: "0.980665 hPa is 1 cmH2O", actual: () => hpaToCmH2O(0.980665), expected: 1, tolerance: 1e-9 },
    { name: "100 cmH2O is 98.0665 hPa", actual: () => cmH2OToHpa(100), expected: 98.0665, tolerance: 1e-9 },
    { name: "cmH2O -> hPa -> cmH2O round trip", actual: () => hpaToCmH2O(cmH2OToHpa(42.5)), expected: 42.5, tolerance: 1e-9 },
    { name: "negative pressure keeps its sign", actual: () => hpaToCmH2O(-9.80665), expected: -10, tolerance: 1e-9 },
    { name: "0.004 mV is 4 uV", actual: () => mvToUv(0.004), expected: 4, tolerance: 1e-12 },
    { name: "250 uV is 0.25 mV", actual: () => uvToMv(250), expected: 0.25, tolerance: 1e-12 },
    { name: "100 ms at 100 Hz is 10 samples", actual: () => windowSamples(100, 100), expected: 10, tolerance: 0 },
    { name: "250 ms at 128 Hz rounds to 32 samples", actual: () => windowSamples(250, 128), expected: 32, tolerance: 0 },
    { name: "a window never has fewer than 1 sample", actual: () => windowSamples(1, 100), expected: 1, tolerance: 0 },
    { name: "roundTo 2 decimals", actual: () => roundTo(3.14159, 2), expected: 3.14, tolerance: 1e-12 },
]
