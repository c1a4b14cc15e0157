/**
 * pull_throughput_kbps, pull_90_sessions_s, archive_bytes_per_session,
 * sessions_in_flash: `pft logs pull` (host/logs/pull.ts) from the
 * firmware's own LogStore on a W25Q-geometry MemoryNor, holding typical
 * home sessions (src/core/log/capacity.ts TYPICAL_SESSION: 25 min, both
 * channels traced at 10 Hz, 120 reps, 40 events, 8 phases, AES-CCM
 * encrypted), into a SQLite archive on disk.
 *
 * The link is simulated by StoreLogSource: every request takes
 * LINK_LATENCY_MS end to end (the command-to-report round trip measured on
 * the DeviceScript devtools bus: p50 20.0 ms, ../shared/devicescript-notes.md
 * section 3b), requests overlap in flight, the store serves one at a time.
 * Reads of 232 bytes (one report), 4 in flight. The time to pull 90 sessions
 * is the measured time per session (list, reads, verify, save, acknowledge)
 * times 90.
 *
 * Run alone: npx tsx -e 'import("./bench/log-pull.ts").then(async m => console.log(await m.benchLogPull()))'
 */
import { rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { w25qGeometry, W25Q128_SECTORS } from "../src/core/log/block-device"
import { logCapacity, sessionBytes, TYPICAL_SESSION, type SessionPlan } from "../src/core/log/capacity"
import { MemoryNor } from "../src/core/log/memory-nor"
import { EventCode, LogChannel, PhaseOutcome, RecordKind, sessionHeader, SessionOutcome, StopCause, TimeSync, type LogRecord } from "../src/core/log/records"
import { LogStore } from "../src/core/log/store"
import { Archive } from "../host/archive/archive"
import { logCipher } from "../host/logs/cipher"
import { pullLogs } from "../host/logs/pull"
import { MAX_READ_BYTES, StoreLogSource } from "../host/logs/source"
import { makeChannelSummary, makeRep } from "../tests/cases/log.cases"
import { tempDir } from "../tests/host/logs/fixtures"
import type { Figures } from "./results"

/** [ms] one request's round trip on the simulated bus */
export const LINK_LATENCY_MS = 20
const IN_FLIGHT = 4
const SESSIONS = 3
const STORE_ID = 0x0b0e0c11
const KEY = Buffer.alloc(32, 0x5a)

/** The records of a session of `plan` (header strings sized as the plan says). */
export function typicalSessionRecords(plan: SessionPlan, day: number): LogRecord[] {
    const samples = Math.ceil(plan.durationMin * 60 * plan.traceRateHz)
    const intervalMs = 1000 / plan.traceRateHz
    const recs: LogRecord[] = [
        sessionHeader({
            bootCount: day,
            startMonoMs: 60_000,
            startWallMs: Date.UTC(2026, 10, 20 + day, 9, 30),
            timeSync: TimeSync.Host,
            deviceId: "e1daef9b9723f6da",
            firmwareVersion: "0.1.0",
            programId: "x".repeat(plan.headerStringBytes - 21),
            programVersion: 3,
        }),
    ]
    for (let p = 0; p < plan.phases; p++) recs.push({ kind: RecordKind.PhaseStart, phaseIndex: p, phaseKind: 1 + (p % 4), timeMs: p * 1000 })
    for (let at = 0; at < samples; at += plan.traceSamplesPerChunk) {
        const n = Math.min(plan.traceSamplesPerChunk, samples - at)
        const p: number[] = []
        const e: number[] = []
        for (let k = 0; k < n; k++) {
            p.push(200 + Math.round(80 * Math.sin((at + k) / 23)))
            e.push(60 + Math.round(45 * Math.sin((at + k) / 7)))
        }
        recs.push({ kind: RecordKind.Trace, startMs: at * intervalMs, intervalMs, pressureCmH2OX10: p, emgUvX10: e })
    }
    for (let k = 0; k < plan.repRecords; k++) recs.push({ ...makeRep(k >> 1), channel: k % 2 === 0 ? LogChannel.Emg : LogChannel.Pressure })
    for (let k = 0; k < plan.events; k++) recs.push({ kind: RecordKind.Event, timeMs: k * 30_000, code: EventCode.StimLevel, cause: 1, value: 10_000 + k, extra: 10_000 })
    for (let p = 0; p < plan.phases; p++)
        recs.push({ kind: RecordKind.PhaseEnd, phaseIndex: p, phaseKind: 1 + (p % 4), timeMs: p * 1000 + 500, outcome: PhaseOutcome.Completed, repsDone: 0 })
    recs.push({
        kind: RecordKind.Summary,
        endMs: plan.durationMin * 60_000,
        outcome: SessionOutcome.Completed,
        stopCause: StopCause.Completed,
        channels: [makeChannelSummary(LogChannel.Emg, 4000), makeChannelSummary(LogChannel.Pressure, 6000)].slice(0, plan.summaryChannels),
    })
    return recs
}

/** [bytes] the archive's pages in use (after a checkpoint: WAL folded in) */
function archiveBytes(a: Archive): number {
    a.db.pragma("wal_checkpoint(TRUNCATE)")
    return statSync(a.file).size
}

export interface LogPullBenchOptions {
    sessions?: number
    latencyMs?: number
    inFlight?: number
}

export async function benchLogPull(options: LogPullBenchOptions = {}): Promise<Figures> {
    const sessions = options.sessions ?? SESSIONS
    const latencyMs = options.latencyMs ?? LINK_LATENCY_MS
    const inFlight = options.inFlight ?? IN_FLIGHT
    const plan = TYPICAL_SESSION
    const perSession = sessionBytes(plan).total
    const sectors = Math.ceil(((sessions + 2) * perSession) / 4000) + 4
    const nor = new MemoryNor({ geometry: w25qGeometry(sectors) })
    const cipher = logCipher(KEY, STORE_ID)
    const store = new LogStore(nor, { cipher, newStoreId: STORE_ID })
    await store.recover()
    for (let d = 0; d < sessions; d++) for (const r of typicalSessionRecords(plan, d)) await store.append(r)
    const listed = store.listSessions()
    const bytes = listed.reduce((n, s) => n + s.sizeBytes, 0)

    const dir = tempDir("pft-bench-")
    const archive = Archive.open(join(dir, "archive.sqlite"))
    const empty = archiveBytes(archive)
    const source = new StoreLogSource(store, { deviceId: "e1daef9b9723f6da", latencyMs })
    const started = performance.now()
    const report = await pullLogs({ archive, connect: async () => source, cipherFor: () => cipher, inFlight, chunkBytes: MAX_READ_BYTES, readTimeoutMs: 2000 })
    const seconds = (performance.now() - started) / 1000
    if (report.quarantined !== 0 || report.acknowledged.length !== sessions) throw new Error(`bench pull went wrong: ${JSON.stringify(report.sessions)}`)
    const full = archiveBytes(archive)
    archive.close()
    rmSync(dir, { recursive: true, force: true })

    const kbps = bytes / 1000 / seconds
    const capacity = logCapacity(w25qGeometry(W25Q128_SECTORS), plan)
    const link = `${latencyMs} ms per request, ${inFlight} reads of ${MAX_READ_BYTES} B in flight`
    return {
        pull_throughput_kbps: { value: kbps, unit: "kB/s", note: `${sessions} typical sessions (${(bytes / 1000).toFixed(0)} kB, encrypted) from the LogStore into SQLite; ${link}` },
        pull_90_sessions_s: { value: (seconds / sessions) * 90, unit: "s", note: `90 x the measured ${(seconds / sessions).toFixed(2)} s per session (list, fetch, verify, save, acknowledge)` },
        archive_bytes_per_session: { value: (full - empty) / sessions, unit: "B", note: `SQLite file growth per ${plan.durationMin}-min session (raw frames + decoded tables; ${perSession} B on flash)` },
        sessions_in_flash: { value: capacity.sessions, unit: "sessions", note: `typical ${plan.durationMin}-min sessions, 10 Hz trace, in a W25Q128 (src/core/log/capacity.ts)` },
    }
}
