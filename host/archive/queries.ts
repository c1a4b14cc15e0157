/**
 * The archive's read side: what `pft logs list`, `pft logs show` and
 * `pft export` need. `loadSession` gathers one session into a plain
 * `SessionData` that the exports (host/export/) turn into files without
 * touching the database.
 */
import { EventCode, JoinedLateCause, type ChannelSummary, type RepRecord } from "../../src/core/log/records"
import type { QuarantineItem } from "../logs/verify"
import { unpackI16, type Archive, type StartTimeSource } from "./archive"

export interface SessionListRow {
    /** the archive's id: what `pft logs show` takes */
    id: number
    deviceId: string
    storeId: number
    sessionNo: number
    patientRef: string | null
    programId: string | null
    programVersion: number | null
    /** [ms] Unix time, null if not known */
    startWallMs: number | null
    startTimeSource: StartTimeSource
    bootCount: number | null
    startMonoMs: number | null
    /** [ms] session time at the summary, null without one */
    endMs: number | null
    complete: boolean
    outcome: number | null
    stopCause: number | null
    reps: number
    events: number
    traceSamples: number
    quarantined: number
    bytesStored: number
    deviceSizeBytes: number
    deviceLastSeq: number
    lastSessionSeq: number
    ackedSeq: number
    /** [ms] session time recording began when the log module joined the session late (its JoinedLate event), else null */
    joinedAtMs: number | null
    /** joined after the session had ended (JoinedLateCause.AfterEnd): joinedAtMs is its end, only its reps and summary were read back */
    joinedAfterEnd: boolean
}

export interface SessionFilter {
    patientRef?: string
    /** [ms] Unix time: sessions starting at or after it (sessions with no known start are left out) */
    sinceMs?: number
    deviceId?: string
}

export interface PhaseSpan {
    index: number
    kind: number
    /** [ms] session time; null if its start record is missing */
    startMs: number | null
    /** [ms] null if it did not end (or its end record is missing) */
    endMs: number | null
    outcome: number | null
    repsDone: number | null
}

/** A rep as the archive keeps it: the rep record's fields (src/core/log/records.ts) and its sequence number. */
export interface RepRow extends Omit<RepRecord, "kind"> {
    seq: number
}

export interface EventRow {
    seq: number
    timeMs: number
    code: number
    cause: number
    value: number
    extra: number
}

export interface TraceChunk {
    seq: number
    startMs: number
    intervalMs: number
    /** [cmH2O] x 10, TRACE_MISSING for none */
    pressureX10: number[]
    /** [uV] x 10, TRACE_MISSING for none */
    emgX10: number[]
}

/** A quarantined stretch as the archive keeps it: the pull's item, with its session and when it was found. */
export interface QuarantineRow extends QuarantineItem {
    sessionId: number
    sessionNo: number
    deviceId: string
    detectedAtMs: number
}

/** One archived session, everything the exports need. */
export interface SessionData {
    row: SessionListRow
    firmwareVersion: string | null
    timeSync: number | null
    summary: ChannelSummary[] | null
    phases: PhaseSpan[]
    reps: RepRow[]
    events: EventRow[]
    trace: TraceChunk[]
    quarantine: QuarantineRow[]
}

const LIST_SQL = `
SELECT s.id, d.device_id AS deviceId, s.store_id AS storeId, s.session_no AS sessionNo, pa.ref AS patientRef,
       pr.program_id AS programId, pr.version AS programVersion, s.start_wall_ms AS startWallMs, s.start_time_source AS startTimeSource,
       s.boot_count AS bootCount, s.start_mono_ms AS startMonoMs, s.end_ms AS endMs, s.complete, s.outcome, s.stop_cause AS stopCause,
       (SELECT COUNT(*) FROM reps r WHERE r.session_id = s.id) AS reps,
       (SELECT COUNT(*) FROM events e WHERE e.session_id = s.id) AS events,
       (SELECT COALESCE(SUM(samples), 0) FROM traces t WHERE t.session_id = s.id) AS traceSamples,
       (SELECT COUNT(*) FROM quarantine q WHERE q.session_id = s.id) AS quarantined,
       (SELECT e.value FROM events e WHERE e.session_id = s.id AND e.code = ${EventCode.JoinedLate} ORDER BY e.seq LIMIT 1) AS joinedAtMs,
       (SELECT e.cause FROM events e WHERE e.session_id = s.id AND e.code = ${EventCode.JoinedLate} ORDER BY e.seq LIMIT 1) AS joinedCause,
       s.bytes_stored AS bytesStored, s.device_size_bytes AS deviceSizeBytes, s.device_last_seq AS deviceLastSeq,
       s.last_session_seq AS lastSessionSeq, s.acked_seq AS ackedSeq
FROM sessions s
JOIN devices d ON d.id = s.device_id
LEFT JOIN patients pa ON pa.id = s.patient_id
LEFT JOIN programs pr ON pr.id = s.program_id`

function toRow(r: Record<string, unknown>): SessionListRow {
    const { joinedCause, ...rest } = r
    return { ...(rest as unknown as SessionListRow), complete: r["complete"] === 1, joinedAfterEnd: joinedCause === JoinedLateCause.AfterEnd }
}

/**
 * The archived session that holds the rest of `r` when the log module lost
 * power in it: the same store's next session, joined late. Null if `r` is
 * complete or no such session is among `rows`.
 */
export function continuationRow(r: SessionListRow, rows: SessionListRow[]): SessionListRow | null {
    if (r.complete) return null
    return rows.find(x => x.deviceId === r.deviceId && x.storeId === r.storeId && x.sessionNo === r.sessionNo + 1 && x.joinedAtMs !== null) ?? null
}

/** Sessions, oldest first (by start time where known, then by device and number). */
export function listSessions(archive: Archive, filter: SessionFilter = {}): SessionListRow[] {
    const where: string[] = []
    const args: Record<string, unknown> = {}
    if (filter.patientRef !== undefined) {
        where.push("pa.ref = @patient")
        args["patient"] = filter.patientRef
    }
    if (filter.sinceMs !== undefined) {
        where.push("s.start_wall_ms >= @since")
        args["since"] = filter.sinceMs
    }
    if (filter.deviceId !== undefined) {
        where.push("d.device_id = @device")
        args["device"] = filter.deviceId
    }
    const sql = `${LIST_SQL} ${where.length ? "WHERE " + where.join(" AND ") : ""}
        ORDER BY s.start_wall_ms IS NULL, s.start_wall_ms, d.device_id, s.store_id, s.session_no`
    return (archive.db.prepare(sql).all(args) as Record<string, unknown>[]).map(toRow)
}

/** Sessions of this patient whose start is not known (left out of `--since` queries). */
export function countUndated(archive: Archive, patientRef: string): number {
    return (
        archive.db
            .prepare("SELECT COUNT(*) AS n FROM sessions s JOIN patients pa ON pa.id = s.patient_id WHERE pa.ref = ? AND s.start_wall_ms IS NULL")
            .get(patientRef) as { n: number }
    ).n
}

export function sessionRow(archive: Archive, id: number): SessionListRow | null {
    const r = archive.db.prepare(`${LIST_SQL} WHERE s.id = ?`).get(id) as Record<string, unknown> | undefined
    return r ? toRow(r) : null
}

/** Pairs phase start and end records by phase index, in order. */
export function pairPhases(rows: { phaseIndex: number; phaseKind: number; edge: string; timeMs: number; outcome: number | null; repsDone: number | null }[]): PhaseSpan[] {
    const spans: PhaseSpan[] = []
    const open = new Map<number, PhaseSpan>()
    for (const r of rows) {
        if (r.edge === "start") {
            const s: PhaseSpan = { index: r.phaseIndex, kind: r.phaseKind, startMs: r.timeMs, endMs: null, outcome: null, repsDone: null }
            spans.push(s)
            open.set(r.phaseIndex, s)
        } else {
            const s = open.get(r.phaseIndex)
            if (s) {
                s.endMs = r.timeMs
                s.outcome = r.outcome
                s.repsDone = r.repsDone
                open.delete(r.phaseIndex)
            } else spans.push({ index: r.phaseIndex, kind: r.phaseKind, startMs: null, endMs: r.timeMs, outcome: r.outcome, repsDone: r.repsDone })
        }
    }
    return spans
}

export function quarantineRows(archive: Archive, sessionId?: number): QuarantineRow[] {
    const rows = archive.db
        .prepare(
            `SELECT q.session_id AS sessionId, s.session_no AS sessionNo, d.device_id AS deviceId, q.offset, q.length, q.bytes, q.code, q.expected, q.found,
                    q.message, q.detected_at_ms AS detectedAtMs
             FROM quarantine q JOIN sessions s ON s.id = q.session_id JOIN devices d ON d.id = s.device_id
             ${sessionId === undefined ? "" : "WHERE q.session_id = @id"} ORDER BY q.session_id, q.offset`
        )
        .all(sessionId === undefined ? {} : { id: sessionId }) as (Omit<QuarantineRow, "bytes"> & { bytes: Buffer })[]
    return rows.map(r => ({ ...r, bytes: [...r.bytes] }))
}

/** Everything about one session, or null if the archive has no such id. */
export function loadSession(archive: Archive, id: number): SessionData | null {
    const row = sessionRow(archive, id)
    if (!row) return null
    const db = archive.db
    const s = db.prepare("SELECT firmware_version AS fw, time_sync AS ts, summary_json AS summary FROM sessions WHERE id = ?").get(id) as {
        fw: string | null
        ts: number | null
        summary: string | null
    }
    const phaseRows = db
        .prepare("SELECT phase_index AS phaseIndex, phase_kind AS phaseKind, edge, time_ms AS timeMs, outcome, reps_done AS repsDone FROM phases WHERE session_id = ? ORDER BY seq")
        .all(id) as Parameters<typeof pairPhases>[0]
    const reps = db
        .prepare(
            `SELECT seq, channel, block, rep_index AS repIndex, flags, cue_on_ms AS cueOnMs, cue_off_ms AS cueOffMs, onset_ms AS onsetMs, offset_ms AS offsetMs,
                    onset_latency_ms AS onsetLatencyMs, time_to_peak_ms AS timeToPeakMs, release_latency_ms AS releaseLatencyMs,
                    hold_at_target_ms AS holdAtTargetMs, peak_x100 AS peakX100, mean_work_x100 AS meanWorkX100, peak_pct_mvc_x10 AS peakPctMvcX10,
                    hold_cv_x1000 AS holdCvX1000, endurance_decline_pct_x10 AS enduranceDeclinePctX10
             FROM reps WHERE session_id = ? ORDER BY seq`
        )
        .all(id) as RepRow[]
    const events = db.prepare("SELECT seq, time_ms AS timeMs, code, cause, value, extra FROM events WHERE session_id = ? ORDER BY seq").all(id) as EventRow[]
    const trace = (
        db.prepare("SELECT seq, start_ms AS startMs, interval_ms AS intervalMs, pressure_x10 AS p, emg_x10 AS e FROM traces WHERE session_id = ? ORDER BY seq").all(id) as {
            seq: number
            startMs: number
            intervalMs: number
            p: Buffer
            e: Buffer
        }[]
    ).map(t => ({ seq: t.seq, startMs: t.startMs, intervalMs: t.intervalMs, pressureX10: unpackI16(t.p), emgX10: unpackI16(t.e) }))
    return {
        row,
        firmwareVersion: s.fw,
        timeSync: s.ts,
        summary: s.summary === null ? null : (JSON.parse(s.summary) as ChannelSummary[]),
        phases: pairPhases(phaseRows),
        reps,
        events,
        trace,
        quarantine: quarantineRows(archive, id),
    }
}

/** Raw frames of a session as pulled, in order (for a bug report or a decoder that improved). */
export function sessionFrames(archive: Archive, id: number): { seq: number; offset: number; kind: number; frame: number[] }[] {
    const rows = archive.db.prepare("SELECT seq, offset, kind, frame FROM records WHERE session_id = ? ORDER BY seq").all(id) as {
        seq: number
        offset: number
        kind: number
        frame: Buffer
    }[]
    return rows.map(r => ({ ...r, frame: [...r.frame] }))
}

export interface ArchiveTotals {
    sessions: number
    records: number
    quarantined: number
    patients: number
    devices: number
}

export function archiveTotals(archive: Archive): ArchiveTotals {
    const n = (sql: string) => (archive.db.prepare(sql).get() as { n: number }).n
    return {
        sessions: n("SELECT COUNT(*) AS n FROM sessions"),
        records: n("SELECT COUNT(*) AS n FROM records"),
        quarantined: n("SELECT COUNT(*) AS n FROM quarantine"),
        patients: n("SELECT COUNT(*) AS n FROM patients"),
        devices: n("SELECT COUNT(*) AS n FROM devices"),
    }
}
