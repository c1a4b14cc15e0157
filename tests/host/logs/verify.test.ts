// The verify step on crafted bytes (host/logs/verify.ts) and the fetch
// step's reassembly (host/logs/fetch.ts): truncated sessions, sequence
// gaps, records out of place, garbage between records, chunks duplicated
// and out of order, a device that serves fewer bytes than it lists.
import { describe, expect, test } from "vitest"
import { crc32 } from "../../../src/core/codec/bytes"
import { EventCode, FRAME_HEADER_BYTES, RecordKind, type LogRecord } from "../../../src/core/log/records"
import { loadSession, listSessions, sessionFrames } from "../../../host/archive/queries"
import { emptyFetchStats, fetchRange, type FetchOptions } from "../../../host/logs/fetch"
import { PullError, pullLogs } from "../../../host/logs/pull"
import type { LogSource } from "../../../host/logs/source"
import { scanRecords, SequenceChecker } from "../../../host/logs/verify"
import { makeEvent, makeHeader, makeRep, makeSummary, makeTrace } from "../../cases/log.cases"
import { BytesLogSource, craft, DEVICE_ID, frame, STORE_ID, tempArchive } from "./fixtures"

const session = (): LogRecord[] => [makeHeader(1), makeTrace(50, 0), makeRep(0), makeEvent(EventCode.Pause, 0), makeRep(1), makeSummary()]

function pull(source: LogSource) {
    const archive = tempArchive()
    return { archive, run: pullLogs({ archive, connect: async () => source, keepOpen: true, readTimeoutMs: 40, retries: 2 }) }
}

describe("scanRecords", () => {
    test("cuts bytes into records; waits for a record cut by the end of the buffer unless it is the end", () => {
        const { bytes, offsets } = craft(session(), 1, 1)
        const cut = bytes.slice(0, offsets[3] + 5)
        const waiting = scanRecords(cut, false)
        expect(waiting.records.map(r => r.seq)).toEqual([1, 2, 3])
        expect(waiting.consumed).toBe(offsets[3])
        expect(waiting.fault).toBeNull()
        const final = scanRecords(cut, true)
        expect(final.fault).toMatchObject({ offset: offsets[3], length: 5 })
        expect(final.fault!.error.code).toBe("truncated")
    })

    test("garbage between records: the fault spans exactly to the next record that passes its CRC", () => {
        const a = frame(makeRep(0), 1, 1)
        const b = frame(makeRep(1), 1, 2)
        const junk = [0x50, 0x4c, 9, 9, 1, 2, 3, 0x50, 0x4c, 0x04] // a false "PL" start twice
        const r = scanRecords([...a, ...junk, ...b], true)
        expect(r.records.map(x => x.seq)).toEqual([1])
        expect(r.fault).toMatchObject({ offset: a.length, length: junk.length })
        const rest = scanRecords(b, true)
        expect(rest.records.map(x => x.seq)).toEqual([2])
    })

    test("a whole record that passes its CRC but not its field checks is quarantined at once (bad-value), not waited on", () => {
        const f = frame(makeEvent(EventCode.Pause, 0), 1, 2)
        f[FRAME_HEADER_BYTES + 4] = 99 // the event code, after timeMs u32
        const crc = crc32(f.slice(0, f.length - 4))
        f.splice(f.length - 4, 4, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24)
        const a = frame(makeRep(0), 1, 1)
        const r = scanRecords([...a, ...f, ...frame(makeRep(1), 1, 3)], false)
        expect(r.records.map(x => x.seq)).toEqual([1])
        expect(r.fault).toMatchObject({ offset: a.length, length: f.length })
        expect(r.fault!.error.code).toBe("bad-value")
        expect(r.fault!.error.expected).toBe(`code in 1..${EventCode.JoinedLate}`)
    })

    test("garbage at a batch's end waits for more bytes rather than guess where it ends", () => {
        const a = frame(makeRep(0), 1, 1)
        const r = scanRecords([...a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], false)
        expect(r.records.length).toBe(1)
        expect(r.fault).toBeNull()
        expect(r.consumed).toBe(a.length)
    })
})

describe("SequenceChecker", () => {
    const rec = (seq: number, s = 1) => {
        const f = frame(makeRep(seq), s, seq)
        return { offset: seq * 100, frame: f, decoded: scanRecords(f, true).records[0] }
    }

    test("+1 is fine, a jump is reported with the numbers missing, backwards and foreign records are quarantined", () => {
        const c = new SequenceChecker(1, { expectedSeq: 1 })
        expect(c.check(rec(1))).toEqual({ keep: true, issue: null })
        const gap = c.check(rec(4))
        expect(gap.keep).toBe(true)
        expect(gap.issue).toMatchObject({ code: "seq-gap", expected: "seq 2", found: "seq 4", message: "2 records missing before offset 400 (seq 2..3)" })
        expect(c.check(rec(3))).toMatchObject({ keep: false, issue: { code: "seq-backwards", expected: "seq > 4", found: "seq 3" } })
        expect(c.check(rec(5, 2))).toMatchObject({ keep: false, issue: { code: "wrong-session", found: "session 2" } })
        expect(c.check(rec(5, 0))).toEqual({ keep: true, issue: null })
    })

    test("records already archived are skipped silently only when the session is read again from its start", () => {
        const again = new SequenceChecker(1, { expectedSeq: null, archivedUpTo: 3 })
        expect(again.check(rec(2))).toEqual({ keep: false, issue: null })
        expect(again.check(rec(4))).toEqual({ keep: true, issue: null })
        const resume = new SequenceChecker(1, { expectedSeq: 4 })
        expect(resume.check(rec(2)).issue?.code).toBe("seq-backwards")
    })
})

describe("crafted sessions through the pull", () => {
    test("a truncated session: the cut record is quarantined at its offset, the session is kept incomplete", async () => {
        const { bytes, offsets } = craft(session().slice(0, 5), 1, 1)
        const cut = bytes.slice(0, offsets[4] + 20)
        const source = new BytesLogSource([{ session: 1, bytes: cut, firstSeq: 1, lastSeq: 5, complete: false }])
        const { archive, run } = pull(source)
        const report = await run
        expect(report.sessions[0].quarantined).toEqual([
            expect.objectContaining({ offset: offsets[4], length: 20, code: "truncated", bytes: cut.slice(offsets[4]) }),
        ])
        const d = loadSession(archive, listSessions(archive)[0].id)!
        expect(d.row.complete).toBe(false)
        expect(d.reps.length).toBe(1)
        expect(d.row.bytesStored).toBe(cut.length)
        // all the device listed is archived (the cut record as kept bytes): acknowledged up to the listed last record
        expect(source.acks).toEqual([[1, 5]])
    })

    test("sequence numbers that jump are reported with the missing numbers, the records kept", async () => {
        const recs = session()
        const a = craft(recs.slice(0, 3), 1, 1)
        const b = craft(recs.slice(3), 1, 6)
        const source = new BytesLogSource([{ session: 1, bytes: [...a.bytes, ...b.bytes], firstSeq: 1, lastSeq: 8 }])
        const { archive, run } = pull(source)
        const report = await run
        expect(report.quarantined).toBe(1)
        expect(report.sessions[0].quarantined[0]).toMatchObject({ code: "seq-gap", offset: a.bytes.length, expected: "seq 4", found: "seq 6", length: 0 })
        expect(sessionFrames(archive, listSessions(archive)[0].id).map(f => f.seq)).toEqual([1, 2, 3, 6, 7, 8])
    })

    test("a record repeated, and one of another session, are quarantined (kept), not saved twice or in the wrong place", async () => {
        const recs = session()
        const a = craft(recs.slice(0, 3), 1, 1)
        const again = frame(recs[2], 1, 3)
        const foreign = frame(makeRep(9), 2, 4)
        const b = craft(recs.slice(3), 1, 5)
        const bytes = [...a.bytes, ...again, ...foreign, ...b.bytes]
        const source = new BytesLogSource([{ session: 1, bytes, firstSeq: 1, lastSeq: 7 }])
        const { archive, run } = pull(source)
        const report = await run
        const codes = report.sessions[0].quarantined.map(q => [q.code, q.offset, q.length])
        expect(codes).toEqual([
            ["seq-backwards", a.bytes.length, again.length],
            ["wrong-session", a.bytes.length + again.length, foreign.length],
            ["seq-gap", a.bytes.length + again.length + foreign.length, 0],
        ])
        const id = listSessions(archive)[0].id
        expect(sessionFrames(archive, id).map(f => f.seq)).toEqual([1, 2, 3, 5, 6, 7])
        expect(loadSession(archive, id)!.reps.length).toBe(2)
    })

    test("a device that serves fewer bytes than it lists: the pull fails at fetch naming the offset, and keeps what it verified", async () => {
        const { bytes, offsets } = craft(session(), 1, 1)
        const source = new BytesLogSource([{ session: 1, bytes, firstSeq: 1, lastSeq: 6 }])
        source.readLimit = offsets[4] + 10
        const { archive, run } = pull(source)
        const err = await run.catch(e => e)
        expect(err).toBeInstanceOf(PullError)
        expect(err.step).toBe("fetch")
        expect(err.where.offset).toBeGreaterThanOrEqual(source.readLimit - (source.readLimit % 232))
        expect(err.message).toContain(`(session 1, offset ${err.where.offset})`)
        expect(err.message).toContain("empty answer before the end")
        expect(source.acks).toEqual([])
        // the bytes before the last full read are archived up to a record boundary; the next pull resumes there
        const stored = listSessions(archive)[0].bytesStored
        expect(offsets).toContain(stored)
        source.readLimit = Infinity
        const report = await pullLogs({ archive, connect: async () => source, keepOpen: true })
        expect(report.sessions[0].status).toBe("resumed")
        expect(sessionFrames(archive, listSessions(archive)[0].id).map(f => f.seq)).toEqual([1, 2, 3, 4, 5, 6])
    })

    test("the header's device id must be the source's: another one is reported", async () => {
        const other = { ...makeHeader(1), deviceId: "0000000000000001" }
        const { bytes } = craft([other, makeSummary()], 1, 1)
        const { run } = pull(new BytesLogSource([{ session: 1, bytes, firstSeq: 1, lastSeq: 2 }]))
        expect((await run).warnings).toEqual([`a session header names device 0000000000000001, but the log came from ${DEVICE_ID}`])
    })
})

describe("fetchRange", () => {
    const options = (more: Partial<FetchOptions> = {}): FetchOptions => ({ chunkBytes: 10, inFlight: 4, readTimeoutMs: 30, retries: 3, sinkBytes: 1, ...more })
    const bytes = Array.from({ length: 257 }, (_, i) => i & 0xff)

    function sourceOf(read: LogSource["read"]): LogSource {
        return { deviceId: DEVICE_ID, storeId: STORE_ID, listSessions: async () => [], acknowledge: async () => "written", read }
    }

    async function collect(source: LogSource, o: FetchOptions, from = 0, to = bytes.length) {
        const got: number[] = []
        const offsets: number[] = []
        const stats = emptyFetchStats()
        await fetchRange(source, 1, { from, to }, o, stats, async (offset, b) => {
            offsets.push(offset)
            got.push(...b)
        })
        return { got, offsets, stats }
    }

    test("answers out of order are handed on in order", async () => {
        const source = sourceOf(async (_, o, l) => {
            await new Promise(r => setTimeout(r, (o * 7) % 13))
            return bytes.slice(o, o + l)
        })
        const { got, offsets } = await collect(source, options())
        expect(got).toEqual(bytes)
        for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThan(offsets[i - 1])
    })

    test("an answer that comes twice (late, after the read was asked again) is counted as a duplicate, not added twice", async () => {
        let first = true
        const source = sourceOf(async (_, o, l) => {
            const late = o === 20 && first
            if (late) first = false
            await new Promise(r => setTimeout(r, late ? 50 : 10))
            return bytes.slice(o, o + l)
        })
        const { got, stats } = await collect(source, options())
        expect(got).toEqual(bytes)
        expect(stats.timeouts).toBe(1)
        expect(stats.retries).toBe(1)
        expect(stats.duplicates).toBe(1)
    })

    test("a late answer that differs from the bytes already taken changes nothing", async () => {
        let calls = 0
        const source = sourceOf(async (_, o, l) => {
            const late = o === 30 && calls++ === 0
            await new Promise(r => setTimeout(r, late ? 50 : 10))
            return late ? bytes.slice(o, o + l).map(b => b ^ 1) : bytes.slice(o, o + l)
        })
        const { got, stats } = await collect(source, options())
        expect(got).toEqual(bytes)
        expect(stats.duplicates).toBe(1)
    })

    test("short answers leave the rest to be asked for", async () => {
        const source = sourceOf(async (_, o, l) => bytes.slice(o, o + Math.max(1, l - 3)))
        const { got, stats } = await collect(source, options())
        expect(got).toEqual(bytes)
        expect(stats.short).toBeGreaterThan(10)
    })

    test("a read that never answers fails after its retries, naming the offset", async () => {
        const source = sourceOf(async (_, o, l) => (o === 40 ? new Promise<number[]>(() => undefined) : bytes.slice(o, o + l)))
        await expect(collect(source, options({ retries: 2 }))).rejects.toThrow("no answer for the 10 bytes at offset 40 after 3 tries (last: no answer in 30 ms)")
    })

    test("resumes at an offset", async () => {
        const source = sourceOf(async (_, o, l) => bytes.slice(o, o + l))
        const { got, offsets } = await collect(source, options({ sinkBytes: 64 }), 100)
        expect(got).toEqual(bytes.slice(100))
        expect(offsets[0]).toBe(100)
    })
})

describe("record kinds", () => {
    test("the session fixture covers every kind a session holds", () => {
        expect(new Set(session().map(r => r.kind))).toEqual(new Set([RecordKind.SessionHeader, RecordKind.Trace, RecordKind.Rep, RecordKind.Event, RecordKind.Summary]))
    })
})
