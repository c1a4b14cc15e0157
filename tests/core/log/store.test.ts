// The log store: appending, the session index, chunked reads, recovery
// (bounded steps, sealed sectors skipped, a torn tail), acknowledgements
// (idempotent, in any order even when the store is full), a full store,
// encryption at rest, and the errors. The exhaustive power-cut proof is in
// power-cut.test.ts.
import { describe, expect, test } from "vitest"
import type { BlockDevice } from "../../../src/core/log/block-device"
import { MemoryNor } from "../../../src/core/log/memory-nor"
import { decodeRecords, EventCode, RecordKind, SessionOutcome, StopCause, TimeSync, type LogRecord } from "../../../src/core/log/records"
import { AckResult, LogStore, SECTOR_HEADER_AREA_BYTES, SECTOR_SEAL_BYTES, StoreError, StoreErrorCode } from "../../../src/core/log/store"
import { makeEvent, makeHeader, makeRep, makeSummary, makeTrace } from "../../cases/log.cases"
import { ccmCipher, decodeSession, pullSession } from "./helpers"

const geometry = (sectorCount: number, sectorSize = 1024) => ({ sectorSize, pageSize: 128, sectorCount })

async function open(nor: BlockDevice, options: ConstructorParameters<typeof LogStore>[1] = {}) {
    const store = new LogStore(nor, { newStoreId: 77, ...options })
    const report = await store.recover()
    return { store, report }
}

async function writeSession(store: LogStore, traces: number, close = true): Promise<number> {
    const { session } = await store.append(makeHeader(1))
    for (let k = 0; k < traces; k++) {
        await store.append(makeTrace(50, k * 5000))
        await store.append(makeRep(k))
    }
    if (close) await store.append(makeSummary())
    return session
}

async function errorOf(run: () => Promise<unknown>): Promise<StoreError> {
    try {
        await run()
    } catch (e) {
        if (e instanceof StoreError) return e
        throw e
    }
    throw new Error("no error")
}

/** A device that counts reads between marks. */
function counting(nor: MemoryNor) {
    let reads = 0
    const dev: BlockDevice = {
        geometry: nor.geometry,
        read: (a, n) => {
            reads++
            return nor.read(a, n)
        },
        program: (a, b) => nor.program(a, b),
        eraseSector: i => nor.eraseSector(i),
    }
    const take = () => {
        const n = reads
        reads = 0
        return n
    }
    return { dev, take }
}

describe("appending and reading", () => {
    test("sessions are numbered by the store and listed with their start and size", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        const s1 = await writeSession(store, 2)
        const s2 = await writeSession(store, 1, false)
        expect([s1, s2]).toEqual([1, 2])
        const list = store.listSessions()
        expect(list.map(s => [s.session, s.complete, s.open, s.archived, s.hasHeader])).toEqual([
            [1, true, false, false, true],
            [2, false, true, false, true],
        ])
        expect(list[0]).toMatchObject({ startMonoMs: 123456, startWallMs: 1795000000123, timeSync: TimeSync.Host, bootCount: 1, firstSeq: 1, lastSeq: 6 })
        expect(list[0].sizeBytes).toBe((await pullSession(store, 1)).length)
    })

    test("a session read in chunks of any size is the same bytes, and decodes to what was appended", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        const appended: LogRecord[] = [makeHeader(3), makeTrace(50, 0), makeRep(1), makeEvent(EventCode.Pause, 0), makeSummary()]
        for (const r of appended) await store.append(r)
        const whole = await pullSession(store, 1, 100000)
        for (const chunk of [1, 7, 64, 232]) expect(await pullSession(store, 1, chunk)).toEqual(whole)
        const d = decodeRecords(whole)
        expect(d.faults).toEqual([])
        expect(d.records.map(r => r.record)).toEqual(appended)
        expect(d.records.map(r => r.seq)).toEqual([1, 2, 3, 4, 5])
        // reading at the end gives nothing; past it is an error
        expect(await store.readSession(1, whole.length, 50)).toEqual([])
        const past = await errorOf(() => store.readSession(1, whole.length + 1, 50))
        expect(past.code).toBe(StoreErrorCode.BadRequest)
        expect(past.message).toBe(`read of session 1 at ${whole.length + 1}+50: expected an offset in 0..${whole.length}`)
    })

    test("records need an open session; events without one are store events", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        expect((await errorOf(() => store.append(makeRep(1)))).code).toBe(StoreErrorCode.NoOpenSession)
        const ev = await store.append(makeEvent(EventCode.Fault, 3))
        expect(ev.session).toBe(0)
        expect(store.listSessions()).toEqual([])
        expect((await errorOf(() => store.append({ kind: RecordKind.Ack, ackedSession: 1, lastSeq: 1 }))).code).toBe(StoreErrorCode.BadRequest)
    })

    test("a new header while a session is open leaves that one incomplete", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        await writeSession(store, 1, false)
        await writeSession(store, 1, true)
        expect(store.listSessions().map(s => [s.session, s.complete, s.open])).toEqual([
            [1, false, false],
            [2, true, false],
        ])
    })

    test("overlapping calls are refused, not interleaved (the firmware serialises them)", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        const first = store.append(makeHeader(1))
        const second = await errorOf(() => store.append(makeRep(1)))
        expect(second.code).toBe(StoreErrorCode.Busy)
        expect((await first).seq).toBe(1)
        expect((await store.append(makeRep(1))).seq).toBe(2)
    })

    test("nothing works before recovery finishes", async () => {
        const store = new LogStore(new MemoryNor({ geometry: geometry(8) }))
        expect((await errorOf(() => store.append(makeHeader(1)))).code).toBe(StoreErrorCode.NotReady)
        expect((await errorOf(() => store.readSession(1, 0, 1))).code).toBe(StoreErrorCode.NotReady)
    })

    test("usage counts what the host still has to archive", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        await writeSession(store, 2)
        await writeSession(store, 1)
        const u = store.usage()
        expect(u.capacityBytes).toBe(8 * (1024 - SECTOR_HEADER_AREA_BYTES - SECTOR_SEAL_BYTES))
        expect(u).toMatchObject({ sessions: 2, unarchivedSessions: 2 })
        expect(u.unarchivedBytes).toBe(u.usedBytes)
        await store.acknowledge(1, store.sessionInfo(1)!.lastSeq)
        expect(store.usage().unarchivedBytes).toBe(store.sessionInfo(2)!.sizeBytes)
    })
})

describe("recovery", () => {
    test("a reboot finds every session, in bounded steps", async () => {
        const nor = new MemoryNor({ geometry: geometry(16) })
        const { store } = await open(nor)
        for (let k = 0; k < 4; k++) await writeSession(store, 3)
        const before = store.listSessions()
        const { dev, take } = counting(nor)
        const again = new LogStore(dev, { stepReads: 5 })
        let steps = 0
        let most = 0
        while (!(await again.recoverStep())) {
            steps++
            most = Math.max(most, take())
        }
        most = Math.max(most, take())
        // a unit of work is at most two reads: a step stops within one unit of its budget
        expect(most).toBeLessThanOrEqual(5 + 1)
        expect(steps).toBeGreaterThan(3)
        expect(again.listSessions()).toEqual(before)
        expect(again.nextSeq()).toBe(store.nextSeq())
        expect(again.nextSession()).toBe(store.nextSession())
    })

    test("sealed sectors in the middle of a session are skipped: boot reads stay near two per sector", async () => {
        const nor = new MemoryNor({ geometry: geometry(64, 4096) })
        const { store } = await open(nor)
        const s = await store.append(makeHeader(1))
        for (let k = 0; k < 900; k++) await store.append(makeTrace(50, k * 5000))
        await store.append(makeSummary())
        const { report } = await open(nor)
        console.log(`boot of a ${report.sectors}-sector session: ${JSON.stringify(report)}`)
        expect(report.sectors).toBeGreaterThan(40)
        expect(report.sectorsSkipped).toBeGreaterThan(report.sectors - 4)
        expect(report.reads).toBeLessThan(2 * 64 + report.sectors + 40)
        expect(report.recordsScanned).toBeLessThan(60)
        const { store: again } = await open(nor)
        expect(again.sessionInfo(s.session)).toEqual(store.sessionInfo(s.session))
        expect((await decodeSession(again, s.session)).records.length).toBe(902)
    })

    test("a torn record is dropped, its sequence number is never given again, and the next record goes to a fresh sector", async () => {
        const nor = new MemoryNor({ geometry: geometry(8), seed: 5 })
        const { store } = await open(nor)
        await store.append(makeHeader(1))
        await store.append(makeRep(1))
        const torn = store.nextSeq()
        nor.cutPowerAtOp(nor.mutatingOps + 2) // the trace's second page
        await expect(store.append(makeTrace(50, 0))).rejects.toThrow("power lost")
        expect((await errorOf(() => store.append(makeRep(2)))).code).toBe(StoreErrorCode.Broken)
        nor.reboot()
        const { store: again, report } = await open(nor)
        expect(report.tornTail).toBe(true)
        expect(again.sessionInfo(1)).toMatchObject({ lastSeq: torn - 1, complete: false, open: false })
        expect(again.nextSeq()).toBe(torn + 1)
        const r = await again.append(makeHeader(2))
        expect(r.seq).toBe(torn + 1)
        const { store: third, report: r3 } = await open(nor)
        expect(r3.holes).toBe(1)
        expect(third.listSessions().map(s => s.session)).toEqual([1, 2])
        expect((await decodeSession(third, 1)).records.length).toBe(2)
    })

    test("the log survives as an image (the simulator's file)", async () => {
        const nor = new MemoryNor({ geometry: geometry(8) })
        const { store } = await open(nor)
        await writeSession(store, 2)
        const { store: again } = await open(new MemoryNor({ geometry: geometry(8), image: nor.exportImage() }))
        expect(again.listSessions()).toEqual(store.listSessions())
    })

    test("a chip holding a store of another geometry is refused, not formatted over", async () => {
        const small = new MemoryNor({ geometry: geometry(8) })
        await writeSession((await open(small)).store, 1)
        const image = [...small.exportImage(), ...new Array(8 * 1024).fill(0xff)]
        const big = new MemoryNor({ geometry: geometry(16), image })
        const e = await errorOf(() => new LogStore(big).recover())
        expect(e.code).toBe(StoreErrorCode.Geometry)
        expect(e.message).toBe("sector 0 belongs to a store of 8 sectors of 1024 bytes, expected 16 of 1024")
    })

    test("geometries the log cannot use are refused", () => {
        expect(() => new LogStore(new MemoryNor({ geometry: { sectorSize: 256, pageSize: 64, sectorCount: 8 } }))).toThrow(StoreError)
        expect(() => new LogStore(new MemoryNor({ geometry: geometry(2) }))).toThrow(/need >= 3/)
    })
})

describe("acknowledgements", () => {
    test("idempotent: twice writes once; an acknowledgement survives a reboot", async () => {
        const nor = new MemoryNor({ geometry: geometry(8) })
        const { store } = await open(nor)
        const s = await writeSession(store, 1)
        const last = store.sessionInfo(s)!.lastSeq
        expect(await store.acknowledge(s, last)).toBe(AckResult.Written)
        const ops = nor.mutatingOps
        expect(await store.acknowledge(s, last)).toBe(AckResult.Already)
        expect(await store.acknowledge(s, last - 1)).toBe(AckResult.Already)
        expect(nor.mutatingOps).toBe(ops)
        const { store: again } = await open(nor)
        expect(again.sessionInfo(s)).toMatchObject({ archived: true, ackedSeq: last })
        expect(await again.acknowledge(s, last)).toBe(AckResult.Already)
    })

    test("a partial acknowledgement of an open session leaves the rest unarchived", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        const s = await writeSession(store, 1, false)
        await store.acknowledge(s, store.sessionInfo(s)!.lastSeq)
        expect(store.sessionInfo(s)!.archived).toBe(true)
        await store.append(makeSummary())
        expect(store.sessionInfo(s)!.archived).toBe(false)
    })

    test("acknowledgements outside the session are refused with the range expected", async () => {
        const { store } = await open(new MemoryNor({ geometry: geometry(8) }))
        const s = await writeSession(store, 1)
        const e = await errorOf(() => store.acknowledge(s, 99))
        expect(e.code).toBe(StoreErrorCode.BadRequest)
        expect(e.message).toBe("acknowledgement of session 1 up to seq 99: expected 1..4")
        expect((await errorOf(() => store.acknowledge(5, 1))).code).toBe(StoreErrorCode.NoSession)
    })

    test("a full store drains whatever order the host acknowledges in; nothing unacknowledged goes", async () => {
        const nor = new MemoryNor({ geometry: geometry(6) })
        const { store } = await open(nor, { cipher: ccmCipher("k") })
        // short sessions until the store refuses one
        const sessions: number[] = []
        for (;;) {
            try {
                const { session } = await store.append(makeHeader(sessions.length))
                sessions.push(session)
                await store.append({ kind: RecordKind.Summary, endMs: 0, outcome: SessionOutcome.Stopped, stopCause: StopCause.Button, channels: [] })
            } catch (e) {
                if (e instanceof StoreError && e.code === StoreErrorCode.Full) break
                throw e
            }
        }
        expect(sessions.length).toBeGreaterThan(30)
        const full = await errorOf(() => store.append(makeHeader(0)))
        expect(full.message).toMatch(/^store full of unarchived sessions: session 1 and \d+ more must be archived \(pulled and acknowledged\) before sector \d can be reused/)
        // newest first: the reserve runs out and acknowledgements wait in memory
        const results: string[] = []
        for (const s of [...sessions].reverse()) {
            const info = store.sessionInfo(s)
            if (info) results.push(await store.acknowledge(s, info.lastSeq))
            // nothing unacknowledged is ever dropped
            for (const t of sessions) if (t < s) expect(store.listSessions().some(l => l.session === t), `session ${t}`).toBe(true)
        }
        console.log(`${sessions.length} sessions; acknowledged newest first: ${results.filter(r => r === AckResult.Pending).length} waited for room`)
        expect(results).toContain(AckResult.Pending)
        expect(results[results.length - 1]).toBe(AckResult.Written)
        expect(store.pendingAcknowledgements()).toEqual([])
        expect(store.listSessions().every(s => s.archived)).toBe(true)
        // and the store takes sessions again, dropping the archived ones with an event
        const next = await writeSession(store, 3)
        const events = (await decodeSession(store, next, ccmCipher("k"))).records.filter(
            r => r.record.kind === RecordKind.Event && r.record.code === EventCode.StoreDroppedArchived
        )
        expect(events.length).toBeGreaterThan(0)
    })
})

describe("encryption at rest", () => {
    test("no plaintext on the chip; the key is needed to place sessions on the calendar", async () => {
        const nor = new MemoryNor({ geometry: geometry(8) })
        const { store } = await open(nor, { cipher: ccmCipher("clinic") })
        await writeSession(store, 2)
        const image = Buffer.from(nor.exportImage())
        for (const text of ["e1daef9b9723f6da", "relax-first", "0.1.0"]) expect(image.includes(Buffer.from(text))).toBe(false)
        const { store: keyed } = await open(nor, { cipher: ccmCipher("clinic") })
        expect(keyed.sessionInfo(1)).toMatchObject({ startWallMs: 1795000000123, complete: true })
        // without the key (or with the wrong one) the log still recovers and can be pulled, but its contents stay sealed
        const { store: blind, report } = await open(nor, { cipher: ccmCipher("wrong") })
        expect(report.undecryptable).toBeGreaterThan(0)
        expect(blind.sessionInfo(1)).toMatchObject({ startWallMs: -1, complete: true, sizeBytes: keyed.sessionInfo(1)!.sizeBytes })
        expect((await decodeSession(blind, 1, ccmCipher("clinic"))).faults).toEqual([])
    })
})
