// A simulated week of home sessions on the firmware's own store (encrypted,
// on a W25Q-geometry MemoryNor), pulled as `pft logs pull` does: the link
// drops half-way, the next pull resumes, every record is archived once, the
// device is told and frees the space, and the week exports for the patient.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, test } from "vitest"
import { RecordKind } from "../../../src/core/log/records"
import { archiveTotals, listSessions, sessionFrames } from "../../../host/archive/queries"
import { exportSessions } from "../../../host/commands/export"
import { PullError, pullLogs } from "../../../host/logs/pull"
import { FlakyLogSource, MAX_READ_BYTES, StoreLogSource } from "../../../host/logs/source"
import { appendSession, cipher, DAY_MS, DEVICE_ID, makeDevice, MONDAY_MS, tempArchive, tempDir, weekOfSessions } from "./fixtures"

test("a week of sessions: pulled, cut half-way, resumed, archived once, acknowledged, space freed, exported", async () => {
    const dev = await makeDevice({ sectors: 64 })
    const week = weekOfSessions(3)
    for (const s of week) await appendSession(dev, s)
    const listed = dev.store.listSessions()
    expect(listed.map(s => s.session)).toEqual([1, 2, 3, 4, 5, 6, 7])
    const totalBytes = listed.reduce((n, s) => n + s.sizeBytes, 0)
    const totalRecords = week.reduce((n, s) => n + s.length, 0)

    const program = { programId: "relax-then-tone", programVersion: 3, patientRef: "P-0042" }
    const device = new StoreLogSource(dev.store, { deviceId: DEVICE_ID, program })
    const link = new FlakyLogSource(device, { seed: 11, failAfterReads: Math.ceil(totalBytes / MAX_READ_BYTES / 2), lateRate: 0.05, maxDelayMs: 3 })
    const archive = tempArchive()
    const options = { archive, connect: async () => link, cipherFor: () => cipher(), keepOpen: true, readTimeoutMs: 40, saveEveryBytes: 4096 }

    const cut = await pullLogs(options).catch(e => e)
    expect(cut).toBeInstanceOf(PullError)
    expect(cut.step).toBe("fetch")
    const half = listSessions(archive)
    const saved = half.reduce((n, s) => n + s.bytesStored, 0)
    expect(saved / totalBytes).toBeGreaterThan(0.3)
    expect(saved / totalBytes).toBeLessThan(0.7)
    expect(dev.store.usage().unarchivedSessions).toBe(7)

    link.reconnect()
    const bytesBefore = device.counts.bytesRead
    const done = await pullLogs(options)
    // the second pull read only what the first had not archived (plus the chunk in flight at the cut)
    expect(device.counts.bytesRead - bytesBefore).toBeLessThan(totalBytes - saved + 8 * MAX_READ_BYTES)
    expect(done.quarantined).toBe(0)
    expect(done.acknowledged).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(done.pendingAcks).toEqual([])

    // archived once: every record of every session exactly once, nothing quarantined
    const totals = archiveTotals(archive)
    expect(totals).toMatchObject({ sessions: 7, quarantined: 0, patients: 1, devices: 1 })
    expect(totals.records).toBe(totalRecords)
    const rows = listSessions(archive, { patientRef: "P-0042" })
    expect(rows.map(r => r.sessionNo)).toEqual([1, 2, 3, 4, 5, 6, 7])
    for (const r of rows) {
        const seqs = sessionFrames(archive, r.id).map(f => f.seq)
        expect(new Set(seqs).size).toBe(seqs.length)
        expect(r).toMatchObject({ complete: true, quarantined: 0, reps: 8 })
        expect(r.ackedSeq).toBe(r.deviceLastSeq)
    }
    // the first session is placed on the calendar from the second (same boot)
    expect(rows[0]).toMatchObject({ startWallMs: MONDAY_MS, startTimeSource: "inferred" })
    expect(rows.slice(1).map(r => (r.startWallMs! - MONDAY_MS) / DAY_MS)).toEqual([1, 2, 3, 4, 5, 6])

    // the device frees the space
    const usage = dev.store.usage()
    expect(usage.unarchivedSessions).toBe(0)
    expect(usage.unarchivedBytes).toBe(0)
    expect(dev.store.listSessions().every(s => s.archived)).toBe(true)

    // a third pull adds nothing
    const again = await pullLogs(options)
    expect(again.recordsAdded).toBe(0)
    expect(archiveTotals(archive)).toEqual(totals)

    // and the week exports, one file per session
    const out = tempDir("pft-export-")
    archive.close()
    for (const format of ["edf", "json", "csv"]) exportSessions({ archive: archive.file, format, patient: "P-0042", out })
    const files = readdirSync(out).sort()
    expect(files.filter(f => f.endsWith(".edf"))).toHaveLength(7)
    expect(files.filter(f => f.endsWith(".json"))).toHaveLength(7)
    expect(files.filter(f => f.endsWith("_samples.csv"))).toHaveLength(7)
    expect(files).toContain("P-0042_20261120-0930_e1daef9b-s1_samples.csv")
    expect(files).toContain("P-0042_20261126-0930_e1daef9b-s7.edf")
    const json = JSON.parse(readFileSync(join(out, files.find(f => f.endsWith("-s3.json"))!), "utf8"))
    expect(json.reps).toHaveLength(8)
    expect(json.patient).toBe("P-0042")
    const since = exportSessions({ archive: archive.file, format: "json", patient: "P-0042", out: tempDir(), since: new Date(MONDAY_MS + 4 * DAY_MS - 3_600_000).toISOString() })
    expect(since).toHaveLength(3)
}, 60_000)

test("the week's records are every kind a session holds", () => {
    const kinds = new Set(weekOfSessions(1).flat().map(r => r.kind))
    expect([...kinds].sort()).toEqual([RecordKind.SessionHeader, RecordKind.PhaseStart, RecordKind.PhaseEnd, RecordKind.Rep, RecordKind.Event, RecordKind.Trace, RecordKind.Summary])
})
