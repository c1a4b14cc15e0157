import { describe, expect, test } from "vitest"
import { percentile, windowedPeak } from "../../host/sim/scoring"

describe("scoring helpers", () => {
    test("percentile interpolates", () => {
        expect(percentile([1, 2, 3, 4], 50)).toBe(2.5)
        expect(percentile([5], 95)).toBe(5)
        expect(percentile([10, 0], 100)).toBe(10)
        expect(Number.isNaN(percentile([], 50))).toBe(true)
    })

    test("windowed peak is the best full-window average inside the range", () => {
        // 10 ms samples: 0 until 1000 ms, then 10 for 300 ms, then 4
        const v = Array.from({ length: 300 }, (_, i) => (i < 100 ? 0 : i < 130 ? 10 : 4))
        // a 100 ms window fits in the 300 ms plateau
        expect(windowedPeak(v, 10, 0, 2990, 100)).toBe(10)
        // a 500 ms window cannot: best is 30 samples of 10 + 20 of 4
        expect(windowedPeak(v, 10, 0, 2990, 500)).toBeCloseTo((30 * 10 + 20 * 4) / 50, 9)
        // before the step only zeros
        expect(windowedPeak(v, 10, 0, 990, 100)).toBe(0)
        // missing samples never make a window
        const gaps = [...v]
        delete gaps[105]
        delete gaps[115]
        delete gaps[125]
        expect(windowedPeak(gaps, 10, 1000, 1300, 100)).toBeLessThan(10)
    })
})
