// The SQLite archive (host/archive/): versioned migrations (an archive made
// at v1 upgrades and keeps its data), idempotent saves, patients from
// programs, start times placed from the same boot, the queries of list,
// show and export.
import Database from "better-sqlite3"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { Archive, ArchiveConflictError, packI16, unpackI16 } from "../../../host/archive/archive"
import { ArchiveVersionError, migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from "../../../host/archive/migrations"
import { openArchive } from "../../../host/archive/open"
import { listSessions, loadSession, pairPhases, quarantineRows, sessionFrames } from "../../../host/archive/queries"
import { CliError } from "../../../host/errors"
import { pullLogs } from "../../../host/logs/pull"
import { ARCHIVE_FILE_NAME, defaultArchiveFile } from "../../../host/paths"
import { TimeSync } from "../../../src/core/log/records"
import { appendSession, cipher, DAY_MS, homeSession, makeDevice, MONDAY_MS, tempArchive, tempDir } from "../logs/fixtures"

const T0 = Date.UTC(2026, 10, 1)

async function pulled(sessions = [homeSession({}, 1), homeSession({ startWallMs: MONDAY_MS + DAY_MS }, 2)], more: Partial<Parameters<typeof pullLogs>[0]> = {}) {
    const dev = await makeDevice()
    for (const s of sessions) await appendSession(dev, s)
    const archive = more.archive ?? tempArchive()
    const report = await pullLogs({ archive, connect: async () => dev.source, cipherFor: () => cipher(), keepOpen: true, ...more })
    return { dev, archive, report }
}

describe("schema and migrations", () => {
    test("a new archive is at the newest version, each migration recorded once", () => {
        const a = tempArchive()
        expect(schemaVersion(a.db)).toBe(SCHEMA_VERSION)
        expect(SCHEMA_VERSION).toBe(MIGRATIONS.length)
        const rows = a.db.prepare("SELECT version, name FROM schema_version ORDER BY version").all()
        expect(rows).toEqual(MIGRATIONS.map(m => ({ version: m.version, name: m.name })))
        expect(migrate(a.db)).toEqual([])
        const tables = (a.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(t => t.name)
        for (const t of ["patients", "devices", "programs", "sessions", "reps", "events", "traces", "phases", "quarantine", "records", "schema_version"]) expect(tables).toContain(t)
    })

    test("an archive made at v1 upgrades to the newest and keeps its sessions; a pull goes on from where it stood", async () => {
        // what a v1 pft left: session 1 of the device archived, with a rep and a quarantined stretch
        const { dev } = await pulled([homeSession({}, 1)], { acknowledge: false })
        const info = dev.store.sessionInfo(1)!
        const file = join(tempDir(), "v1.sqlite")
        const v1 = new Database(file)
        expect(migrate(v1, 1, T0)).toEqual([1])
        v1.exec(`
            INSERT INTO patients (id, ref, created_at_ms) VALUES (1, 'P-0042', ${T0});
            INSERT INTO devices (id, device_id, first_seen_ms, last_seen_ms) VALUES (1, 'e1daef9b9723f6da', ${T0}, ${T0});
            INSERT INTO programs (id, program_id, version, patient_id, first_seen_ms) VALUES (1, 'relax-then-tone', 3, 1, ${T0});
            INSERT INTO sessions (id, device_id, store_id, session_no, program_id, patient_id, boot_count, start_mono_ms, start_wall_ms, time_sync,
                                  first_seq, device_last_seq, device_size_bytes, bytes_stored, last_seq_stored, last_session_seq, records_stored,
                                  complete, first_pulled_ms, last_pulled_ms)
                VALUES (1, 1, ${0x5eed0001}, 1, 1, 1, 3, 600000, ${MONDAY_MS}, 1, ${info.firstSeq}, ${info.lastSeq}, ${info.sizeBytes}, ${info.sizeBytes},
                        ${info.lastSeq}, ${info.lastSeq}, ${info.lastSeq}, 1, ${T0}, ${T0});
            INSERT INTO sessions (id, device_id, store_id, session_no, first_seq, device_last_seq, device_size_bytes, time_sync, first_pulled_ms, last_pulled_ms)
                VALUES (2, 1, 77, 1, 1, 1, 10, 0, ${T0}, ${T0});
            INSERT INTO reps VALUES (1, 5, 0, 1, 0, 0, 1000, 2000, 1100, 1900, 100, 300, 200, 500, 1234, 1000, 500, 120, -5);
            INSERT INTO quarantine (session_id, offset, length, bytes, code, expected, found, detected_at_ms) VALUES (1, 40, 2, x'0102', 'bad-crc', 'a', 'b', ${T0});
        `)
        expect(schemaVersion(v1)).toBe(1)
        v1.close()

        const a = Archive.open(file)
        expect(schemaVersion(a.db)).toBe(SCHEMA_VERSION)
        const rows = listSessions(a)
        expect(rows.map(r => [r.id, r.patientRef, r.startWallMs, r.startTimeSource])).toEqual([
            [1, "P-0042", MONDAY_MS, "device"],
            [2, null, null, "unknown"],
        ])
        expect(loadSession(a, 1)!.reps).toEqual([expect.objectContaining({ seq: 5, peakX100: 1234 })])
        expect(quarantineRows(a, 1)).toEqual([expect.objectContaining({ offset: 40, code: "bad-crc", message: "", bytes: [1, 2] })])
        expect(sessionFrames(a, 1)).toEqual([]) // v1 kept no raw frames

        // the next pull finds session 1 archived and only acknowledges it
        const report = await pullLogs({ archive: a, connect: async () => dev.source, cipherFor: () => cipher(), keepOpen: true })
        expect(report.sessions[0]).toMatchObject({ status: "up to date", bytes: 0, ack: "written" })
        expect(report.recordsAdded).toBe(0)
    })

    test("an archive from a newer pft is refused, with what to do", () => {
        const file = join(tempDir(), "new.sqlite")
        Archive.open(file).close()
        const db = new Database(file)
        db.prepare("INSERT INTO schema_version (version, name, applied_at_ms) VALUES (?, 'future', 0)").run(SCHEMA_VERSION + 1)
        db.close()
        expect(() => Archive.open(file)).toThrow(ArchiveVersionError)
        expect(() => openArchive({ archive: file }, true)).toThrow(CliError)
        expect(() => openArchive({ archive: file }, true)).toThrow(`the archive is at schema version ${SCHEMA_VERSION + 1}, this pft reads up to ${SCHEMA_VERSION}: update pft`)
    })

    test("durable: WAL with synchronous FULL, foreign keys on", () => {
        const a = tempArchive()
        expect(a.db.pragma("journal_mode", { simple: true })).toBe("wal")
        expect(a.db.pragma("synchronous", { simple: true })).toBe(2)
        expect(a.db.pragma("foreign_keys", { simple: true })).toBe(1)
    })

    test("the default archive is in the pft data directory", () => {
        expect(defaultArchiveFile({ PFT_HOME: "/h" })).toBe(`/h/${ARCHIVE_FILE_NAME}`)
        expect(defaultArchiveFile({ XDG_DATA_HOME: "/x" })).toBe(`/x/pft/${ARCHIVE_FILE_NAME}`)
        expect(() => openArchive({ archive: join(tempDir(), "none.sqlite") }, true)).toThrow("pull sessions into it first with `pft logs pull`")
    })
})

describe("saving", () => {
    test("saving the same batch again adds nothing", async () => {
        const { archive } = await pulled([homeSession({}, 1)])
        const id = listSessions(archive)[0].id
        const frames = sessionFrames(archive, id)
        const before = loadSession(archive, id)
        const { scanRecords } = await import("../../../host/logs/verify")
        const bytes = frames.flatMap(f => f.frame)
        const recs = scanRecords(bytes, true, cipher()).records.map(d => ({ offset: d.offset, frame: bytes.slice(d.offset, d.offset + d.recordBytes), decoded: d }))
        const again = archive.saveBatch(id, { records: recs, quarantine: [], bytesStored: bytes.length, lastSeqStored: frames[frames.length - 1].seq }, { deviceId: "e1daef9b9723f6da" })
        expect(again).toEqual({ recordsAdded: 0, quarantineAdded: 0, warnings: [] })
        expect(loadSession(archive, id)).toEqual(before)
    })

    test("int16 blobs round trip", () => {
        const v = [-32768, -1, 0, 1, 32767, 150]
        expect(unpackI16(packI16(v))).toEqual(v)
    })
})

describe("patients", () => {
    test("a program's patient, learned after its sessions, is given to them; the same program version for another patient is a conflict", async () => {
        const { archive } = await pulled()
        expect(listSessions(archive).map(r => r.patientRef)).toEqual([null, null])
        archive.recordProgram({ programId: "relax-then-tone", programVersion: 3, patientRef: "P-0042", programJson: "{}" })
        expect(listSessions(archive).map(r => r.patientRef)).toEqual(["P-0042", "P-0042"])
        expect(listSessions(archive, { patientRef: "P-0042" })).toHaveLength(2)
        expect(() => archive.recordProgram({ programId: "relax-then-tone", programVersion: 3, patientRef: "P-0043" })).toThrow(ArchiveConflictError)
        expect(() => archive.recordProgram({ programId: "relax-then-tone", programVersion: 3, patientRef: "P-0043" })).toThrow(
            "program relax-then-tone version 3 belongs to patient P-0042 in this archive, not P-0043"
        )
    })

    test("pull --patient gives unknown programs a patient, and says so when a known program has another", async () => {
        const { archive } = await pulled(undefined, { patientRef: "P-0007" })
        expect(listSessions(archive).map(r => r.patientRef)).toEqual(["P-0007", "P-0007"])
        const dev = await makeDevice()
        await appendSession(dev, homeSession({}, 1))
        const other = tempArchive()
        const run = () => pullLogs({ archive: other, connect: async () => dev.source, cipherFor: () => cipher(), keepOpen: true, patientRef: "P-0007" })
        await run()
        other.recordProgram({ programId: "relax-then-tone", programVersion: 4, patientRef: "P-0009" })
        await appendSession(dev, homeSession({ programVersion: 4 }, 2))
        const report = await run()
        expect(report.warnings).toEqual(["program relax-then-tone version 4 belongs to patient P-0009: its sessions stay with P-0009, not P-0007"])
        expect(listSessions(other).map(r => r.patientRef)).toEqual(["P-0007", "P-0009"])
    })

    test("the program the device reports at connect places its sessions", async () => {
        const dev = await makeDevice()
        await appendSession(dev, homeSession({}, 1))
        const archive = tempArchive()
        const { StoreLogSource } = await import("../../../host/logs/source")
        const source = new StoreLogSource(dev.store, { deviceId: dev.source.deviceId, program: { programId: "relax-then-tone", programVersion: 3, patientRef: "P-0100" } })
        await pullLogs({ archive, connect: async () => source, cipherFor: () => cipher() })
        expect(listSessions(archive)[0].patientRef).toBe("P-0100")
    })
})

describe("start times", () => {
    test("a session before the clock was set is placed from a later one of the same boot; other boots stay unknown", async () => {
        const { archive } = await pulled([
            homeSession({ timeSync: TimeSync.None, bootCount: 4, startMonoMs: 1_000_000 }, 1),
            homeSession({ timeSync: TimeSync.Host, bootCount: 4, startMonoMs: 1_000_000 + 3_600_000, startWallMs: MONDAY_MS }, 2),
            homeSession({ timeSync: TimeSync.None, bootCount: 5, startMonoMs: 5000 }, 3),
        ])
        const rows = listSessions(archive)
        expect(rows.map(r => [r.sessionNo, r.startWallMs, r.startTimeSource])).toEqual([
            [1, MONDAY_MS - 3_600_000, "inferred"],
            [2, MONDAY_MS, "device"],
            [3, null, "unknown"],
        ])
        expect(listSessions(archive, { sinceMs: MONDAY_MS - 1000 }).map(r => r.sessionNo)).toEqual([2])
    })
})

describe("queries", () => {
    test("phases pair by index; an end whose start is missing stands alone", () => {
        expect(
            pairPhases([
                { phaseIndex: 0, phaseKind: 1, edge: "start", timeMs: 0, outcome: null, repsDone: null },
                { phaseIndex: 0, phaseKind: 1, edge: "end", timeMs: 10, outcome: 1, repsDone: 0 },
                { phaseIndex: 2, phaseKind: 3, edge: "end", timeMs: 30, outcome: 2, repsDone: 0 },
                { phaseIndex: 3, phaseKind: 3, edge: "start", timeMs: 40, outcome: null, repsDone: null },
            ])
        ).toEqual([
            { index: 0, kind: 1, startMs: 0, endMs: 10, outcome: 1, repsDone: 0 },
            { index: 2, kind: 3, startMs: null, endMs: 30, outcome: 2, repsDone: 0 },
            { index: 3, kind: 3, startMs: 40, endMs: null, outcome: null, repsDone: null },
        ])
    })

    test("list counts reps, events, trace samples and quarantine per session", async () => {
        const { archive } = await pulled([homeSession({ minutes: 1 }, 1)])
        const [r] = listSessions(archive)
        expect(r).toMatchObject({ sessionNo: 1, reps: 6, events: 6, traceSamples: 600, quarantined: 0, complete: true, programId: "relax-then-tone", programVersion: 3 })
        expect(r.ackedSeq).toBe(r.deviceLastSeq)
        expect(r.bytesStored).toBe(r.deviceSizeBytes)
    })
})
