// A session the log module lost power in, and the part it recorded after
// its restart (joined late): the report links the two, and nothing else.
import { expect, test } from "vitest"
import { continuationOf, type SessionPoint } from "../../../host/report/data"

function point(over: Partial<SessionPoint>): SessionPoint {
    return {
        id: 1,
        sessionNo: 1,
        deviceId: "trainer-a",
        startMs: 0,
        program: "p",
        programVersion: 1,
        complete: true,
        outcome: 1,
        stopCause: 0,
        durationMs: 60_000,
        restPre: null,
        restPreSd: null,
        restPreCvPct: null,
        restPost: null,
        mvc: null,
        repsDone: null,
        repsPlanned: null,
        gate: null,
        releaseMedianMs: null,
        holdMeanS: null,
        stimMaxMa: null,
        stimMin: null,
        pain: null,
        faults: [],
        stops: [],
        spasmSigns: 0,
        quarantined: 0,
        joinedAtMs: null,
        ...over,
    }
}

test("an incomplete session continues in the same trainer's next session when that one was joined late", () => {
    const cut = point({ id: 10, sessionNo: 4, complete: false, outcome: null })
    const joined = point({ id: 11, sessionNo: 5, joinedAtMs: 52_300 })
    const other = point({ id: 12, sessionNo: 6 })
    expect(continuationOf(cut, [cut, joined, other])?.id).toBe(11)
})

test("no continuation: the next session started normally, is another trainer's, or the session is complete", () => {
    const cut = point({ id: 10, sessionNo: 4, complete: false, outcome: null })
    expect(continuationOf(cut, [cut, point({ id: 11, sessionNo: 5 })])).toBeNull()
    expect(continuationOf(cut, [cut, point({ id: 11, sessionNo: 5, joinedAtMs: 1000, deviceId: "trainer-b" })])).toBeNull()
    expect(continuationOf(cut, [cut, point({ id: 11, sessionNo: 7, joinedAtMs: 1000 })])).toBeNull()
    const done = point({ id: 10, sessionNo: 4 })
    expect(continuationOf(done, [done, point({ id: 11, sessionNo: 5, joinedAtMs: 1000 })])).toBeNull()
})
