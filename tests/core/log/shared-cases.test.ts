// The session log cases (tests/cases/log.cases.ts) under Node; tests/vm/log.vm.ts
// runs the very same tables in the DeviceScript VM.
import { describe, expect, test } from "vitest"
import { isClose } from "../../cases/types"
import { logRecordCases, logRecordThrowCases, logStoreCases } from "../../cases/log.cases"
import { runCases } from "../../helpers/run-cases"

runCases("log/records", logRecordCases, logRecordThrowCases)

describe("log/store", () => {
    test.each(logStoreCases)("$name", async c => {
        const actual = await c.actual()
        expect(isClose(actual, c.expected, c.tolerance), `expected ${c.expected} +- ${c.tolerance}, got ${actual}`).toBe(true)
    })
})
