// The session log cases (tests/cases/log.cases.ts) in the DeviceScript VM:
// the same tables tests/core/log/shared-cases.test.ts runs in Node.
//
// The store's cases are async (its block device is). Each test yields
// before it runs, and the tiny NOR model is wrapped so that every flash
// operation yields too: a store case does a few hundred operations, more
// than one synchronous stretch may (the VM's InfiniteLoop guard).
import * as ds from "@devicescript/core"
import { describe, test } from "@devicescript/test"
import { logRecordCases, logRecordThrowCases, logStoreCases, setLogCaseYield, type AsyncNumericCase } from "../cases/log.cases"
import { expectClose, runNumericCases } from "./expect"

async function yieldNow() {
    await ds.sleep(0)
}
setLogCaseYield(yieldNow)

runNumericCases("log/records", logRecordCases, logRecordThrowCases)

function asyncCase(c: AsyncNumericCase) {
    test(c.name, async () => {
        await ds.sleep(0)
        expectClose(await c.actual(), c.expected, c.tolerance)
    })
}

describe("log/store", () => {
    logStoreCases.forEach(asyncCase)
})
