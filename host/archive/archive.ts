/**
 * The clinic's session archive: one SQLite file (better-sqlite3), by default
 * in the pft data directory (host/paths.ts), schema in ./migrations.ts.
 *
 * This module is the write side the pull uses: devices, programs and their
 * patients, the pull's progress per session (so an interrupted pull resumes
 * where the archive stands), and `saveBatch`, which writes a batch of
 * verified records and quarantined bytes in one transaction. Every insert
 * is keyed by (session, sequence number) or (session, offset, code), so
 * saving the same batch twice adds nothing. The read side (list, show,
 * export) is ./queries.ts.
 *
 * Durability: WAL with synchronous=FULL, so a batch the pull saw committed
 * survives a power cut of the host: the device is told to free a session
 * only after that.
 */
import Database from "better-sqlite3"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { RecordKind, TimeSync, type LogRecord, type SessionHeaderRecord } from "../../src/core/log/records"
import type { SessionInfo } from "../../src/core/log/session-index"
import type { ProgramInfo } from "../logs/source"
import type { QuarantineItem, VerifiedRecord } from "../logs/verify"
import { migrate } from "./migrations"

export const START_TIME_SOURCES = ["device", "inferred", "unknown"] as const
export type StartTimeSource = (typeof START_TIME_SOURCES)[number]

/** Where the archive stands for one session of one device store. */
export interface SessionPullState {
    id: number
    firstSeq: number
    /** [bytes] of the session archived (as records or quarantined): the pull resumes here */
    bytesStored: number
    /** sequence number of the last record archived (store records included) */
    lastSeqStored: number
    /** sequence number of the last record of this session archived: what the device is told */
    lastSessionSeq: number
    /** as listed by the device at the last pull */
    deviceSizeBytes: number
    deviceLastSeq: number
    /** the device confirmed its acknowledgement up to here */
    ackedSeq: number
}

export interface SaveBatch {
    records: VerifiedRecord[]
    quarantine: QuarantineItem[]
    /** [bytes] session offset everything before which is now archived */
    bytesStored: number
    lastSeqStored: number
}

export interface SaveContext {
    /** the device the records came from (a header naming another is reported) */
    deviceId: string
    /** patient for sessions whose program's patient is not known (`pft logs pull --patient`) */
    defaultPatientRef?: string
}

export interface SaveResult {
    /** records new to the archive */
    recordsAdded: number
    quarantineAdded: number
    warnings: string[]
}

/** A program seen twice with the same id and version but another patient. */
export class ArchiveConflictError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "ArchiveConflictError"
    }
}

export interface ArchiveOpenOptions {
    readonly?: boolean
    /** the clock, for the *_ms columns (tests) */
    now?: () => number
}

/** int16 little-endian samples as a blob */
export function packI16(values: number[]): Buffer {
    const b = Buffer.alloc(values.length * 2)
    for (let i = 0; i < values.length; i++) b.writeInt16LE(values[i], i * 2)
    return b
}

export function unpackI16(blob: Buffer): number[] {
    const out: number[] = []
    for (let i = 0; i + 1 < blob.length; i += 2) out.push(blob.readInt16LE(i))
    return out
}

type Stmt = Database.Statement

const STATE_COLUMNS = "id, first_seq, bytes_stored, last_seq_stored, last_session_seq, device_size_bytes, device_last_seq, acked_seq"

function toState(r: Record<string, number>): SessionPullState {
    return {
        id: r["id"],
        firstSeq: r["first_seq"],
        bytesStored: r["bytes_stored"],
        lastSeqStored: r["last_seq_stored"],
        lastSessionSeq: r["last_session_seq"],
        deviceSizeBytes: r["device_size_bytes"],
        deviceLastSeq: r["device_last_seq"],
        ackedSeq: r["acked_seq"],
    }
}

export class Archive {
    readonly db: Database.Database
    readonly now: () => number
    private readonly stmts = new Map<string, Stmt>()

    private constructor(
        db: Database.Database,
        readonly file: string,
        now: () => number
    ) {
        this.db = db
        this.now = now
    }

    /** Opens (creating it and its directory if need be) and migrates the archive at `file`; ":memory:" for tests. */
    static open(file: string, options: ArchiveOpenOptions = {}): Archive {
        const now = options.now ?? Date.now
        if (file !== ":memory:" && !options.readonly) mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
        const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false })
        try {
            if (!options.readonly) {
                db.pragma("journal_mode = WAL")
                db.pragma("synchronous = FULL")
            }
            db.pragma("foreign_keys = ON")
            if (!options.readonly) migrate(db, undefined, now())
        } catch (e) {
            db.close()
            throw e
        }
        return new Archive(db, file, now)
    }

    close(): void {
        this.db.close()
    }

    private stmt(sql: string): Stmt {
        let s = this.stmts.get(sql)
        if (!s) {
            s = this.db.prepare(sql)
            this.stmts.set(sql, s)
        }
        return s
    }

    // ------------------------------------------------------------ devices, patients, programs

    /** The device's row id, made on first sight. */
    upsertDevice(deviceId: string): number {
        const t = this.now()
        this.stmt("INSERT INTO devices (device_id, first_seen_ms, last_seen_ms) VALUES (?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms").run(
            deviceId,
            t,
            t
        )
        return (this.stmt("SELECT id FROM devices WHERE device_id = ?").get(deviceId) as { id: number }).id
    }

    /** The patient's row id, made on first sight. */
    patientId(ref: string): number {
        this.stmt("INSERT INTO patients (ref, created_at_ms) VALUES (?, ?) ON CONFLICT (ref) DO NOTHING").run(ref, this.now())
        return (this.stmt("SELECT id FROM patients WHERE ref = ?").get(ref) as { id: number }).id
    }

    /** The program's row id (made without a patient if new). */
    programId(programId: string, version: number): number {
        this.stmt("INSERT INTO programs (program_id, version, first_seen_ms) VALUES (?, ?, ?) ON CONFLICT (program_id, version) DO NOTHING").run(programId, version, this.now())
        return (this.stmt("SELECT id FROM programs WHERE program_id = ? AND version = ?").get(programId, version) as { id: number }).id
    }

    /**
     * Records a program and its patient (from the device, or pushed from
     * here). Sessions of that program with no patient yet get it. A program
     * id and version already known for another patient is a conflict: one
     * version is one signed document.
     */
    recordProgram(p: ProgramInfo): number {
        return this.db.transaction(() => this.setProgramPatient(p.programId, p.programVersion, p.patientRef, p.programJson ?? null))()
    }

    private setProgramPatient(programId: string, version: number, patientRef: string, json: string | null): number {
        const id = this.programId(programId, version)
        const row = this.stmt("SELECT p.patient_id AS pid, pa.ref AS ref FROM programs p LEFT JOIN patients pa ON pa.id = p.patient_id WHERE p.id = ?").get(id) as {
            pid: number | null
            ref: string | null
        }
        if (row.ref !== null && row.ref !== patientRef)
            throw new ArchiveConflictError(`program ${programId} version ${version} belongs to patient ${row.ref} in this archive, not ${patientRef}`)
        const pid = this.patientId(patientRef)
        this.stmt("UPDATE programs SET patient_id = ?, program_json = COALESCE(?, program_json) WHERE id = ?").run(pid, json, id)
        this.stmt("UPDATE sessions SET patient_id = ? WHERE program_id = ? AND patient_id IS NULL").run(pid, id)
        return id
    }

    // ------------------------------------------------------------ the pull's progress

    sessionState(deviceRow: number, storeId: number, sessionNo: number): SessionPullState | null {
        const r = this.stmt(`SELECT ${STATE_COLUMNS} FROM sessions WHERE device_id = ? AND store_id = ? AND session_no = ?`).get(deviceRow, storeId, sessionNo)
        return r ? toState(r as Record<string, number>) : null
    }

    sessionStateById(id: number): SessionPullState | null {
        const r = this.stmt(`SELECT ${STATE_COLUMNS} FROM sessions WHERE id = ?`).get(id)
        return r ? toState(r as Record<string, number>) : null
    }

    /**
     * Notes a session as the device lists it now (made if new). What the
     * device's index knows of its start fills the columns until the header
     * record itself is archived.
     */
    noteListed(deviceRow: number, storeId: number, info: SessionInfo): SessionPullState {
        const t = this.now()
        const known = info.startMonoMs >= 0
        this.stmt(
            `INSERT INTO sessions (device_id, store_id, session_no, first_seq, device_last_seq, device_size_bytes, boot_count, start_mono_ms, time_sync,
                                   start_wall_ms, start_time_source, first_pulled_ms, last_pulled_ms)
             VALUES (@device, @store, @session, @firstSeq, @lastSeq, @size, @boot, @mono, @sync, @wall, @source, @t, @t)
             ON CONFLICT (device_id, store_id, session_no) DO UPDATE SET
                device_last_seq = excluded.device_last_seq, device_size_bytes = excluded.device_size_bytes, last_pulled_ms = excluded.last_pulled_ms`
        ).run({
            device: deviceRow,
            store: storeId,
            session: info.session,
            firstSeq: info.firstSeq,
            lastSeq: info.lastSeq,
            size: info.sizeBytes,
            boot: known ? info.bootCount : null,
            mono: known ? info.startMonoMs : null,
            sync: known ? info.timeSync : null,
            wall: known && info.timeSync === TimeSync.Host ? info.startWallMs : null,
            source: known && info.timeSync === TimeSync.Host ? "device" : "unknown",
            t,
        })
        return this.sessionState(deviceRow, storeId, info.session)!
    }

    /** The device's offsets for the session moved (its start was reclaimed): read it again from 0, keeping what is archived. */
    restartSession(id: number, firstSeq: number): void {
        this.stmt("UPDATE sessions SET first_seq = ?, bytes_stored = 0 WHERE id = ?").run(firstSeq, id)
    }

    markAcknowledged(id: number, seq: number): void {
        this.stmt("UPDATE sessions SET acked_seq = MAX(acked_seq, ?), acked_at_ms = ? WHERE id = ?").run(seq, this.now(), id)
    }

    // ------------------------------------------------------------ saving

    /** Writes a batch in one transaction: records (raw and decoded), quarantine, and how far the session is archived. */
    saveBatch(sessionId: number, batch: SaveBatch, ctx: SaveContext): SaveResult {
        return this.db.transaction(() => {
            const result: SaveResult = { recordsAdded: 0, quarantineAdded: 0, warnings: [] }
            let lastSessionSeq = 0
            let sawHeader = false
            for (const r of batch.records) {
                const d = r.decoded
                const added = this.stmt("INSERT INTO records (session_id, seq, offset, kind, frame) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING").run(
                    sessionId,
                    d.seq,
                    r.offset,
                    d.record.kind,
                    Buffer.from(r.frame)
                ).changes
                result.recordsAdded += added
                if (d.session === 0) continue
                lastSessionSeq = Math.max(lastSessionSeq, d.seq)
                if (d.record.kind === RecordKind.SessionHeader) {
                    sawHeader = true
                    this.saveHeader(sessionId, d.record, ctx, result.warnings)
                } else this.saveRecord(sessionId, d.seq, d.record)
            }
            const t = this.now()
            for (const q of batch.quarantine) {
                result.quarantineAdded += this.stmt(
                    `INSERT INTO quarantine (session_id, offset, length, bytes, code, expected, found, message, detected_at_ms)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
                ).run(sessionId, q.offset, q.length, Buffer.from(q.bytes), q.code, q.expected, q.found, q.message, t).changes
            }
            this.stmt(
                `UPDATE sessions SET bytes_stored = MAX(bytes_stored, ?), last_seq_stored = MAX(last_seq_stored, ?),
                    last_session_seq = MAX(last_session_seq, ?), records_stored = records_stored + ?, last_pulled_ms = ? WHERE id = ?`
            ).run(batch.bytesStored, batch.lastSeqStored, lastSessionSeq, result.recordsAdded, t, sessionId)
            if (sawHeader) this.inferStartTimes()
            return result
        })()
    }

    private saveHeader(sessionId: number, h: SessionHeaderRecord, ctx: SaveContext, warnings: string[]) {
        if (h.deviceId !== ctx.deviceId) warnings.push(`a session header names device ${h.deviceId}, but the log came from ${ctx.deviceId}`)
        const programRow = this.programId(h.programId, h.programVersion)
        let patient = (this.stmt("SELECT patient_id AS pid FROM programs WHERE id = ?").get(programRow) as { pid: number | null }).pid
        if (ctx.defaultPatientRef !== undefined) {
            if (patient === null) {
                this.setProgramPatient(h.programId, h.programVersion, ctx.defaultPatientRef, null)
                patient = this.patientId(ctx.defaultPatientRef)
            } else {
                const ref = (this.stmt("SELECT ref FROM patients WHERE id = ?").get(patient) as { ref: string }).ref
                if (ref !== ctx.defaultPatientRef)
                    warnings.push(`program ${h.programId} version ${h.programVersion} belongs to patient ${ref}: its sessions stay with ${ref}, not ${ctx.defaultPatientRef}`)
            }
        }
        const synced = h.timeSync === TimeSync.Host
        this.stmt(
            `UPDATE sessions SET program_id = ?, patient_id = COALESCE(?, patient_id), firmware_version = ?, boot_count = ?, start_mono_ms = ?,
                time_sync = ?, start_wall_ms = ?, start_time_source = ? WHERE id = ?`
        ).run(programRow, patient, h.firmwareVersion, h.bootCount, h.startMonoMs, h.timeSync, synced ? h.startWallMs : null, synced ? "device" : "unknown", sessionId)
    }

    private saveRecord(sessionId: number, seq: number, rec: LogRecord) {
        switch (rec.kind) {
            case RecordKind.PhaseStart:
                this.stmt("INSERT INTO phases (session_id, seq, phase_index, phase_kind, edge, time_ms) VALUES (?, ?, ?, ?, 'start', ?) ON CONFLICT DO NOTHING").run(
                    sessionId,
                    seq,
                    rec.phaseIndex,
                    rec.phaseKind,
                    rec.timeMs
                )
                break
            case RecordKind.PhaseEnd:
                this.stmt(
                    "INSERT INTO phases (session_id, seq, phase_index, phase_kind, edge, time_ms, outcome, reps_done) VALUES (?, ?, ?, ?, 'end', ?, ?, ?) ON CONFLICT DO NOTHING"
                ).run(sessionId, seq, rec.phaseIndex, rec.phaseKind, rec.timeMs, rec.outcome, rec.repsDone)
                break
            case RecordKind.Rep:
                this.stmt(
                    `INSERT INTO reps (session_id, seq, channel, block, rep_index, flags, cue_on_ms, cue_off_ms, onset_ms, offset_ms, onset_latency_ms,
                        time_to_peak_ms, release_latency_ms, hold_at_target_ms, peak_x100, mean_work_x100, peak_pct_mvc_x10, hold_cv_x1000, endurance_decline_pct_x10)
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
                ).run(
                    sessionId,
                    seq,
                    rec.channel,
                    rec.block,
                    rec.repIndex,
                    rec.flags,
                    rec.cueOnMs,
                    rec.cueOffMs,
                    rec.onsetMs,
                    rec.offsetMs,
                    rec.onsetLatencyMs,
                    rec.timeToPeakMs,
                    rec.releaseLatencyMs,
                    rec.holdAtTargetMs,
                    rec.peakX100,
                    rec.meanWorkX100,
                    rec.peakPctMvcX10,
                    rec.holdCvX1000,
                    rec.enduranceDeclinePctX10
                )
                break
            case RecordKind.Event:
                this.stmt("INSERT INTO events (session_id, seq, time_ms, code, cause, value, extra) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING").run(
                    sessionId,
                    seq,
                    rec.timeMs,
                    rec.code,
                    rec.cause,
                    rec.value,
                    rec.extra
                )
                break
            case RecordKind.Trace:
                this.stmt("INSERT INTO traces (session_id, seq, start_ms, interval_ms, samples, pressure_x10, emg_x10) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING").run(
                    sessionId,
                    seq,
                    rec.startMs,
                    rec.intervalMs,
                    rec.pressureCmH2OX10.length,
                    packI16(rec.pressureCmH2OX10),
                    packI16(rec.emgUvX10)
                )
                break
            case RecordKind.Summary:
                this.stmt("UPDATE sessions SET complete = 1, end_ms = ?, outcome = ?, stop_cause = ?, summary_json = ? WHERE id = ?").run(
                    rec.endMs,
                    rec.outcome,
                    rec.stopCause,
                    JSON.stringify(rec.channels),
                    sessionId
                )
                break
            default:
                // session headers are saved by saveHeader; acknowledgements are store records (session 0)
                break
        }
    }

    /**
     * Sessions started before the device's clock was set this boot are
     * placed from another session of the same boot that has a wall-clock
     * start (same monotonic clock): the nearest one.
     */
    inferStartTimes(): number {
        return this.stmt(
            `UPDATE sessions AS s SET
                start_wall_ms = (SELECT o.start_wall_ms - o.start_mono_ms + s.start_mono_ms FROM sessions o
                                 WHERE o.device_id = s.device_id AND o.boot_count = s.boot_count AND o.start_time_source = 'device'
                                 ORDER BY ABS(o.start_mono_ms - s.start_mono_ms) LIMIT 1),
                start_time_source = 'inferred'
             WHERE s.start_time_source = 'unknown' AND s.boot_count IS NOT NULL AND s.start_mono_ms IS NOT NULL
               AND EXISTS (SELECT 1 FROM sessions o WHERE o.device_id = s.device_id AND o.boot_count = s.boot_count AND o.start_time_source = 'device')`
        ).run().changes
    }
}
