/**
 * Session log cases run in both worlds: vitest (tests/core/log/shared-cases.test.ts)
 * and the DeviceScript VM (tests/vm/log.vm.ts). Record round trips, CRC and
 * truncation detection, and a small store on a tiny NOR model: appends,
 * reboot and recovery, acknowledgement, a full store, a power cut.
 *
 * The store is async (its block device is), so most cases are
 * AsyncNumericCase; the runners for them live next to the two entry files.
 * DeviceScript subset only (no Map, no closures over loop variables).
 */
import { crc32 } from "../../src/core/codec/bytes"
import { w25qGeometry, W25Q128_SECTORS } from "../../src/core/log/block-device"
import { logCapacity, sessionBytes, TYPICAL_SESSION } from "../../src/core/log/capacity"
import { MemoryNor } from "../../src/core/log/memory-nor"
import {
    decodeFrameHeader,
    decodeRecord,
    DecodeErrorCode,
    encodeRecord,
    EventCode,
    FRAME_HEADER_BYTES,
    LogChannel,
    LogDecodeError,
    MAX_TRACE_SAMPLES,
    PhaseOutcome,
    RecordKind,
    repMetricsFromRecord,
    repRecordFromMetrics,
    sessionHeader,
    SessionOutcome,
    StopCause,
    TRACE_MISSING,
    type ChannelSummary,
    type EventRecord,
    type LogRecord,
    type RecordCipher,
    type RepRecord,
    type SummaryRecord,
    type TraceRecord,
} from "../../src/core/log/records"
import { AckResult, LogStore, StoreError, StoreErrorCode } from "../../src/core/log/store"
import type { NumericCase, ThrowCase } from "./types"

/** `actual()` resolves within `tolerance` of `expected`. */
export interface AsyncNumericCase {
    name: string
    actual: () => Promise<number>
    expected: number
    tolerance: number
}

/**
 * 4 sectors of 512 bytes (452 data bytes each): small enough for the VM
 * heap, enough for sector rotation. One sector is kept free for
 * acknowledgements, so sessions of up to ~1.3 KB fit.
 */
export const TINY_GEOMETRY = { sectorSize: 512, pageSize: 64, sectorCount: 4 }

// ------------------------------------------------------------ fixtures (factories: never shared, never mutated)

export function makeHeader(bootCount: number) {
    return sessionHeader({
        bootCount: bootCount,
        startMonoMs: 123456,
        startWallMs: 1795000000123,
        timeSync: 1,
        deviceId: "e1daef9b9723f6da",
        firmwareVersion: "0.1.0",
        programId: "relax-first",
        programVersion: 3,
    })
}

export function makeRep(repIndex: number): RepRecord {
    return {
        kind: RecordKind.Rep,
        channel: LogChannel.Emg,
        block: 2,
        repIndex: repIndex,
        flags: 4,
        cueOnMs: 10000,
        cueOffMs: 20000,
        onsetMs: 10120,
        offsetMs: -1,
        onsetLatencyMs: 120,
        timeToPeakMs: 800,
        releaseLatencyMs: -1,
        holdAtTargetMs: 7500,
        peakX100: -2345,
        meanWorkX100: 1999,
        peakPctMvcX10: 987,
        holdCvX1000: 123,
        enduranceDeclinePctX10: -50,
    }
}

export function makeEvent(code: number, value: number): EventRecord {
    return { kind: RecordKind.Event, timeMs: 65000, code: code, cause: StopCause.Button, value: value, extra: 7 }
}

/** n samples; sample 1 is missing */
export function makeTrace(n: number, startMs: number): TraceRecord {
    const p: number[] = []
    const e: number[] = []
    for (let k = 0; k < n; k++) {
        p.push(k === 1 ? TRACE_MISSING : 150 + k * 3)
        e.push(k === 1 ? TRACE_MISSING : 40 - k)
    }
    return { kind: RecordKind.Trace, startMs: startMs, intervalMs: 100, pressureCmH2OX10: p, emgUvX10: e }
}

export function makeChannelSummary(channel: number, mvcX100: number): ChannelSummary {
    return {
        channel: channel,
        preMeanX100: 512,
        preSdX100: 40,
        preCvX1000: 78,
        preDurationMs: 60000,
        postMeanX100: 480,
        postSdX100: 35,
        postCvX1000: 73,
        postDurationMs: 60000,
        mvcX100: mvcX100,
        repsPlanned: 25,
        repsDone: 24,
        holdFatiguePctX10: 120,
        enduranceDeclinePctX10: -15,
        timeOnTaskMs: 300000,
    }
}

export function makeSummary(): SummaryRecord {
    return {
        kind: RecordKind.Summary,
        endMs: 1500000,
        outcome: SessionOutcome.Completed,
        stopCause: StopCause.Completed,
        channels: [makeChannelSummary(LogChannel.Emg, 4321), makeChannelSummary(LogChannel.Pressure, 6543)],
    }
}

/**
 * A stand-in for AES-256-CCM in the shared cases (the real ciphers are
 * platform APIs: @devicescript/crypto, node:crypto): a keyed xorshift
 * keystream and a 4-byte CRC tag. Not cryptography; it only has the same
 * shape (nonce in, ciphertext || tag out, null on a bad tag).
 */
export class ToyCipher implements RecordCipher {
    constructor(private readonly key: number) {}
    encrypt(nonce: number[], plain: number[]): number[] {
        const out = this.xor(nonce, plain)
        const tag = crc32(plain, crc32(nonce, this.key))
        out.push(tag & 0xff, (tag >>> 8) & 0xff, (tag >>> 16) & 0xff, (tag >>> 24) & 0xff)
        return out
    }
    decrypt(nonce: number[], data: number[]): number[] | null {
        if (data.length < 4) return null
        const plain = this.xor(nonce, data.slice(0, data.length - 4))
        const tag = crc32(plain, crc32(nonce, this.key))
        const t = data.length - 4
        if (data[t] !== (tag & 0xff) || data[t + 1] !== ((tag >>> 8) & 0xff) || data[t + 2] !== ((tag >>> 16) & 0xff) || data[t + 3] !== ((tag >>> 24) & 0xff))
            return null
        return plain
    }
    private xor(nonce: number[], bytes: number[]): number[] {
        let x = (crc32(nonce, this.key) | 1) >>> 0
        const out: number[] = []
        for (const b of bytes) {
            x ^= x << 13
            x ^= x >>> 17
            x ^= x << 5
            x = x >>> 0
            out.push(b ^ (x & 0xff))
        }
        return out
    }
}

// ------------------------------------------------------------ helpers

let beforeOperation: (() => Promise<void>) | undefined = undefined

/** The VM runner makes every flash operation yield (see tests/vm/log.vm.ts). */
export function setLogCaseYield(fn: () => Promise<void>) {
    beforeOperation = fn
}

function tinyNor(seed: number): MemoryNor {
    return new MemoryNor({ geometry: TINY_GEOMETRY, seed: seed, beforeOperation: beforeOperation })
}

const FRAME = { session: 7, seq: 1234 }

function roundTrip(rec: LogRecord, cipher?: RecordCipher): LogRecord {
    return decodeRecord(encodeRecord(rec, FRAME, cipher), 0, cipher).record
}

/** The decode error's code as a number: 1 if `run` throws LogDecodeError with `code`, 0 otherwise. */
function failsWith(code: string, run: () => void): number {
    try {
        run()
    } catch (e) {
        return e instanceof LogDecodeError && e.code === code ? 1 : 0
    }
    return 0
}

function flipBit(bytes: number[], index: number, bit: number): number[] {
    const out = bytes.slice(0)
    out[index] = out[index] ^ (1 << bit)
    return out
}

async function freshStore(nor: MemoryNor, cipher?: RecordCipher): Promise<LogStore> {
    const store = new LogStore(nor, { cipher: cipher, newStoreId: 0x1234abcd, stepReads: 4 })
    await store.recover()
    return store
}

/** A session of a header, `traces` 20-sample trace chunks and (if `close`) a summary. */
async function writeSession(store: LogStore, traces: number, close: boolean): Promise<number> {
    const r = await store.append(makeHeader(1))
    for (let k = 0; k < traces; k++) await store.append(makeTrace(20, k * 2000))
    if (close) await store.append(makeSummary())
    return r.session
}

/**
 * The records of a session as the host would decode them, read record by
 * record (the VM heap cannot hold a whole session's bytes and its decoding
 * at once); [] if any record fails to decode.
 */
async function readAll(store: LogStore, session: number, cipher?: RecordCipher): Promise<LogRecord[]> {
    const info = store.sessionInfo(session)
    if (info === null) return []
    const out: LogRecord[] = []
    let offset = 0
    let seq = info.firstSeq
    while (offset < info.sizeBytes) {
        try {
            const h = decodeFrameHeader(await store.readSession(session, offset, FRAME_HEADER_BYTES), 0)
            const d = decodeRecord(await store.readSession(session, offset, h.recordBytes), 0, cipher)
            if (d.seq !== seq) return []
            out.push(d.record)
            offset += d.recordBytes
            seq++
        } catch (e) {
            return []
        }
    }
    return out
}

/** A session's last sequence number, -1 if it is not in the store (no `!`: DeviceScript rejects non-null assertions). */
function lastSeqOf(store: LogStore, session: number): number {
    const info = store.sessionInfo(session)
    return info === null ? -1 : info.lastSeq
}

function isArchived(store: LogStore, session: number): boolean {
    const info = store.sessionInfo(session)
    return info !== null && info.archived
}

async function storeErrorCode(run: () => Promise<void>): Promise<string> {
    try {
        await run()
    } catch (e) {
        return e instanceof StoreError ? e.code : "other"
    }
    return "none"
}

// ------------------------------------------------------------ cases

export const logRecordCases: NumericCase[] = [
    { name: "frame header is 14 bytes", actual: () => FRAME_HEADER_BYTES, expected: 14, tolerance: 0 },
    { name: "a trace chunk holds up to 53 samples", actual: () => MAX_TRACE_SAMPLES, expected: 53, tolerance: 0 },
    {
        name: "session header round-trips (wall clock, strings)",
        actual: () => {
            const h = roundTrip(makeHeader(42))
            return h.kind === RecordKind.SessionHeader && h.programId === "relax-first" && h.deviceId === "e1daef9b9723f6da" ? h.startWallMs : -1
        },
        expected: 1795000000123,
        tolerance: 0,
    },
    {
        name: "phase end round-trips",
        actual: () => {
            const r = roundTrip({ kind: RecordKind.PhaseEnd, phaseIndex: 3, phaseKind: 2, timeMs: 420000, outcome: PhaseOutcome.GateNotMet, repsDone: 0 })
            return r.kind === RecordKind.PhaseEnd && r.outcome === PhaseOutcome.GateNotMet ? r.timeMs : -1
        },
        expected: 420000,
        tolerance: 0,
    },
    {
        name: "rep round-trips a negative fixed-point peak",
        actual: () => {
            const r = roundTrip(makeRep(9))
            return r.kind === RecordKind.Rep && r.offsetMs === -1 && r.repIndex === 9 ? r.peakX100 : 0
        },
        expected: -2345,
        tolerance: 0,
    },
    {
        name: "rep metrics -> record -> metrics keeps the peak to 0.01",
        actual: () => {
            const m = repMetricsFromRecord(makeRep(1))
            m.peak = 12.345
            return repMetricsFromRecord(repRecordFromMetrics(LogChannel.Pressure, m)).peak
        },
        expected: 12.35,
        tolerance: 1e-9,
    },
    {
        name: "event round-trips",
        actual: () => {
            const r = roundTrip(makeEvent(EventCode.PainRating, 6))
            return r.kind === RecordKind.Event && r.code === EventCode.PainRating ? r.value : -1
        },
        expected: 6,
        tolerance: 0,
    },
    {
        name: "trace round-trips with a missing sample",
        actual: () => {
            const r = roundTrip(makeTrace(MAX_TRACE_SAMPLES, 5000))
            return r.kind === RecordKind.Trace && r.pressureCmH2OX10.length === MAX_TRACE_SAMPLES && r.emgUvX10[1] === TRACE_MISSING ? r.pressureCmH2OX10[52] : -1
        },
        expected: 150 + 52 * 3,
        tolerance: 0,
    },
    {
        name: "summary round-trips both channels",
        actual: () => {
            const r = roundTrip(makeSummary())
            return r.kind === RecordKind.Summary && r.channels.length === 2 ? r.channels[1].mvcX100 : -1
        },
        expected: 6543,
        tolerance: 0,
    },
    {
        name: "ack round-trips",
        actual: () => {
            const r = roundTrip({ kind: RecordKind.Ack, ackedSession: 12, lastSeq: 99999 })
            return r.kind === RecordKind.Ack && r.ackedSession === 12 ? r.lastSeq : -1
        },
        expected: 99999,
        tolerance: 0,
    },
    {
        name: "an encrypted record round-trips and hides its payload",
        actual: () => {
            const c = new ToyCipher(77)
            const bytes = encodeRecord(makeHeader(5), FRAME, c)
            const plain = encodeRecord(makeHeader(5), FRAME)
            const r = decodeRecord(bytes, 0, c).record
            // the device id (16 ASCII bytes) must not appear in the encrypted bytes
            let same = 0
            for (let i = FRAME_HEADER_BYTES; i < plain.length - 4; i++) if (bytes[i] === plain[i]) same++
            return r.kind === RecordKind.SessionHeader && r.bootCount === 5 && same < 20 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "the wrong key fails to decrypt",
        actual: () => failsWith(DecodeErrorCode.DecryptFailed, () => decodeRecord(encodeRecord(makeRep(1), FRAME, new ToyCipher(1)), 0, new ToyCipher(2))),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a flipped payload bit fails the CRC",
        actual: () => failsWith(DecodeErrorCode.BadCrc, () => decodeRecord(flipBit(encodeRecord(makeRep(1), FRAME), FRAME_HEADER_BYTES + 20, 3))),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a flipped magic bit is a bad magic",
        actual: () => failsWith(DecodeErrorCode.BadMagic, () => decodeRecord(flipBit(encodeRecord(makeRep(1), FRAME), 1, 0))),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a record cut short is truncated",
        actual: () => failsWith(DecodeErrorCode.Truncated, () => decodeRecord(encodeRecord(makeRep(1), FRAME).slice(0, 40))),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "an event record's CRC is the same on both sides",
        actual: () => {
            const b = encodeRecord(makeEvent(EventCode.Stop, 0), { session: 3, seq: 77 })
            return crc32(b)
        },
        expected: 0x2144df1c,
        tolerance: 0,
    },
    { name: "a typical 25-minute session takes 82260 bytes", actual: () => sessionBytes(TYPICAL_SESSION).total, expected: 82260, tolerance: 0 },
    { name: "a W25Q128 holds 200 typical sessions", actual: () => logCapacity(w25qGeometry(W25Q128_SECTORS), TYPICAL_SESSION).sessions, expected: 200, tolerance: 0 },
]

export const logRecordThrowCases: ThrowCase[] = [
    { name: "a pain rating of 11 is refused", run: () => encodeRecord(makeEvent(EventCode.PainRating, 11), FRAME) },
    { name: "a trace chunk of 54 samples is refused", run: () => encodeRecord(makeTrace(MAX_TRACE_SAMPLES + 1, 0), FRAME) },
    { name: "a rep flag outside RepFlag is refused", run: () => encodeRecord({ ...makeRep(1), flags: 128 }, FRAME) },
]

export const logStoreCases: AsyncNumericCase[] = [
    {
        name: "a blank chip is formatted on first boot",
        actual: async () => {
            const store = new LogStore(tinyNor(1), { newStoreId: 99 })
            const report = await store.recover()
            return report.formatted && store.storeId() === 99 && store.nextSeq() === 1 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a session reads back as its records, sequence numbers +1",
        actual: async () => {
            const store = await freshStore(tinyNor(1))
            const s = await writeSession(store, 3, true)
            const recs = await readAll(store, s)
            const info = store.sessionInfo(s)
            return recs.length === 5 && info !== null && info.complete && info.lastSeq - info.firstSeq === 4 ? recs.length : -1
        },
        expected: 5,
        tolerance: 0,
    },
    {
        name: "records survive a reboot; numbering continues",
        actual: async () => {
            const nor = tinyNor(1)
            const store = await freshStore(nor)
            await writeSession(store, 2, false)
            const next = store.nextSeq()
            const again = await freshStore(nor)
            const list = again.listSessions()
            const ok = list.length === 1 && !list[0].complete && !list[0].open && list[0].startWallMs === 1795000000123
            return ok && again.nextSeq() === next && (await readAll(again, 1)).length === 3 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "sessions spanning sectors survive a reboot (sealed sectors skipped)",
        actual: async () => {
            const nor = tinyNor(1)
            const store = await freshStore(nor)
            await writeSession(store, 8, true)
            const again = await freshStore(nor)
            const recs = await readAll(again, 1)
            return recs.length === 10 && again.recoveryReport().sectorsSkipped >= 1 ? recs.length : -1
        },
        expected: 10,
        tolerance: 0,
    },
    {
        name: "encrypted sessions recover and decode with the key",
        actual: async () => {
            const nor = tinyNor(1)
            const store = await freshStore(nor, new ToyCipher(5))
            await writeSession(store, 2, true)
            const again = await freshStore(nor, new ToyCipher(5))
            const info = again.sessionInfo(1)
            return info !== null && info.bootCount === 1 ? (await readAll(again, 1, new ToyCipher(5))).length : -1
        },
        expected: 4,
        tolerance: 0,
    },
    {
        name: "acknowledging twice writes once",
        actual: async () => {
            const nor = tinyNor(1)
            const store = await freshStore(nor)
            const s = await writeSession(store, 1, true)
            const last = lastSeqOf(store, s)
            const first = await store.acknowledge(s, last)
            const ops = nor.mutatingOps
            const second = await store.acknowledge(s, last)
            const again = await freshStore(nor)
            return first === AckResult.Written && second === AckResult.Already && nor.mutatingOps === ops && isArchived(again, s) ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a full store refuses appends rather than drop unarchived data",
        actual: async () => {
            const store = await freshStore(tinyNor(1))
            await writeSession(store, 8, true)
            const code = await storeErrorCode(async () => {
                await writeSession(store, 8, true)
            })
            return code === StoreErrorCode.Full && store.sessionInfo(1) !== null ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "archived oldest sessions are dropped first, with an event",
        actual: async () => {
            const store = await freshStore(tinyNor(1))
            const s1 = await writeSession(store, 8, true)
            await store.acknowledge(s1, lastSeqOf(store, s1))
            const s2 = await writeSession(store, 8, true)
            const recs = await readAll(store, s2)
            let dropEvents = 0
            for (const r of recs) if (r.kind === RecordKind.Event && r.code === EventCode.StoreDroppedArchived && r.value === s1) dropEvents++
            const listed = store.listSessions()
            return listed.length === 1 && listed[0].session === s2 && dropEvents === 1 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a power cut loses at most the record in flight",
        actual: async () => {
            const nor = tinyNor(3)
            const store = await freshStore(nor)
            await store.append(makeHeader(1))
            await store.append(makeTrace(20, 0))
            nor.cutPowerAtOp(nor.mutatingOps + 1)
            const code = await storeErrorCode(async () => {
                await store.append(makeTrace(20, 2000))
            })
            nor.reboot()
            const again = await freshStore(nor)
            const recs = await readAll(again, 1)
            await again.append(makeHeader(2))
            const after = await freshStore(nor)
            return code === "other" && recs.length === 2 && after.listSessions().length === 2 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
]
