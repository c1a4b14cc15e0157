// Runs a shared case table (tests/cases/) under vitest; tests/vm/expect.ts
// is its twin in the DeviceScript VM.
import { describe, expect, test } from "vitest"
import { isClose, type NumericCase, type ThrowCase } from "../cases/types"

export function runCases(suite: string, cases: NumericCase[], throwCases: ThrowCase[] = []): void {
    describe(suite, () => {
        test.each(cases)("$name", c => {
            const actual = c.actual()
            expect(isClose(actual, c.expected, c.tolerance), `expected ${c.expected} +- ${c.tolerance}, got ${actual}`).toBe(true)
        })
        if (throwCases.length) test.each(throwCases)("$name", c => expect(c.run).toThrow())
    })
}
