/**
 * The session log record format: what the firmware appends to flash and the
 * host pulls, checks and decodes. One module for both sides, pure functions
 * over `number[]` (src/core/codec/bytes.ts), no floats on the wire: every
 * measured value is a fixed-point integer with its scale in its name
 * (`peakX100` = channel units x 100).
 *
 * Frame (every record; little-endian):
 *
 *     offset  size  field
 *     0       2     magic 0x50 0x4C ("PL"); never 0xFF, so blank flash is no record
 *     2       1     kind (RecordKind)
 *     3       1     flags: bit 0 = payload encrypted; the other bits are 0
 *     4       2     n = payload length [bytes], <= MAX_PAYLOAD_BYTES
 *     6       4     session number (0 = a store record: acknowledgement, store event)
 *     10      4     sequence number: per store, +1 per record, never reused
 *     14      n     payload: the plain payload below, or, encrypted,
 *                   AES-256-CCM(key, nonce, plain) = ciphertext || tag
 *     14+n    4     CRC-32 (zlib) over bytes 0 .. 14+n-1
 *
 *     nonce (13 bytes) = seq u32, session u32, kind u8, "PFTL": unique per
 *     record because seq is never reused, and binding the ciphertext to its
 *     header (a record moved to another seq/session/kind fails to decrypt).
 *
 * Every record is at most MAX_RECORD_BYTES (256, one flash page) long with
 * encryption; trace chunks are sized to stay under it.
 *
 * Payloads (plain; u/i = unsigned/signed, digits = bits; "ms" fields are
 * session time, ms since the session's start, except where noted):
 *
 *     SessionHeader  formatVersion u8 (=1) | timeSync u8 (TimeSync) |
 *                    bootCount u32 | startMonoMs u48 (ms since boot) |
 *                    startWallMs u48 (Unix ms, 0 unless timeSync != None) |
 *                    programVersion u32 | deviceId str8 | firmwareVersion str8 |
 *                    programId str8          (str8 = u8 length + UTF-8, <= 64 bytes)
 *     PhaseStart     phaseIndex u8 | phaseKind u8 | timeMs u32
 *     PhaseEnd       phaseIndex u8 | phaseKind u8 | timeMs u32 | outcome u8 | repsDone u16
 *     Rep            channel u8 | block u8 | repIndex u16 | flags u8 (RepFlag) |
 *                    cueOnMs u32 | cueOffMs u32 | onsetMs i32 | offsetMs i32 |
 *                    onsetLatencyMs i32 | timeToPeakMs i32 | releaseLatencyMs i32 |
 *                    holdAtTargetMs u32 | peakX100 i32 | meanWorkX100 i32 |
 *                    peakPctMvcX10 i32 | holdCvX1000 i32 | enduranceDeclinePctX10 i32
 *                    (-1 = none for onset/offset/latencies/time to peak)
 *     Event          timeMs u32 | code u8 (EventCode) | cause u8 | value i32 | extra i32
 *     Trace          startMs u32 | intervalMs u16 | count u8 |
 *                    count x (pressureCmH2OX10 i16, emgUvX10 i16); TRACE_MISSING = no sample
 *     Summary        endMs u32 | outcome u8 | stopCause u8 | channels u8 |
 *                    channels x (channel u8 | preMeanX100 i32 | preSdX100 i32 |
 *                    preCvX1000 i32 | preDurationMs u32 | postMeanX100 i32 |
 *                    postSdX100 i32 | postCvX1000 i32 | postDurationMs u32 |
 *                    mvcX100 i32 | repsPlanned u16 | repsDone u16 |
 *                    holdFatiguePctX10 i32 | enduranceDeclinePctX10 i32 | timeOnTaskMs u32)
 *     Ack            ackedSession u32 | lastSeq u32   (session 0: the host archived
 *                    ackedSession's records up to lastSeq)
 *
 * Channel units: pressure cmH2O, EMG uV (metrics/types.ts). Sizes and
 * offsets are computed from these definitions (the field tables below),
 * never counted by hand.
 *
 * Decoding checks everything: magic, kind, flags, length, CRC, then every
 * field against its range; a failure throws LogDecodeError saying what was
 * expected, what was found and at which byte offset.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import { ByteReader, ByteWriter, CodecError, crc32, utf8Decode, utf8Encode } from "../codec/bytes"
import { RepFlag, type RepMetrics, type RestMetrics, type SessionMetrics } from "../metrics/types"

export enum RecordKind {
    SessionHeader = 1,
    PhaseStart = 2,
    PhaseEnd = 3,
    Rep = 4,
    Event = 5,
    Trace = 6,
    Summary = 7,
    Ack = 8,
}

/** Names by kind, for messages (DeviceScript has no enum reverse mapping). */
export const RECORD_KIND_NAMES: string[] = ["?", "session-header", "phase-start", "phase-end", "rep", "event", "trace", "summary", "ack"]

export function recordKindName(kind: number): string {
    return kind >= 1 && kind < RECORD_KIND_NAMES.length ? RECORD_KIND_NAMES[kind] : "kind " + kind
}

/** How the session's start is placed on the calendar. */
export enum TimeSync {
    /** no wall clock this boot: the host places the session by bootCount + startMonoMs */
    None = 0,
    /** the host set the wall clock during this boot (set_wall_clock) */
    Host = 1,
}

/** Same values as measurement-session.ts Channel and the trainer spec. */
export enum LogChannel {
    Emg = 0,
    Pressure = 1,
}

export enum PhaseOutcome {
    Completed = 1,
    /** a toning phase not started: the relaxation gate was not met */
    GateNotMet = 2,
    Stopped = 3,
    Fault = 4,
}

export enum SessionOutcome {
    Completed = 1,
    Stopped = 2,
    Fault = 3,
}

/** Why a session or the stimulation stopped (design.md, "Fail safe"). */
export enum StopCause {
    None = 0,
    Button = 1,
    Completed = 2,
    SessionTimeOver = 3,
    LeadOff = 4,
    ImpedanceOutOfRange = 5,
    ProbeMissing = 6,
    StimHeartbeatLost = 7,
    LowBattery = 8,
    Fault = 9,
    Contraindication = 10,
    Host = 11,
}
const STOP_CAUSE_MAX = 11

export enum EventCode {
    Pause = 1,
    Resume = 2,
    /** cause: StopCause */
    Stop = 3,
    /** value: rest tone x100 (channel units), extra: [ms] held under the threshold; cause: LogChannel */
    GateMet = 4,
    /** value: lowest rest tone x100 reached, extra: phase index of the gated phase; cause: LogChannel */
    GateNotMet = 5,
    /** value: rest-tone rise x100 (channel units); cause: LogChannel */
    SpasmSign = 6,
    /** value: new amplitude [uA], extra: previous amplitude [uA]; cause: what changed it (firmware's code) */
    StimLevel = 7,
    /** cause: StopCause */
    StimStop = 8,
    /** cause: fault code (safety supervisor), value: detail */
    Fault = 9,
    /** written by the store: value = first, extra = last session number dropped, cause = how many (<= 255) */
    StoreDroppedArchived = 10,
    /** value: patient's pain rating 0..10 (NRS) */
    PainRating = 11,
    /** value: dilator size (kit's size number, >= 1), extra: diameter [mm] x 10, 0 if unknown */
    DilatorSize = 12,
    /** deliberate stim starts were refused; cause: StimReason of the last (for example SessionRestTooShort), value: how many since the last status seen */
    StimRefused = 13,
    /**
     * the log module began recording a session already running (it booted,
     * or came back from a power cut, after the session started): nothing of
     * the session before timeMs was heard; value: timeMs [ms]. The reps that
     * had finished are read back from the trainer and follow it. cause:
     * JoinedLateCause (AfterEnd: the session had already ended, timeMs is
     * its end, and only its reps and summary were read back).
     */
    JoinedLate = 14,
}

/** JoinedLate's cause: what the log module found when it joined. */
export enum JoinedLateCause {
    /** the session was running (or paused, or in its rating) */
    Running = 0,
    /** the session had ended while the module was off (after part of it was recorded, or none of it) */
    AfterEnd = 1,
}
const EVENT_CODE_MAX = 14

/** A trace sample that is missing (dropout, lead-off, probe out). */
export const TRACE_MISSING = -32768
/** [ms] default trace interval: 10 Hz */
export const DEFAULT_TRACE_INTERVAL_MS = 100
/** Every record, framed and encrypted, fits in this many bytes (one flash page). */
export const MAX_RECORD_BYTES = 256
/** The cipher may add at most this much (AES-CCM tag <= 16 bytes). */
export const MAX_CIPHER_OVERHEAD_BYTES = 16
/** [bytes] longest string in a session header */
export const MAX_STRING_BYTES = 64
export const LOG_FORMAT_VERSION = 1

const MAGIC0 = 0x50
const MAGIC1 = 0x4c
const FLAG_ENCRYPTED = 1
const CRC_BYTES = 4
const NONCE_TAG = [0x50, 0x46, 0x54, 0x4c] // "PFTL"
/** RepFlag bits known to this format */
const REP_FLAGS_MASK = RepFlag.NoContraction | RepFlag.Interrupted | RepFlag.Dropout | RepFlag.Saturated | RepFlag.StartedHigh | RepFlag.NoRelease | RepFlag.PoorContact

// ---------------------------------------------------------------- records

export interface SessionHeaderRecord {
    kind: RecordKind.SessionHeader
    formatVersion: number
    timeSync: TimeSync
    bootCount: number
    /** [ms] since boot */
    startMonoMs: number
    /** [ms] Unix time, 0 if timeSync is None */
    startWallMs: number
    programVersion: number
    deviceId: string
    firmwareVersion: string
    programId: string
}

export interface PhaseStartRecord {
    kind: RecordKind.PhaseStart
    phaseIndex: number
    /** the program's phase kind code */
    phaseKind: number
    timeMs: number
}

export interface PhaseEndRecord {
    kind: RecordKind.PhaseEnd
    phaseIndex: number
    phaseKind: number
    timeMs: number
    outcome: PhaseOutcome
    repsDone: number
}

/** RepMetrics (metrics/types.ts) of one channel, in fixed point. */
export interface RepRecord {
    kind: RecordKind.Rep
    channel: LogChannel
    block: number
    repIndex: number
    /** RepFlag bits */
    flags: number
    cueOnMs: number
    cueOffMs: number
    /** -1 if none */
    onsetMs: number
    offsetMs: number
    onsetLatencyMs: number
    timeToPeakMs: number
    releaseLatencyMs: number
    holdAtTargetMs: number
    /** channel units x 100 */
    peakX100: number
    meanWorkX100: number
    /** [%] x 10 */
    peakPctMvcX10: number
    /** ratio x 1000 */
    holdCvX1000: number
    /** [%] x 10 */
    enduranceDeclinePctX10: number
}

export interface EventRecord {
    kind: RecordKind.Event
    timeMs: number
    code: EventCode
    cause: number
    value: number
    extra: number
}

/** A low-rate trace of both channels: sample k is at startMs + k x intervalMs. */
export interface TraceRecord {
    kind: RecordKind.Trace
    startMs: number
    intervalMs: number
    /** [cmH2O] x 10, TRACE_MISSING if none */
    pressureCmH2OX10: number[]
    /** [uV] x 10, TRACE_MISSING if none */
    emgUvX10: number[]
}

/** SessionMetrics (metrics/types.ts) of one channel, in fixed point. */
export interface ChannelSummary {
    channel: LogChannel
    preMeanX100: number
    preSdX100: number
    preCvX1000: number
    preDurationMs: number
    postMeanX100: number
    postSdX100: number
    postCvX1000: number
    postDurationMs: number
    mvcX100: number
    repsPlanned: number
    repsDone: number
    holdFatiguePctX10: number
    enduranceDeclinePctX10: number
    timeOnTaskMs: number
}

export interface SummaryRecord {
    kind: RecordKind.Summary
    endMs: number
    outcome: SessionOutcome
    stopCause: StopCause
    channels: ChannelSummary[]
}

export interface AckRecord {
    kind: RecordKind.Ack
    ackedSession: number
    lastSeq: number
}

export type LogRecord = SessionHeaderRecord | PhaseStartRecord | PhaseEndRecord | RepRecord | EventRecord | TraceRecord | SummaryRecord | AckRecord

/** Where a record sits in the log. */
export interface FrameInfo {
    session: number
    seq: number
}

/**
 * AES-256-CCM with a 13-byte nonce, supplied by the caller: @devicescript/crypto
 * on the device, node:crypto on the host (byte-compatible).
 */
export interface RecordCipher {
    /** ciphertext || tag (at most MAX_CIPHER_OVERHEAD_BYTES longer than plain) */
    encrypt(nonce: number[], plain: number[]): number[]
    /** the plain bytes, or null if the tag does not verify */
    decrypt(nonce: number[], data: number[]): number[] | null
}

// ---------------------------------------------------------------- errors

export const DecodeErrorCode = {
    Truncated: "truncated",
    BadMagic: "bad-magic",
    BadKind: "bad-kind",
    BadFlags: "bad-flags",
    BadLength: "bad-length",
    BadCrc: "bad-crc",
    NoKey: "no-key",
    DecryptFailed: "decrypt-failed",
    BadValue: "bad-value",
    TrailingBytes: "trailing-bytes",
} as const

/** A record that does not decode: what was expected, what was found, where. */
export class LogDecodeError extends Error {
    constructor(
        readonly code: string,
        /** byte offset in the input */
        readonly offset: number,
        readonly expected: string,
        readonly found: string
    ) {
        super(code + " at offset " + offset + ": expected " + expected + ", found " + found)
        this.name = "LogDecodeError"
    }
}

/** A record that cannot be encoded (a field out of its range). */
export class LogEncodeError extends Error {
    constructor(
        readonly field: string,
        readonly allowed: string,
        readonly actual: string
    ) {
        super(field + " out of range: " + actual + " (allowed " + allowed + ")")
        this.name = "LogEncodeError"
    }
}

// ---------------------------------------------------------------- field tables

type FieldType = "u8" | "u16" | "u32" | "u48" | "i16" | "i32"

interface Field {
    name: string
    type: FieldType
    min: number
    max: number
}

function typeMin(t: FieldType): number {
    if (t === "i16") return -0x8000
    if (t === "i32") return -0x80000000
    return 0
}

function typeMax(t: FieldType): number {
    switch (t) {
        case "u8":
            return 0xff
        case "u16":
            return 0xffff
        case "u32":
            return 0xffffffff
        case "u48":
            return 281474976710655
        case "i16":
            return 0x7fff
        default:
            return 0x7fffffff
    }
}

function typeBytes(t: FieldType): number {
    switch (t) {
        case "u8":
            return 1
        case "u16":
        case "i16":
            return 2
        case "u48":
            return 6
        default:
            return 4
    }
}

function fld(name: string, type: FieldType, min?: number, max?: number): Field {
    return { name: name, type: type, min: min ?? typeMin(type), max: max ?? typeMax(type) }
}

function fieldsBytes(fields: Field[]): number {
    let n = 0
    for (const f of fields) n += typeBytes(f.type)
    return n
}

const HEADER_FIELDS: Field[] = [
    fld("formatVersion", "u8", LOG_FORMAT_VERSION, LOG_FORMAT_VERSION),
    fld("timeSync", "u8", 0, TimeSync.Host),
    fld("bootCount", "u32"),
    fld("startMonoMs", "u48"),
    fld("startWallMs", "u48"),
    fld("programVersion", "u32"),
]
const HEADER_STRINGS = ["deviceId", "firmwareVersion", "programId"]

const PHASE_START_FIELDS: Field[] = [fld("phaseIndex", "u8"), fld("phaseKind", "u8"), fld("timeMs", "u32")]
const PHASE_END_FIELDS: Field[] = [
    fld("phaseIndex", "u8"),
    fld("phaseKind", "u8"),
    fld("timeMs", "u32"),
    fld("outcome", "u8", PhaseOutcome.Completed, PhaseOutcome.Fault),
    fld("repsDone", "u16"),
]

const REP_FIELDS: Field[] = [
    fld("channel", "u8", 0, LogChannel.Pressure),
    fld("block", "u8"),
    fld("repIndex", "u16"),
    fld("flags", "u8", 0, REP_FLAGS_MASK),
    fld("cueOnMs", "u32"),
    fld("cueOffMs", "u32"),
    fld("onsetMs", "i32", -1),
    fld("offsetMs", "i32", -1),
    fld("onsetLatencyMs", "i32", -1),
    fld("timeToPeakMs", "i32", -1),
    fld("releaseLatencyMs", "i32", -1),
    fld("holdAtTargetMs", "u32"),
    fld("peakX100", "i32"),
    fld("meanWorkX100", "i32"),
    fld("peakPctMvcX10", "i32"),
    fld("holdCvX1000", "i32"),
    fld("enduranceDeclinePctX10", "i32"),
]

const EVENT_FIELDS: Field[] = [fld("timeMs", "u32"), fld("code", "u8", 1, EVENT_CODE_MAX), fld("cause", "u8"), fld("value", "i32"), fld("extra", "i32")]

const TRACE_FIELDS: Field[] = [fld("startMs", "u32"), fld("intervalMs", "u16", 1)]
const TRACE_COUNT_BYTES = 1
const TRACE_SAMPLE_BYTES = 2 * typeBytes("i16")

const SUMMARY_FIELDS: Field[] = [
    fld("endMs", "u32"),
    fld("outcome", "u8", SessionOutcome.Completed, SessionOutcome.Fault),
    fld("stopCause", "u8", 0, STOP_CAUSE_MAX),
]
/** at most one summary per channel */
const MAX_SUMMARY_CHANNELS = 2
const CHANNEL_SUMMARY_FIELDS: Field[] = [
    fld("channel", "u8", 0, LogChannel.Pressure),
    fld("preMeanX100", "i32"),
    fld("preSdX100", "i32", 0),
    fld("preCvX1000", "i32"),
    fld("preDurationMs", "u32"),
    fld("postMeanX100", "i32"),
    fld("postSdX100", "i32", 0),
    fld("postCvX1000", "i32"),
    fld("postDurationMs", "u32"),
    fld("mvcX100", "i32"),
    fld("repsPlanned", "u16"),
    fld("repsDone", "u16"),
    fld("holdFatiguePctX10", "i32"),
    fld("enduranceDeclinePctX10", "i32"),
    fld("timeOnTaskMs", "u32"),
]

const ACK_FIELDS: Field[] = [fld("ackedSession", "u32", 1), fld("lastSeq", "u32", 1)]

// ---------------------------------------------------------------- sizes (computed)

function frameHeader(kind: number, flags: number, payloadBytes: number, frame: FrameInfo): ByteWriter {
    return new ByteWriter().u8(MAGIC0).u8(MAGIC1).u8(kind).u8(flags).u16(payloadBytes).u32(frame.session).u32(frame.seq)
}

/** [bytes] frame header (magic .. seq) */
export const FRAME_HEADER_BYTES = frameHeader(1, 0, 0, { session: 0, seq: 0 }).bytes.length
/** [bytes] header + CRC around every payload */
export const FRAME_OVERHEAD_BYTES = FRAME_HEADER_BYTES + CRC_BYTES
/** [bytes] largest payload as stored (encrypted included) */
export const MAX_PAYLOAD_BYTES = MAX_RECORD_BYTES - FRAME_OVERHEAD_BYTES
/** Samples per trace chunk so that an encrypted chunk stays within MAX_RECORD_BYTES. */
export const MAX_TRACE_SAMPLES = Math.floor(
    (MAX_PAYLOAD_BYTES - MAX_CIPHER_OVERHEAD_BYTES - fieldsBytes(TRACE_FIELDS) - TRACE_COUNT_BYTES) / TRACE_SAMPLE_BYTES
)
/** Default trace chunk: 5 s at 10 Hz. */
export const DEFAULT_TRACE_CHUNK_SAMPLES = 50

/** [bytes] plain payload of each fixed-size kind (by RecordKind; -1 = variable) */
export const FIXED_PAYLOAD_BYTES: number[] = [
    -1,
    -1,
    fieldsBytes(PHASE_START_FIELDS),
    fieldsBytes(PHASE_END_FIELDS),
    fieldsBytes(REP_FIELDS),
    fieldsBytes(EVENT_FIELDS),
    -1,
    -1,
    fieldsBytes(ACK_FIELDS),
]
/** [bytes] plain payload of a trace chunk of n samples */
export function tracePayloadBytes(samples: number): number {
    return fieldsBytes(TRACE_FIELDS) + TRACE_COUNT_BYTES + samples * TRACE_SAMPLE_BYTES
}
/** [bytes] plain payload of a session header whose three strings take `stringBytes` UTF-8 bytes together */
export function sessionHeaderPayloadBytes(stringBytes: number): number {
    return fieldsBytes(HEADER_FIELDS) + HEADER_STRINGS.length + stringBytes
}
/** [bytes] plain payload of a summary with n channels */
export function summaryPayloadBytes(channels: number): number {
    return fieldsBytes(SUMMARY_FIELDS) + 1 + channels * fieldsBytes(CHANNEL_SUMMARY_FIELDS)
}

// ---------------------------------------------------------------- payload codec

function writeFields(w: ByteWriter, obj: any, fields: Field[], what: string) {
    const o = obj as Record<string, number>
    for (const f of fields) {
        const v = o[f.name]
        if (typeof v !== "number" || !(v >= f.min && v <= f.max) || Math.floor(v) !== v)
            throw new LogEncodeError(what + "." + f.name, f.min + ".." + f.max, "" + v)
        switch (f.type) {
            case "u8":
                w.u8(v)
                break
            case "u16":
                w.u16(v)
                break
            case "u32":
                w.u32(v)
                break
            case "u48":
                w.u48(v)
                break
            case "i16":
                w.i16(v)
                break
            default:
                w.i32(v)
        }
    }
}

/** Reads `fields` into `out`; `base` = offset of the reader's byte 0 in the caller's input. */
function readFields(r: ByteReader, out: any, fields: Field[], base: number) {
    const o = out as Record<string, number>
    for (const f of fields) {
        const at = base + r.pos
        let v = 0
        switch (f.type) {
            case "u8":
                v = r.u8()
                break
            case "u16":
                v = r.u16()
                break
            case "u32":
                v = r.u32()
                break
            case "u48":
                v = r.u48()
                break
            case "i16":
                v = r.i16()
                break
            default:
                v = r.i32()
        }
        if (!(v >= f.min && v <= f.max)) throw new LogDecodeError(DecodeErrorCode.BadValue, at, f.name + " in " + f.min + ".." + f.max, "" + v)
        o[f.name] = v
    }
}

function checkEvent(e: EventRecord, at: number, decoding: boolean) {
    let ok = true
    let allowed = ""
    let field = "cause"
    let actual = e.cause
    if (e.code === EventCode.Stop || e.code === EventCode.StimStop) {
        ok = e.cause <= STOP_CAUSE_MAX
        allowed = "0.." + STOP_CAUSE_MAX
    } else if (e.code === EventCode.PainRating) {
        field = "value"
        actual = e.value
        ok = e.value >= 0 && e.value <= 10
        allowed = "0..10"
    } else if (e.code === EventCode.DilatorSize) {
        field = "value"
        actual = e.value
        ok = e.value >= 1 && e.extra >= 0
        allowed = ">= 1 (extra >= 0)"
    } else if (e.code === EventCode.StoreDroppedArchived) {
        field = "value"
        actual = e.value
        ok = e.value >= 1 && e.extra >= e.value
        allowed = "first >= 1, last >= first"
    }
    if (ok) return
    if (decoding) throw new LogDecodeError(DecodeErrorCode.BadValue, at, "event " + e.code + " " + field + " " + allowed, "" + actual)
    throw new LogEncodeError("event." + field, allowed, "" + actual)
}

function checkString(s: string, what: string): number[] {
    const b = utf8Encode(s)
    if (b.length > MAX_STRING_BYTES) throw new LogEncodeError(what, "<= " + MAX_STRING_BYTES + " UTF-8 bytes", b.length + " bytes")
    return b
}

/** The plain payload of a record. Throws LogEncodeError on a field out of range. */
export function encodePayload(rec: LogRecord): number[] {
    const w = new ByteWriter()
    switch (rec.kind) {
        case RecordKind.SessionHeader: {
            writeFields(w, rec, HEADER_FIELDS, "sessionHeader")
            const o = rec as any as Record<string, string>
            for (const name of HEADER_STRINGS) {
                const b = checkString(o[name], "sessionHeader." + name)
                w.u8(b.length).raw(b)
            }
            break
        }
        case RecordKind.PhaseStart:
            writeFields(w, rec, PHASE_START_FIELDS, "phaseStart")
            break
        case RecordKind.PhaseEnd:
            writeFields(w, rec, PHASE_END_FIELDS, "phaseEnd")
            break
        case RecordKind.Rep:
            writeFields(w, rec, REP_FIELDS, "rep")
            break
        case RecordKind.Event:
            writeFields(w, rec, EVENT_FIELDS, "event")
            checkEvent(rec, 0, false)
            break
        case RecordKind.Trace: {
            const n = rec.pressureCmH2OX10.length
            if (rec.emgUvX10.length !== n) throw new LogEncodeError("trace.emgUvX10", n + " samples (as pressure)", rec.emgUvX10.length + " samples")
            if (n > MAX_TRACE_SAMPLES) throw new LogEncodeError("trace samples", "0.." + MAX_TRACE_SAMPLES, "" + n)
            writeFields(w, rec, TRACE_FIELDS, "trace")
            w.u8(n)
            for (let k = 0; k < n; k++) {
                writeSample(w, rec.pressureCmH2OX10[k], "trace.pressureCmH2OX10")
                writeSample(w, rec.emgUvX10[k], "trace.emgUvX10")
            }
            break
        }
        case RecordKind.Summary: {
            const n = rec.channels.length
            if (n > MAX_SUMMARY_CHANNELS) throw new LogEncodeError("summary.channels", "0.." + MAX_SUMMARY_CHANNELS, "" + n)
            writeFields(w, rec, SUMMARY_FIELDS, "summary")
            w.u8(n)
            for (const c of rec.channels) writeFields(w, c, CHANNEL_SUMMARY_FIELDS, "summary.channel")
            break
        }
        case RecordKind.Ack:
            writeFields(w, rec, ACK_FIELDS, "ack")
            break
        default:
            throw new LogEncodeError("kind", "1.." + RecordKind.Ack, "" + (rec as any).kind)
    }
    return w.bytes
}

function writeSample(w: ByteWriter, v: number, what: string) {
    if (!(v >= -0x8000 && v <= 0x7fff) || Math.floor(v) !== v) throw new LogEncodeError(what, "-32768..32767", "" + v)
    w.i16(v)
}

/**
 * Decodes a plain payload of `kind`. `base` = offset of payload[0] in the
 * caller's input, for error offsets. Throws LogDecodeError.
 */
export function decodePayload(kind: number, payload: number[], base: number): LogRecord {
    const r = new ByteReader(payload)
    try {
        const rec = decodeFields(kind, r, base)
        if (r.remaining() !== 0) throw new LogDecodeError(DecodeErrorCode.TrailingBytes, base + r.pos, "end of " + recordKindName(kind) + " payload", r.remaining() + " more bytes")
        return rec
    } catch (e) {
        if (e instanceof CodecError) throw new LogDecodeError(DecodeErrorCode.Truncated, base + r.pos, recordKindName(kind) + " payload complete", "payload of " + payload.length + " bytes (" + e.message + ")")
        throw e
    }
}

function decodeFields(kind: number, r: ByteReader, base: number): LogRecord {
    const o: any = { kind: kind }
    switch (kind) {
        case RecordKind.SessionHeader:
            readFields(r, o, HEADER_FIELDS, base)
            for (const name of HEADER_STRINGS) {
                const at = base + r.pos
                const n = r.u8()
                if (n > MAX_STRING_BYTES) throw new LogDecodeError(DecodeErrorCode.BadValue, at, name + " length <= " + MAX_STRING_BYTES, "" + n)
                o[name] = utf8Decode(r.raw(n))
            }
            break
        case RecordKind.PhaseStart:
            readFields(r, o, PHASE_START_FIELDS, base)
            break
        case RecordKind.PhaseEnd:
            readFields(r, o, PHASE_END_FIELDS, base)
            break
        case RecordKind.Rep:
            readFields(r, o, REP_FIELDS, base)
            break
        case RecordKind.Event:
            readFields(r, o, EVENT_FIELDS, base)
            checkEvent(o as EventRecord, base, true)
            break
        case RecordKind.Trace: {
            readFields(r, o, TRACE_FIELDS, base)
            const at = base + r.pos
            const n = r.u8()
            if (n > MAX_TRACE_SAMPLES) throw new LogDecodeError(DecodeErrorCode.BadValue, at, "trace samples <= " + MAX_TRACE_SAMPLES, "" + n)
            const p: number[] = []
            const e: number[] = []
            for (let k = 0; k < n; k++) {
                p.push(r.i16())
                e.push(r.i16())
            }
            o["pressureCmH2OX10"] = p
            o["emgUvX10"] = e
            break
        }
        case RecordKind.Summary: {
            readFields(r, o, SUMMARY_FIELDS, base)
            const at = base + r.pos
            const n = r.u8()
            if (n > MAX_SUMMARY_CHANNELS) throw new LogDecodeError(DecodeErrorCode.BadValue, at, "summary channels <= " + MAX_SUMMARY_CHANNELS, "" + n)
            const channels: ChannelSummary[] = []
            for (let k = 0; k < n; k++) {
                const c: any = {}
                readFields(r, c, CHANNEL_SUMMARY_FIELDS, base)
                channels.push(c as ChannelSummary)
            }
            o["channels"] = channels
            break
        }
        case RecordKind.Ack:
            readFields(r, o, ACK_FIELDS, base)
            break
        default:
            throw new LogDecodeError(DecodeErrorCode.BadKind, base, "kind 1.." + RecordKind.Ack, "" + kind)
    }
    return o as LogRecord
}

// ---------------------------------------------------------------- frame codec

/** The 13-byte AES-CCM nonce of a record. */
export function recordNonce(kind: number, frame: FrameInfo): number[] {
    const w = new ByteWriter().u32(frame.seq).u32(frame.session).u8(kind)
    return w.raw(NONCE_TAG).bytes
}

/**
 * One framed record: header, payload (encrypted if a cipher is given) and
 * CRC. Throws LogEncodeError if a field is out of range or the record would
 * exceed MAX_RECORD_BYTES.
 */
export function encodeRecord(rec: LogRecord, frame: FrameInfo, cipher?: RecordCipher): number[] {
    if (!(frame.session >= 0 && frame.session <= 0xffffffff) || Math.floor(frame.session) !== frame.session)
        throw new LogEncodeError("frame.session", "0..4294967295", "" + frame.session)
    if (!(frame.seq >= 0 && frame.seq <= 0xffffffff) || Math.floor(frame.seq) !== frame.seq) throw new LogEncodeError("frame.seq", "0..4294967295", "" + frame.seq)
    const plain = encodePayload(rec)
    let payload = plain
    let flags = 0
    if (cipher) {
        payload = cipher.encrypt(recordNonce(rec.kind, frame), plain)
        if (payload.length > plain.length + MAX_CIPHER_OVERHEAD_BYTES)
            throw new LogEncodeError("cipher overhead", "<= " + MAX_CIPHER_OVERHEAD_BYTES + " bytes", "" + (payload.length - plain.length))
        flags = FLAG_ENCRYPTED
    }
    if (payload.length > MAX_PAYLOAD_BYTES) throw new LogEncodeError(recordKindName(rec.kind) + " payload", "<= " + MAX_PAYLOAD_BYTES + " bytes", payload.length + " bytes")
    const w = frameHeader(rec.kind, flags, payload.length, frame).raw(payload)
    return w.u32(crc32(w.bytes)).bytes
}

export interface FrameHeader {
    kind: number
    encrypted: boolean
    /** [bytes] stored payload length */
    payloadBytes: number
    session: number
    seq: number
    /** [bytes] whole record: header + payload + CRC */
    recordBytes: number
}

/**
 * Checks and reads the fixed header of the record at `offset` (no CRC: the
 * payload may not be there yet). Throws LogDecodeError.
 */
export function decodeFrameHeader(bytes: number[], offset: number): FrameHeader {
    if (offset + FRAME_HEADER_BYTES > bytes.length)
        throw new LogDecodeError(DecodeErrorCode.Truncated, offset, FRAME_HEADER_BYTES + " header bytes", bytes.length - offset + " bytes")
    const r = new ByteReader(bytes, offset)
    const m0 = r.u8()
    const m1 = r.u8()
    if (m0 !== MAGIC0 || m1 !== MAGIC1) throw new LogDecodeError(DecodeErrorCode.BadMagic, offset, "magic 0x50 0x4c", "0x" + hex2(m0) + " 0x" + hex2(m1))
    const kind = r.u8()
    if (!(kind >= RecordKind.SessionHeader && kind <= RecordKind.Ack)) throw new LogDecodeError(DecodeErrorCode.BadKind, offset + 2, "kind 1.." + RecordKind.Ack, "" + kind)
    const flags = r.u8()
    if ((flags & ~FLAG_ENCRYPTED) !== 0) throw new LogDecodeError(DecodeErrorCode.BadFlags, offset + 3, "flags 0 or 1", "" + flags)
    const n = r.u16()
    if (n > MAX_PAYLOAD_BYTES) throw new LogDecodeError(DecodeErrorCode.BadLength, offset + 4, "payload <= " + MAX_PAYLOAD_BYTES + " bytes", "" + n)
    const session = r.u32()
    const seq = r.u32()
    return { kind: kind, encrypted: flags === FLAG_ENCRYPTED, payloadBytes: n, session: session, seq: seq, recordBytes: FRAME_OVERHEAD_BYTES + n }
}

/** Checks the header and CRC of the record at `offset`; returns its header. Throws LogDecodeError. */
export function checkFrame(bytes: number[], offset: number): FrameHeader {
    const h = decodeFrameHeader(bytes, offset)
    if (offset + h.recordBytes > bytes.length)
        throw new LogDecodeError(DecodeErrorCode.Truncated, offset, h.recordBytes + " record bytes", bytes.length - offset + " bytes")
    const crcAt = offset + h.recordBytes - CRC_BYTES
    const stored = new ByteReader(bytes, crcAt).u32()
    const computed = crc32(bytes, 0, offset, crcAt)
    if (stored !== computed) throw new LogDecodeError(DecodeErrorCode.BadCrc, crcAt, "CRC-32 0x" + hex8(computed), "0x" + hex8(stored))
    return h
}

export interface DecodedRecord {
    session: number
    seq: number
    encrypted: boolean
    /** offset of the record in the input */
    offset: number
    /** [bytes] the whole framed record */
    recordBytes: number
    record: LogRecord
}

/**
 * Decodes the record at `offset` (default 0): header, CRC, decryption,
 * payload fields. An encrypted record needs `cipher`. Throws LogDecodeError.
 */
export function decodeRecord(bytes: number[], offset?: number, cipher?: RecordCipher): DecodedRecord {
    const at = offset ?? 0
    const h = checkFrame(bytes, at)
    const start = at + FRAME_HEADER_BYTES
    let payload = bytes.slice(start, start + h.payloadBytes)
    if (h.encrypted) {
        if (!cipher) throw new LogDecodeError(DecodeErrorCode.NoKey, at + 3, "a key for an encrypted record", "no cipher")
        const plain = cipher.decrypt(recordNonce(h.kind, h), payload)
        if (plain === null) throw new LogDecodeError(DecodeErrorCode.DecryptFailed, start, "a payload that authenticates under this key", "tag mismatch")
        payload = plain
    }
    const rec = decodePayload(h.kind, payload, start)
    return { session: h.session, seq: h.seq, encrypted: h.encrypted, offset: at, recordBytes: h.recordBytes, record: rec }
}

/** A record that failed to decode inside a run of records. */
export interface RecordFault {
    offset: number
    error: LogDecodeError
}

/**
 * Decodes consecutive records (a session's bytes). A record that fails is
 * reported and skipped by its header's length when the header is sound;
 * otherwise decoding stops there (the rest is reported as one fault).
 */
export function decodeRecords(bytes: number[], cipher?: RecordCipher): { records: DecodedRecord[]; faults: RecordFault[] } {
    const records: DecodedRecord[] = []
    const faults: RecordFault[] = []
    let at = 0
    while (at < bytes.length) {
        try {
            const d = decodeRecord(bytes, at, cipher)
            records.push(d)
            at += d.recordBytes
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
            faults.push({ offset: at, error: e })
            let skip = -1
            try {
                const h = decodeFrameHeader(bytes, at)
                if (at + h.recordBytes <= bytes.length) skip = h.recordBytes
            } catch (e2) {
                skip = -1
            }
            if (skip < 0) break
            at += skip
        }
    }
    return { records: records, faults: faults }
}

function hex2(b: number): string {
    const d = "0123456789abcdef"
    return d.charAt((b >> 4) & 15) + d.charAt(b & 15)
}

function hex8(v: number): string {
    return hex2((v >>> 24) & 0xff) + hex2((v >>> 16) & 0xff) + hex2((v >>> 8) & 0xff) + hex2(v & 0xff)
}

// ---------------------------------------------------------------- metrics <-> records

const I32_MAX = 0x7fffffff

/**
 * round(value x scale) as an integer clamped to +-(2^31 - 1); NaN and
 * +-Infinity (which metrics never produce, but a bug might) become 0 and
 * the extreme respectively. Math.floor(x + 0.5): DeviceScript's Math.round
 * differs from Node's on negative halves.
 */
export function fixedPoint(value: number, scale: number): number {
    if (isNaN(value)) return 0
    const v = Math.floor(value * scale + 0.5)
    if (v > I32_MAX) return I32_MAX
    if (v < -I32_MAX) return -I32_MAX
    return v
}

/** A time or count field: -1 stays -1 ("none"), anything else is rounded and kept >= 0. */
function msField(v: number, allowNone: boolean): number {
    if (allowNone && v < 0) return -1
    const r = fixedPoint(v, 1)
    return r < 0 ? 0 : r
}

/** A trace sample [cmH2O or uV] as x 10 fixed point; NaN -> TRACE_MISSING. */
export function traceSample(value: number): number {
    if (isNaN(value)) return TRACE_MISSING
    const v = Math.floor(value * 10 + 0.5)
    if (v > 0x7fff) return 0x7fff
    if (v < -0x7fff) return -0x7fff
    return v
}

function clampU(v: number, max: number): number {
    return v > max ? max : v
}

export function repRecordFromMetrics(channel: LogChannel, m: RepMetrics): RepRecord {
    return {
        kind: RecordKind.Rep,
        channel: channel,
        block: clampU(msField(m.block, false), 0xff),
        repIndex: clampU(msField(m.repIndex, false), 0xffff),
        flags: m.flags & REP_FLAGS_MASK,
        cueOnMs: msField(m.cueOnMs, false),
        cueOffMs: msField(m.cueOffMs, false),
        onsetMs: msField(m.onsetMs, true),
        offsetMs: msField(m.offsetMs, true),
        onsetLatencyMs: msField(m.onsetLatencyMs, true),
        timeToPeakMs: msField(m.timeToPeakMs, true),
        releaseLatencyMs: msField(m.releaseLatencyMs, true),
        holdAtTargetMs: msField(m.holdAtTargetMs, false),
        peakX100: fixedPoint(m.peak, 100),
        meanWorkX100: fixedPoint(m.meanWork, 100),
        peakPctMvcX10: fixedPoint(m.peakPctMvc, 10),
        holdCvX1000: fixedPoint(m.holdCv, 1000),
        enduranceDeclinePctX10: fixedPoint(m.enduranceDeclinePct, 10),
    }
}

export function repMetricsFromRecord(r: RepRecord): RepMetrics {
    return {
        repIndex: r.repIndex,
        block: r.block,
        cueOnMs: r.cueOnMs,
        cueOffMs: r.cueOffMs,
        onsetMs: r.onsetMs,
        offsetMs: r.offsetMs,
        onsetLatencyMs: r.onsetLatencyMs,
        peak: r.peakX100 / 100,
        peakPctMvc: r.peakPctMvcX10 / 10,
        timeToPeakMs: r.timeToPeakMs,
        meanWork: r.meanWorkX100 / 100,
        holdAtTargetMs: r.holdAtTargetMs,
        holdCv: r.holdCvX1000 / 1000,
        releaseLatencyMs: r.releaseLatencyMs,
        enduranceDeclinePct: r.enduranceDeclinePctX10 / 10,
        flags: r.flags,
    }
}

export function channelSummaryFromMetrics(channel: LogChannel, m: SessionMetrics): ChannelSummary {
    return {
        channel: channel,
        preMeanX100: fixedPoint(m.preBaseline.mean, 100),
        preSdX100: Math.max(0, fixedPoint(m.preBaseline.sd, 100)),
        preCvX1000: fixedPoint(m.preBaseline.cv, 1000),
        preDurationMs: msField(m.preBaseline.durationMs, false),
        postMeanX100: fixedPoint(m.postBaseline.mean, 100),
        postSdX100: Math.max(0, fixedPoint(m.postBaseline.sd, 100)),
        postCvX1000: fixedPoint(m.postBaseline.cv, 1000),
        postDurationMs: msField(m.postBaseline.durationMs, false),
        mvcX100: fixedPoint(m.mvc, 100),
        repsPlanned: clampU(msField(m.repsPlanned, false), 0xffff),
        repsDone: clampU(msField(m.repsDone, false), 0xffff),
        holdFatiguePctX10: fixedPoint(m.holdFatiguePct, 10),
        enduranceDeclinePctX10: fixedPoint(m.enduranceDeclinePct, 10),
        timeOnTaskMs: msField(m.timeOnTaskMs, false),
    }
}

function rest(meanX100: number, sdX100: number, cvX1000: number, durationMs: number): RestMetrics {
    return { mean: meanX100 / 100, sd: sdX100 / 100, cv: cvX1000 / 1000, durationMs: durationMs }
}

export function sessionMetricsFromChannelSummary(c: ChannelSummary): SessionMetrics {
    return {
        preBaseline: rest(c.preMeanX100, c.preSdX100, c.preCvX1000, c.preDurationMs),
        postBaseline: rest(c.postMeanX100, c.postSdX100, c.postCvX1000, c.postDurationMs),
        mvc: c.mvcX100 / 100,
        repsPlanned: c.repsPlanned,
        repsDone: c.repsDone,
        holdFatiguePct: c.holdFatiguePctX10 / 10,
        enduranceDeclinePct: c.enduranceDeclinePctX10 / 10,
        timeOnTaskMs: c.timeOnTaskMs,
    }
}

/** The header record a session starts with, for tests and the firmware: the wall clock is 0 and unsynced unless given. */
export function sessionHeader(fields: {
    bootCount: number
    startMonoMs: number
    startWallMs?: number
    timeSync?: number
    deviceId: string
    firmwareVersion: string
    programId: string
    programVersion: number
}): SessionHeaderRecord {
    return {
        kind: RecordKind.SessionHeader,
        formatVersion: LOG_FORMAT_VERSION,
        timeSync: fields.timeSync ?? TimeSync.None,
        bootCount: fields.bootCount,
        startMonoMs: fields.startMonoMs,
        startWallMs: fields.startWallMs ?? 0,
        programVersion: fields.programVersion,
        deviceId: fields.deviceId,
        firmwareVersion: fields.firmwareVersion,
        programId: fields.programId,
    }
}
