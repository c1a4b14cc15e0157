/**
 * The pull's `fetch` step for one session: reads a byte range in chunks of
 * at most MAX_READ_BYTES with several reads in flight, and hands the bytes
 * on in order, however the answers come.
 *
 * A Jacdac link without ACKs loses answers, delivers them late (after the
 * read was asked again: the same bytes twice), out of order, or cut short
 * (a report longer than a packet is truncated). So: every read has a
 * timeout and is asked again (a read is idempotent); an answer is filed by
 * its offset, whenever it comes; an answer cut short leaves the rest to be
 * asked for; the bytes go to the sink only once everything before them is
 * there. A link that is gone (LogSourceError "disconnected") or a read that
 * still has no answer after `retries` more tries ends the fetch with an
 * error; what the sink already took stays taken (the archive keeps it, and
 * the next pull resumes after it).
 *
 * Stateful on purpose and kept apart from the pure codec (verify.ts).
 */
import { LogSourceError, LogSourceErrorCode, MAX_READ_BYTES, type LogSource } from "./source"

export interface FetchOptions {
    /** [bytes] per read, 1..MAX_READ_BYTES */
    chunkBytes: number
    /** reads in flight at once */
    inFlight: number
    /** [ms] an answer later than this counts as lost and the read is asked again */
    readTimeoutMs: number
    /** tries of one read after the first, before the fetch gives up */
    retries: number
    /** [bytes] the sink gets at least this much at a time (less at the end) */
    sinkBytes: number
}

/** What the link did, added up over a pull. */
export interface FetchStats {
    reads: number
    /** reads asked again (timeout, error, empty answer) */
    retries: number
    timeouts: number
    /** answers for bytes already received (late answers, repeated reports) */
    duplicates: number
    /** a second answer for the same bytes that differs from the first (one of them damaged on the way; the first is kept, verify re-reads) */
    conflicts: number
    /** answers shorter than asked, before the end */
    short: number
    /** [bytes] answered, duplicates included */
    bytesReceived: number
}

export function emptyFetchStats(): FetchStats {
    return { reads: 0, retries: 0, timeouts: 0, duplicates: 0, conflicts: 0, short: 0, bytesReceived: 0 }
}

/** The fetch could not get the bytes at `offset`. */
export class FetchError extends Error {
    constructor(
        message: string,
        readonly session: number,
        readonly offset: number,
        readonly cause?: unknown
    ) {
        super(message)
        this.name = "FetchError"
    }
}

interface Range {
    offset: number
    length: number
    /** failed tries so far */
    tries: number
}

function sameBytes(a: number[], b: number[], n: number): boolean {
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
    return true
}

export function checkFetchOptions(o: FetchOptions): void {
    if (!(Number.isInteger(o.chunkBytes) && o.chunkBytes >= 1 && o.chunkBytes <= MAX_READ_BYTES))
        throw new RangeError(`chunk size ${o.chunkBytes}: expected 1..${MAX_READ_BYTES} bytes (one report)`)
    if (!(Number.isInteger(o.inFlight) && o.inFlight >= 1 && o.inFlight <= 64)) throw new RangeError(`reads in flight ${o.inFlight}: expected 1..64`)
    if (!(o.readTimeoutMs > 0)) throw new RangeError(`read timeout ${o.readTimeoutMs} ms: expected > 0`)
    if (!(Number.isInteger(o.retries) && o.retries >= 0)) throw new RangeError(`retries ${o.retries}: expected an integer >= 0`)
}

/**
 * Reads bytes [from, to) of `session` and calls `sink(offset, bytes)` with
 * consecutive pieces, in order, at least `sinkBytes` at a time. The sink
 * is awaited while further reads stay in flight.
 */
export async function fetchRange(
    source: LogSource,
    session: number,
    span: { from: number; to: number },
    o: FetchOptions,
    stats: FetchStats,
    sink: (offset: number, bytes: number[]) => Promise<void>
): Promise<void> {
    checkFetchOptions(o)
    const { from, to } = span
    /** answers not yet handed on, by offset */
    const received = new Map<number, number[]>()
    const retryQueue: Range[] = []
    const timers = new Set<ReturnType<typeof setTimeout>>()
    const maxAhead = o.inFlight * o.chunkBytes * 4
    let cursor = from
    let delivered = from
    let ready: number[] = []
    let readyOffset = from
    let inflight = 0
    let fatal: Error | null = null
    let done = false
    let waiter: (() => void) | null = null

    const notify = () => {
        const w = waiter
        waiter = null
        if (w) w()
    }

    const file = (offset: number, bytes: number[]) => {
        if (offset + bytes.length <= delivered) {
            stats.duplicates++
            return
        }
        const had = received.get(offset)
        if (had) {
            const n = Math.min(had.length, bytes.length)
            if (!sameBytes(had, bytes, n)) stats.conflicts++
            else stats.duplicates++
            if (bytes.length > had.length && sameBytes(had, bytes, n)) received.set(offset, bytes)
            return
        }
        received.set(offset, bytes)
    }

    const failed = (r: Range, why: string, err?: unknown) => {
        if (fatal) return // the first failure is the one to report
        if (err instanceof LogSourceError && !err.transient) {
            fatal = new FetchError(`${err.code === LogSourceErrorCode.Disconnected ? "link lost" : "device refused the read"} at offset ${r.offset}: ${err.message}`, session, r.offset, err)
            return
        }
        r.tries++
        if (r.tries > o.retries) {
            fatal = new FetchError(`no answer for the ${r.length} bytes at offset ${r.offset} after ${r.tries} tries (last: ${why})`, session, r.offset, err)
            return
        }
        stats.retries++
        retryQueue.push(r)
    }

    const answered = (r: Range, bytes: number[], late: boolean) => {
        stats.bytesReceived += bytes.length
        if (bytes.length > r.length) bytes = bytes.slice(0, r.length)
        if (bytes.length === 0) {
            if (!late) failed(r, `empty answer before the end (${to} bytes listed)`)
            return
        }
        file(r.offset, bytes)
        if (!late && bytes.length < r.length) {
            stats.short++
            retryQueue.unshift({ offset: r.offset + bytes.length, length: r.length - bytes.length, tries: 0 })
        }
    }

    const issue = (r: Range) => {
        inflight++
        stats.reads++
        let settled = false
        const timer = setTimeout(() => {
            timers.delete(timer)
            if (settled || done) return
            settled = true
            inflight--
            stats.timeouts++
            failed(r, `no answer in ${o.readTimeoutMs} ms`)
            notify()
        }, o.readTimeoutMs)
        timers.add(timer)
        let call: Promise<number[]>
        try {
            call = source.read(session, r.offset, r.length)
        } catch (e) {
            call = Promise.reject(e)
        }
        call.then(
            bytes => {
                if (done) return
                const late = settled
                if (!settled) {
                    settled = true
                    clearTimeout(timer)
                    timers.delete(timer)
                    inflight--
                }
                answered(r, bytes, late)
                notify()
            },
            err => {
                if (settled || done) return
                settled = true
                clearTimeout(timer)
                timers.delete(timer)
                inflight--
                failed(r, (err as Error).message ?? String(err), err)
                notify()
            }
        )
    }

    /** true if the bytes of `r` are received or handed on already */
    const covered = (r: Range) => {
        if (r.offset + r.length <= delivered) return true
        const had = received.get(r.offset)
        return had !== undefined && had.length >= r.length
    }

    const nextRange = (): Range | null => {
        while (retryQueue.length > 0) {
            const r = retryQueue.shift()!
            if (!covered(r)) return r
        }
        if (cursor < to && cursor < delivered + maxAhead) {
            const r = { offset: cursor, length: Math.min(o.chunkBytes, to - cursor), tries: 0 }
            cursor += r.length
            return r
        }
        return null
    }

    const assemble = () => {
        for (;;) {
            const piece = received.get(delivered)
            if (!piece) break
            received.delete(delivered)
            const n = Math.min(piece.length, to - delivered)
            for (let i = 0; i < n; i++) ready.push(piece[i])
            delivered += n
            // pieces that started inside the one just taken are stale; a longer one may reach past it
            for (const [off, bytes] of received) {
                if (off >= delivered) continue
                received.delete(off)
                if (off + bytes.length > delivered) {
                    const tail = bytes.slice(delivered - off)
                    if (!received.has(delivered)) received.set(delivered, tail)
                }
            }
        }
    }

    try {
        for (;;) {
            if (fatal) throw fatal
            assemble()
            if (ready.length > 0 && (ready.length >= o.sinkBytes || delivered >= to)) {
                const bytes = ready
                const at = readyOffset
                ready = []
                readyOffset = delivered
                await sink(at, bytes)
                continue
            }
            if (delivered >= to) return
            while (inflight < o.inFlight) {
                const r = nextRange()
                if (!r) break
                issue(r)
            }
            if (inflight === 0) {
                // nothing in flight and nothing to ask: the gap at `delivered` has no read (a short answer raced a late one)
                issue({ offset: delivered, length: Math.min(o.chunkBytes, to - delivered), tries: 0 })
            }
            await new Promise<void>(resolve => (waiter = resolve))
        }
    } finally {
        done = true
        for (const t of timers) clearTimeout(t)
        timers.clear()
    }
}
