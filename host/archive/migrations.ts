/**
 * The archive's schema, as a list of numbered migrations. A database
 * records every migration applied in `schema_version`; opening it applies
 * the ones it lacks, in order, each in its own transaction. A migration,
 * once released, is never edited: a change is a new migration.
 *
 * v1  patients (pseudonymous ref), devices, programs, sessions (one per
 *     device store and session number, with the pull's progress: bytes and
 *     last sequence number stored), phases, reps, events, traces (both
 *     channels x 10 as little-endian int16 blobs), quarantine.
 * v2  records: every pulled frame as read (encrypted as on the device), so
 *     a session can be decoded again or dumped for a bug report; sessions
 *     say where their start time comes from (device clock, inferred from
 *     another session of the same boot, unknown); quarantine items carry
 *     their message; an index for the patient queries of list and export.
 */
import type Database from "better-sqlite3"

export interface Migration {
    version: number
    name: string
    up: (db: Database.Database) => void
}

export const MIGRATIONS: Migration[] = [
    {
        version: 1,
        name: "sessions, reps, events, traces, quarantine",
        up: db =>
            db.exec(`
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL UNIQUE,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
);
CREATE TABLE programs (
    id INTEGER PRIMARY KEY,
    program_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    patient_id INTEGER REFERENCES patients(id),
    program_json TEXT,
    first_seen_ms INTEGER NOT NULL,
    UNIQUE (program_id, version)
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    device_id INTEGER NOT NULL REFERENCES devices(id),
    store_id INTEGER NOT NULL,
    session_no INTEGER NOT NULL,
    program_id INTEGER REFERENCES programs(id),
    patient_id INTEGER REFERENCES patients(id),
    firmware_version TEXT,
    boot_count INTEGER,
    start_mono_ms INTEGER,
    start_wall_ms INTEGER,
    time_sync INTEGER,
    first_seq INTEGER NOT NULL,
    device_last_seq INTEGER NOT NULL,
    device_size_bytes INTEGER NOT NULL,
    bytes_stored INTEGER NOT NULL DEFAULT 0,
    last_seq_stored INTEGER NOT NULL DEFAULT 0,
    last_session_seq INTEGER NOT NULL DEFAULT 0,
    records_stored INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0,
    end_ms INTEGER,
    outcome INTEGER,
    stop_cause INTEGER,
    summary_json TEXT,
    acked_seq INTEGER NOT NULL DEFAULT 0,
    acked_at_ms INTEGER,
    first_pulled_ms INTEGER NOT NULL,
    last_pulled_ms INTEGER NOT NULL,
    UNIQUE (device_id, store_id, session_no)
);
CREATE TABLE phases (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    phase_index INTEGER NOT NULL,
    phase_kind INTEGER NOT NULL,
    edge TEXT NOT NULL CHECK (edge IN ('start', 'end')),
    time_ms INTEGER NOT NULL,
    outcome INTEGER,
    reps_done INTEGER,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE reps (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    channel INTEGER NOT NULL,
    block INTEGER NOT NULL,
    rep_index INTEGER NOT NULL,
    flags INTEGER NOT NULL,
    cue_on_ms INTEGER NOT NULL,
    cue_off_ms INTEGER NOT NULL,
    onset_ms INTEGER NOT NULL,
    offset_ms INTEGER NOT NULL,
    onset_latency_ms INTEGER NOT NULL,
    time_to_peak_ms INTEGER NOT NULL,
    release_latency_ms INTEGER NOT NULL,
    hold_at_target_ms INTEGER NOT NULL,
    peak_x100 INTEGER NOT NULL,
    mean_work_x100 INTEGER NOT NULL,
    peak_pct_mvc_x10 INTEGER NOT NULL,
    hold_cv_x1000 INTEGER NOT NULL,
    endurance_decline_pct_x10 INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE events (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    code INTEGER NOT NULL,
    cause INTEGER NOT NULL,
    value INTEGER NOT NULL,
    extra INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE traces (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    interval_ms INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    pressure_x10 BLOB NOT NULL,
    emg_x10 BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    code TEXT NOT NULL,
    expected TEXT NOT NULL,
    found TEXT NOT NULL,
    detected_at_ms INTEGER NOT NULL,
    UNIQUE (session_id, offset, code)
);
`),
    },
    {
        version: 2,
        name: "raw frames, start time source, quarantine messages",
        up: db =>
            db.exec(`
CREATE TABLE records (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    seq INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    frame BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
ALTER TABLE sessions ADD COLUMN start_time_source TEXT NOT NULL DEFAULT 'unknown'
    CHECK (start_time_source IN ('device', 'inferred', 'unknown'));
UPDATE sessions SET start_time_source = 'device' WHERE start_wall_ms IS NOT NULL AND time_sync = 1;
ALTER TABLE quarantine ADD COLUMN message TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_patient ON sessions (patient_id, start_wall_ms);
`),
    },
]

/** The newest schema this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version

/** The version a database is at (0: empty). */
export function schemaVersion(db: Database.Database): number {
    const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get()
    if (!table) return 0
    const row = db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null }
    return row.v ?? 0
}

export class ArchiveVersionError extends Error {
    constructor(
        readonly found: number,
        readonly supported: number
    ) {
        super(`the archive is at schema version ${found}, this pft reads up to ${supported}: update pft`)
        this.name = "ArchiveVersionError"
    }
}

/**
 * Brings `db` to `target` (default: the newest), one transaction per
 * migration. Returns the versions applied. Refuses a database newer than
 * this code (it would not know what it is writing into).
 */
export function migrate(db: Database.Database, target = SCHEMA_VERSION, now = Date.now()): number[] {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)")
    const current = schemaVersion(db)
    if (current > SCHEMA_VERSION) throw new ArchiveVersionError(current, SCHEMA_VERSION)
    const applied: number[] = []
    for (const m of MIGRATIONS) {
        if (m.version <= current || m.version > target) continue
        db.transaction(() => {
            m.up(db)
            db.prepare("INSERT INTO schema_version (version, name, applied_at_ms) VALUES (?, ?, ?)").run(m.version, m.name, now)
        })()
        applied.push(m.version)
    }
    return applied
}
