// A session the log module lost power in, and the part it recorded after
// its restart (joined late): the archive links the two, and nothing else;
// `pft logs list` says so on both.
import { expect, test } from "vitest"
import { EventCode, JoinedLateCause, SessionOutcome } from "../../../src/core/log/records"
import { describeEvent } from "../../../host/logs/names"
import { continuationRow } from "../../../host/archive/queries"
import { statusWords } from "../../../host/commands/logs-list"
import { row } from "../export/fixtures"

const cut = row({ id: 10, sessionNo: 4, complete: false, outcome: null, stopCause: null, endMs: null })
const joined = row({ id: 11, sessionNo: 5, joinedAtMs: 52_300 })

test("an incomplete session continues in the same store's next session when that one was joined late", () => {
    expect(continuationRow(cut, [cut, joined, row({ id: 12, sessionNo: 6 })])?.id).toBe(11)
    expect(statusWords(cut, joined)).toBe("incomplete, the log module restarted: continued in id 11, acknowledged")
    expect(statusWords(joined)).toBe("completed, recording began 0:52 in (the log module restarted), acknowledged")
})

test("no continuation: the next session started normally, is another trainer's or store's, not the next number, or the session is complete", () => {
    expect(continuationRow(cut, [cut, row({ id: 11, sessionNo: 5 })])).toBeNull()
    expect(continuationRow(cut, [cut, { ...joined, deviceId: "another-trainer" }])).toBeNull()
    expect(continuationRow(cut, [cut, { ...joined, storeId: 100 }])).toBeNull()
    expect(continuationRow(cut, [cut, { ...joined, sessionNo: 7 }])).toBeNull()
    const done = row({ id: 10, sessionNo: 4, outcome: SessionOutcome.Stopped })
    expect(continuationRow(done, [done, joined])).toBeNull()
    expect(statusWords(cut)).toBe("incomplete, acknowledged")
})

test("a session that ended while the log module was off: joined after its end, linked the same way, and said so", () => {
    const ended = row({ id: 11, sessionNo: 5, joinedAtMs: 76_000, joinedAfterEnd: true })
    expect(continuationRow(cut, [cut, ended])?.id).toBe(11)
    expect(statusWords(ended)).toBe("completed, recorded after it ended at 1:16 (the log module restarted): its reps and summary, acknowledged")
})

test("pft logs show describes both joins: mid-session, and after the end", () => {
    const joined = (cause: JoinedLateCause, value: number) => describeEvent({ code: EventCode.JoinedLate, cause, value, extra: 0 })
    expect(joined(JoinedLateCause.Running, 52_300)).toBe(
        "recording began late: the log module started 52.3 s into the session; the trace and events before are not recorded, the reps are"
    )
    expect(joined(JoinedLateCause.AfterEnd, 76_000)).toBe(
        "recorded after the session ended: the log module started after its end at 76.0 s; its reps and summary were read back from the trainer, its trace and events after the last recorded are not"
    )
})
