// The contraction-metrics cases (tests/cases/metrics.cases.ts) in the
// DeviceScript VM: the same tables tests/core/metrics.test.ts runs in Node.
//
// Two VM limits shape this file (measured, DeviceScript 2.16.4):
// - a scenario pushes 200-1000 samples, more than one synchronous run may do
//   (InfiniteLoop), so each test steps its scenario in chunks with a yield
//   in between;
// - the heap is ~64 KB and each registered test costs ~300 bytes: ~110
//   tests, one per case (runNumericCases), would take ~40 KB. So there is one
//   test per scenario: it frees the previous scenario's results, runs its
//   own, then checks its table, built on demand, through
//   metricsGroupSummary (the number of failing cases, each failure logged by
//   name) and expectClose, the closeness check runNumericCases uses.
import * as ds from "@devicescript/core"
import { describe, test } from "@devicescript/test"
import { metricsGroups, metricsGroupSummary, metricsThrowCases, type MetricsGroup } from "../cases/metrics.cases"
import { expectClose, runNumericCases } from "./expect"

/** samples per synchronous step: the firmware gets at most 20 a probe report (host/sim/assessment-run.ts) */
const STEP_SAMPLES = 20

function groupTest(g: MetricsGroup, previous: MetricsGroup | null) {
    test(g.name, async () => {
        if (previous !== null) previous.run.release()
        const t0 = ds.millis()
        let steps = 0
        while (!g.run.step(STEP_SAMPLES)) {
            steps++
            await ds.sleep(0)
        }
        console.log("    " + steps + " steps of <= " + STEP_SAMPLES + " samples, " + (ds.millis() - t0) + " ms")
        await ds.sleep(0)
        const summary = metricsGroupSummary(g)
        expectClose(summary.actual(), summary.expected, summary.tolerance)
    })
}

describe("core/metrics", () => {
    let previous: MetricsGroup | null = null
    for (const g of metricsGroups) {
        groupTest(g, previous)
        previous = g
    }
})
runNumericCases("core/metrics: options", [], metricsThrowCases)
