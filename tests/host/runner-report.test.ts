// The trainer's `runner` report end to end without a device: the firmware's
// own encoder (src/feedback/runner-status.ts) fills the spec's fields from a
// real SessionRunner, the spec packs and unpacks them, and the host's
// decoder reads back what the runner showed.
import * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import { RunnerStatus } from "../../src/feedback/runner-status"
import { RunnerChannel } from "../../src/core/runner/types"
import { decodeRunner } from "../../host/device/trainer-client"
import { packetInfo, TRAINER_SERVICE } from "../../host/spec"
import { makeProgram, relaxPhase, RunnerRig } from "../cases/runner-fixtures"

function throughTheSpec(status: RunnerStatus) {
    const format = packetInfo(TRAINER_SERVICE, "runner").packFormat!
    return decodeRunner(jd.jdunpack(jd.jdpack(format, status.runner() as any), format))
}

describe("the runner report through services/trainer.md", () => {
    test("no program running: idle, and the battery flag (bit 3) when the battery is low, pushed when it changes", () => {
        const status = new RunnerStatus()
        status.update(null, 0, false)
        expect(throughTheSpec(status)).toMatchObject({ state: "idle", phaseIndex: -1, batteryLow: false })
        status.statusChanged()
        expect(status.update(null, 100, true), "the idle frame changed: the battery pixel").toBe(true)
        expect(status.statusChanged(), "the runner report goes out at once").toBe(true)
        expect(throughTheSpec(status)).toMatchObject({ state: "idle", batteryLow: true })
        expect(status.update(null, 200, true)).toBe(false)
        expect(status.statusChanged()).toBe(false)
        status.update(null, 300, false)
        expect(throughTheSpec(status).batteryLow).toBe(false)
    })

    test.each([
        ["emg", { restToneMaxUv: 4 }, 3, 0],
        ["pressure", { restToneMaxUv: undefined, restToneMaxCmH2O: 6 }, 0, 2],
    ] as const)("the level's channel (%s) and its band reach the host (flags bit 5)", (channel, phase, emgUv, pressureCmH2O) => {
        const rig = new RunnerRig(makeProgram({ channels: channel, phases: [relaxPhase(phase as any)] }))
        rig.start()
        rig.feed(2000, emgUv, pressureCmH2O)
        const status = new RunnerStatus()
        status.update(rig.runner, rig.t, false)
        const view = rig.runner.view()
        expect(view.levelChannel).toBe(channel === "emg" ? RunnerChannel.Emg : RunnerChannel.Pressure)
        const r = throughTheSpec(status)
        expect(r.state).toBe("running")
        expect(r.phaseKind).toBe("relax")
        expect(r.levelChannel).toBe(channel)
        expect(r.bandHigh).toBeCloseTo(view.bandHigh, 4)
        expect(r.level).toBeCloseTo(view.level, 4)
    })
})
