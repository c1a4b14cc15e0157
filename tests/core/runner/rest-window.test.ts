// The sliding rest window (src/core/runner/rest-window.ts): bucketed,
// O(1) per sample, exact over its buckets.
import { describe, expect, test } from "vitest"
import { RestWindow } from "../../../src/core/runner/rest-window"

/** Exact mean and sample SD of a list. */
function stats(xs: number[]): { mean: number; sd: number } {
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    const v = xs.reduce((s, x) => s + (x - mean) * (x - mean), 0) / (xs.length - 1)
    return { mean, sd: Math.sqrt(v) }
}

describe("RestWindow", () => {
    test("mean and SD over a full window equal the exact ones", () => {
        const w = new RestWindow(1000, 10)
        const xs: number[] = []
        for (let t = 0; t < 1000; t += 10) {
            const x = 3 + Math.sin(t / 37) * 0.8
            xs.push(x)
            w.push(t, x)
        }
        const e = stats(xs)
        expect(w.full()).toBe(true)
        expect(w.count()).toBe(100)
        expect(w.mean()).toBeCloseTo(e.mean, 12)
        expect(w.sd()).toBeCloseTo(e.sd, 12)
    })

    test("is full once its buckets span the window, not before", () => {
        const w = new RestWindow(1000, 10)
        for (let t = 0; t < 900; t += 10) w.push(t, 3)
        expect(w.full()).toBe(false)
        w.push(900, 3)
        expect(w.full()).toBe(true)
    })

    test("values older than the window drop out, a bucket at a time", () => {
        const w = new RestWindow(1000, 10)
        for (let t = 0; t < 1000; t += 10) w.push(t, 10)
        for (let t = 1000; t < 1990; t += 10) w.push(t, 2)
        // buckets 10..19 hold only the 2s; bucket 19 is partial
        expect(w.mean()).toBe(2)
        expect(w.sd()).toBe(0)
        w.push(1000, 50) // before the latest bucket: ignored
        expect(w.mean()).toBe(2)
    })

    test("a value that is not a number breaks the rest: the window starts again", () => {
        const w = new RestWindow(1000, 10)
        for (let t = 0; t <= 1000; t += 10) w.push(t, 3)
        w.push(1010, NaN)
        expect(w.full()).toBe(false)
        expect(w.count()).toBe(0)
        expect(w.mean()).toBeNaN()
    })

    test("a gap longer than the window starts it again from the new value", () => {
        const w = new RestWindow(1000, 10)
        for (let t = 0; t <= 1000; t += 10) w.push(t, 3)
        w.push(5000, 7)
        expect(w.count()).toBe(1)
        expect(w.mean()).toBe(7)
        expect(w.full()).toBe(false)
    })

    test("stays exact over a long rest far from zero (values taken relative to the first)", () => {
        const w = new RestWindow(5000, 10)
        const xs: number[] = []
        for (let i = 0; i < 200_000; i++) {
            const x = 1000 + (i % 2 === 0 ? 0.01 : -0.01)
            w.push(i * 10, x)
            if (i >= 200_000 - 500) xs.push(x)
        }
        const e = stats(xs.slice(-w.count()))
        expect(w.sd()).toBeCloseTo(e.sd, 9)
        expect(w.mean()).toBeCloseTo(1000, 9)
    })
})
