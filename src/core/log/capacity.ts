/**
 * How much flash a session takes and how many sessions fit, computed from
 * the record format (records.ts) and the store's sector layout (store.ts),
 * so the figures follow the format when it changes. The figures for the
 * handheld's chip are in docs/engineering.md, "Session log storage".
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import type { FlashGeometry } from "./block-device"
import {
    DEFAULT_TRACE_CHUNK_SAMPLES,
    FIXED_PAYLOAD_BYTES,
    FRAME_OVERHEAD_BYTES,
    RecordKind,
    sessionHeaderPayloadBytes,
    summaryPayloadBytes,
    tracePayloadBytes,
} from "./records"
import { SECTOR_HEADER_AREA_BYTES, SECTOR_SEAL_BYTES } from "./store"

/** What one session writes. */
export interface SessionPlan {
    /** [min] */
    durationMin: number
    /** [Hz] trace rate (both channels) */
    traceRateHz: number
    traceSamplesPerChunk: number
    /** rep records: one per rep per channel analysed */
    repRecords: number
    events: number
    /** phases (each writes a start and an end record) */
    phases: number
    /** channels in the summary record */
    summaryChannels: number
    /** [bytes] device id + firmware version + program id, UTF-8 */
    headerStringBytes: number
    /** [bytes] added to every payload by encryption (AES-CCM tag: 8) */
    cipherOverheadBytes: number
}

/**
 * A 25-minute home session: relaxation (pelvic drops), quick flicks and
 * endurance holds, ~60 reps analysed on both channels, ~40 events (pauses,
 * gate, stim level changes, pain rating), 8 phases, both channels traced at
 * 10 Hz in 5 s chunks, encrypted with an 8-byte tag.
 */
export const TYPICAL_SESSION: SessionPlan = {
    durationMin: 25,
    traceRateHz: 10,
    traceSamplesPerChunk: DEFAULT_TRACE_CHUNK_SAMPLES,
    repRecords: 120,
    events: 40,
    phases: 8,
    summaryChannels: 2,
    headerStringBytes: 40,
    cipherOverheadBytes: 8,
}

export interface SessionBytes {
    trace: number
    reps: number
    events: number
    phases: number
    /** header + summary + the host's acknowledgement */
    framing: number
    total: number
}

/** [bytes] of flash a session takes, by part. */
export function sessionBytes(plan: SessionPlan): SessionBytes {
    const rec = (payload: number) => FRAME_OVERHEAD_BYTES + payload + plan.cipherOverheadBytes
    const samples = Math.ceil(plan.durationMin * 60 * plan.traceRateHz)
    const chunks = Math.ceil(samples / plan.traceSamplesPerChunk)
    const trace = chunks * rec(tracePayloadBytes(0)) + (tracePayloadBytes(samples) - tracePayloadBytes(0))
    const reps = plan.repRecords * rec(FIXED_PAYLOAD_BYTES[RecordKind.Rep])
    const events = plan.events * rec(FIXED_PAYLOAD_BYTES[RecordKind.Event])
    const phases = plan.phases * (rec(FIXED_PAYLOAD_BYTES[RecordKind.PhaseStart]) + rec(FIXED_PAYLOAD_BYTES[RecordKind.PhaseEnd]))
    const framing =
        rec(sessionHeaderPayloadBytes(plan.headerStringBytes)) + rec(summaryPayloadBytes(plan.summaryChannels)) + rec(FIXED_PAYLOAD_BYTES[RecordKind.Ack])
    return { trace: trace, reps: reps, events: events, phases: phases, framing: framing, total: trace + reps + events + phases + framing }
}

export interface LogCapacity {
    /** [bytes] record bytes per sector (the rest is the sector header and seal) */
    dataBytesPerSector: number
    /**
     * [bytes] space for sessions: every sector but two (one is kept free
     * for the host's acknowledgements, one is the partly used head when the
     * log wraps onto the oldest)
     */
    usableBytes: number
    bytesPerSession: number
    sessions: number
}

/** Sessions of `plan` that fit in a chip of geometry `g`, none of them archived. */
export function logCapacity(g: FlashGeometry, plan: SessionPlan): LogCapacity {
    const data = g.sectorSize - SECTOR_HEADER_AREA_BYTES - SECTOR_SEAL_BYTES
    const usable = (g.sectorCount - 2) * data
    const per = sessionBytes(plan).total
    return { dataBytesPerSector: data, usableBytes: usable, bytesPerSession: per, sessions: Math.floor(usable / per) }
}
