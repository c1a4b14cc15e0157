// THE power-cut test (design.md, "Logs lose nothing"): a long run of appends
// on the NOR model (several sessions, acknowledgements, a full store, sector
// rotations, reboots, encryption on) is run once to count its program and
// erase operations, then re-run with the power cut at operation 1, 2, ..., N.
// After each cut: reboot, recover, and check that
//   - every record whose append returned is present and intact, unless its
//     session was acknowledged (only sessions the host acknowledged may go);
//   - nothing else is there but the record in flight (and the store's own
//     records written with it), whole;
//   - every session decodes without a fault, sequence numbers +1 throughout;
//   - acknowledgements that were written are still in force;
//   - the next sequence number is above every one used, including the one
//     whose bytes the cut left half-written;
//   - appending goes on: a new session, cut again a few operations in (so a
//     torn tail is recovered twice in a row), recovered and checked the same way.
import { describe, expect, test } from "vitest"
import { MemoryNor, PowerLossError } from "../../../src/core/log/memory-nor"
import { EventCode, PhaseOutcome, RecordKind, SessionOutcome, StopCause, type DecodedRecord, type LogRecord, type RecordCipher } from "../../../src/core/log/records"
import { AckResult, LogStore, StoreError, StoreErrorCode } from "../../../src/core/log/store"
import { makeEvent, makeHeader, makeRep, makeSummary, makeTrace } from "../../cases/log.cases"
import { ccmCipher, decodeSession } from "./helpers"

/**
 * PFT_CUT=n runs only cut point n and prints every flash operation (to
 * reproduce a failure: `PFT_CUT=42 npx vitest run tests/core/log/power-cut.test.ts`).
 */
const ONLY_CUT = Number(process.env.PFT_CUT ?? 0)

/** 5 sectors of 1 KB, 128-byte pages: the run wraps the circle several times in a few hundred operations. */
const GEOMETRY = { sectorSize: 1024, pageSize: 128, sectorCount: 5 }

interface Committed {
    session: number
    seq: number
    /** null: a record the store writes itself (acknowledgement, StoreDroppedArchived event), checked by kind */
    record: LogRecord | null
}

/** What the test knows was written. */
interface Model {
    committed: Map<number, Committed>
    /** session -> acknowledged up to seq, written (durable) */
    acks: Map<number, number>
    /** session -> highest seq the host asked to acknowledge (written, pending or in flight): such a session may go */
    requested: Map<number, number>
    /** the append under way when the power went */
    inflight: Committed | null
    /** first seq of the acknowledge() call under way when the power went, -1 if none */
    ackFrom: number
}

interface Run {
    nor: MemoryNor
    store: LogStore
    cipher: RecordCipher
    model: Model
    sessions: number[]
}

function newModel(): Model {
    return { committed: new Map(), acks: new Map(), requested: new Map(), inflight: null, ackFrom: -1 }
}

async function openStore(nor: MemoryNor, cipher: RecordCipher): Promise<LogStore> {
    const store = new LogStore(nor, { cipher, newStoreId: 0xc0ffee, stepReads: 3 })
    await store.recover()
    return store
}

function lastCommittedSeq(m: Model, session: number): number {
    let last = 0
    for (const c of m.committed.values()) if (c.session === session && c.seq > last) last = c.seq
    return last
}

function storeRecords(m: Model, from: number, to: number) {
    for (let seq = from; seq < to; seq++) m.committed.set(seq, { session: -1, seq, record: null })
}

/** Acknowledges `session` up to its last record; returns what the store did. */
async function acknowledge(run: Run, session: number): Promise<string> {
    const info = run.store.sessionInfo(session)
    if (!info || info.archived) return AckResult.Already
    const m = run.model
    const from = run.store.nextSeq()
    m.requested.set(session, Math.max(m.requested.get(session) ?? 0, info.lastSeq))
    m.ackFrom = from
    const before = run.store.pendingAcknowledgements()
    const result = await run.store.acknowledge(session, info.lastSeq)
    m.ackFrom = -1
    // what it wrote: acknowledgements (this one, pending ones) and StoreDroppedArchived events
    storeRecords(m, from, run.store.nextSeq())
    const after = run.store.pendingAcknowledgements()
    const written = before.filter(a => !after.some(b => b.ackedSession === a.ackedSession))
    if (result === AckResult.Written) written.push({ kind: RecordKind.Ack, ackedSession: session, lastSeq: info.lastSeq })
    for (const a of written) m.acks.set(a.ackedSession, Math.max(m.acks.get(a.ackedSession) ?? 0, a.lastSeq))
    return result
}

/** Appends with bookkeeping; returns false if the store is full (nothing written). */
async function tryAppend(run: Run, rec: LogRecord): Promise<boolean> {
    const session = rec.kind === RecordKind.SessionHeader ? run.store.nextSession() : run.store.openSession()
    const seq = run.store.nextSeq()
    run.model.inflight = { session, seq, record: rec }
    try {
        const r = await run.store.append(rec)
        expect([r.session, r.seq]).toEqual([session, seq])
    } catch (e) {
        // a power cut leaves `inflight` set: that record may or may not be in the log
        if (!(e instanceof StoreError && e.code === StoreErrorCode.Full)) throw e
        run.model.inflight = null
        return false
    }
    run.model.committed.set(seq, run.model.inflight)
    // a StoreDroppedArchived event may follow it
    for (let s = seq + 1; s < run.store.nextSeq(); s++) run.model.committed.set(s, { session, seq: s, record: null })
    run.model.inflight = null
    if (rec.kind === RecordKind.SessionHeader) run.sessions.push(session)
    return true
}

/**
 * Appends; while the store is full, acknowledges the oldest unarchived
 * session (not already waiting for room) and tries again.
 */
async function append(run: Run, rec: LogRecord) {
    while (!(await tryAppend(run, rec))) {
        const pending = run.store.pendingAcknowledgements()
        const oldest = run.store.listSessions().find(s => !s.archived && !s.open && !pending.some(a => a.ackedSession === s.session))
        if (!oldest) throw new Error(`store full with nothing to acknowledge: ${JSON.stringify(run.store.usage())}`)
        await acknowledge(run, oldest.session)
    }
}

async function session(run: Run, boot: number, reps: number, traces: number, close: boolean) {
    await append(run, makeHeader(boot))
    await append(run, { kind: RecordKind.PhaseStart, phaseIndex: 0, phaseKind: 1, timeMs: 0 })
    for (let k = 0; k < Math.max(reps, traces); k++) {
        if (k < traces) await append(run, makeTrace(50, k * 5000))
        if (k < reps) await append(run, makeRep(k))
    }
    await append(run, makeEvent(EventCode.PainRating, boot % 11))
    await append(run, { kind: RecordKind.PhaseEnd, phaseIndex: 0, phaseKind: 1, timeMs: traces * 5000, outcome: PhaseOutcome.Completed, repsDone: reps })
    if (close) await append(run, makeSummary())
}

/** The smallest session: a header and a summary without channels (a session stopped at once). */
const STOPPED_AT_ONCE: LogRecord = { kind: RecordKind.Summary, endMs: 0, outcome: SessionOutcome.Stopped, stopCause: StopCause.Button, channels: [] }

/**
 * The long run: 9 sessions (one left open by a reboot), acknowledgements
 * lagging one session behind and once held back so the store fills up, a
 * partial acknowledgement of an open session, two reboots; then the store
 * filled with short sessions nobody acknowledges, acknowledged newest first
 * (so acknowledgements run out of room and wait) and then oldest first.
 */
async function workload(run: Run, stats?: { pending: number; full: number }) {
    const reboot = async () => {
        run.store = await openStore(run.nor, run.cipher)
    }
    await session(run, 1, 4, 6, true)
    await session(run, 2, 6, 5, true)
    await acknowledge(run, run.sessions[0])
    await session(run, 3, 3, 7, true)
    await acknowledge(run, run.sessions[1])
    await reboot()
    await session(run, 4, 2, 3, false) // left open by the next reboot
    await reboot()
    await acknowledge(run, run.sessions[2])
    // sessions 4 and 5 are not acknowledged: session 6 finds the store full
    await session(run, 5, 5, 6, true)
    await session(run, 6, 4, 8, true)
    await session(run, 7, 3, 5, false)
    await acknowledge(run, run.sessions[6]) // partial: session 7 is still open
    await append(run, makeRep(99))
    await append(run, makeSummary())
    await acknowledge(run, run.sessions[5])
    await session(run, 8, 2, 6, true)
    await acknowledge(run, run.sessions[6])
    await session(run, 9, 4, 6, true)
    await acknowledge(run, run.sessions[7])
    await acknowledge(run, run.sessions[8])
    // fill up with short sessions until the store refuses one
    for (let boot = 10; boot < 60; boot++) {
        if (!(await tryAppend(run, makeHeader(boot))) || !(await tryAppend(run, STOPPED_AT_ONCE))) {
            if (stats) stats.full++
            break
        }
    }
    // the worst order: newest first (acknowledgements run out of room and wait), then oldest first
    const unarchived = run.store
        .listSessions()
        .filter(s => !s.archived)
        .map(s => s.session)
    for (const s of [...unarchived].reverse()) if ((await acknowledge(run, s)) === AckResult.Pending && stats) stats.pending++
    for (const s of unarchived) await acknowledge(run, s)
    expect(run.store.pendingAcknowledgements()).toEqual([])
    await session(run, 60, 2, 3, true)
}

/**
 * The sequence number of the record in flight if any of its bytes reached
 * the flash (-1 if none did): that number must never be given again (its
 * ciphertext is on the chip; the same nonce would leak plaintext).
 */
function touchedSeq(store: LogStore, nor: MemoryNor): number {
    const seq = store.seqInFlight()
    return seq >= 0 && (store.programsInFlightDone() > 0 || nor.cutChangedBits) ? seq : -1
}

/** What must hold after a reboot; returns the recovered store. */
async function verify(nor: MemoryNor, cipher: RecordCipher, m: Model, seqInFlight: number, label: string): Promise<LogStore> {
    nor.reboot()
    const store = await openStore(nor, cipher)
    const listed = store.listSessions()
    const seen = new Set<number>()
    for (const info of listed) {
        expect(info.open, `${label}: session ${info.session} open after reboot`).toBe(false)
        const { records, faults } = await decodeSession(store, info.session, cipher)
        expect(faults, `${label}: session ${info.session} decodes cleanly`).toEqual([])
        expect(records.length, `${label}: session ${info.session} has records`).toBeGreaterThan(0)
        expect(records[0].seq).toBe(info.firstSeq)
        expect(records[records.length - 1].seq).toBe(info.lastSeq)
        records.forEach((d, i) => {
            if (i > 0) expect(d.seq, `${label}: seq after ${records[i - 1].seq}`).toBe(records[i - 1].seq + 1)
            seen.add(d.seq)
            checkRecord(d, m, label)
        })
        const summary = [...m.committed.values()].some(c => c.session === info.session && c.record?.kind === RecordKind.Summary)
        if (summary) expect(info.complete, `${label}: session ${info.session} complete`).toBe(true)
    }
    for (const c of m.committed.values()) {
        if (c.session <= 0 || seen.has(c.seq)) continue
        // only a session the host acknowledged may go, or lose its first sectors
        const acknowledged = (m.requested.get(c.session) ?? 0) >= lastCommittedSeq(m, c.session)
        expect(acknowledged, `${label}: committed seq ${c.seq} (session ${c.session}, ${c.record ? RecordKind[c.record.kind] : "store record"}) lost`).toBe(true)
    }
    for (const [s, lastSeq] of m.acks) {
        const info = store.sessionInfo(s)
        if (info) expect(info.ackedSeq, `${label}: acknowledgement of session ${s}`).toBeGreaterThanOrEqual(lastSeq)
    }
    let maxSeq = 0
    for (const seq of m.committed.keys()) maxSeq = Math.max(maxSeq, seq)
    expect(store.nextSeq(), `${label}: next seq`).toBeGreaterThan(Math.max(maxSeq, seqInFlight))
    return store
}

function isStoreRecord(d: DecodedRecord, m: Model): boolean {
    const r = d.record
    if (r.kind === RecordKind.Ack) return d.session === 0 && (m.requested.get(r.ackedSession) ?? 0) >= r.lastSeq
    return r.kind === RecordKind.Event && r.code === EventCode.StoreDroppedArchived
}

/** A record read back must be a committed one or one in flight, intact; once seen it must stay. */
function checkRecord(d: DecodedRecord, m: Model, label: string) {
    const c = m.committed.get(d.seq)
    if (c) {
        if (c.record === null) expect(isStoreRecord(d, m), `${label}: store record seq ${d.seq}`).toBe(true)
        else {
            expect(d.session, `${label}: session of seq ${d.seq}`).toBe(c.session)
            expect(d.record, `${label}: seq ${d.seq}`).toEqual(c.record)
        }
        return
    }
    const f = m.inflight
    if (f && d.seq === f.seq) {
        expect(d.session, `${label}: session of the record in flight`).toBe(f.session)
        expect(d.record, `${label}: the record in flight`).toEqual(f.record)
    } else if (f && d.seq === f.seq + 1) expect(isStoreRecord(d, m), `${label}: unexpected record seq ${d.seq} after the one in flight`).toBe(true)
    else if (m.ackFrom >= 0 && d.seq >= m.ackFrom) expect(isStoreRecord(d, m), `${label}: unexpected record seq ${d.seq} from an acknowledgement`).toBe(true)
    else expect.fail(`${label}: unexpected record seq ${d.seq} (${RecordKind[d.record.kind]})`)
    // recovered: from now on it must stay
    m.committed.set(d.seq, { session: d.session, seq: d.seq, record: d.record })
}

/** After a cut: a new session, cut again `secondCut` operations in, then checked. */
async function continueAfter(nor: MemoryNor, cipher: RecordCipher, m: Model, store: LogStore, secondCut: number, label: string) {
    const run: Run = { nor, store, cipher, model: m, sessions: [] }
    m.inflight = null
    m.ackFrom = -1
    nor.cutPowerAtOp(nor.mutatingOps + secondCut)
    try {
        await session(run, 70, 2, 2, true)
        await acknowledge(run, run.sessions[0])
    } catch (e) {
        if (!(e instanceof PowerLossError)) throw e
    }
    await verify(nor, cipher, m, touchedSeq(run.store, nor), label + ", then cut again")
}

function traceOperations(nor: MemoryNor) {
    const program = nor.program.bind(nor)
    const erase = nor.eraseSector.bind(nor)
    nor.program = async (addr, bytes) => {
        console.log(`op ${nor.mutatingOps + 1}: program ${bytes.length} bytes at ${addr}`)
        return program(addr, bytes)
    }
    nor.eraseSector = async index => {
        console.log(`op ${nor.mutatingOps + 1}: erase sector ${index}`)
        return erase(index)
    }
}

describe("power cut at every program and erase of a long run", () => {
    const cipher = ccmCipher("clinic key of the power-cut test")

    test("the run itself: every record committed; the store wrapped, filled up, dropped archived sessions and drained", async () => {
        const nor = new MemoryNor({ geometry: GEOMETRY })
        const run: Run = { nor, store: await openStore(nor, cipher), cipher, model: newModel(), sessions: [] }
        const stats = { pending: 0, full: 0 }
        await workload(run, stats)
        const store = await verify(nor, cipher, run.model, -1, "no cut")
        expect(nor.erases).toBeGreaterThan(3 * GEOMETRY.sectorCount)
        const drops = [...run.model.committed.values()].filter(c => c.record?.kind === RecordKind.Event && c.record.code === EventCode.StoreDroppedArchived)
        expect(drops.length + [...run.model.committed.values()].filter(c => c.record === null).length).toBeGreaterThan(2)
        expect(stats.full, "the store filled up with unacknowledged sessions").toBeGreaterThan(0)
        expect(stats.pending, "acknowledgements waited for room").toBeGreaterThan(0)
        expect(store.listSessions().length).toBeGreaterThan(0)
        console.log(
            `power-cut run: ${nor.mutatingOps} program/erase operations (${nor.programs} programs, ${nor.erases} erases), ` +
                `${run.model.committed.size} records, ${stats.pending} acknowledgements waited for room`
        )
    })

    test("cut at operation 1..N: nothing committed is lost, nothing corrupt is returned, appending goes on", async () => {
        const reference = new MemoryNor({ geometry: GEOMETRY })
        await workload({ nor: reference, store: await openStore(reference, cipher), cipher, model: newModel(), sessions: [] })
        const total = reference.mutatingOps
        let torn = 0
        for (let cut = ONLY_CUT || 1; cut <= (ONLY_CUT || total); cut++) {
            const nor = new MemoryNor({ geometry: GEOMETRY, seed: cut })
            nor.cutPowerAtOp(cut)
            if (ONLY_CUT) traceOperations(nor)
            const model = newModel()
            const run: Run = { nor, store: new LogStore(nor, { cipher }), cipher, model, sessions: [] }
            try {
                run.store = await openStore(nor, cipher)
                await workload(run)
                throw new Error(`cut ${cut}: the run finished without losing power`)
            } catch (e) {
                if (!(e instanceof PowerLossError)) throw e
            }
            const label = `cut at op ${cut}/${total}`
            if (ONLY_CUT) console.log(`in flight: ${JSON.stringify(model.inflight)}, ack from ${model.ackFrom}, seq being programmed: ${run.store.seqInFlight()}`)
            const store = await verify(nor, cipher, model, touchedSeq(run.store, nor), label)
            if (ONLY_CUT) console.log(`recovered: ${JSON.stringify(store.recoveryReport())}, next seq ${store.nextSeq()}`)
            if (store.recoveryReport().tornTail) torn++
            // then a second cut a few operations into the next session
            await continueAfter(nor, cipher, model, store, 1 + (cut % 9), label)
        }
        console.log(`power cut at each of ${total} operations: all recovered (${torn} with a torn tail), each cut again after reboot`)
        if (!ONLY_CUT) expect(torn).toBeGreaterThan(total / 4)
    }, 120000)
})
