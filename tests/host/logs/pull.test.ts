// The pull pipeline (host/logs/pull.ts) against the firmware's own LogStore
// on a MemoryNor, through clean and flaky links: every record kind round
// trips, damage is quarantined and reported, interrupted pulls resume,
// pulling twice adds nothing twice, acknowledged sessions free the store.
import { describe, expect, test } from "vitest"
import { decodeFrameHeader, RecordKind, type LogRecord } from "../../../src/core/log/records"
import { StoreError } from "../../../src/core/log/store"
import type { Archive } from "../../../host/archive/archive"
import { archiveTotals, listSessions, loadSession, sessionFrames } from "../../../host/archive/queries"
import { PullError, pullLogs, PULL_STEPS, type PullOptions, type PullProgress } from "../../../host/logs/pull"
import { FlakyLogSource, LogSourceError, LogSourceErrorCode, MAX_READ_BYTES, StoreLogSource, type LogSource } from "../../../host/logs/source"
import { logCipher } from "../../../host/logs/cipher"
import { pullSummary } from "../../../host/commands/logs-pull"
import { appendSession, cipher, DEVICE_ID, homeSession, makeDevice, STORE_ID, tempArchive, type Device } from "./fixtures"

const FAST = { readTimeoutMs: 40, retries: 8 }

function pull(archive: Archive, source: LogSource, more: Partial<PullOptions> = {}) {
    return pullLogs({ archive, connect: async () => source, cipherFor: () => cipher(), keepOpen: true, ...FAST, ...more })
}

async function pullError(run: () => Promise<unknown>): Promise<PullError> {
    try {
        await run()
    } catch (e) {
        if (e instanceof PullError) return e
        throw e
    }
    throw new Error("the pull did not fail")
}

/** All of a session's bytes as the device serves them. */
async function deviceBytes(dev: Device, session: number): Promise<number[]> {
    const info = dev.store.sessionInfo(session)!
    const out: number[] = []
    while (out.length < info.sizeBytes) out.push(...(await dev.store.readSession(session, out.length, MAX_READ_BYTES)))
    return out
}

/** What the archive holds of a session as frames, in order, concatenated with its quarantined bytes by offset. */
function archivedBytes(archive: Archive, id: number): number[] {
    const pieces = [...sessionFrames(archive, id).map(f => ({ offset: f.offset, bytes: f.frame })), ...loadSession(archive, id)!.quarantine.map(q => ({ offset: q.offset, bytes: q.bytes }))]
    pieces.sort((a, b) => a.offset - b.offset)
    const out: number[] = []
    for (const p of pieces) {
        expect(p.offset).toBe(out.length)
        out.push(...p.bytes)
    }
    return out
}

function idOf(archive: Archive, session: number): number {
    return listSessions(archive).find(s => s.sessionNo === session)!.id
}

async function deviceWith(sessions: LogRecord[][], options: Parameters<typeof makeDevice>[0] = {}): Promise<Device> {
    const dev = await makeDevice(options)
    for (const s of sessions) await appendSession(dev, s)
    return dev
}

describe("round trip", () => {
    test("every record kind goes device store -> pull -> archive unchanged, frames byte for byte", async () => {
        const dev = await makeDevice()
        const s1 = await appendSession(dev, homeSession({}, 1))
        // session 2 open while session 1 is acknowledged: the store's Ack record lies inside session 2's bytes
        await dev.store.append(homeSession({}, 2)[0])
        await dev.store.acknowledge(s1, dev.store.sessionInfo(s1)!.lastSeq)
        for (const r of homeSession({}, 2).slice(1)) await dev.store.append(r)
        const s2 = dev.store.listSessions()[1].session
        const archive = tempArchive()
        const report = await pull(archive, dev.source)

        expect(report.quarantined).toBe(0)
        expect(report.sessions.map(s => [s.session, s.status])).toEqual([
            [s1, "new"],
            [s2, "new"],
        ])
        const kinds = new Set<number>()
        for (const s of [s1, s2]) {
            const id = idOf(archive, s)
            expect(archivedBytes(archive, id)).toEqual(await deviceBytes(dev, s))
            for (const f of sessionFrames(archive, id)) kinds.add(f.kind)
        }
        expect([...kinds].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])

        const d = loadSession(archive, idOf(archive, s2))!
        const appended = homeSession({}, 2)
        const of = <K extends number>(k: K) => appended.filter(r => r.kind === k)
        expect(d.reps.map(({ seq, ...r }) => ({ kind: RecordKind.Rep, ...r }))).toEqual(of(RecordKind.Rep))
        expect(d.events.map(({ seq, ...e }) => ({ kind: RecordKind.Event, ...e }))).toEqual(of(RecordKind.Event))
        expect(d.trace.map(t => ({ kind: RecordKind.Trace, startMs: t.startMs, intervalMs: t.intervalMs, pressureCmH2OX10: t.pressureX10, emgUvX10: t.emgX10 }))).toEqual(
            of(RecordKind.Trace)
        )
        const summary = of(RecordKind.Summary)[0] as Extract<LogRecord, { kind: RecordKind.Summary }>
        expect(d.summary).toEqual(summary.channels)
        expect(d.row).toMatchObject({ complete: true, endMs: summary.endMs, outcome: summary.outcome, stopCause: summary.stopCause, programId: "relax-then-tone", programVersion: 3 })
        expect(d.phases.map(p => [p.index, p.kind, p.startMs, p.endMs, p.outcome])).toEqual([
            [0, 1, 0, 15000, 1],
            [1, 3, 15000, 119000, 1],
        ])
        expect(d.firmwareVersion).toBe("0.1.0")
        expect(d.row.startWallMs).toBe(appended[0].kind === RecordKind.SessionHeader ? appended[0].startWallMs : -1)
        expect(d.row.startTimeSource).toBe("device")
    })

    test("pulling twice adds nothing twice", async () => {
        const dev = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        const archive = tempArchive()
        const first = await pull(archive, dev.source)
        const totals = archiveTotals(archive)
        const second = await pull(archive, dev.source)
        expect(first.recordsAdded).toBe(totals.records)
        expect(second.recordsAdded).toBe(0)
        expect(second.bytes).toBe(0)
        expect(second.fetch.reads).toBe(0)
        expect(second.sessions.map(s => [s.status, s.ack])).toEqual([
            ["up to date", "already"],
            ["up to date", "already"],
        ])
        expect(archiveTotals(archive)).toEqual(totals)
    })

    test("plain (unencrypted) records pull without a key", async () => {
        const dev = await deviceWith([homeSession({}, 1)], { encrypted: false })
        const archive = tempArchive()
        const report = await pull(archive, dev.source, { cipherFor: undefined })
        expect(report.quarantined).toBe(0)
        expect(loadSession(archive, idOf(archive, 1))!.reps.length).toBe(6)
    })
})

describe("a flaky link", () => {
    test("late, duplicated, reordered, short and lost answers change nothing in the archive", async () => {
        const dev = await deviceWith([homeSession({ minutes: 3 }, 1), homeSession({ minutes: 3 }, 2)])
        const clean = tempArchive()
        await pull(clean, dev.source, { acknowledge: false })
        const flaky = new FlakyLogSource(dev.source, { seed: 7, dropRate: 0.08, lateRate: 0.1, lateMs: 60, maxDelayMs: 8, duplicateRate: 0.1, shortRate: 0.1 })
        const archive = tempArchive()
        const report = await pull(archive, flaky, { acknowledge: false, inFlight: 6 })
        expect(flaky.counts.dropped).toBeGreaterThan(0)
        expect(flaky.counts.late).toBeGreaterThan(0)
        expect(flaky.counts.short).toBeGreaterThan(0)
        expect(report.fetch.duplicates).toBeGreaterThan(0)
        expect(report.fetch.timeouts).toBeGreaterThan(0)
        expect(report.quarantined).toBe(0)
        for (const s of [1, 2]) expect(archivedBytes(archive, idOf(archive, s))).toEqual(archivedBytes(clean, idOf(clean, s)))
        expect(archiveTotals(archive)).toEqual(archiveTotals(clean))
    })

    test("bytes damaged on the way are read again, not quarantined", async () => {
        const dev = await deviceWith([homeSession({ minutes: 3 }, 1)])
        const flaky = new FlakyLogSource(dev.source, { seed: 3, corruptRate: 0.15 })
        const archive = tempArchive()
        const report = await pull(archive, flaky)
        expect(flaky.counts.corrupted).toBeGreaterThan(2)
        expect(report.rereads).toBeGreaterThan(0)
        expect(report.quarantined).toBe(0)
        expect(archivedBytes(archive, idOf(archive, 1))).toEqual(await deviceBytes(dev, 1))
    })

    test("acknowledgements that time out are asked again; the device records each once", async () => {
        const dev = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        const flaky = new FlakyLogSource(dev.source, { ackTimeouts: 3 })
        const report = await pull(tempArchive(), flaky)
        expect(flaky.counts.ackTimeouts).toBe(3)
        expect(report.acknowledged).toEqual([1, 2])
        expect(dev.store.listSessions().every(s => s.archived)).toBe(true)
        expect(dev.store.usage().unarchivedSessions).toBe(0)
    })
})

describe("interrupted pulls", () => {
    test("a pull cut half-way resumes where the archive stands, reading only the rest", async () => {
        const dev = await deviceWith([homeSession({ minutes: 4 }, 1), homeSession({ minutes: 4 }, 2), homeSession({ minutes: 4 }, 3)])
        const total = dev.store.listSessions().reduce((n, s) => n + s.sizeBytes, 0)
        const readsForAll = Math.ceil(total / MAX_READ_BYTES)
        const flaky = new FlakyLogSource(dev.source, { failAfterReads: Math.floor(readsForAll / 2) })
        const archive = tempArchive()
        const err = await pullError(() => pull(archive, flaky, { saveEveryBytes: 4096 }))
        expect(err.step).toBe("fetch")
        expect(err.message).toMatch(/^fetch failed \(session \d, offset \d+\): link lost at offset \d+: the device is gone/)
        expect(err.cause).toBeInstanceOf(LogSourceError)
        // nothing acknowledged, part archived: one session partly, at a record boundary
        expect(dev.store.usage().unarchivedSessions).toBe(3)
        const partial = listSessions(archive).filter(s => s.bytesStored < s.deviceSizeBytes)
        const saved = listSessions(archive).reduce((n, s) => n + s.bytesStored, 0)
        expect(saved).toBeGreaterThan(total / 4)
        expect(saved).toBeLessThan(total)
        expect(partial.length).toBeGreaterThanOrEqual(1)

        flaky.reconnect()
        const before = dev.source.counts.bytesRead
        const report = await pull(archive, flaky)
        expect(report.sessions.some(s => s.status === "resumed")).toBe(true)
        expect(dev.source.counts.bytesRead - before).toBeLessThanOrEqual(total - saved + 4 * MAX_READ_BYTES)
        for (const s of [1, 2, 3]) {
            const id = idOf(archive, s)
            expect(archivedBytes(archive, id)).toEqual(await deviceBytes(dev, s))
            const seqs = sessionFrames(archive, id).map(f => f.seq)
            expect(new Set(seqs).size).toBe(seqs.length)
        }
        expect(report.quarantined).toBe(0)
        expect(report.acknowledged).toEqual([1, 2, 3])
        expect(dev.store.usage().unarchivedSessions).toBe(0)
    })

    test("an open session is pulled so far and acknowledged so far; the rest comes with the next pull", async () => {
        const dev = await makeDevice()
        const all = homeSession({}, 1)
        const cut = all.length - 3
        for (const r of all.slice(0, cut)) await dev.store.append(r)
        const archive = tempArchive()
        const first = await pull(archive, dev.source)
        expect(first.sessions[0]).toMatchObject({ status: "new", ack: "written" })
        expect(dev.store.sessionInfo(1)).toMatchObject({ open: true, archived: true })
        for (const r of all.slice(cut)) await dev.store.append(r)
        const second = await pull(archive, dev.source)
        expect(second.sessions[0].status).toBe("more")
        expect(loadSession(archive, idOf(archive, 1))!.row.complete).toBe(true)
        expect(archivedBytes(archive, idOf(archive, 1))).toEqual(await deviceBytes(dev, 1))
        expect(dev.store.sessionInfo(1)!.archived).toBe(true)
    })
})

describe("damage on the device", () => {
    /** Clears one bit of the first byte of `at` that has one (NOR program semantics: as real flash damage would). */
    async function damageOnFlash(dev: Device, session: number, sessionOffset: number) {
        const bytes = await deviceBytes(dev, session)
        const image = dev.nor.exportImage()
        const needle = Buffer.from(bytes.slice(sessionOffset, sessionOffset + 24))
        let addr = Buffer.from(image).indexOf(needle) + 20
        expect(addr).toBeGreaterThanOrEqual(20)
        while (image[addr] === 0) addr++
        await dev.nor.program(addr, [image[addr] & (image[addr] - 1)])
    }

    async function recordOffsets(dev: Device, session: number) {
        const bytes = await deviceBytes(dev, session)
        const out: { offset: number; kind: number; seq: number; length: number }[] = []
        for (let at = 0; at < bytes.length; ) {
            const h = decodeFrameHeader(bytes, at)
            out.push({ offset: at, kind: h.kind, seq: h.seq, length: h.recordBytes })
            at += h.recordBytes
        }
        return out
    }

    test("a record damaged on the flash is quarantined with its session and offset, and reported; everything else is archived", async () => {
        const dev = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        const rep = (await recordOffsets(dev, 2)).filter(r => r.kind === RecordKind.Rep)[2]
        await damageOnFlash(dev, 2, rep.offset)
        const archive = tempArchive()
        const report = await pull(archive, dev.source)
        expect(report.quarantined).toBe(1)
        const q = report.sessions[1].quarantined[0]
        expect(q).toMatchObject({ offset: rep.offset, length: rep.length, code: "bad-crc" })
        expect(q.message).toContain(`record seq ${rep.seq} at offset ${rep.offset}`)
        expect(report.rereads).toBe(1)
        const d = loadSession(archive, idOf(archive, 2))!
        expect(d.quarantine).toHaveLength(1)
        expect(d.quarantine[0]).toMatchObject({ sessionNo: 2, deviceId: DEVICE_ID, offset: rep.offset, code: "bad-crc" })
        expect(d.quarantine[0].expected).toMatch(/^CRC-32 0x[0-9a-f]{8}$/)
        expect(d.reps.length).toBe(5)
        // kept, not dropped: the archive still has every byte the device had
        expect(archivedBytes(archive, d.row.id)).toEqual(await deviceBytes(dev, 2))
        // a damaged record is no gap in the sequence: its number was used up
        expect(d.quarantine.filter(x => x.code === "seq-gap")).toEqual([])
        // archived (as kept bytes), so acknowledged
        expect(report.acknowledged).toEqual([1, 2])
    })

    test("a record whose header is damaged: the scan finds the next good record and quarantines exactly the damaged one", async () => {
        const dev = await deviceWith([homeSession({}, 1)], { encrypted: false })
        const ev = (await recordOffsets(dev, 1)).filter(r => r.kind === RecordKind.Event)[1]
        const bytes = await deviceBytes(dev, 1)
        const image = dev.nor.exportImage()
        const addr = Buffer.from(image).indexOf(Buffer.from(bytes.slice(ev.offset, ev.offset + 24)))
        await dev.nor.program(addr, [0x10]) // magic "P" (0x50) -> 0x10
        const archive = tempArchive()
        const report = await pull(archive, dev.source, { cipherFor: undefined })
        expect(report.sessions[0].quarantined).toEqual([
            expect.objectContaining({ offset: ev.offset, length: ev.length, code: "bad-magic" }),
            expect.objectContaining({ offset: ev.offset + ev.length, length: 0, code: "seq-gap" }),
        ])
        const d = loadSession(archive, idOf(archive, 1))!
        // the lost record's number cannot be read from its header: reported as a gap too
        expect(d.quarantine.map(q => q.code).sort()).toEqual(["bad-magic", "seq-gap"])
        expect(d.quarantine.find(q => q.code === "seq-gap")).toMatchObject({ expected: `seq ${ev.seq}`, found: `seq ${ev.seq + 1}`, length: 0 })
        expect(d.events.length).toBe(homeSession({}, 1).filter(r => r.kind === RecordKind.Event).length - 1)
        // and the pull's summary says so, with session and offset
        const lines = pullSummary(report, archive.file)
        expect(lines).toContain(`  QUARANTINED session 1 offset ${ev.offset}, ${ev.length} bytes: bad-magic: expected magic 0x50 0x4c, found 0x10 0x4c (kept in the archive: pft logs show ${d.row.id})`)
        expect(lines).toContain(`  MISSING in session 1: 1 record missing before offset ${ev.offset + ev.length} (seq ${ev.seq}): expected seq ${ev.seq}, found seq ${ev.seq + 1} (pft logs show ${d.row.id})`)
    })
})

describe("keys", () => {
    test.each([
        ["no key", undefined, /expected the clinic key \(the records are encrypted at rest\), found no key/],
        ["another clinic's key", () => logCipher(Buffer.alloc(32, 7), STORE_ID), /expected records that decrypt with this clinic key/],
    ])("%s: the pull stops at verify and acknowledges nothing", async (_, cipherFor, message) => {
        const dev = await deviceWith([homeSession({}, 1)])
        const archive = tempArchive()
        const err = await pullError(() => pull(archive, dev.source, { cipherFor }))
        expect(err.step).toBe("verify")
        expect(err.message).toMatch(message)
        expect(err.message).toContain("(session 1, offset 0)")
        expect(dev.store.usage().unarchivedSessions).toBe(1)
        expect(archiveTotals(archive).records).toBe(0)
    })
})

describe("acknowledging", () => {
    test("acknowledged sessions free the store: a full store takes sessions again after a pull", async () => {
        const dev = await makeDevice({ sectors: 8 })
        let n = 0
        for (;;) {
            try {
                await appendSession(dev, homeSession({ minutes: 1 }, ++n))
            } catch (e) {
                expect(e).toBeInstanceOf(StoreError)
                expect((e as StoreError).code).toBe("full")
                break
            }
        }
        const before = dev.store.usage()
        expect(before.unarchivedSessions).toBeGreaterThan(3)
        const archive = tempArchive()
        const report = await pull(archive, dev.source)
        expect(report.pendingAcks).toEqual([])
        const after = dev.store.usage()
        expect(after.unarchivedSessions).toBe(0)
        expect(after.unarchivedBytes).toBe(0)
        // room again: the next sessions drop the archived ones (never an unarchived one)
        for (let k = 0; k < 3; k++) await appendSession(dev, homeSession({ minutes: 1 }, 100 + k))
        expect(dev.store.listSessions().length).toBeLessThan(before.sessions + 3)
        const again = await pull(archive, dev.source)
        expect(again.quarantined).toBe(0)
        expect(listSessions(archive).length).toBe(report.sessions.length + 3)
    })

    test("an acknowledgement the device keeps pending is asked again after the others", async () => {
        const dev = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        let pendingLeft = 2
        const source: LogSource = {
            deviceId: DEVICE_ID,
            storeId: STORE_ID,
            listSessions: () => dev.source.listSessions(),
            read: (s, o, l) => dev.source.read(s, o, l),
            acknowledge: async (s, q) => (s === 1 && pendingLeft-- > 0 ? "pending" : dev.source.acknowledge(s, q)),
        }
        const report = await pull(tempArchive(), source)
        expect(report.acknowledged).toEqual([2, 1])
        expect(report.pendingAcks).toEqual([])
        // still pending after every round: reported, and the next pull asks again
        const full = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        let asked = 0
        const stuckSource: LogSource = { ...source, listSessions: () => full.source.listSessions(), read: (s, o, l) => full.source.read(s, o, l), acknowledge: async () => (asked++, "pending") }
        const archive = tempArchive()
        const stuck = await pull(archive, stuckSource, { ackRounds: 3 })
        expect(stuck.pendingAcks).toEqual([1, 2])
        expect(asked).toBe(6)
        expect(stuck.sessions.map(s => s.ack)).toEqual(["pending", "pending"])
        const next = await pull(archive, full.source)
        expect(next.acknowledged).toEqual([1, 2])
    })

    test("--no-ack archives without acknowledging", async () => {
        const dev = await deviceWith([homeSession({}, 1)])
        const report = await pull(tempArchive(), dev.source, { acknowledge: false })
        expect(report.sessions[0].ack).toBeNull()
        expect(dev.store.usage().unarchivedSessions).toBe(1)
    })
})

describe("steps and progress", () => {
    test("progress runs through the steps in order, up to 1, counting bytes and sessions", async () => {
        const dev = await deviceWith([homeSession({}, 1), homeSession({}, 2)])
        const seen: PullProgress[] = []
        await pull(tempArchive(), dev.source, { onProgress: p => seen.push(p), saveEveryBytes: 2048 })
        const order = [...new Set(seen.map(p => p.step))]
        expect(order.filter(s => s !== "verify")).toEqual(["connect", "list", "fetch", "save", "acknowledge"].filter(s => order.includes(s as never)))
        expect(order[0]).toBe("connect")
        expect(order[order.length - 1]).toBe("acknowledge")
        for (let i = 1; i < seen.length; i++) expect(seen[i].fraction).toBeGreaterThanOrEqual(seen[i - 1].fraction - 1e-9)
        const last = seen[seen.length - 1]
        expect(last.fraction).toBe(1)
        expect(last.bytesDone).toBe(last.bytesTotal)
        expect(last.sessionsDone).toBe(2)
        expect(last.bytesTotal).toBe(dev.store.listSessions().reduce((n, s) => n + s.sizeBytes, 0))
        expect(PULL_STEPS).toEqual(["connect", "list", "fetch", "verify", "save", "acknowledge"])
    })

    test.each([
        ["connect", { connect: async () => Promise.reject(new Error("no trainer")) }, /^connect failed: no trainer$/],
        ["list", { listSessions: async () => Promise.reject(new LogSourceError(LogSourceErrorCode.Disconnected, "gone")) }, /^list failed: gone$/],
        ["fetch", { read: async () => Promise.reject(new LogSourceError(LogSourceErrorCode.Refused, "no session 1")) }, /^fetch failed \(session 1, offset 0\): device refused the read/],
        ["acknowledge", { acknowledge: async () => Promise.reject(new LogSourceError(LogSourceErrorCode.Disconnected, "gone")) }, /^acknowledge failed \(session 1\): gone$/],
    ] as const)("an error in %s names the step", async (stepName, override, message) => {
        const dev = await deviceWith([homeSession({}, 1)])
        const base: LogSource = dev.source
        const source: LogSource = {
            deviceId: base.deviceId,
            storeId: base.storeId,
            listSessions: () => base.listSessions(),
            read: (s, o, l) => base.read(s, o, l),
            acknowledge: (s, q) => base.acknowledge(s, q),
            ...(override as Partial<LogSource>),
        }
        const connect = "connect" in override ? (override.connect as () => Promise<LogSource>) : async () => source
        const err = await pullError(() => pull(tempArchive(), source, { connect }))
        expect(err.step).toBe(stepName)
        expect(err.message).toMatch(message)
    })

    test("reads stay within one report and the configured number in flight", async () => {
        const dev = await deviceWith([homeSession({ minutes: 2 }, 1)])
        let inflight = 0
        let most = 0
        let largest = 0
        const source: LogSource = {
            deviceId: DEVICE_ID,
            storeId: STORE_ID,
            listSessions: () => dev.source.listSessions(),
            acknowledge: (s, q) => dev.source.acknowledge(s, q),
            read: async (s, o, l) => {
                inflight++
                most = Math.max(most, inflight)
                largest = Math.max(largest, l)
                await new Promise(r => setTimeout(r, 2))
                inflight--
                return dev.source.read(s, o, l)
            },
        }
        await pull(tempArchive(), source, { inFlight: 3 })
        expect(most).toBe(3)
        expect(largest).toBe(MAX_READ_BYTES)
        // a Jacdac payload (236 bytes) less the read report's session, offset and status (services/sessionlog.md)
        expect(MAX_READ_BYTES).toBe(227)
        await expect(pull(tempArchive(), dev.source, { chunkBytes: 228 })).rejects.toThrow("chunk size 228: expected 1..227 bytes")
    })

    test("StoreLogSource serves one store call at a time with several requests in flight", async () => {
        const dev = await deviceWith([homeSession({}, 1)])
        const slow = new StoreLogSource(dev.store, { deviceId: DEVICE_ID, latencyMs: 5 })
        const reads = await Promise.all([0, 227, 454, 681].map(o => slow.read(1, o, 227)))
        expect(reads.flat()).toEqual((await deviceBytes(dev, 1)).slice(0, 908))
    })
})
