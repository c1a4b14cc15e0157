// The stim case table and the golden walk, run under Node.
// tests/vm/stim.vm.ts runs the very same in the DeviceScript VM.
import { expect, test } from "vitest"
import { STIM_WALK_GOLDEN, StimWalk } from "../../cases/stim-random"
import { stimCases } from "../../cases/stim.cases"
import { runCases } from "../../helpers/run-cases"

runCases("core/stim", stimCases)

test(`golden walk (seed ${STIM_WALK_GOLDEN.seed}, ${STIM_WALK_GOLDEN.randomSteps} steps) digests to the numbers the VM must also give`, () => {
    const walk = new StimWalk(STIM_WALK_GOLDEN.seed)
    walk.advance(STIM_WALK_GOLDEN.randomSteps)
    expect(walk.digest()).toEqual(STIM_WALK_GOLDEN.digest)
})
