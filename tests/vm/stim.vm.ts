// The stim supervisor in the DeviceScript VM: the shared case table (stop
// rules, ramp, caps; tests/cases/stim.cases.ts, also run under vitest) and
// the golden random walk, judged after every step by the same invariant
// checker the property tests and the soak benchmark use, whose digest must
// equal what Node computes (tests/core/stim/shared-cases.test.ts).
import * as ds from "@devicescript/core"
import { describe, expect, test } from "@devicescript/test"
import { STIM_WALK_GOLDEN, StimWalk } from "../cases/stim-random"
import { stimCases } from "../cases/stim.cases"
import { expectClose, runNumericCases } from "./expect"

runNumericCases("core/stim", stimCases)

/** steps between yields: the VM stops a synchronous stretch that runs too long */
const STEPS_PER_YIELD = 20

describe("stim supervisor golden walk in the VM", () => {
    test("every invariant after every step, and the same commands as Node", async () => {
        const g = STIM_WALK_GOLDEN
        const walk = new StimWalk(g.seed)
        for (let done = 0; done < g.randomSteps; done += STEPS_PER_YIELD) {
            await ds.sleep(0)
            walk.advance(Math.min(STEPS_PER_YIELD, g.randomSteps - done))
        }
        const d = walk.digest()
        if (d.violations !== 0) throw new Error(d.firstViolation)
        expect(d.steps).toBe(g.digest.steps)
        expect(d.stepsOn).toBe(g.digest.stepsOn)
        expectClose(d.amplitudeSumMa, g.digest.amplitudeSumMa, 0)
        expectClose(d.pulseWidthSumUs, g.digest.pulseWidthSumUs, 0)
        expectClose(d.frequencySumHz, g.digest.frequencySumHz, 0)
    })
})
