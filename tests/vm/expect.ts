// Closeness and case-table helpers for @devicescript/test, whose expect has
// only toBe, toThrow and not().
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { isClose, type NumericCase, type ThrowCase } from "../cases/types"

export function expectClose(actual: number, expected: number, tolerance: number) {
    if (!isClose(actual, expected, tolerance))
        throw new Error("expected " + expected + " +- " + tolerance + ", got " + actual)
    expect(true).toBe(true)
}

/**
 * Registers one VM test per shared case. Each test first yields: the VM
 * kills a run of synchronous code that goes on too long (InfiniteLoop), and
 * synchronous tests run back to back would add up.
 */
export function runNumericCases(suite: string, cases: NumericCase[], throwCases?: ThrowCase[]) {
    describe(suite, () => {
        cases.forEach(c => {
            test(c.name, async () => {
                await ds.sleep(0)
                expectClose(c.actual(), c.expected, c.tolerance)
            })
        })
        if (throwCases)
            throwCases.forEach(c => {
                test(c.name, async () => {
                    await ds.sleep(0)
                    expect(c.run).toThrow()
                })
            })
    })
}
