/**
 * The pull's `verify` step, as pure functions over pulled bytes: cut a
 * session's bytes into records (every CRC checked, every payload decoded
 * by src/core/log/records.ts), find where a damaged stretch ends so the
 * records after it are still read, and check that sequence numbers run +1
 * within the session.
 *
 * Nothing is dropped silently: a stretch that is not a good record becomes
 * a quarantine item (its bytes, its offset in the session, what was
 * expected and what was found), a sequence number that jumps is reported
 * with the numbers missing.
 *
 * A session's bytes are the stream from its first record to the end of its
 * last (store.ts): store records written while it was open (acknowledgements,
 * store events; session 0) lie inside it and share the sequence.
 */
import {
    checkFrame,
    decodeFrameHeader,
    decodeRecord,
    DecodeErrorCode,
    FRAME_HEADER_BYTES,
    LogDecodeError,
    recordKindName,
    type DecodedRecord,
    type RecordCipher,
} from "../../src/core/log/records"

/** Why bytes were quarantined: a decode error code (records.ts DecodeErrorCode) or one of these. */
export const QuarantineCode = {
    ...DecodeErrorCode,
    /** sequence numbers jump: records are missing (no bytes: nothing to keep) */
    SeqGap: "seq-gap",
    /** a record whose sequence number is not above the last one */
    SeqBackwards: "seq-backwards",
    /** a record of another session inside this one's bytes */
    WrongSession: "wrong-session",
} as const

/** A stretch of a session that is not a good record, kept with what was wrong. */
export interface QuarantineItem {
    /** [bytes] offset in the session */
    offset: number
    /** [bytes] 0 for a sequence gap */
    length: number
    bytes: number[]
    code: string
    expected: string
    found: string
    message: string
}

/** A good record and where it sits in the session. */
export interface VerifiedRecord {
    /** [bytes] offset in the session */
    offset: number
    /** the framed bytes as read (encrypted if they were) */
    frame: number[]
    decoded: DecodedRecord
}

/**
 * The records cannot be read with the key at hand (no key, or another
 * clinic's): not damage, so the pull stops rather than quarantine a whole
 * session that only wants the right key.
 */
export class LogKeyError extends Error {
    constructor(
        readonly offset: number,
        readonly expected: string,
        readonly found: string
    ) {
        super(`record at offset ${offset}: expected ${expected}, found ${found}`)
        this.name = "LogKeyError"
    }
}

export interface ScanFault {
    /** in the buffer */
    offset: number
    length: number
    error: LogDecodeError
}

export interface ScanResult {
    /** offsets relative to the buffer */
    records: DecodedRecord[]
    /** [bytes] of the buffer taken by `records`; the fault, if any, starts here */
    consumed: number
    fault: ScanFault | null
}

function frameOk(buf: number[], at: number): boolean {
    try {
        checkFrame(buf, at)
        return true
    } catch (e) {
        if (e instanceof LogDecodeError) return false
        throw e
    }
}

/**
 * Where the damaged stretch starting at `at` ends: at the end of the record
 * when its header is sound and a good record (or the end of the session)
 * follows it, else at the next offset where a record passes its CRC.
 * -1: not known until more bytes arrive.
 */
function resync(buf: number[], at: number, final: boolean): number {
    try {
        const h = decodeFrameHeader(buf, at)
        const next = at + h.recordBytes
        if (next <= buf.length && ((next === buf.length && final) || frameOk(buf, next))) return next
    } catch (e) {
        if (!(e instanceof LogDecodeError)) throw e
    }
    for (let q = at + 1; q < buf.length; q++) if (buf[q] === 0x50 && frameOk(buf, q)) return q
    return final ? buf.length : -1
}

/**
 * Reads records from the start of `buf` up to the first stretch that is not
 * a good record. `final`: no more bytes will follow (the end of the
 * session), so a record cut short is a fault rather than a wait.
 * Throws LogKeyError for a record that is whole (its CRC checks) but cannot
 * be decrypted.
 */
export function scanRecords(buf: number[], final: boolean, cipher?: RecordCipher): ScanResult {
    const records: DecodedRecord[] = []
    let at = 0
    while (at < buf.length) {
        // a record that the buffer has not all of yet: wait for more bytes (at the end of the session, it is cut short)
        if (!final && buf.length - at < FRAME_HEADER_BYTES) break
        let error: LogDecodeError
        try {
            const h = decodeFrameHeader(buf, at)
            if (at + h.recordBytes > buf.length && !final) break
            const d = decodeRecord(buf, at, cipher)
            records.push(d)
            at += d.recordBytes
            continue
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
            if (e.code === DecodeErrorCode.NoKey) throw new LogKeyError(at, "the clinic key (the records are encrypted at rest)", "no key")
            if (e.code === DecodeErrorCode.DecryptFailed)
                throw new LogKeyError(at, "records that decrypt with this clinic key (their CRC is good, so they are not damaged)", "an authentication tag that does not match")
            error = e
        }
        const end = resync(buf, at, final)
        if (end < 0) break
        return { records, consumed: at, fault: { offset: at, length: end - at, error } }
    }
    return { records, consumed: at, fault: null }
}

/** Checks each record's place in its session: session number, sequence +1. */
export class SequenceChecker {
    /** the sequence number the next record should have; null: take the first one as it comes */
    expectedSeq: number | null
    /** highest sequence number accepted */
    lastSeq: number
    private readonly archivedUpTo: number

    constructor(
        readonly session: number,
        options: {
            expectedSeq: number | null
            /**
             * records up to this sequence number are already archived and are
             * skipped without a word: set only when a session is read again from
             * its start (the device's offsets moved), never on a plain resume
             */
            archivedUpTo?: number
        }
    ) {
        this.expectedSeq = options.expectedSeq
        this.archivedUpTo = options.archivedUpTo ?? 0
        this.lastSeq = Math.max(this.archivedUpTo, options.expectedSeq === null ? 0 : options.expectedSeq - 1)
    }

    /**
     * `keep`: save the record; `issue`: what to report (a gap is reported and
     * the record kept; a record out of place is quarantined instead of saved).
     */
    check(rec: VerifiedRecord): { keep: boolean; issue: QuarantineItem | null } {
        const d = rec.decoded
        const kind = recordKindName(d.record.kind)
        if (d.session !== this.session && d.session !== 0) {
            return {
                keep: false,
                issue: item(rec, QuarantineCode.WrongSession, `session ${this.session} (or 0, a store record)`, `session ${d.session}`, `a ${kind} record of session ${d.session} inside session ${this.session}`),
            }
        }
        if (d.seq <= this.archivedUpTo) return { keep: false, issue: null }
        if (d.seq <= this.lastSeq) {
            return {
                keep: false,
                issue: item(rec, QuarantineCode.SeqBackwards, `seq > ${this.lastSeq}`, `seq ${d.seq}`, `a ${kind} record whose sequence number ${d.seq} is not above the last one (${this.lastSeq})`),
            }
        }
        let issue: QuarantineItem | null = null
        if (this.expectedSeq !== null && d.seq !== this.expectedSeq) {
            const missing = d.seq - this.expectedSeq
            issue = {
                offset: rec.offset,
                length: 0,
                bytes: [],
                code: QuarantineCode.SeqGap,
                expected: `seq ${this.expectedSeq}`,
                found: `seq ${d.seq}`,
                message: `${missing} record${missing === 1 ? "" : "s"} missing before offset ${rec.offset} (seq ${this.expectedSeq}${missing > 1 ? ".." + (d.seq - 1) : ""})`,
            }
        }
        this.expectedSeq = d.seq + 1
        this.lastSeq = d.seq
        return { keep: true, issue }
    }

    /**
     * A damaged record whose header is sound and says it is the next one: its
     * number is used up by the quarantined bytes, not missing. Returns that
     * number, or null.
     */
    skipDamaged(buf: number[], at: number): number | null {
        try {
            const h = decodeFrameHeader(buf, at)
            if (this.expectedSeq !== null && h.seq === this.expectedSeq && (h.session === this.session || h.session === 0)) {
                this.expectedSeq = h.seq + 1
                this.lastSeq = h.seq
                return h.seq
            }
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
        }
        return null
    }
}

function item(rec: VerifiedRecord, code: string, expected: string, found: string, message: string): QuarantineItem {
    return { offset: rec.offset, length: rec.frame.length, bytes: rec.frame, code, expected, found, message }
}

/** The quarantine item for a damaged stretch found by scanRecords. `seq`: the sequence number its header claims, if sound. */
export function faultItem(buf: number[], fault: ScanFault, sessionOffset: number, seq: number | null): QuarantineItem {
    const e = fault.error
    const where = e.offset - fault.offset
    const bytes = buf.slice(fault.offset, fault.offset + fault.length)
    const what = seq === null ? "bytes" : `record seq ${seq}`
    return {
        offset: sessionOffset,
        length: fault.length,
        bytes,
        code: e.code,
        expected: e.expected,
        found: e.found,
        message: `${fault.length} ${what} at offset ${sessionOffset} (${e.code} at +${where}: expected ${e.expected}, found ${e.found})`,
    }
}
