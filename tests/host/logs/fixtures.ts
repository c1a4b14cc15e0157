// Fixtures for the host side of the session log: sessions built with the
// firmware's own record format and LogStore on a MemoryNor, a LogSource over
// crafted bytes, and archives in temporary files. Factories only: nothing
// shared or mutated between tests.
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { MemoryNor } from "../../../src/core/log/memory-nor"
import {
    EventCode,
    LogChannel,
    PhaseOutcome,
    RecordKind,
    sessionHeader,
    SessionOutcome,
    StopCause,
    TimeSync,
    TRACE_MISSING,
    encodeRecord,
    type LogRecord,
    type RecordCipher,
    type RepRecord,
    type TraceRecord,
} from "../../../src/core/log/records"
import { LogStore } from "../../../src/core/log/store"
import type { SessionInfo } from "../../../src/core/log/session-index"
import { Archive } from "../../../host/archive/archive"
import { logCipher } from "../../../host/logs/cipher"
import { StoreLogSource, type AckOutcome, type LogSource } from "../../../host/logs/source"
import { makeChannelSummary, makeEvent, makeRep, makeTrace } from "../../cases/log.cases"

export const DEVICE_ID = "e1daef9b9723f6da"
export const STORE_ID = 0x5eed0001
export const CLINIC_KEY = Buffer.alloc(32, 0x42)
/** 2026-11-20 09:30:00.250 UTC */
export const MONDAY_MS = Date.UTC(2026, 10, 20, 9, 30, 0, 250)
export const DAY_MS = 86_400_000

export function cipher(): RecordCipher {
    return logCipher(CLINIC_KEY, STORE_ID)
}

export function tempDir(prefix = "pft-logs-"): string {
    return mkdtempSync(join(tmpdir(), prefix))
}

export function tempArchive(): Archive {
    return Archive.open(join(tempDir(), "archive.sqlite"))
}

export interface SessionSpec {
    /** [min] of trace at 10 Hz (default 2) */
    minutes?: number
    /** rep records (default 6) */
    reps?: number
    /** default: a sync'd wall clock at MONDAY_MS */
    startWallMs?: number
    timeSync?: number
    bootCount?: number
    startMonoMs?: number
    /** ends with a summary (default true) */
    close?: boolean
    programId?: string
    programVersion?: number
}

function trace(startMs: number, n: number, seed: number): TraceRecord {
    const p: number[] = []
    const e: number[] = []
    for (let k = 0; k < n; k++) {
        const t = startMs / 100 + k
        p.push(k === 3 && seed % 3 === 0 ? TRACE_MISSING : 200 + Math.round(80 * Math.sin((t + seed) / 17)))
        e.push(k === 3 && seed % 3 === 0 ? TRACE_MISSING : 55 + Math.round(40 * Math.sin((t + seed) / 9)))
    }
    return { kind: RecordKind.Trace, startMs, intervalMs: 100, pressureCmH2OX10: p, emgUvX10: e }
}

function rep(k: number, channel: LogChannel): RepRecord {
    return { ...makeRep(k), channel, block: 1 + (k % 2), cueOnMs: 30000 + k * 10000, cueOffMs: 35000 + k * 10000, onsetMs: 30250 + k * 10000, offsetMs: 34800 + k * 10000 }
}

/**
 * A home session as the firmware writes it: header, a relaxation phase with
 * the gate met, a holds phase with reps on both channels, events (pause,
 * resume, stim level, pain rating, a fault), a 10 Hz trace in 5 s chunks,
 * the summary. Every record kind but the store's acknowledgement.
 */
export function homeSession(spec: SessionSpec = {}, seed = 1): LogRecord[] {
    const minutes = spec.minutes ?? 2
    const chunks = Math.ceil((minutes * 600) / 50)
    const endMs = chunks * 5000
    const reps = spec.reps ?? 6
    const recs: LogRecord[] = [
        sessionHeader({
            bootCount: spec.bootCount ?? 3,
            startMonoMs: spec.startMonoMs ?? 600_000,
            startWallMs: spec.timeSync === TimeSync.None ? 0 : (spec.startWallMs ?? MONDAY_MS),
            timeSync: spec.timeSync ?? TimeSync.Host,
            deviceId: DEVICE_ID,
            firmwareVersion: "0.1.0",
            programId: spec.programId ?? "relax-then-tone",
            programVersion: spec.programVersion ?? 3,
        }),
        { kind: RecordKind.PhaseStart, phaseIndex: 0, phaseKind: 1, timeMs: 0 },
    ]
    for (let c = 0; c < chunks; c++) {
        recs.push(trace(c * 5000, 50, seed + c))
        if (c === 2) {
            recs.push({ kind: RecordKind.Event, timeMs: 14000, code: EventCode.GateMet, cause: LogChannel.Pressure, value: 1850, extra: 10000 })
            recs.push({ kind: RecordKind.PhaseEnd, phaseIndex: 0, phaseKind: 1, timeMs: 15000, outcome: PhaseOutcome.Completed, repsDone: 0 })
            recs.push({ kind: RecordKind.PhaseStart, phaseIndex: 1, phaseKind: 3, timeMs: 15000 })
            recs.push(makeEvent(EventCode.Pause, 0))
            recs.push({ ...makeEvent(EventCode.Resume, 0), timeMs: 66000 })
            recs.push({ kind: RecordKind.Event, timeMs: 70000, code: EventCode.StimLevel, cause: 1, value: 12000, extra: 10000 })
            recs.push({ kind: RecordKind.Event, timeMs: 71000, code: EventCode.Fault, cause: 4, value: 17, extra: 0 })
            for (let k = 0; k < reps; k++) recs.push(rep(k, k % 2 === 0 ? LogChannel.Emg : LogChannel.Pressure))
        }
    }
    if (spec.close ?? true) {
        recs.push({ kind: RecordKind.PhaseEnd, phaseIndex: 1, phaseKind: 3, timeMs: endMs - 1000, outcome: PhaseOutcome.Completed, repsDone: reps })
        recs.push({ kind: RecordKind.Event, timeMs: endMs - 500, code: EventCode.PainRating, cause: 0, value: 3, extra: 0 })
        recs.push({
            kind: RecordKind.Summary,
            endMs,
            outcome: SessionOutcome.Completed,
            stopCause: StopCause.Completed,
            channels: [makeChannelSummary(LogChannel.Emg, 4321), makeChannelSummary(LogChannel.Pressure, 6543)],
        })
    }
    return recs
}

export interface DeviceOptions {
    /** sectors of 4096 bytes (default 64: 256 KB) */
    sectors?: number
    encrypted?: boolean
}

export interface Device {
    nor: MemoryNor
    store: LogStore
    source: StoreLogSource
    /** every record appended, by session */
    appended: Map<number, LogRecord[]>
}

/** A recovered store on a blank W25Q-geometry flash, encrypted with the test clinic key. */
export async function makeDevice(options: DeviceOptions = {}): Promise<Device> {
    const nor = new MemoryNor({ geometry: { sectorSize: 4096, pageSize: 256, sectorCount: options.sectors ?? 64 } })
    const store = new LogStore(nor, { cipher: options.encrypted === false ? undefined : cipher(), newStoreId: STORE_ID })
    await store.recover()
    return { nor, store, source: new StoreLogSource(store, { deviceId: DEVICE_ID }), appended: new Map() }
}

/** Appends one session's records; returns its number. */
export async function appendSession(dev: Device, records: LogRecord[]): Promise<number> {
    let session = 0
    for (const r of records) {
        const res = await dev.store.append(r)
        if (r.kind === RecordKind.SessionHeader) {
            session = res.session
            dev.appended.set(session, [])
        }
        dev.appended.get(session)!.push(r)
    }
    return session
}

/**
 * A week of daily sessions at 09:30, one boot every two days. The first
 * session ran before the device's clock was set (TimeSync.None): the host
 * places it from the next session of the same boot.
 */
export function weekOfSessions(minutes = 3): LogRecord[][] {
    const week: LogRecord[][] = []
    for (let d = 0; d < 7; d++) {
        const boot = Math.floor(d / 2)
        const spec: SessionSpec = {
            minutes,
            reps: 8,
            startWallMs: MONDAY_MS + d * DAY_MS,
            bootCount: 10 + boot,
            startMonoMs: 600_000 + (d - 2 * boot) * DAY_MS,
            timeSync: d === 0 ? TimeSync.None : TimeSync.Host,
        }
        week.push(homeSession(spec, d + 1))
    }
    return week
}

// ------------------------------------------------------------ crafted bytes

/** A frame of `rec` at (session, seq), plain or encrypted. */
export function frame(rec: LogRecord, session: number, seq: number, c?: RecordCipher): number[] {
    return encodeRecord(rec, { session, seq }, c)
}

export interface CraftedSession {
    session: number
    bytes: number[]
    firstSeq: number
    lastSeq: number
    complete?: boolean
}

/** A LogSource over fixed bytes (sessions whose damage is on the "flash": every read gives the same bytes). */
export class BytesLogSource implements LogSource {
    readonly deviceId = DEVICE_ID
    readonly acks: [number, number][] = []
    /** reads at or past this offset answer [] (a device that lists more than it can read) */
    readLimit = Infinity

    constructor(
        readonly sessions: CraftedSession[],
        readonly storeId = STORE_ID
    ) {}

    async listSessions(): Promise<SessionInfo[]> {
        return this.sessions.map(s => ({
            session: s.session,
            firstSeq: s.firstSeq,
            lastSeq: s.lastSeq,
            sizeBytes: s.bytes.length,
            startMonoMs: -1,
            startWallMs: -1,
            timeSync: -1,
            bootCount: -1,
            hasHeader: true,
            complete: s.complete ?? true,
            open: false,
            archived: this.acks.some(([n, q]) => n === s.session && q >= s.lastSeq),
            ackedSeq: Math.max(0, ...this.acks.filter(([n]) => n === s.session).map(([, q]) => q)),
        }))
    }

    async read(session: number, offset: number, length: number): Promise<number[]> {
        const s = this.sessions.find(x => x.session === session)!
        if (offset >= this.readLimit) return []
        return s.bytes.slice(offset, Math.min(offset + length, this.readLimit))
    }

    async acknowledge(session: number, lastSeq: number): Promise<AckOutcome> {
        if (this.acks.some(([n, q]) => n === session && q >= lastSeq)) return "already"
        this.acks.push([session, lastSeq])
        return "written"
    }
}

/** Frames of `records` numbered from `firstSeq` in `session`, concatenated; with the offset of each. */
export function craft(records: LogRecord[], session: number, firstSeq: number, c?: RecordCipher): { bytes: number[]; offsets: number[]; lengths: number[] } {
    const bytes: number[] = []
    const offsets: number[] = []
    const lengths: number[] = []
    records.forEach((r, i) => {
        const f = frame(r, session, firstSeq + i, c)
        offsets.push(bytes.length)
        lengths.push(f.length)
        bytes.push(...f)
    })
    return { bytes, offsets, lengths }
}

export { makeTrace }
