// TrainerClient.waitForState and startRunning against a trainer that answers some reads and
// not others (a VM or a serial link busy for a moment): a poll it does not
// answer is a poll that saw nothing, and only the deadline ends the wait.
import type * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import { SESSION_STATES, TrainerClient, type SessionState } from "../../../host/device/trainer-client"

/**
 * A trainer service whose session_state reads answer per `answers`: a state,
 * or null for no answer; with `startsToRun`, it reads "ready" until that many
 * start commands came, then "running".
 */
function trainerAnswering(answers: (SessionState | null)[], startsToRun = Infinity): { service: jd.JDService; reads: () => number; starts: () => number } {
    let reads = 0
    let starts = 0
    let value: number[] | undefined
    const register = {
        async refresh() {
            const a = starts >= startsToRun ? "running" : answers[Math.min(reads, answers.length - 1)]
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
    const service = {
        serviceIndex: 1,
        register: () => register,
        sendPacketAsync: async () => {
            starts++
        },
    } as unknown as { serviceIndex: number; device: unknown }
    service.device = { service: () => service }
    return { service: service as unknown as jd.JDService, reads: () => reads, starts: () => starts }
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

    test("a start the trainer missed is sent again until the session runs", async () => {
        const t = trainerAnswering(["ready"], 3)
        await new TrainerClient(t.service).startRunning(10_000)
        expect(t.starts()).toBe(3)
    })

    test("a session that never starts: the error says so at the deadline", async () => {
        const t = trainerAnswering(["ready"])
        await expect(new TrainerClient(t.service).startRunning(300)).rejects.toThrow(/did not start a session within 300 ms/)
        expect(t.starts()).toBeGreaterThan(1)
    })
})
