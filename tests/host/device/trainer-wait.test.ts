// TrainerClient.waitForState against a trainer that answers some reads and
// not others (a VM or a serial link busy for a moment): a poll it does not
// answer is a poll that saw nothing, and only the deadline ends the wait.
import type * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import { SESSION_STATES, TrainerClient, type SessionState } from "../../../host/device/trainer-client"

/** A trainer service whose session_state reads answer per `answers`: a state, or null for no answer. */
function trainerAnswering(answers: (SessionState | null)[]): { service: jd.JDService; reads: () => number } {
    let reads = 0
    let value: number[] | undefined
    const register = {
        async refresh() {
            const a = answers[Math.min(reads, answers.length - 1)]
            reads++
            if (a === null) return false
            value = [SESSION_STATES.indexOf(a)]
            return true
        },
        get unpackedValue() {
            return value
        },
    }
    // the service as the device holds it now (TrainerClient looks it up again: a restart replaces it)
    const service = { serviceIndex: 1, register: () => register } as unknown as { serviceIndex: number; device: unknown }
    service.device = { service: () => service }
    return { service: service as unknown as jd.JDService, reads: () => reads }
}

describe("waiting for the trainer's session state", () => {
    test("reads it does not answer are polled through: the state comes once it answers", async () => {
        // 3 tries a read: the first read goes unanswered whole, the second answers 'ready', then 'running'
        const t = trainerAnswering([null, null, null, "ready", "running"])
        const got = await new TrainerClient(t.service).waitForState(s => s === "running", 10_000)
        expect(got).toBe("running")
        expect(t.reads()).toBe(5)
    })

    test("a trainer that never answers: the error at the deadline says so", async () => {
        const t = trainerAnswering([null])
        await expect(new TrainerClient(t.service).waitForState(s => s === "running", 300)).rejects.toThrow(/did not answer a read of session_state/)
    })

    test("a trainer in another state: the error at the deadline names it", async () => {
        const t = trainerAnswering(["paused"])
        await expect(new TrainerClient(t.service).waitForState(s => s === "running", 300)).rejects.toThrow(/stayed 'paused'/)
    })
})
