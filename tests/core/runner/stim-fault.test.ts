// Which stim stops show as a fault on the LED bar (and end the session).
import { describe, expect, test } from "vitest"
import { faultCauseOfStimStop } from "../../../src/core/runner/stim-fault"
import { FaultCause } from "../../../src/core/runner/types"
import { StimReason, isStopCause, stimReasonName } from "../../../src/core/stim/reasons"

describe("stim stops shown as faults", () => {
    const faults: [StimReason, FaultCause][] = [
        [StimReason.LeadOff, FaultCause.Electrodes],
        [StimReason.ImpedanceLow, FaultCause.Electrodes],
        [StimReason.ImpedanceHigh, FaultCause.Electrodes],
        [StimReason.ModuleFault, FaultCause.Stimulator],
        [StimReason.BusLost, FaultCause.Stimulator],
        [StimReason.KeepAliveGap, FaultCause.Stimulator],
        [StimReason.Exception, FaultCause.Stimulator],
        [StimReason.InvalidPhase, FaultCause.Stimulator],
        [StimReason.ClockFault, FaultCause.Stimulator],
    ]
    test.each(faults)("stop cause %i is fault %i", (reason, cause) => {
        expect(faultCauseOfStimStop(reason)).toBe(cause)
    })

    test("every other stop cause is the session's own doing: no alarm", () => {
        const quiet: string[] = []
        for (let r = 0; r <= 60; r++) {
            if (!isStopCause(r) || faults.some(([f]) => f === r)) continue
            expect(faultCauseOfStimStop(r), stimReasonName(r)).toBe(0)
            quiet.push(stimReasonName(r))
        }
        expect(quiet).toEqual(["stop button", "probe removed", "battery low", "stim time over", "contraindication", "program changed", "stim phase over"])
    })

    test("refusals and plan stages are not stops: no alarm", () => {
        for (const r of [StimReason.None, StimReason.NoStimCaps, StimReason.AtMaximum, StimReason.RampUp, StimReason.Rest]) expect(faultCauseOfStimStop(r)).toBe(0)
    })
})
