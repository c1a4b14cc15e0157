// The shared core cases, run under Node. tests/vm/core.vm.ts runs the very
// same tables in the DeviceScript VM.
import { describe, expect, test } from "vitest"
import { filterCases, filterThrowCases } from "../cases/filters.cases"
import { sequenceCases } from "../cases/sample-sequence.cases"
import { signalChainCases } from "../cases/signal-chain.cases"
import { unitCases } from "../cases/units.cases"
import { isClose, type NumericCase, type ThrowCase } from "../cases/types"

function run(suite: string, cases: NumericCase[], throwCases: ThrowCase[] = []) {
    describe(suite, () => {
        test.each(cases)("$name", c => {
            const actual = c.actual()
            expect(isClose(actual, c.expected, c.tolerance), `expected ${c.expected} +- ${c.tolerance}, got ${actual}`).toBe(true)
        })
        if (throwCases.length) test.each(throwCases)("$name", c => expect(c.run).toThrow())
    })
}

run("core/units", unitCases)
run("core/filters", filterCases, filterThrowCases)
run("core/sample-sequence", sequenceCases)
run("core/signal-chain", signalChainCases)
