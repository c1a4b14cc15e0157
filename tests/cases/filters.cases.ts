import { MovingAverage, MovingRms } from "../../src/core/filters"
import type { NumericCase, ThrowCase } from "./types"

function averageOf(windowLength: number, values: number[]): number {
    const f = new MovingAverage(windowLength)
    let out = 0
    for (const v of values) out = f.push(v)
    return out
}

function rmsOf(windowLength: number, values: number[]): number {
    const f = new MovingRms(windowLength)
    let out = 0
    for (const v of values) out = f.push(v)
    return out
}

/** 0, 1, ..., n-1 */
function ramp(n: number): number[] {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push(i)
    return out
}

/** A long run with large values then small ones: the running sum must not drift. */
function longRunAverage(): number {
    const f = new MovingAverage(10)
    for (let i = 0; i < 400; i++) f.push(i % 2 === 0 ? 1e6 + 0.1 : 1e-3)
    let out = 0
    for (let i = 0; i < 10; i++) out = f.push(0.5)
    return out
}

export const filterCases: NumericCase[] = [
    { name: "average of a constant is the constant", actual: () => averageOf(5, [7, 7, 7, 7, 7, 7, 7]), expected: 7, tolerance: 1e-12 },
    { name: "average covers only the last window", actual: () => averageOf(4, ramp(11)), expected: 8.5, tolerance: 1e-12 },
    { name: "average before the window fills uses what it has", actual: () => averageOf(5, [2, 4]), expected: 3, tolerance: 1e-12 },
    { name: "average of no samples is 0", actual: () => new MovingAverage(3).value(), expected: 0, tolerance: 0 },
    { name: "average with a window of 1 follows the input", actual: () => averageOf(1, [3, 9, -2]), expected: -2, tolerance: 0 },
    { name: "average does not drift over a long run", actual: longRunAverage, expected: 0.5, tolerance: 1e-9 },
    { name: "RMS of a +-3 square wave is 3", actual: () => rmsOf(4, [3, -3, 3, -3, 3, -3]), expected: 3, tolerance: 1e-12 },
    { name: "RMS of 3 and 4 is sqrt(12.5)", actual: () => rmsOf(2, [100, 3, 4]), expected: Math.sqrt(12.5), tolerance: 1e-12 },
    { name: "RMS of zeros is 0", actual: () => rmsOf(3, [0, 0, 0, 0]), expected: 0, tolerance: 0 },
    {
        name: "average is full only after windowLength samples",
        actual: () => {
            const f = new MovingAverage(3)
            f.push(1)
            f.push(1)
            const before = f.isFull() ? 1 : 0
            f.push(1)
            return before * 10 + (f.isFull() ? 1 : 0)
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "reset forgets the window",
        actual: () => {
            const f = new MovingAverage(3)
            f.push(100)
            f.push(100)
            f.reset()
            return f.push(6)
        },
        expected: 6,
        tolerance: 0,
    },
]

export const filterThrowCases: ThrowCase[] = [
    { name: "a window of 0 samples is refused", run: () => new MovingAverage(0) },
    { name: "a fractional window is refused", run: () => new MovingRms(2.5) },
]
