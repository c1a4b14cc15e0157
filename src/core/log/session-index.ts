/**
 * The session index the store keeps in memory: one entry per session still
 * (partly) in the log, built by appends and by recovery alike, so that both
 * see a record the same way. A session's range is the stream from its
 * first record to the end of its last one; store records written while it
 * was open lie inside it.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import { RecordKind, type FrameHeader, type LogRecord } from "./records"

/** One session in the store. */
export interface SessionInfo {
    session: number
    firstSeq: number
    lastSeq: number
    /** [bytes] readSession() serves offsets 0..sizeBytes */
    sizeBytes: number
    /** [ms] since boot; -1 if the header record is missing or could not be read */
    startMonoMs: number
    /** [ms] Unix time, 0 if the clock was not set, -1 if unknown */
    startWallMs: number
    /** TimeSync, -1 if unknown */
    timeSync: number
    bootCount: number
    /** the session header record is present */
    hasHeader: boolean
    /** the session ended with a summary record */
    complete: boolean
    /** records are still being appended to it */
    open: boolean
    /** the host acknowledged it up to its last record */
    archived: boolean
    /** highest sequence number acknowledged, 0 if none */
    ackedSeq: number
}

/** What the store knows of a session; stream positions are the log's (store.ts). */
export interface Entry {
    session: number
    /** stream position of its first record still in the log */
    startPos: number
    /** stream position just after its last record */
    endPos: number
    firstSeq: number
    lastSeq: number
    /** its session header is still in the log (false: a remnant, its start reclaimed or damaged) */
    hasHeader: boolean
    complete: boolean
    /** acknowledged up to this sequence number (written acknowledgements only), 0 if none */
    ackedSeq: number
    startMonoMs: number
    startWallMs: number
    timeSync: number
    bootCount: number
}

export class SessionIndex {
    /** oldest first */
    entries: Entry[] = []

    /** The entry of `session`, null if it is not in the log. */
    find(session: number): Entry | null {
        for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].session === session) return this.entries[i]
        return null
    }

    /** The entry of `session`, made (as a remnant, no header yet) if it has none. */
    entryFor(session: number, startPos: number, firstSeq: number): Entry {
        const e = this.find(session)
        if (e !== null) return e
        const fresh: Entry = {
            session: session,
            startPos: startPos,
            endPos: startPos,
            firstSeq: firstSeq,
            lastSeq: firstSeq,
            hasHeader: false,
            complete: false,
            ackedSeq: 0,
            startMonoMs: -1,
            startWallMs: -1,
            timeSync: -1,
            bootCount: -1,
        }
        this.entries.push(fresh)
        return fresh
    }

    isArchived(e: Entry): boolean {
        return e.ackedSeq >= e.lastSeq
    }

    info(e: Entry, openSession: number): SessionInfo {
        return {
            session: e.session,
            firstSeq: e.firstSeq,
            lastSeq: e.lastSeq,
            sizeBytes: e.endPos - e.startPos,
            startMonoMs: e.startMonoMs,
            startWallMs: e.startWallMs,
            timeSync: e.timeSync,
            bootCount: e.bootCount,
            hasHeader: e.hasHeader,
            complete: e.complete,
            open: e.session === openSession,
            archived: this.isArchived(e),
            ackedSeq: e.ackedSeq,
        }
    }

    /** What a committed record at `pos` does to the index. `info`: decoded header or ack, if known. */
    apply(pos: number, h: FrameHeader, info: LogRecord | null) {
        if (h.session === 0) {
            if (info !== null && info.kind === RecordKind.Ack) {
                const acked = this.find(info.ackedSession)
                if (acked !== null && info.lastSeq > acked.ackedSeq) acked.ackedSeq = info.lastSeq
            }
            return
        }
        const e = this.entryFor(h.session, pos, h.seq)
        if (h.kind === RecordKind.SessionHeader) {
            e.hasHeader = true
            if (info !== null && info.kind === RecordKind.SessionHeader) {
                e.startMonoMs = info.startMonoMs
                e.startWallMs = info.startWallMs
                e.timeSync = info.timeSync
                e.bootCount = info.bootCount
            }
        }
        e.lastSeq = h.seq
        e.endPos = pos + h.recordBytes
        if (h.kind === RecordKind.Summary) e.complete = true
    }

    /** Forgets what lies before stream position `from` (its first record has `firstSeq`). */
    dropBefore(from: number, firstSeq: number) {
        const kept: Entry[] = []
        for (const e of this.entries) {
            if (e.endPos <= from) continue
            if (e.startPos < from) {
                e.startPos = from
                e.firstSeq = firstSeq
                e.hasHeader = false
            }
            kept.push(e)
        }
        this.entries = kept
    }

    /** Sessions the host can pull, oldest first (remnants of dropped archived sessions are left out). */
    list(openSession: number): SessionInfo[] {
        const out: SessionInfo[] = []
        for (const e of this.entries) if (e.hasHeader || !this.isArchived(e)) out.push(this.info(e, openSession))
        return out
    }
}
