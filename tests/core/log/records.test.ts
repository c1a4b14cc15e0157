// The log record format: every kind round-trips for random field values
// within their ranges (plain and AES-256-CCM encrypted), every single-bit
// flip and every truncation is detected, and the errors say what was
// expected, what was found and where. Node only (fast-check); the shared
// cases (tests/cases/log.cases.ts) run in the VM too.
import fc from "fast-check"
import { crc32 as zlibCrc32 } from "node:zlib"
import { describe, expect, test } from "vitest"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../../../src/core/metrics/types"
import {
    channelSummaryFromMetrics,
    decodeFrameHeader,
    decodeRecord,
    decodeRecords,
    DecodeErrorCode,
    encodeRecord,
    EventCode,
    FRAME_HEADER_BYTES,
    LogDecodeError,
    LogEncodeError,
    MAX_RECORD_BYTES,
    MAX_STRING_BYTES,
    MAX_TRACE_SAMPLES,
    RecordKind,
    repMetricsFromRecord,
    repRecordFromMetrics,
    sessionMetricsFromChannelSummary,
    StopCause,
    traceSample,
    TRACE_MISSING,
    type ChannelSummary,
    type LogRecord,
    type RecordCipher,
} from "../../../src/core/log/records"
import { makeEvent, makeHeader, makeRep, makeSummary, makeTrace } from "../../cases/log.cases"
import { ccmCipher } from "./helpers"

const u8 = fc.integer({ min: 0, max: 0xff })
const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff })
const msOrNone = fc.integer({ min: -1, max: 0x7fffffff })
const utf8Bytes = (s: string) => Buffer.byteLength(s, "utf8")
const shortString = fc.oneof(fc.string({ maxLength: MAX_STRING_BYTES }), fc.string({ unit: "grapheme", maxLength: 16 })).filter(s => utf8Bytes(s) <= MAX_STRING_BYTES)
const repFlags = fc.integer({ min: 0, max: 63 })

const header = fc.record({
    kind: fc.constant(RecordKind.SessionHeader as const),
    formatVersion: fc.constant(1),
    timeSync: fc.integer({ min: 0, max: 1 }),
    bootCount: u32,
    startMonoMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    startWallMs: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    programVersion: u32,
    deviceId: shortString,
    firmwareVersion: shortString,
    programId: shortString,
})
const phaseStart = fc.record({ kind: fc.constant(RecordKind.PhaseStart as const), phaseIndex: u8, phaseKind: u8, timeMs: u32 })
const phaseEnd = fc.record({
    kind: fc.constant(RecordKind.PhaseEnd as const),
    phaseIndex: u8,
    phaseKind: u8,
    timeMs: u32,
    outcome: fc.integer({ min: 1, max: 4 }),
    repsDone: u16,
})
const rep = fc.record({
    kind: fc.constant(RecordKind.Rep as const),
    channel: fc.integer({ min: 0, max: 1 }),
    block: u8,
    repIndex: u16,
    flags: repFlags,
    cueOnMs: u32,
    cueOffMs: u32,
    onsetMs: msOrNone,
    offsetMs: msOrNone,
    onsetLatencyMs: msOrNone,
    timeToPeakMs: msOrNone,
    releaseLatencyMs: msOrNone,
    holdAtTargetMs: u32,
    peakX100: i32,
    meanWorkX100: i32,
    peakPctMvcX10: i32,
    holdCvX1000: i32,
    enduranceDeclinePctX10: i32,
})
/** events with a value valid for their code */
const event = fc
    .record({ timeMs: u32, code: fc.integer({ min: 1, max: 12 }), cause: u8, value: i32, extra: i32 })
    .map(e => {
        const r = { kind: RecordKind.Event as const, ...e }
        if (e.code === EventCode.Stop || e.code === EventCode.StimStop) r.cause = e.cause % (StopCause.Host + 1)
        if (e.code === EventCode.PainRating) r.value = Math.abs(e.value) % 11
        if (e.code === EventCode.DilatorSize) {
            r.value = 1 + (Math.abs(e.value) % 1000)
            r.extra = Math.abs(e.extra) % 1000
        }
        if (e.code === EventCode.StoreDroppedArchived) {
            r.value = 1 + (Math.abs(e.value) % 1000)
            r.extra = r.value + (Math.abs(e.extra) % 1000)
        }
        return r
    })
const sample = fc.integer({ min: -32768, max: 32767 })
const trace = fc.integer({ min: 0, max: MAX_TRACE_SAMPLES }).chain(n =>
    fc.record({
        kind: fc.constant(RecordKind.Trace as const),
        startMs: u32,
        intervalMs: fc.integer({ min: 1, max: 0xffff }),
        pressureCmH2OX10: fc.array(sample, { minLength: n, maxLength: n }),
        emgUvX10: fc.array(sample, { minLength: n, maxLength: n }),
    })
)
const channelSummary: fc.Arbitrary<ChannelSummary> = fc.record({
    channel: fc.integer({ min: 0, max: 1 }),
    preMeanX100: i32,
    preSdX100: fc.integer({ min: 0, max: 0x7fffffff }),
    preCvX1000: i32,
    preDurationMs: u32,
    postMeanX100: i32,
    postSdX100: fc.integer({ min: 0, max: 0x7fffffff }),
    postCvX1000: i32,
    postDurationMs: u32,
    mvcX100: i32,
    repsPlanned: u16,
    repsDone: u16,
    holdFatiguePctX10: i32,
    enduranceDeclinePctX10: i32,
    timeOnTaskMs: u32,
})
const summary = fc.record({
    kind: fc.constant(RecordKind.Summary as const),
    endMs: u32,
    outcome: fc.integer({ min: 1, max: 3 }),
    stopCause: fc.integer({ min: 0, max: StopCause.Host }),
    channels: fc.array(channelSummary, { maxLength: 2 }),
})
const ack = fc.record({ kind: fc.constant(RecordKind.Ack as const), ackedSession: fc.integer({ min: 1, max: 0xffffffff }), lastSeq: fc.integer({ min: 1, max: 0xffffffff }) })

const KINDS: [string, fc.Arbitrary<LogRecord>][] = [
    ["session header", header],
    ["phase start", phaseStart],
    ["phase end", phaseEnd],
    ["rep", rep],
    ["event", event],
    ["trace", trace],
    ["summary", summary],
    ["ack", ack],
]
const anyRecord: fc.Arbitrary<LogRecord> = fc.oneof(...KINDS.map(k => k[1]))
const frame = fc.record({ session: u32, seq: u32 })

/** A cipher with the largest tag allowed, to check the size limit. */
const tag16: RecordCipher = {
    encrypt: (_nonce, plain) => [...plain, ...new Array(16).fill(0xaa)],
    decrypt: (_nonce, data) => data.slice(0, data.length - 16),
}

function decodeError(run: () => unknown): LogDecodeError {
    try {
        run()
    } catch (e) {
        if (e instanceof LogDecodeError) return e
        throw e
    }
    throw new Error("decoded without an error")
}

describe("every record kind round-trips", () => {
    const ccm = ccmCipher("records test key")
    test.each(KINDS)("%s, plain and encrypted", (_name, arb) => {
        fc.assert(
            fc.property(arb, frame, (rec, f) => {
                const plain = decodeRecord(encodeRecord(rec, f))
                expect(plain.record).toEqual(rec)
                expect([plain.session, plain.seq, plain.encrypted]).toEqual([f.session, f.seq, false])
                const bytes = encodeRecord(rec, f, ccm)
                const enc = decodeRecord(bytes, 0, ccm)
                expect(enc.record).toEqual(rec)
                expect(enc.encrypted).toBe(true)
                expect(enc.recordBytes).toBe(bytes.length)
            })
        )
    })

    test("every record fits MAX_RECORD_BYTES with the largest cipher tag", () => {
        fc.assert(
            fc.property(anyRecord, frame, (rec, f) => {
                expect(encodeRecord(rec, f, tag16).length).toBeLessThanOrEqual(MAX_RECORD_BYTES)
            })
        )
    })

    test("records decode at an offset inside a larger buffer, and in a run", () => {
        fc.assert(
            fc.property(fc.array(fc.tuple(anyRecord, frame), { minLength: 1, maxLength: 8 }), list => {
                const bytes = [0x00, 0x11, 0x22]
                const at: number[] = []
                for (const [rec, f] of list) {
                    at.push(bytes.length)
                    bytes.push(...encodeRecord(rec, f))
                }
                list.forEach(([rec], i) => expect(decodeRecord(bytes, at[i]).record).toEqual(rec))
                const run = decodeRecords(bytes.slice(3))
                expect(run.faults).toEqual([])
                expect(run.records.map(r => r.record)).toEqual(list.map(l => l[0]))
            })
        )
    })
})

describe("corruption is detected", () => {
    const samples: [string, LogRecord][] = [
        ["session header", makeHeader(7)],
        ["rep", makeRep(3)],
        ["event", makeEvent(EventCode.StimLevel, 12000)],
        ["trace", makeTrace(MAX_TRACE_SAMPLES, 0)],
        ["summary", makeSummary()],
        ["ack", { kind: RecordKind.Ack, ackedSession: 4, lastSeq: 1234 }],
    ]

    test.each(samples)("every single-bit flip in a %s record", (_name, rec) => {
        for (const cipher of [undefined, ccmCipher("bit flips")]) {
            const bytes = encodeRecord(rec, { session: 9, seq: 4242 }, cipher)
            for (let i = 0; i < bytes.length; i++)
                for (let bit = 0; bit < 8; bit++) {
                    const flipped = bytes.slice()
                    flipped[i] ^= 1 << bit
                    expect(() => decodeRecord(flipped, 0, cipher), `byte ${i} bit ${bit}`).toThrow(LogDecodeError)
                }
        }
    })

    test("random corruption of random records never decodes silently to something else", () => {
        fc.assert(
            fc.property(anyRecord, frame, fc.integer({ min: 0, max: 10000 }), fc.integer({ min: 1, max: 255 }), (rec, f, where, mask) => {
                const bytes = encodeRecord(rec, f)
                const i = where % bytes.length
                bytes[i] ^= mask
                expect(() => decodeRecord(bytes)).toThrow(LogDecodeError)
            })
        )
    })

    test.each(samples)("every truncation of a %s record", (_name, rec) => {
        const bytes = encodeRecord(rec, { session: 1, seq: 2 })
        for (let n = 0; n < bytes.length; n++) expect(decodeError(() => decodeRecord(bytes.slice(0, n))).code, `${n} bytes`).toBe(DecodeErrorCode.Truncated)
    })

    test("errors say what was expected, what was found and where", () => {
        const bytes = encodeRecord(makeRep(1), { session: 3, seq: 5 })
        const crcAt = bytes.length - 4
        bytes[crcAt] ^= 0xff
        const crc = decodeError(() => decodeRecord([0xee, ...bytes], 1))
        expect([crc.code, crc.offset]).toEqual([DecodeErrorCode.BadCrc, crcAt + 1])
        expect(crc.message).toMatch(/^bad-crc at offset \d+: expected CRC-32 0x[0-9a-f]{8}, found 0x[0-9a-f]{8}$/)

        const magic = decodeError(() => decodeRecord([0xff, 0xff, ...bytes.slice(2)]))
        expect(magic.message).toBe("bad-magic at offset 0: expected magic 0x50 0x4c, found 0xff 0xff")

        const trunc = decodeError(() => decodeRecord(bytes.slice(0, 20)))
        expect(trunc.message).toBe(`truncated at offset 0: expected ${bytes.length} record bytes, found 20 bytes`)

        const kind = bytes.slice()
        kind[2] = 42
        expect(decodeError(() => decodeFrameHeader(kind, 0)).message).toBe("bad-kind at offset 2: expected kind 1..8, found 42")
    })

    test("a field out of range inside a sound frame is reported with its name and offset", () => {
        // a rep whose flags byte is 128 (no such RepFlag), framed with a valid CRC
        const ok = encodeRecord(makeRep(1), { session: 1, seq: 1 })
        const flagsAt = FRAME_HEADER_BYTES + 4
        const bad = ok.slice(0, ok.length - 4)
        bad[flagsAt] = 128
        const crc = zlibCrc32(Buffer.from(bad))
        bad.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, (crc >>> 24) & 0xff)
        const e = decodeError(() => decodeRecord(bad))
        expect([e.code, e.offset, e.expected, e.found]).toEqual([DecodeErrorCode.BadValue, flagsAt, "flags in 0..127", "128"])
    })

    test("decodeRecords reports a corrupt record with its offset and goes on after it", () => {
        const a = encodeRecord(makeRep(1), { session: 1, seq: 1 })
        const b = encodeRecord(makeRep(2), { session: 1, seq: 2 })
        const c = encodeRecord(makeRep(3), { session: 1, seq: 3 })
        b[FRAME_HEADER_BYTES + 10] ^= 4
        const run = decodeRecords([...a, ...b, ...c])
        expect(run.records.map(r => r.seq)).toEqual([1, 3])
        expect(run.faults.map(f => [f.offset, f.error.code])).toEqual([[a.length, DecodeErrorCode.BadCrc]])
    })

    test("an encrypted record needs the right key, and its header cannot be moved", () => {
        const ccm = ccmCipher("key A")
        const bytes = encodeRecord(makeHeader(1), { session: 5, seq: 77 }, ccm)
        expect(decodeError(() => decodeRecord(bytes)).code).toBe(DecodeErrorCode.NoKey)
        expect(decodeError(() => decodeRecord(bytes, 0, ccmCipher("key B"))).code).toBe(DecodeErrorCode.DecryptFailed)
        // the same ciphertext re-framed under another seq (valid CRC) fails authentication
        const moved = encodeRecord(makeHeader(1), { session: 5, seq: 78 }, { encrypt: () => bytes.slice(FRAME_HEADER_BYTES, bytes.length - 4), decrypt: () => null })
        expect(decodeError(() => decodeRecord(moved, 0, ccm)).code).toBe(DecodeErrorCode.DecryptFailed)
        // nothing of the plain payload shows through
        expect(Buffer.from(bytes).includes(Buffer.from("e1daef9b9723f6da"))).toBe(false)
    })
})

describe("encoding refuses values outside the format", () => {
    test.each([
        ["pain rating 11", makeEvent(EventCode.PainRating, 11), "event.value"],
        ["dilator size 0", makeEvent(EventCode.DilatorSize, 0), "event.value"],
        ["stop cause 200", { ...makeEvent(EventCode.Stop, 0), cause: 200 }, "event.cause"],
        ["an event code past the last", { ...makeEvent(EventCode.Pause, 0), code: EventCode.JoinedLate + 1 }, "event.code"],
        ["a fractional peak", { ...makeRep(1), peakX100: 1.5 }, "rep.peakX100"],
        ["onset -2", { ...makeRep(1), onsetMs: -2 }, "rep.onsetMs"],
        ["a 65-byte program id", { ...makeHeader(1), programId: "x".repeat(65) }, "sessionHeader.programId"],
        ["54 trace samples", makeTrace(MAX_TRACE_SAMPLES + 1, 0), "trace samples"],
        ["channels of different lengths", { ...makeTrace(3, 0), emgUvX10: [1, 2] }, "trace.emgUvX10"],
        ["a trace sample of 40000", { ...makeTrace(3, 0), emgUvX10: [1, 40000, 3] }, "trace.emgUvX10"],
        ["three summary channels", { ...makeSummary(), channels: [...makeSummary().channels, makeSummary().channels[0]] }, "summary.channels"],
    ] as [string, LogRecord, string][])("%s", (_name, rec, field) => {
        let err: unknown
        try {
            encodeRecord(rec, { session: 1, seq: 1 })
        } catch (e) {
            err = e
        }
        expect(err).toBeInstanceOf(LogEncodeError)
        expect((err as LogEncodeError).field).toBe(field)
    })
})

describe("metrics <-> records", () => {
    const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
    const repMetrics: fc.Arbitrary<RepMetrics> = fc.record({
        repIndex: fc.integer({ min: 0, max: 500 }),
        block: fc.integer({ min: 0, max: 10 }),
        cueOnMs: fc.integer({ min: 0, max: 3600000 }),
        cueOffMs: fc.integer({ min: 0, max: 3600000 }),
        onsetMs: fc.integer({ min: -1, max: 3600000 }),
        offsetMs: fc.integer({ min: -1, max: 3600000 }),
        onsetLatencyMs: fc.integer({ min: -1, max: 60000 }),
        peak: finite(-500, 5000),
        peakPctMvc: finite(0, 1000),
        timeToPeakMs: fc.integer({ min: -1, max: 60000 }),
        meanWork: finite(-500, 5000),
        holdAtTargetMs: fc.integer({ min: 0, max: 60000 }),
        holdCv: finite(0, 50),
        releaseLatencyMs: fc.integer({ min: -1, max: 60000 }),
        enduranceDeclinePct: finite(-100, 100),
        flags: fc.integer({ min: 0, max: RepFlag.NoRelease * 2 - 1 }),
    })

    test("RepMetrics keep their values to the fixed-point step", () => {
        fc.assert(
            fc.property(repMetrics, fc.integer({ min: 0, max: 1 }), (m, ch) => {
                const back = repMetricsFromRecord(decodeRecord(encodeRecord(repRecordFromMetrics(ch, m), { session: 1, seq: 1 })).record as never)
                expect(Math.abs(back.peak - m.peak)).toBeLessThanOrEqual(0.005 + 1e-9)
                expect(Math.abs(back.meanWork - m.meanWork)).toBeLessThanOrEqual(0.005 + 1e-9)
                expect(Math.abs(back.peakPctMvc - m.peakPctMvc)).toBeLessThanOrEqual(0.05 + 1e-9)
                expect(Math.abs(back.holdCv - m.holdCv)).toBeLessThanOrEqual(0.0005 + 1e-9)
                expect(Math.abs(back.enduranceDeclinePct - m.enduranceDeclinePct)).toBeLessThanOrEqual(0.05 + 1e-9)
                expect([back.onsetMs, back.offsetMs, back.cueOnMs, back.flags, back.repIndex]).toEqual([m.onsetMs, m.offsetMs, m.cueOnMs, m.flags, m.repIndex])
            })
        )
    })

    test("SessionMetrics keep their values to the fixed-point step", () => {
        const rest = fc.record({ mean: finite(-100, 1000), sd: finite(0, 100), cv: finite(-10, 10), durationMs: fc.integer({ min: 0, max: 600000 }) })
        const metrics: fc.Arbitrary<SessionMetrics> = fc.record({
            preBaseline: rest,
            postBaseline: rest,
            mvc: finite(0, 5000),
            repsPlanned: fc.integer({ min: 0, max: 500 }),
            repsDone: fc.integer({ min: 0, max: 500 }),
            holdFatiguePct: finite(-100, 100),
            enduranceDeclinePct: finite(-100, 100),
            timeOnTaskMs: fc.integer({ min: 0, max: 3600000 }),
        })
        fc.assert(
            fc.property(metrics, m => {
                const back = sessionMetricsFromChannelSummary(channelSummaryFromMetrics(1, m))
                expect(Math.abs(back.mvc - m.mvc)).toBeLessThanOrEqual(0.005 + 1e-9)
                expect(Math.abs(back.preBaseline.cv - m.preBaseline.cv)).toBeLessThanOrEqual(0.0005 + 1e-9)
                expect(Math.abs(back.postBaseline.sd - m.postBaseline.sd)).toBeLessThanOrEqual(0.005 + 1e-9)
                expect([back.repsPlanned, back.repsDone, back.timeOnTaskMs]).toEqual([m.repsPlanned, m.repsDone, m.timeOnTaskMs])
            })
        )
    })

    test("NaN, infinities and out-of-range values saturate instead of failing the append", () => {
        const m = repMetricsFromRecord(makeRep(1))
        const r = repRecordFromMetrics(0, { ...m, peak: NaN, meanWork: Infinity, holdCv: -Infinity, onsetMs: -5, repIndex: 1e9 })
        expect([r.peakX100, r.meanWorkX100, r.holdCvX1000, r.onsetMs, r.repIndex]).toEqual([0, 0x7fffffff, -0x7fffffff, -1, 0xffff])
        expect(() => encodeRecord(r, { session: 1, seq: 1 })).not.toThrow()
        expect([traceSample(NaN), traceSample(12.34), traceSample(-5000), traceSample(1e6)]).toEqual([TRACE_MISSING, 123, -32767, 32767])
    })
})
