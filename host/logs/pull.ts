/**
 * `pft logs pull`: a device's session log into the archive, as named steps
 * (after tidepool-org/uploader: every device session goes through the same
 * steps, each owns a slice of the progress bar, an error names its step):
 *
 *   connect      the LogSource; the device and the program it runs go into the archive
 *   list         the device's sessions against what the archive holds: what is left to read
 *   fetch        per session, the bytes not yet archived, several reads in flight (fetch.ts)
 *   verify       every record's CRC and payload, sequence +1, damaged bytes re-read
 *                once and, if still damaged, quarantined (verify.ts)
 *   save         each batch in one transaction with how far the session is archived
 *   acknowledge  oldest first, the sessions now archived; "pending" ones asked again
 *
 * fetch, verify and save run per batch (saveEveryBytes) so an interrupted
 * pull keeps what it saved: the next one resumes at each session's
 * archived byte offset, and since everything is keyed by sequence number,
 * pulling twice adds nothing twice. The device frees a session only after
 * it is acknowledged, and it is acknowledged only once saved.
 */
import type { RecordCipher } from "../../src/core/log/records"
import { ArchiveConflictError, type Archive, type SessionPullState } from "../archive/archive"
import { emptyFetchStats, FetchError, fetchRange, type FetchOptions, type FetchStats } from "./fetch"
import { LogSourceError, MAX_READ_BYTES, type AckOutcome, type LogSource, type SessionInfo } from "./source"
import { faultItem, LogKeyError, scanRecords, SequenceChecker, type QuarantineItem, type VerifiedRecord } from "./verify"

export const PULL_STEPS = ["connect", "list", "fetch", "verify", "save", "acknowledge"] as const
export type PullStep = (typeof PULL_STEPS)[number]

/**
 * Each step's slice of the progress bar, [from, to) as a fraction of the
 * whole. fetch, verify and save share the transfer slice, by bytes.
 */
export const PROGRESS_SLICES = {
    connect: [0, 0.02],
    list: [0.02, 0.05],
    transfer: [0.05, 0.95],
    acknowledge: [0.95, 1],
} as const

/** A failed pull: which step, where, and why. The archive keeps everything saved before it. */
export class PullError extends Error {
    constructor(
        readonly step: PullStep,
        readonly reason: string,
        readonly where: { session?: number; offset?: number } = {},
        readonly cause?: unknown
    ) {
        const at = where.session === undefined ? "" : ` (session ${where.session}${where.offset === undefined ? "" : `, offset ${where.offset}`})`
        super(`${step} failed${at}: ${reason}`)
        this.name = "PullError"
    }
}

export interface PullProgress {
    step: PullStep
    /** the whole pull, 0..1 */
    fraction: number
    /** [bytes] archived in this pull / to archive in all */
    bytesDone: number
    bytesTotal: number
    /** sessions brought up to date in this pull / to do */
    sessionsDone: number
    sessionsTotal: number
    session?: number
}

export interface PullOptions {
    archive: Archive
    /** the connect step: a LogSource for the device (connectLogSource, or a StoreLogSource in tests) */
    connect: () => Promise<LogSource>
    /** the records' cipher for a store (logCipher(clinicKey, storeId)); none: only plain records can be read */
    cipherFor?: (storeId: number) => RecordCipher | undefined
    /** [bytes] per read, <= MAX_READ_BYTES (default MAX_READ_BYTES) */
    chunkBytes?: number
    /** reads in flight (default 4) */
    inFlight?: number
    /** [ms] a read with no answer by then is asked again (default 1000) */
    readTimeoutMs?: number
    /** more tries of a read before the pull gives up (default 5) */
    retries?: number
    /** [bytes] saved at a time (default 16384): what an interruption can cost */
    saveEveryBytes?: number
    /** acknowledge archived sessions (default true) */
    acknowledge?: boolean
    /** rounds of asking again for acknowledgements the device keeps pending (default 3) */
    ackRounds?: number
    /** patient for sessions whose program's patient the archive does not know */
    patientRef?: string
    onProgress?: (p: PullProgress) => void
    /** does not close the source at the end (the caller owns it) */
    keepOpen?: boolean
}

export interface SessionPullReport {
    session: number
    /** archive id */
    id: number
    /** "new": first seen; "resumed": continued where an earlier pull stopped; "more": an open session grew; "up to date": nothing to read */
    status: "new" | "resumed" | "more" | "up to date"
    /** [bytes] read and archived in this pull */
    bytes: number
    recordsAdded: number
    quarantined: QuarantineItem[]
    /** null: not asked (not archived completely, or --no-ack) */
    ack: AckOutcome | null
    ackSeq: number
}

export interface PullReport {
    deviceId: string
    storeId: number
    sessions: SessionPullReport[]
    bytes: number
    recordsAdded: number
    quarantined: number
    /** sessions the device acknowledged (written or already) in this pull */
    acknowledged: number[]
    /** acknowledgements the device keeps pending for lack of room: asked again at the next pull */
    pendingAcks: number[]
    warnings: string[]
    fetch: FetchStats
    /** byte ranges read again because they did not verify */
    rereads: number
    durationMs: number
}

interface Plan {
    info: SessionInfo
    state: SessionPullState
    from: number
    archivedUpTo: number
    status: SessionPullReport["status"]
}

interface Ctx {
    o: PullOptions
    source: LogSource
    cipher: RecordCipher | undefined
    fetchOptions: FetchOptions
    report: PullReport
    bytesTotal: number
    bytesDone: number
    sessionsTotal: number
    sessionsDone: number
}

function describe(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}

/** Runs `fn` as `step`: any error becomes a PullError naming it (a PullError passes through). */
async function step<T>(name: PullStep, where: { session?: number; offset?: number }, fn: () => Promise<T> | T): Promise<T> {
    try {
        return await fn()
    } catch (e) {
        if (e instanceof PullError) throw e
        if (e instanceof FetchError) throw new PullError(name, e.message, { session: e.session, offset: e.offset }, e.cause ?? e)
        if (e instanceof LogKeyError) throw new PullError(name, `cannot read the records: ${e.message}`, { ...where, offset: e.offset }, e)
        throw new PullError(name, describe(e), where, e)
    }
}

function progress(ctx: Ctx, s: PullStep, within: number, session?: number) {
    if (!ctx.o.onProgress) return
    const slice = s === "connect" ? PROGRESS_SLICES.connect : s === "list" ? PROGRESS_SLICES.list : s === "acknowledge" ? PROGRESS_SLICES.acknowledge : PROGRESS_SLICES.transfer
    ctx.o.onProgress({
        step: s,
        fraction: slice[0] + (slice[1] - slice[0]) * Math.max(0, Math.min(1, within)),
        bytesDone: ctx.bytesDone,
        bytesTotal: ctx.bytesTotal,
        sessionsDone: ctx.sessionsDone,
        sessionsTotal: ctx.sessionsTotal,
        session,
    })
}

const transferFraction = (ctx: Ctx) => (ctx.bytesTotal > 0 ? ctx.bytesDone / ctx.bytesTotal : 1)

/** Pulls the device's log into the archive. Throws PullError; whatever was saved before stays saved. */
export async function pullLogs(o: PullOptions): Promise<PullReport> {
    const started = performance.now()
    const fetchOptions: FetchOptions = {
        chunkBytes: o.chunkBytes ?? MAX_READ_BYTES,
        inFlight: o.inFlight ?? 4,
        readTimeoutMs: o.readTimeoutMs ?? 1000,
        retries: o.retries ?? 5,
        sinkBytes: o.saveEveryBytes ?? 16384,
    }
    const partial: Ctx = {
        o,
        source: undefined as unknown as LogSource,
        cipher: undefined,
        fetchOptions,
        report: undefined as unknown as PullReport,
        bytesTotal: 0,
        bytesDone: 0,
        sessionsTotal: 0,
        sessionsDone: 0,
    }
    progress(partial, "connect", 0)
    const source = await step("connect", {}, o.connect)
    try {
        const ctx: Ctx = {
            ...partial,
            source,
            cipher: o.cipherFor ? o.cipherFor(source.storeId) : undefined,
            report: {
                deviceId: source.deviceId,
                storeId: source.storeId,
                sessions: [],
                bytes: 0,
                recordsAdded: 0,
                quarantined: 0,
                acknowledged: [],
                pendingAcks: [],
                warnings: [],
                fetch: emptyFetchStats(),
                rereads: 0,
                durationMs: 0,
            },
        }
        const deviceRow = await step("connect", {}, async () => {
            const row = o.archive.upsertDevice(source.deviceId)
            const program = source.currentProgram ? await source.currentProgram() : null
            if (program) {
                try {
                    o.archive.recordProgram(program)
                } catch (e) {
                    if (!(e instanceof ArchiveConflictError)) throw e
                    ctx.report.warnings.push(e.message)
                }
            }
            return row
        })
        progress(ctx, "connect", 1)

        const plans = await step("list", {}, () => listStep(ctx, deviceRow))
        progress(ctx, "list", 1)

        for (const plan of plans) await transferSession(ctx, plan)

        if (o.acknowledge ?? true) await acknowledgeStep(ctx, plans)
        progress(ctx, "acknowledge", 1)
        ctx.report.durationMs = performance.now() - started
        return ctx.report
    } finally {
        if (!o.keepOpen && source.close) await source.close().catch(() => undefined)
    }
}

/** list: what each session still needs. */
async function listStep(ctx: Ctx, deviceRow: number): Promise<Plan[]> {
    const infos = await ctx.source.listSessions()
    const plans: Plan[] = []
    for (const info of infos) {
        const before = ctx.o.archive.sessionState(deviceRow, ctx.source.storeId, info.session)
        const state = ctx.o.archive.noteListed(deviceRow, ctx.source.storeId, info)
        let from = state.bytesStored
        let archivedUpTo = 0
        let status: Plan["status"] = before === null ? "new" : from >= info.sizeBytes ? "up to date" : before.bytesStored >= before.deviceSizeBytes ? "more" : "resumed"
        if (before !== null && before.firstSeq !== info.firstSeq) {
            // the device dropped the session's start (archived, reclaimed): its offsets moved; read it again, skipping what is archived
            ctx.o.archive.restartSession(state.id, info.firstSeq)
            from = 0
            archivedUpTo = state.lastSeqStored
            status = "resumed"
        }
        if (from > info.sizeBytes) from = info.sizeBytes
        plans.push({ info, state: { ...state, bytesStored: from }, from, archivedUpTo, status })
        ctx.bytesTotal += info.sizeBytes - from
        if (from < info.sizeBytes) ctx.sessionsTotal++
    }
    return plans
}

/** fetch, verify, save for one session, batch by batch. */
async function transferSession(ctx: Ctx, plan: Plan): Promise<void> {
    const { info, state } = plan
    const rep: SessionPullReport = { session: info.session, id: state.id, status: plan.status, bytes: 0, recordsAdded: 0, quarantined: [], ack: null, ackSeq: 0 }
    ctx.report.sessions.push(rep)
    if (plan.from >= info.sizeBytes) return
    const checker = new SequenceChecker(info.session, {
        // from the start: the listed first record; resuming: after the last one archived; read again from 0: as it comes
        expectedSeq: plan.archivedUpTo > 0 ? null : plan.from === 0 ? info.firstSeq : state.lastSeqStored > 0 ? state.lastSeqStored + 1 : null,
        archivedUpTo: plan.archivedUpTo,
    })
    /** bytes received and not yet archived, from session offset `pendingAt` */
    let pending: number[] = []
    let pendingAt = plan.from
    const end = info.sizeBytes
    const rereadDone = new Set<number>()

    const handle = async (final: boolean) => {
        const batch = await step("verify", { session: info.session, offset: pendingAt }, () => verifyPending(ctx, info.session, checker, pending, pendingAt, final, rereadDone))
        pending = pending.slice(batch.consumed)
        const stored = pendingAt + batch.consumed
        const saved = await step("save", { session: info.session, offset: pendingAt }, () =>
            ctx.o.archive.saveBatch(
                state.id,
                { records: batch.records, quarantine: batch.quarantine, bytesStored: stored, lastSeqStored: checker.lastSeq },
                { deviceId: ctx.source.deviceId, defaultPatientRef: ctx.o.patientRef }
            )
        )
        rep.bytes += batch.consumed
        rep.recordsAdded += saved.recordsAdded
        rep.quarantined.push(...batch.quarantine)
        ctx.report.bytes += batch.consumed
        ctx.report.recordsAdded += saved.recordsAdded
        ctx.report.quarantined += batch.quarantine.length
        ctx.report.warnings.push(...saved.warnings.filter(w => !ctx.report.warnings.includes(w)))
        ctx.bytesDone += batch.consumed
        pendingAt = stored
        progress(ctx, "save", transferFraction(ctx), info.session)
    }

    await step("fetch", { session: info.session, offset: plan.from }, () =>
        fetchRange(ctx.source, info.session, { from: plan.from, to: end }, ctx.fetchOptions, ctx.report.fetch, async (offset, bytes) => {
            if (offset !== pendingAt + pending.length) throw new Error(`bytes out of order: expected offset ${pendingAt + pending.length}, got ${offset}`)
            for (const b of bytes) pending.push(b)
            progress(ctx, "fetch", transferFraction(ctx), info.session)
            await handle(offset + bytes.length >= end)
        })
    )
    if (pending.length > 0) await handle(true)
    ctx.sessionsDone++
}

interface VerifiedBatch {
    records: VerifiedRecord[]
    quarantine: QuarantineItem[]
    /** [bytes] of the pending bytes now archived (records or quarantine) */
    consumed: number
}

/**
 * verify: the pending bytes into records and quarantine items. A damaged
 * stretch is read again once (a report damaged on the way reads well the
 * second time); what is still damaged is quarantined.
 */
async function verifyPending(
    ctx: Ctx,
    session: number,
    checker: SequenceChecker,
    bytes: number[],
    baseOffset: number,
    final: boolean,
    rereadDone: Set<number>
): Promise<VerifiedBatch> {
    const out: VerifiedBatch = { records: [], quarantine: [], consumed: 0 }
    let buf = bytes
    let at = 0
    for (;;) {
        const view = at === 0 ? buf : buf.slice(at)
        const r = scanRecords(view, final, ctx.cipher)
        for (const d of r.records) {
            const rec: VerifiedRecord = { offset: baseOffset + at + d.offset, frame: view.slice(d.offset, d.offset + d.recordBytes), decoded: d }
            const { keep, issue } = checker.check(rec)
            if (issue) out.quarantine.push(issue)
            if (keep) out.records.push(rec)
        }
        at += r.consumed
        if (!r.fault) break
        const faultAt = baseOffset + at
        if (!rereadDone.has(faultAt)) {
            rereadDone.add(faultAt)
            ctx.report.rereads++
            const again = await reread(ctx, session, faultAt, r.fault.length)
            const old = view.slice(r.fault.offset, r.fault.offset + r.fault.length)
            if (again.length === old.length && again.some((b, i) => b !== old[i])) {
                buf = buf.slice(0, at).concat(again, buf.slice(at + r.fault.length))
                continue
            }
        }
        const seq = checker.skipDamaged(view, r.fault.offset)
        out.quarantine.push(faultItem(view, r.fault, faultAt, seq))
        at += r.fault.length
    }
    // the caller drops `consumed` bytes of what it passed; a re-read replaced bytes in place (same length)
    out.consumed = at
    if (buf !== bytes) for (let i = 0; i < at; i++) bytes[i] = buf[i]
    return out
}

/** The bytes [offset, offset + length) read again, in order (one read at a time: rare). */
async function reread(ctx: Ctx, session: number, offset: number, length: number): Promise<number[]> {
    const out: number[] = []
    await fetchRange(ctx.source, session, { from: offset, to: offset + length }, { ...ctx.fetchOptions, inFlight: 1, sinkBytes: length }, ctx.report.fetch, async (_, b) => {
        for (const x of b) out.push(x)
    })
    return out
}

/**
 * acknowledge: oldest first, every session archived up to what the device
 * listed. An acknowledgement the device keeps pending (its store is full of
 * other unarchived sessions) is asked again after the others, which free
 * room, for `ackRounds` rounds.
 */
async function acknowledgeStep(ctx: Ctx, plans: Plan[]): Promise<void> {
    const todo: { plan: Plan; rep: SessionPullReport; seq: number }[] = []
    for (const plan of plans) {
        const rep = ctx.report.sessions.find(s => s.session === plan.info.session)!
        const state = ctx.o.archive.sessionStateById(plan.state.id)!
        if (state.bytesStored < plan.info.sizeBytes) continue // not all archived: nothing to say yet
        // everything the device listed is archived (as records or quarantined): up to its last record
        const seq = plan.info.lastSeq
        rep.ackSeq = seq
        if (plan.info.archived || plan.info.ackedSeq >= seq) {
            rep.ack = "already"
            ctx.o.archive.markAcknowledged(state.id, seq)
            continue
        }
        todo.push({ plan, rep, seq })
    }
    const total = todo.length
    let done = 0
    let pending = todo
    const rounds = ctx.o.ackRounds ?? 3
    for (let round = 0; round < rounds && pending.length > 0; round++) {
        const still: typeof todo = []
        for (const t of pending) {
            const outcome = await step("acknowledge", { session: t.plan.info.session }, () => ackWithRetry(ctx, t.plan.info.session, t.seq))
            t.rep.ack = outcome
            if (outcome === "pending") still.push(t)
            else {
                ctx.o.archive.markAcknowledged(t.plan.state.id, t.seq)
                ctx.report.acknowledged.push(t.plan.info.session)
                done++
            }
            progress(ctx, "acknowledge", total > 0 ? done / total : 1, t.plan.info.session)
        }
        pending = still
    }
    ctx.report.pendingAcks = pending.map(t => t.plan.info.session)
}

/** One acknowledgement, asked again on a timeout (it is idempotent on the device). */
async function ackWithRetry(ctx: Ctx, session: number, seq: number): Promise<AckOutcome> {
    const tries = (ctx.o.retries ?? 5) + 1
    let last: unknown
    for (let i = 0; i < tries; i++) {
        try {
            return await ctx.source.acknowledge(session, seq)
        } catch (e) {
            last = e
            if (e instanceof LogSourceError && !e.transient) throw e
        }
    }
    throw new Error(`no answer to the acknowledgement of session ${session} up to seq ${seq} after ${tries} tries: ${describe(last)}`)
}
