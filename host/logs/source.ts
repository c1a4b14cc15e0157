/**
 * Where `pft logs pull` reads a device's session log from: the `LogSource`
 * interface, one implementation over a `LogStore` (the very store the
 * firmware runs, for tests, the bench and the simulator), and a flaky
 * wrapper that misbehaves the way a Jacdac link does (answers lost, late,
 * duplicated, out of order, cut short or damaged; the cable pulled).
 *
 * The device implementation (the log module's sessionlog service,
 * ./bus-source.ts) is made by `connectLogSource` (./connect.ts).
 */
import type { SessionInfo } from "../../src/core/log/session-index"
import { AckResult, StoreError, StoreErrorCode, type LogStore } from "../../src/core/log/store"
import { Rng } from "../sim/patient/prng"

export type { SessionInfo }

/** What a device answers to an acknowledgement (store.ts AckResult). */
export type AckOutcome = (typeof AckResult)[keyof typeof AckResult]

/** [bytes] a Jacdac packet's payload (services/trainer.md; devicescript-notes.md: 237 is refused) */
export const JACDAC_PAYLOAD_BYTES = 236
/** [bytes] the read report's own fields before the data: session u32, offset u32, status u8 (services/sessionlog.md) */
export const READ_REPORT_FIELDS_BYTES = 9
/** [bytes] the most one read may ask for: the data that fits in one report */
export const MAX_READ_BYTES = JACDAC_PAYLOAD_BYTES - READ_REPORT_FIELDS_BYTES

/** The program a device runs now, as far as the log needs it: its patientRef places sessions with a patient. */
export interface ProgramInfo {
    programId: string
    programVersion: number
    /** pseudonymous patient code */
    patientRef: string
    /** the program document (JSON), if the source has it */
    programJson?: string
}

/** A device's session log, as the pull sees it. Every method may be called again after a failure (all are idempotent). */
export interface LogSource {
    /** the device's id (session headers carry it too) */
    readonly deviceId: string
    /** chosen when the device's flash was formatted: session numbers are unique within one store id */
    readonly storeId: number
    /** sessions the device holds, oldest first */
    listSessions(): Promise<SessionInfo[]>
    /** `length` (<= MAX_READ_BYTES) bytes of a session from `offset`; fewer at its end, [] at its end */
    read(session: number, offset: number, length: number): Promise<number[]>
    /** the host archived `session` up to sequence number `lastSeq` */
    acknowledge(session: number, lastSeq: number): Promise<AckOutcome>
    /** the program the device runs now, if the source can tell */
    currentProgram?(): Promise<ProgramInfo | null>
    close?(): Promise<void>
}

export const LogSourceErrorCode = {
    /** the link is gone (cable pulled, simulator stopped): retrying is pointless */
    Disconnected: "disconnected",
    /** no answer in time: asking again may work */
    Timeout: "timeout",
    /** the device refused the request (no such session, offset out of range) */
    Refused: "refused",
} as const

export class LogSourceError extends Error {
    constructor(
        readonly code: string,
        message: string
    ) {
        super(message)
        this.name = "LogSourceError"
    }

    /** asking again may work */
    get transient(): boolean {
        return this.code === LogSourceErrorCode.Timeout
    }
}

function sleep(ms: number): Promise<void> {
    return ms > 0 ? new Promise(resolve => setTimeout(resolve, ms)) : Promise.resolve()
}

// ---------------------------------------------------------------- over a LogStore

export interface StoreLogSourceOptions {
    deviceId: string
    /**
     * [ms] round trip of one request (command to report), overlapping between
     * requests in flight; the store itself serves one request at a time. 0
     * (default) answers as fast as the store does.
     */
    latencyMs?: number
    /** what currentProgram() answers (default: nothing known) */
    program?: ProgramInfo | null
}

/**
 * A LogStore served as a device would: one store call at a time (the store
 * is not re-entrant, and the firmware's trainer server serialises the
 * commands it gets the same way), each request taking `latencyMs` end to end.
 */
export class StoreLogSource implements LogSource {
    readonly deviceId: string
    /** requests served, by kind */
    readonly counts = { list: 0, read: 0, acknowledge: 0, bytesRead: 0 }
    private readonly latencyMs: number
    private readonly program: ProgramInfo | null
    private tail: Promise<unknown> = Promise.resolve()

    constructor(
        readonly store: LogStore,
        options: StoreLogSourceOptions
    ) {
        this.deviceId = options.deviceId
        this.latencyMs = options.latencyMs ?? 0
        this.program = options.program ?? null
    }

    get storeId(): number {
        return this.store.storeId()
    }

    async listSessions(): Promise<SessionInfo[]> {
        this.counts.list++
        return await this.request(async () => this.store.listSessions())
    }

    async read(session: number, offset: number, length: number): Promise<number[]> {
        if (!(length >= 0 && length <= MAX_READ_BYTES))
            throw new LogSourceError(LogSourceErrorCode.Refused, `read of ${length} bytes: at most ${MAX_READ_BYTES} fit in one report`)
        this.counts.read++
        const bytes = await this.request(() => this.store.readSession(session, offset, length))
        this.counts.bytesRead += bytes.length
        return bytes
    }

    async acknowledge(session: number, lastSeq: number): Promise<AckOutcome> {
        this.counts.acknowledge++
        return (await this.request(() => this.store.acknowledge(session, lastSeq))) as AckOutcome
    }

    async currentProgram(): Promise<ProgramInfo | null> {
        return this.program
    }

    /** Half the latency on the way in, the store call in turn with the others, half on the way out. */
    private async request<T>(call: () => Promise<T>): Promise<T> {
        await sleep(this.latencyMs / 2)
        const run = this.tail.then(call, call)
        this.tail = run.catch(() => undefined)
        let result: T
        try {
            result = await run
        } catch (e) {
            if (e instanceof StoreError) {
                const code = e.code === StoreErrorCode.Busy || e.code === StoreErrorCode.NotReady ? LogSourceErrorCode.Timeout : LogSourceErrorCode.Refused
                throw new LogSourceError(code, `device: ${e.message}`)
            }
            throw e
        }
        await sleep(this.latencyMs / 2)
        return result
    }
}

// ---------------------------------------------------------------- a flaky link, for tests

export interface FlakyOptions {
    /** seeds every decision: a run is repeatable */
    seed?: number
    /** share of reads whose answer never comes (the pull times out and asks again) */
    dropRate?: number
    /** share of reads answered late, after `lateMs` (after the pull asked again: the answer arrives twice) */
    lateRate?: number
    /** [ms] how late (default 60) */
    lateMs?: number
    /** [ms] each answer is delayed by 0..maxDelayMs: answers come out of order */
    maxDelayMs?: number
    /** share of reads carried out twice on the device (a retried command without ACK) */
    duplicateRate?: number
    /** share of reads answered with only the first part of the bytes (a report cut short) */
    shortRate?: number
    /** share of reads whose bytes are damaged on the way (one bit flipped) */
    corruptRate?: number
    /** after this many reads the link is gone: every later call throws Disconnected (a pulled cable) */
    failAfterReads?: number
    /** the first this-many acknowledge() calls time out (the device may or may not have done them) */
    ackTimeouts?: number
}

/** What a FlakyLogSource did to the requests, for the tests' assertions. */
export interface FlakyCounts {
    reads: number
    dropped: number
    late: number
    duplicated: number
    short: number
    corrupted: number
    ackTimeouts: number
}

/** Wraps a source and misbehaves as told. Reads beyond `failAfterReads` and every other call afterwards throw Disconnected. */
export class FlakyLogSource implements LogSource {
    readonly counts: FlakyCounts = { reads: 0, dropped: 0, late: 0, duplicated: 0, short: 0, corrupted: 0, ackTimeouts: 0 }
    private readonly rng: Rng
    private readonly o: FlakyOptions
    private gone = false

    constructor(
        readonly inner: LogSource,
        options: FlakyOptions
    ) {
        this.o = options
        this.rng = new Rng(options.seed ?? 1)
    }

    get deviceId(): string {
        return this.inner.deviceId
    }
    get storeId(): number {
        return this.inner.storeId
    }

    /** the link is back (a new connection): later reads behave again, `failAfterReads` counts on from here */
    reconnect(failAfterReads?: number): void {
        this.gone = false
        this.o.failAfterReads = failAfterReads === undefined ? undefined : this.counts.reads + failAfterReads
    }

    async listSessions(): Promise<SessionInfo[]> {
        this.check()
        return await this.inner.listSessions()
    }

    async read(session: number, offset: number, length: number): Promise<number[]> {
        this.check()
        if (this.o.failAfterReads !== undefined && this.counts.reads >= this.o.failAfterReads) {
            this.gone = true
            this.check()
        }
        this.counts.reads++
        const roll = (rate: number | undefined) => (rate ?? 0) > 0 && this.rng.uniform() < (rate ?? 0)
        if (roll(this.o.dropRate)) {
            this.counts.dropped++
            return new Promise<number[]>(() => undefined)
        }
        const late = roll(this.o.lateRate)
        const twice = roll(this.o.duplicateRate)
        const short = roll(this.o.shortRate)
        const corrupt = roll(this.o.corruptRate)
        const delayMs = Math.floor(this.rng.uniform() * (this.o.maxDelayMs ?? 0)) + (late ? (this.o.lateMs ?? 60) : 0)
        const cutAt = this.rng.uniform()
        const bitAt = this.rng.uniform()
        if (twice) {
            this.counts.duplicated++
            await this.inner.read(session, offset, length)
        }
        let bytes = await this.inner.read(session, offset, length)
        await sleep(delayMs)
        if (this.gone) throw new LogSourceError(LogSourceErrorCode.Disconnected, "the device is gone (link lost)")
        if (late) this.counts.late++
        if (short && bytes.length > 1) {
            this.counts.short++
            bytes = bytes.slice(0, 1 + Math.floor(cutAt * (bytes.length - 1)))
        }
        if (corrupt && bytes.length > 0) {
            this.counts.corrupted++
            const bit = Math.floor(bitAt * bytes.length * 8)
            bytes = bytes.slice(0)
            bytes[bit >> 3] ^= 1 << (bit & 7)
        }
        return bytes
    }

    async acknowledge(session: number, lastSeq: number): Promise<AckOutcome> {
        this.check()
        if (this.counts.ackTimeouts < (this.o.ackTimeouts ?? 0)) {
            this.counts.ackTimeouts++
            // the command reached the device every other time: the retry must be harmless
            if (this.counts.ackTimeouts % 2 === 0) await this.inner.acknowledge(session, lastSeq)
            throw new LogSourceError(LogSourceErrorCode.Timeout, `no answer to acknowledge ${session}`)
        }
        return await this.inner.acknowledge(session, lastSeq)
    }

    async currentProgram(): Promise<ProgramInfo | null> {
        this.check()
        return this.inner.currentProgram ? await this.inner.currentProgram() : null
    }

    private check() {
        if (this.gone) throw new LogSourceError(LogSourceErrorCode.Disconnected, "the device is gone (link lost)")
    }
}
