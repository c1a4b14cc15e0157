/**
 * The session log store: an append-only, log-structured store of records
 * (records.ts) over a NOR flash BlockDevice, that loses nothing committed
 * on a power cut and frees space only for sessions the host archived.
 *
 * The log is one byte stream laid over the sectors in a circle. Sector
 * generation g (0, 1, 2, ... counting every time a sector is (re)started)
 * lives in physical sector g mod N and holds stream bytes [g x D, (g+1) x D),
 * D = sector size - header area - seal. Records are packed back to back and
 * may straddle two sectors, so a session's records form one contiguous
 * range of the stream, read by (offset, length) in O(1).
 *
 * The sector layout (header, data area, seal) is in sector-layout.ts.
 *
 * Write order, so that a power cut anywhere leaves a log that recovers:
 * a record that needs the next sector first has that sector prepared
 * (obsolete mark + erase if it held the oldest data, erase, header), then
 * the record is programmed page by page, then the sector it left is sealed.
 * The sequence number of a record only grows, and after a torn write the
 * store skips the number the torn record had (its ciphertext is on flash:
 * reusing its nonce would leak plaintext).
 *
 * Recovery (recoverStep, a bounded amount of work per call):
 *  1. read every sector header; the highest valid generation G is the head;
 *  2. walk generations G-N+1 .. G: the first valid one is the tail; for each
 *     sector, a seal with no session boundary or store record lets the scan
 *     skip the sector (one read); otherwise read its records' headers: magic,
 *     kind, length, sequence (+1 each), session. A record is accepted when
 *     the next one's header is sound (it was written after it, so it was
 *     whole) or, when it is the last one before a gap, after a full CRC check.
 *     Session headers, summaries and acknowledgements are always CRC-checked
 *     (and decrypted) because the session index depends on them;
 *  3. at the head: the bytes after the last good record must be blank to the
 *     end of the sector, or the tail is torn: the torn bytes are left alone and
 *     the next record goes to a fresh sector.
 *
 * Space: when the log needs the oldest sector, it is erased only if every
 * session with records in it is archived (acknowledged up to its last
 * record); the store then logs a StoreDroppedArchived event. Otherwise the
 * append is refused with a "store full of unarchived sessions" StoreError:
 * unarchived data is never dropped. Acknowledgements are records too, so
 * they must find room: a session record is refused unless the sector after
 * the one it ends in is free or reusable (one sector of headroom for
 * acknowledgements); an acknowledgement that still finds no room is kept
 * pending in memory, and while acknowledgements are written, the records
 * they and the pending ones cover count as archived. So a full store
 * drains whatever order the host acknowledges in.
 *
 * Encryption at rest: with a RecordCipher, every payload is AES-256-CCM
 * encrypted, nonce from the record's sequence number (records.ts). The
 * caller derives the key (e.g. HKDF of the clinic key with storeId() as
 * salt, so a reformatted chip never reuses a key-nonce pair).
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import type { BlockDevice, FlashGeometry } from "./block-device"
import {
    checkFrame,
    decodeFrameHeader,
    decodePayload,
    encodeRecord,
    EventCode,
    FIXED_PAYLOAD_BYTES,
    FRAME_HEADER_BYTES,
    FRAME_OVERHEAD_BYTES,
    LogDecodeError,
    MAX_CIPHER_OVERHEAD_BYTES,
    MAX_RECORD_BYTES,
    recordKindName,
    recordNonce,
    RecordKind,
    type AckRecord,
    type EventRecord,
    type FrameHeader,
    type LogRecord,
    type RecordCipher,
} from "./records"
import {
    decodeSeal,
    decodeSectorHeader,
    encodeSeal,
    encodeSectorHeader,
    SEAL_MIXED,
    sealFlag,
    SECTOR_HEADER_AREA_BYTES,
    SECTOR_HEADER_BYTES,
    SECTOR_SEAL_BYTES,
    sectorDataBytes,
    STATE_OBSOLETE,
    type Seal,
    type SectorHeader,
} from "./sector-layout"
import { SessionIndex, type Entry, type SessionInfo } from "./session-index"

export { SECTOR_HEADER_AREA_BYTES, SECTOR_SEAL_BYTES } from "./sector-layout"
export type { SessionInfo } from "./session-index"

// ---------------------------------------------------------------- helpers

/** [bytes] the largest event record (the store's own StoreDroppedArchived) */
const MAX_EVENT_RECORD_BYTES = FRAME_OVERHEAD_BYTES + FIXED_PAYLOAD_BYTES[RecordKind.Event] + MAX_CIPHER_OVERHEAD_BYTES

function modulo(x: number, n: number): number {
    return x - Math.floor(x / n) * n
}

function allBlank(bytes: number[]): boolean {
    for (const b of bytes) if (b !== 0xff) return false
    return true
}

// ---------------------------------------------------------------- public types

export const StoreErrorCode = {
    /** recover() has not finished */
    NotReady: "not-ready",
    /** the oldest sector holds a session the host has not archived */
    Full: "full",
    NoSession: "no-session",
    NoOpenSession: "no-open-session",
    BadRequest: "bad-request",
    /** a flash operation failed (power cut): reboot and recover */
    Broken: "broken",
    /** a call came while another was still running: the caller must serialise them */
    Busy: "busy",
    /** the chip holds a store of another geometry */
    Geometry: "geometry",
} as const

/** What acknowledge() did. */
export const AckResult = {
    Written: "written",
    Already: "already",
    Pending: "pending",
} as const

export class StoreError extends Error {
    constructor(
        readonly code: string,
        message: string
    ) {
        super(message)
        this.name = "StoreError"
    }
}

export interface LogStoreOptions {
    /** encrypts payloads at rest (AES-256-CCM); without it records are stored in the clear */
    cipher?: RecordCipher
    /** storeId written when a blank chip is formatted: a random u32 from the caller (default 1) */
    newStoreId?: number
    /** device reads per recoverStep() (default 16) */
    stepReads?: number
}

export interface AppendResult {
    session: number
    seq: number
    /** sessions dropped to make room (all archived): [first, last], or [] */
    dropped: number[]
}

export interface RecoveryReport {
    /** the chip held no store and was formatted */
    formatted: boolean
    /** sectors holding the log */
    sectors: number
    /** sectors passed over thanks to their seal */
    sectorsSkipped: number
    recordsScanned: number
    /** places the scan had to skip: earlier torn writes, damaged sectors */
    holes: number
    /** the last write was torn by a power cut (its record is not in the log) */
    tornTail: boolean
    /** records whose payload could not be decrypted (no or wrong key) */
    undecryptable: number
    reads: number
}

export interface StoreUsage {
    /** [bytes] the log's stream space: sectors x data bytes per sector */
    capacityBytes: number
    /** [bytes] from the oldest record kept to the end of the log */
    usedBytes: number
    /** [bytes] in sessions not yet archived */
    unarchivedBytes: number
    sessions: number
    unarchivedSessions: number
}

// ---------------------------------------------------------------- internals

/** The records starting in one sector, for its seal. */
interface SectorTrack {
    gen: number
    /** every record that starts in the sector went through here */
    known: boolean
    sealed: boolean
    flags: number
    session: number
    lastSeq: number
    lastSession: number
    lastRecordEnd: number
}

/** What reusing a physical sector for a new generation would take. */
interface Reclaim {
    phys: number
    /** generation the sector holds if it is the oldest of the log, else -1 (free) */
    oldGen: number
    /** unarchived sessions with records in it */
    blockers: number
    oldestBlocker: number
    /** sessions whose header it holds (they would be dropped): first, last, how many */
    first: number
    last: number
    count: number
}

/** A record accepted by its header, not yet applied. */
interface Pending {
    pos: number
    h: FrameHeader
    verified: boolean
    /** decoded payload of a header or ack, null if not decoded */
    info: LogRecord | null
}

/** Where recovery stands. */
interface ScanState {
    /** pass 1: next sector to read; pass 2: next generation of the walk, from G-N+1 */
    rIndex: number
    /** store id of the highest generation */
    rStoreId: number
    /** floors from the sector headers walked */
    seqFloor: number
    sessionFloor: number
    /** the walk has reached the oldest sector of the log */
    inChain: boolean
    /** generation being scanned record by record, -1 between sectors */
    curGen: number
    /** stream position of the next record header */
    pos: number
    /** pos follows the previous record (false after a gap: the next record may jump in sequence) */
    inSync: boolean
    /** after a gap: the sector header's sequence floor */
    expectSeqMin: number
    /** last record accepted (pending included): for the plausibility of the next header */
    seqSeen: number
    sessionSeen: number
    sessionMaxSeen: number
    /** last record applied (pending excluded): what the log ends with if the pending one is torn */
    goodSeq: number
    goodSession: number
    goodSessionMax: number
    pending: Pending | null
    /** head sector: blank check from here to its end */
    verifyPos: number
}

function newScan(): ScanState {
    return {
        rIndex: 0,
        rStoreId: 0,
        seqFloor: 1,
        sessionFloor: 1,
        inChain: false,
        curGen: -1,
        pos: 0,
        inSync: false,
        expectSeqMin: 1,
        seqSeen: 0,
        sessionSeen: -1,
        sessionMaxSeen: 0,
        goodSeq: 0,
        goodSession: -1,
        goodSessionMax: 0,
        pending: null,
        verifyPos: 0,
    }
}

enum Phase {
    Idle = 0,
    Headers = 1,
    Scan = 2,
    VerifyBlank = 3,
    Ready = 4,
}

function noTrack(): SectorTrack {
    return { gen: -1, known: false, sealed: false, flags: 0, session: -1, lastSeq: 0, lastSession: 0, lastRecordEnd: 0 }
}

export class LogStore {
    private readonly dev: BlockDevice
    private readonly geo: FlashGeometry
    private readonly n: number
    /** [bytes] stream bytes per sector */
    private readonly dataBytes: number
    private readonly cipher: RecordCipher | undefined
    private readonly stepReads: number
    private readonly newStoreId: number

    private phase = Phase.Idle
    private broken = false
    private storeIdV = 0
    /** highest generation with a header */
    private headGen = -1
    /** lowest generation still holding the log */
    private tailGen = 0
    /** stream position of the next record */
    private headPos = 0
    private nextSeqV = 1
    private nextSessionV = 1
    private openSessionV = 0
    private index = new SessionIndex()
    private trk: SectorTrack = noTrack()
    private inFlight = -1
    private inFlightPrograms = 0
    /** highest generation known to be free or reusable (the headroom for acknowledgements) */
    private headroomGen = -1
    /** acknowledgements not yet written for lack of room */
    private pendingAcks: AckRecord[] = []
    /** an acknowledgement is being written: pending ones count as archived */
    private ackWriting = false

    /** a public call is running (the store is not re-entrant) */
    private busy = false

    private report: RecoveryReport = LogStore.emptyReport()
    private scan: ScanState = newScan()

    constructor(device: BlockDevice, options?: LogStoreOptions) {
        const o = options ?? {}
        const g = device.geometry
        this.dev = device
        this.geo = g
        this.n = g.sectorCount
        this.dataBytes = sectorDataBytes(g.sectorSize)
        this.cipher = o.cipher
        this.stepReads = o.stepReads ?? 16
        this.newStoreId = o.newStoreId ?? 1
        if (
            g.sectorCount < 3 ||
            g.pageSize < SECTOR_HEADER_AREA_BYTES ||
            g.pageSize < SECTOR_SEAL_BYTES ||
            modulo(g.sectorSize, g.pageSize) !== 0 ||
            this.dataBytes < MAX_RECORD_BYTES + MAX_EVENT_RECORD_BYTES
        )
            throw new StoreError(
                StoreErrorCode.Geometry,
                "geometry unusable for the log: sectors of " + g.sectorSize + " bytes (data " + this.dataBytes + ", need >= " + (MAX_RECORD_BYTES + MAX_EVENT_RECORD_BYTES) + "), pages of " + g.pageSize + ", " + g.sectorCount + " sectors (need >= 3)"
            )
    }

    private static emptyReport(): RecoveryReport {
        return { formatted: false, sectors: 0, sectorsSkipped: 0, recordsScanned: 0, holes: 0, tornTail: false, undecryptable: 0, reads: 0 }
    }

    // ------------------------------------------------------------ queries

    isReady(): boolean {
        return this.phase === Phase.Ready && !this.broken
    }
    storeId(): number {
        return this.storeIdV
    }
    /** the sequence number the next record will get */
    nextSeq(): number {
        return this.nextSeqV
    }
    /** the number the next session header will get */
    nextSession(): number {
        return this.nextSessionV
    }
    /** the session records go to, 0 if none is open */
    openSession(): number {
        return this.openSessionV
    }
    /** [bytes] stream bytes per sector */
    dataBytesPerSector(): number {
        return this.dataBytes
    }
    /**
     * Sequence number of the record whose bytes were being programmed when a
     * flash operation failed, -1 if none (after a power cut: the one record
     * that may be lost).
     */
    seqInFlight(): number {
        return this.inFlight
    }
    /** Page programs of that record that had completed (0: only the failed one touched the flash). */
    programsInFlightDone(): number {
        return this.inFlightPrograms
    }
    recoveryReport(): RecoveryReport {
        return this.report
    }

    /** Sessions the host can pull, oldest first (remnants of dropped archived sessions are left out). */
    listSessions(): SessionInfo[] {
        return this.index.list(this.openSessionV)
    }

    sessionInfo(session: number): SessionInfo | null {
        const e = this.index.find(session)
        return e === null ? null : this.index.info(e, this.openSessionV)
    }

    usage(): StoreUsage {
        let unarchivedBytes = 0
        let unarchived = 0
        let sessions = 0
        for (const e of this.index.entries) {
            if (e.hasHeader) sessions++
            if (!this.index.isArchived(e)) {
                unarchived++
                unarchivedBytes += e.endPos - e.startPos
            }
        }
        const tailPos = this.tailGen * this.dataBytes
        return {
            capacityBytes: this.n * this.dataBytes,
            usedBytes: this.headPos > tailPos ? this.headPos - tailPos : 0,
            unarchivedBytes: unarchivedBytes,
            sessions: sessions,
            unarchivedSessions: unarchived,
        }
    }

    // ------------------------------------------------------------ recovery

    /**
     * Does a bounded piece of recovery (at most `stepReads` device reads plus
     * at most two programs/erases when formatting a blank chip). Returns true
     * when the store is ready. Call it until it returns true, yielding in
     * between on the device.
     */
    async recoverStep(): Promise<boolean> {
        this.enter()
        try {
            return await this.recoverStepNow()
        } finally {
            this.busy = false
        }
    }

    private async recoverStepNow(): Promise<boolean> {
        if (this.broken) throw new StoreError(StoreErrorCode.Broken, "a flash operation failed: power-cycle the flash and make a new LogStore")
        if (this.phase === Phase.Ready) return true
        if (this.phase === Phase.Idle) this.phase = Phase.Headers
        let budget = this.stepReads
        while (budget > 0 && !this.recovered()) budget -= await this.recoverUnit()
        return this.recovered()
    }

    private recovered(): boolean {
        return this.phase === Phase.Ready
    }

    /** Refuses a call while another is running: two appends interleaved at their awaits would write at the same place. */
    private enter() {
        if (this.busy) throw new StoreError(StoreErrorCode.Busy, "another store call is still running: serialise calls to the store")
        this.busy = true
    }

    /** Runs recoverStep() to the end. */
    async recover(): Promise<RecoveryReport> {
        while (!(await this.recoverStep())) {}
        return this.report
    }

    /** One unit of recovery work; returns the device reads it took (at least 1, so every call makes progress against the budget). */
    private async recoverUnit(): Promise<number> {
        if (this.phase === Phase.Headers) return await this.headerUnit()
        if (this.phase === Phase.VerifyBlank) return await this.verifyBlankUnit()
        if (this.scan.curGen < 0) return await this.nextSectorUnit()
        return await this.recordUnit()
    }

    private async headerUnit(): Promise<number> {
        const i = this.scan.rIndex
        const h = decodeSectorHeader(await this.read(i * this.geo.sectorSize, SECTOR_HEADER_AREA_BYTES))
        if (h !== null) {
            if (h.sectorSize !== this.geo.sectorSize || h.sectorCount !== this.n)
                throw new StoreError(
                    StoreErrorCode.Geometry,
                    "sector " + i + " belongs to a store of " + h.sectorCount + " sectors of " + h.sectorSize + " bytes, expected " + this.n + " of " + this.geo.sectorSize
                )
            if (modulo(h.generation, this.n) === i && h.generation > this.headGen) {
                this.headGen = h.generation
                this.scan.rStoreId = h.storeId
            }
        }
        this.scan.rIndex++
        if (this.scan.rIndex >= this.n) {
            if (this.headGen < 0) {
                await this.format()
                return 1
            }
            this.storeIdV = this.scan.rStoreId
            this.phase = Phase.Scan
            this.scan.rIndex = 0
        }
        return 1
    }

    private async format() {
        this.storeIdV = this.newStoreId
        await this.erase(0)
        await this.programHeader(0, 0, 1)
        this.headGen = 0
        this.tailGen = 0
        this.headPos = 0
        this.nextSeqV = 1
        this.nextSessionV = 1
        this.trk = noTrack()
        this.report.formatted = true
        this.report.sectors = 1
        this.phase = Phase.Ready
    }

    /** Moves to the next generation of the walk G-N+1 .. G. */
    private async nextSectorUnit(): Promise<number> {
        if (this.scan.rIndex >= this.n) {
            // after the head sector: the end of the log
            await this.endOfLog(true)
            return 1
        }
        const gen = this.headGen - this.n + 1 + this.scan.rIndex
        this.scan.rIndex++
        if (gen < 0) {
            // a young store: generations below 0 never existed
            this.scan.rIndex = this.n - 1 - this.headGen
            return 1
        }
        const phys = modulo(gen, this.n)
        const h = decodeSectorHeader(await this.read(phys * this.geo.sectorSize, SECTOR_HEADER_AREA_BYTES))
        if (h === null || h.generation !== gen || h.storeId !== this.storeIdV) {
            if (this.scan.inChain) {
                // a damaged sector inside the log: resynchronise after it
                await this.settlePending()
                this.scan.inSync = false
                this.report.holes++
            }
            return 1
        }
        return 1 + (await this.enterSector(gen, h))
    }

    private async enterSector(gen: number, h: SectorHeader): Promise<number> {
        const base = gen * this.dataBytes
        this.scan.seqFloor = Math.max(this.scan.seqFloor, h.firstSeq)
        this.scan.sessionFloor = Math.max(this.scan.sessionFloor, h.sessionFloor)
        this.report.sectors++
        if (!this.scan.inChain) {
            this.scan.inChain = true
            this.tailGen = gen
            this.scan.inSync = false
        } else if (this.scan.inSync && this.scan.pos !== base + h.firstRecordOffset) {
            await this.settlePending()
            this.scan.inSync = false
            this.report.holes++
        }
        if (!this.scan.inSync) {
            this.scan.pos = base + h.firstRecordOffset
            this.scan.expectSeqMin = h.firstSeq
        }
        this.scan.curGen = gen
        const isHead = gen === this.headGen
        const seal = decodeSeal(await this.read(modulo(gen, this.n) * this.geo.sectorSize + this.geo.sectorSize - SECTOR_SEAL_BYTES, SECTOR_SEAL_BYTES))
        if (seal !== null && this.canSkip(seal, base)) {
            // the seal was written after every record that starts here, so the one before them was whole
            this.commitPending()
            const start = this.scan.pos
            const e = this.index.entryFor(seal.lastSession, start, this.scan.inSync ? this.scan.seqSeen + 1 : h.firstSeq)
            e.lastSeq = seal.lastSeq
            e.endPos = base + seal.lastRecordEnd
            this.scan.seqSeen = seal.lastSeq
            this.scan.goodSeq = seal.lastSeq
            this.scan.sessionSeen = seal.lastSession
            this.scan.goodSession = seal.lastSession
            this.scan.sessionMaxSeen = Math.max(this.scan.sessionMaxSeen, seal.lastSession)
            this.scan.goodSessionMax = Math.max(this.scan.goodSessionMax, seal.lastSession)
            this.scan.pos = base + seal.lastRecordEnd
            this.scan.inSync = true
            this.report.sectorsSkipped++
            this.scan.curGen = -1
            if (isHead) this.trk = { gen: gen, known: true, sealed: true, flags: 0, session: seal.lastSession, lastSeq: seal.lastSeq, lastSession: seal.lastSession, lastRecordEnd: seal.lastRecordEnd }
            return 1
        }
        if (isHead) {
            this.trk = noTrack()
            this.trk.gen = gen
            this.trk.known = true
            this.trk.sealed = seal !== null
        }
        return 1
    }

    /** A sealed sector of one session's plain records that continues what came before can be skipped. */
    private canSkip(seal: Seal, base: number): boolean {
        if (seal.flags !== 0 || seal.lastSession === 0) return false
        if (this.scan.sessionSeen >= 0 && seal.lastSession !== this.scan.sessionSeen) return false
        if (seal.lastRecordEnd <= this.scan.pos - base || seal.lastRecordEnd > this.dataBytes + MAX_RECORD_BYTES) return false
        return this.scan.inSync ? seal.lastSeq > this.scan.seqSeen : seal.lastSeq >= this.scan.expectSeqMin && seal.lastSeq > this.scan.seqSeen
    }

    private async recordUnit(): Promise<number> {
        const sectorEnd = (this.scan.curGen + 1) * this.dataBytes
        if (this.scan.pos >= sectorEnd) {
            this.scan.curGen = -1
            return 1
        }
        const isHead = this.scan.curGen === this.headGen
        const hb = await this.scanRead(this.scan.pos, FRAME_HEADER_BYTES)
        if (allBlank(hb)) {
            await this.gap(isHead, true)
            return 1
        }
        let h: FrameHeader
        try {
            h = decodeFrameHeader(hb, 0)
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
            await this.gap(isHead, false)
            return 1
        }
        if (!this.plausible(h)) {
            await this.gap(isHead, false)
            return 1
        }
        this.report.recordsScanned++
        // the header is sound, so the record before it was written whole
        this.commitPending()
        const p: Pending = { pos: this.scan.pos, h: h, verified: false, info: null }
        let reads = 1
        if (h.kind === RecordKind.SessionHeader || h.kind === RecordKind.Summary || h.kind === RecordKind.Ack) {
            reads++
            if (!(await this.verify(p))) {
                await this.gap(isHead, false)
                return reads
            }
        }
        this.scan.pending = p
        this.scan.seqSeen = h.seq
        if (h.session !== 0) {
            this.scan.sessionSeen = h.session
            this.scan.sessionMaxSeen = Math.max(this.scan.sessionMaxSeen, h.session)
        }
        this.scan.pos += h.recordBytes
        this.scan.inSync = true
        return reads
    }

    private plausible(h: FrameHeader): boolean {
        if (h.kind === RecordKind.Ack) {
            if (h.session !== 0) return false
        } else if (h.kind !== RecordKind.Event && h.session === 0) return false
        if (this.scan.inSync) {
            if (h.seq !== this.scan.seqSeen + 1) return false
        } else if (!(h.seq > this.scan.seqSeen && h.seq >= this.scan.expectSeqMin)) return false
        if (h.kind === RecordKind.SessionHeader) return h.session > this.scan.sessionMaxSeen
        if (h.session === 0 || this.scan.sessionSeen < 0) return true
        return this.scan.inSync ? h.session === this.scan.sessionSeen : h.session >= this.scan.sessionSeen
    }

    /**
     * Blank bytes or an unsound header at `pos`: the record before it must
     * prove itself by CRC. At the head that is the end of the log; before
     * it, a hole left by an earlier power cut: continue at the next sector.
     */
    private async gap(isHead: boolean, blank: boolean) {
        const dropped = await this.settlePending()
        if (isHead) {
            if (blank && !dropped && this.scan.pos < (this.headGen + 1) * this.dataBytes) {
                this.scan.verifyPos = this.scan.pos
                this.phase = Phase.VerifyBlank
            } else await this.endOfLog(blank && !dropped)
            return
        }
        this.report.holes++
        this.scan.inSync = false
        this.scan.curGen = -1
    }

    private async verifyBlankUnit(): Promise<number> {
        const end = (this.headGen + 1) * this.dataBytes
        const n = Math.min(end - this.scan.verifyPos, this.geo.pageSize)
        const bytes = await this.streamRead(this.scan.verifyPos, n)
        if (!allBlank(bytes)) {
            await this.endOfLog(false)
            return 1
        }
        this.scan.verifyPos += n
        if (this.scan.verifyPos >= end) await this.endOfLog(true)
        return 1
    }

    /** Verifies the pending record if need be and applies it; returns true if it was torn and dropped. */
    private async settlePending(): Promise<boolean> {
        const p = this.scan.pending
        if (p === null) return false
        if (!p.verified && !(await this.verify(p))) {
            this.scan.pending = null
            this.scan.seqSeen = this.scan.goodSeq
            this.scan.sessionSeen = this.scan.goodSession
            this.scan.sessionMaxSeen = this.scan.goodSessionMax
            this.scan.pos = p.pos
            return true
        }
        this.commitPending()
        return false
    }

    /** Full read + CRC (+ decoding of a session header or ack). */
    private async verify(p: Pending): Promise<boolean> {
        const bytes = await this.scanRead(p.pos, p.h.recordBytes)
        try {
            checkFrame(bytes, 0)
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
            return false
        }
        p.verified = true
        if (p.h.kind === RecordKind.SessionHeader || p.h.kind === RecordKind.Ack) p.info = this.decodeInfo(bytes, p.h)
        return true
    }

    private decodeInfo(bytes: number[], h: FrameHeader): LogRecord | null {
        let payload = bytes.slice(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + h.payloadBytes)
        if (h.encrypted) {
            const plain = this.cipher ? this.cipher.decrypt(recordNonce(h.kind, h), payload) : null
            if (plain === null) {
                this.report.undecryptable++
                return null
            }
            payload = plain
        }
        try {
            return decodePayload(h.kind, payload, FRAME_HEADER_BYTES)
        } catch (e) {
            if (!(e instanceof LogDecodeError)) throw e
            return null
        }
    }

    private commitPending() {
        const p = this.scan.pending
        if (p === null) return
        this.scan.pending = null
        this.index.apply(p.pos, p.h, p.info)
        this.scan.goodSeq = p.h.seq
        if (p.h.session !== 0) {
            this.scan.goodSession = p.h.session
            this.scan.goodSessionMax = Math.max(this.scan.goodSessionMax, p.h.session)
        }
        if (this.trk.gen >= 0 && this.trk.gen === Math.floor(p.pos / this.dataBytes)) this.track(p.pos, p.h)
    }

    private async endOfLog(cleanEnd: boolean) {
        const clean = !(await this.settlePending()) && cleanEnd
        this.headPos = clean ? this.scan.pos : (this.headGen + 1) * this.dataBytes
        const next = Math.max(this.scan.goodSeq + 1, this.scan.seqFloor)
        // a torn record had at most `next`: never give that number again
        this.nextSeqV = clean ? next : next + 1
        this.nextSessionV = Math.max(this.scan.goodSessionMax + 1, this.scan.sessionFloor)
        this.openSessionV = 0
        if (!clean) {
            this.report.tornTail = true
            this.trk = noTrack()
        }
        this.scan.curGen = -1
        this.phase = Phase.Ready
    }

    /** Stream bytes as the scan sees them: nothing exists past the head sector. */
    private async scanRead(pos: number, len: number): Promise<number[]> {
        const limit = (this.headGen + 1) * this.dataBytes
        const n = pos + len <= limit ? len : Math.max(0, limit - pos)
        const out = n > 0 ? await this.streamRead(pos, n) : []
        while (out.length < len) out.push(0xff)
        return out
    }

    /** Notes a record starting in the tracked sector, for its seal. */
    private track(pos: number, h: FrameHeader) {
        const t = this.trk
        t.flags |= sealFlag(h.kind, h.session)
        if (h.session !== 0) {
            if (t.session >= 0 && t.session !== h.session) t.flags |= SEAL_MIXED
            t.session = h.session
        }
        t.lastSeq = h.seq
        t.lastSession = h.session
        t.lastRecordEnd = pos + h.recordBytes - t.gen * this.dataBytes
    }

    // ------------------------------------------------------------ appending

    /**
     * Appends a record to the open session. A SessionHeader opens a new
     * session (numbered by the store; an open one is left incomplete), a
     * Summary closes it. An Event with no open session is a store event
     * (session 0). Acknowledgements go through acknowledge().
     * Throws StoreError (Full: nothing was written) or the device's error
     * (power cut: the record may or may not be in the log after recovery).
     */
    async append(rec: LogRecord): Promise<AppendResult> {
        this.enter()
        try {
            return await this.appendNow(rec)
        } finally {
            this.busy = false
        }
    }

    private async appendNow(rec: LogRecord): Promise<AppendResult> {
        this.checkWritable()
        let session = this.openSessionV
        if (rec.kind === RecordKind.Ack) throw new StoreError(StoreErrorCode.BadRequest, "acknowledgements are written by acknowledge()")
        if (rec.kind === RecordKind.SessionHeader) session = this.nextSessionV
        else if (session === 0 && rec.kind !== RecordKind.Event)
            throw new StoreError(StoreErrorCode.NoOpenSession, "no open session for a " + recordKindName(rec.kind) + " record: append a session header first")
        return await this.appendAs(rec, session)
    }

    /**
     * Writes `rec` in `session`; if making room dropped archived sessions,
     * follows it with a StoreDroppedArchived event in the same session (so
     * a new session's header stays its first record).
     */
    private async appendAs(rec: LogRecord, session: number): Promise<AppendResult> {
        const dropped = await this.write(rec, session, rec.kind !== RecordKind.Ack)
        if (rec.kind === RecordKind.SessionHeader) {
            this.openSessionV = session
            this.nextSessionV = session + 1
        } else if (rec.kind === RecordKind.Summary) this.openSessionV = 0
        const seq = this.nextSeqV - 1
        if (dropped.length > 0) {
            const ev: EventRecord = {
                kind: RecordKind.Event,
                timeMs: 0,
                code: EventCode.StoreDroppedArchived,
                cause: Math.min(dropped[2], 255),
                value: dropped[0],
                extra: dropped[1],
            }
            await this.write(ev, session, false)
        }
        return { session: session, seq: seq, dropped: dropped.length > 0 ? [dropped[0], dropped[1]] : [] }
    }

    /**
     * Records that the host archived `session` up to sequence number
     * `lastSeq` (the last record it verified). The acknowledgement is a
     * record, so once written it survives a power cut. Returns
     * - AckResult.Written: written now (with any acknowledgements pending);
     * - AckResult.Already: nothing to do, nothing written (already recorded,
     *   or the session is gone: dropped after an earlier acknowledgement),
     *   so a repeated command changes nothing;
     * - AckResult.Pending: no room yet (the store is full of other
     *   unarchived sessions): kept in memory, written as soon as later
     *   acknowledgements free a sector; lost on a power cut before that
     *   (the session then shows unarchived again and the host acknowledges
     *   it again).
     */
    async acknowledge(session: number, lastSeq: number): Promise<string> {
        this.enter()
        try {
            return await this.acknowledgeNow(session, lastSeq)
        } finally {
            this.busy = false
        }
    }

    private async acknowledgeNow(session: number, lastSeq: number): Promise<string> {
        this.checkWritable()
        const e = this.index.find(session)
        if (e === null) {
            if (session >= 1 && session < this.nextSessionV) return AckResult.Already
            throw new StoreError(StoreErrorCode.NoSession, "no session " + session + " (next session is " + this.nextSessionV + ")")
        }
        if (!(lastSeq >= e.firstSeq && lastSeq <= e.lastSeq))
            throw new StoreError(StoreErrorCode.BadRequest, "acknowledgement of session " + session + " up to seq " + lastSeq + ": expected " + e.firstSeq + ".." + e.lastSeq)
        if (e.ackedSeq >= lastSeq) return AckResult.Already
        let found = false
        for (const a of this.pendingAcks)
            if (a.ackedSession === session) {
                if (a.lastSeq < lastSeq) a.lastSeq = lastSeq
                found = true
            }
        if (!found) this.pendingAcks.push({ kind: RecordKind.Ack, ackedSession: session, lastSeq: lastSeq })
        await this.flushAcks()
        // (written, or its session was dropped under its cover while pending ones were written)
        return this.pendingAcks.some(a => a.ackedSession === session) ? AckResult.Pending : AckResult.Written
    }

    /** Acknowledgements waiting for room (AckResult.Pending), oldest first. */
    pendingAcknowledgements(): AckRecord[] {
        return this.pendingAcks.slice(0)
    }

    /** Writes pending acknowledgements while there is room. */
    private async flushAcks() {
        while (this.pendingAcks.length > 0) {
            const a = this.pendingAcks[0]
            const e = this.index.find(a.ackedSession)
            if (e !== null && e.ackedSeq < a.lastSeq) {
                this.ackWriting = true
                try {
                    await this.appendAs(a, 0)
                } catch (err) {
                    if (err instanceof StoreError && err.code === StoreErrorCode.Full) return
                    throw err
                } finally {
                    this.ackWriting = false
                }
            }
            this.pendingAcks = this.pendingAcks.slice(1)
        }
    }

    /** `length` bytes (fewer at the end) of a session's records, from `offset`. */
    async readSession(session: number, offset: number, length: number): Promise<number[]> {
        this.enter()
        try {
            return await this.readSessionNow(session, offset, length)
        } finally {
            this.busy = false
        }
    }

    private async readSessionNow(session: number, offset: number, length: number): Promise<number[]> {
        this.checkReadable()
        const e = this.index.find(session)
        if (e === null) throw new StoreError(StoreErrorCode.NoSession, "no session " + session)
        const size = e.endPos - e.startPos
        if (!(offset >= 0 && offset <= size && length >= 0) || Math.floor(offset) !== offset || Math.floor(length) !== length)
            throw new StoreError(StoreErrorCode.BadRequest, "read of session " + session + " at " + offset + "+" + length + ": expected an offset in 0.." + size)
        const n = Math.min(length, size - offset)
        return n > 0 ? await this.streamRead(e.startPos + offset, n) : []
    }

    private checkReadable() {
        if (this.broken) throw new StoreError(StoreErrorCode.Broken, "a flash operation failed: power-cycle the flash and make a new LogStore")
        if (this.phase !== Phase.Ready) throw new StoreError(StoreErrorCode.NotReady, "the store is still recovering: call recoverStep() until it returns true")
    }

    private checkWritable() {
        this.checkReadable()
    }

    /** Encodes and writes one record; returns [first, last, count] of the sessions dropped to make room, or []. */
    private async write(rec: LogRecord, session: number, headroom: boolean): Promise<number[]> {
        const seq = this.nextSeqV
        const bytes = encodeRecord(rec, { session: session, seq: seq }, this.cipher)
        const dropped = await this.makeRoom(bytes.length, seq, headroom)
        const pos = this.headPos
        this.inFlight = seq
        this.inFlightPrograms = 0
        await this.streamWrite(pos, bytes)
        this.inFlight = -1
        this.headPos = pos + bytes.length
        this.nextSeqV = seq + 1
        const h = decodeFrameHeader(bytes, 0)
        this.index.apply(pos, h, rec)
        const gen = Math.floor(pos / this.dataBytes)
        if (this.trk.gen !== gen) {
            // the sector before, if it was left full but unsealed (a power cut before its seal, seen at recovery)
            await this.maybeSeal()
            // the first record that starts in this sector: the store sees all the others
            this.trk = noTrack()
            this.trk.gen = gen
            this.trk.known = true
        }
        this.track(pos, h)
        await this.maybeSeal()
        return dropped
    }

    private async maybeSeal() {
        const t = this.trk
        if (t.gen < 0 || !t.known || t.sealed || this.headPos < (t.gen + 1) * this.dataBytes) return
        const seal = encodeSeal({ lastSeq: t.lastSeq, lastSession: t.lastSession, lastRecordEnd: t.lastRecordEnd, flags: t.flags })
        await this.program(modulo(t.gen, this.n) * this.geo.sectorSize + this.geo.sectorSize - SECTOR_SEAL_BYTES, seal)
        t.sealed = true
    }

    /**
     * Prepares the next sector if the record does not fit; returns what
     * reclaiming dropped. A session record (`headroom`) must also leave the
     * sector after the one it ends in free or reusable: the host's
     * acknowledgements, which are records too, always find room, or a store
     * full of unarchived sessions could never be acknowledged.
     */
    private async makeRoom(len: number, seq: number, headroom: boolean): Promise<number[]> {
        const end = this.headPos + len
        const gen = Math.floor((end - 1) / this.dataBytes)
        if (headroom && gen + 1 > this.headGen && gen + 1 > this.headroomGen) {
            const next = await this.reclaimCheck(gen + 1)
            if (next.blockers > 0) throw this.fullError(next, " (one sector is kept for acknowledgements)")
            // stays true: sectors only become more archived
            this.headroomGen = gen + 1
        }
        if (gen <= this.headGen) return []
        const base = gen * this.dataBytes
        const startsHere = this.headPos >= base
        return await this.prepareSector(gen, startsHere ? this.headPos - base : end - base, startsHere ? seq : seq + 1)
    }

    /**
     * Whether generation `gen` can start in its physical sector: free, or
     * holding only archived sessions. While an acknowledgement is written,
     * records covered by it or by pending ones count as archived: the host
     * holds them, and without this a store full of unarchived sessions
     * could never record their acknowledgements.
     */
    private async reclaimCheck(gen: number): Promise<Reclaim> {
        const phys = modulo(gen, this.n)
        const old = decodeSectorHeader(await this.read(phys * this.geo.sectorSize, SECTOR_HEADER_AREA_BYTES))
        const r: Reclaim = { phys: phys, oldGen: -1, blockers: 0, oldestBlocker: 0, first: 0, last: 0, count: 0 }
        if (old === null || old.storeId !== this.storeIdV || old.generation !== gen - this.n || old.generation < this.tailGen) return r
        // the oldest sector of the log: reusable only if everything in it is archived
        r.oldGen = old.generation
        const from = old.generation * this.dataBytes
        const to = from + this.dataBytes
        for (const e of this.index.entries) {
            if (e.endPos > from && e.startPos < to && !this.index.isArchived(e) && !this.ackPendingFor(e)) {
                if (r.blockers === 0) r.oldestBlocker = e.session
                r.blockers++
            }
            if (e.startPos < to && e.hasHeader) {
                if (r.count === 0) r.first = e.session
                r.last = e.session
                r.count++
            }
        }
        return r
    }

    private ackPendingFor(e: Entry): boolean {
        if (!this.ackWriting) return false
        for (const a of this.pendingAcks) if (a.ackedSession === e.session && a.lastSeq >= e.lastSeq) return true
        return false
    }

    private fullError(r: Reclaim, why: string): StoreError {
        const more = r.blockers > 1 ? " and " + (r.blockers - 1) + " more" : ""
        return new StoreError(
            StoreErrorCode.Full,
            "store full of unarchived sessions: session " + r.oldestBlocker + more + " must be archived (pulled and acknowledged) before sector " + r.phys + " can be reused" + why
        )
    }

    private async prepareSector(gen: number, firstRecordOffset: number, firstSeq: number): Promise<number[]> {
        const r = await this.reclaimCheck(gen)
        const phys = r.phys
        let dropped: number[] = []
        if (r.oldGen >= 0) {
            if (r.blockers > 0) throw this.fullError(r, "")
            // sessions running on past the sector stay as remnants from the next sector's first record, as recovery would see them
            const next = decodeSectorHeader(await this.read(modulo(r.oldGen + 1, this.n) * this.geo.sectorSize, SECTOR_HEADER_AREA_BYTES))
            const from = (r.oldGen + 1) * this.dataBytes + (next === null ? 0 : next.firstRecordOffset)
            await this.program(phys * this.geo.sectorSize + SECTOR_HEADER_BYTES, [STATE_OBSOLETE])
            this.index.dropBefore(from, next === null ? 0 : next.firstSeq)
            this.tailGen = r.oldGen + 1
            if (r.count > 0) dropped = [r.first, r.last, r.count]
        }
        await this.erase(phys)
        await this.programHeader(gen, firstRecordOffset, firstSeq)
        this.headGen = gen
        return dropped
    }

    private async programHeader(gen: number, firstRecordOffset: number, firstSeq: number) {
        const h = encodeSectorHeader({
            firstRecordOffset: firstRecordOffset,
            storeId: this.storeIdV,
            generation: gen,
            firstSeq: firstSeq,
            sessionFloor: this.nextSessionV,
            sectorSize: this.geo.sectorSize,
            sectorCount: this.n,
        })
        await this.program(modulo(gen, this.n) * this.geo.sectorSize, h)
    }

    // ------------------------------------------------------------ stream <-> flash

    private addrOf(pos: number): number {
        const gen = Math.floor(pos / this.dataBytes)
        return modulo(gen, this.n) * this.geo.sectorSize + SECTOR_HEADER_AREA_BYTES + (pos - gen * this.dataBytes)
    }

    private async streamRead(pos: number, len: number): Promise<number[]> {
        let out: number[] = []
        let p = pos
        const end = pos + len
        while (p < end) {
            const sectorEnd = (Math.floor(p / this.dataBytes) + 1) * this.dataBytes
            const n = Math.min(end, sectorEnd) - p
            const part = await this.read(this.addrOf(p), n)
            if (out.length === 0) out = part
            else for (const b of part) out.push(b)
            p += n
        }
        return out
    }

    private async streamWrite(pos: number, bytes: number[]) {
        const page = this.geo.pageSize
        let i = 0
        while (i < bytes.length) {
            const p = pos + i
            const addr = this.addrOf(p)
            const sectorLeft = (Math.floor(p / this.dataBytes) + 1) * this.dataBytes - p
            const pageLeft = (Math.floor(addr / page) + 1) * page - addr
            const n = Math.min(bytes.length - i, Math.min(sectorLeft, pageLeft))
            await this.program(addr, bytes.slice(i, i + n))
            this.inFlightPrograms++
            i += n
        }
    }

    // ------------------------------------------------------------ device (a failure breaks the store)

    private async read(addr: number, len: number): Promise<number[]> {
        this.report.reads++
        try {
            return await this.dev.read(addr, len)
        } catch (e) {
            this.broken = true
            throw e
        }
    }

    private async program(addr: number, bytes: number[]) {
        try {
            await this.dev.program(addr, bytes)
        } catch (e) {
            this.broken = true
            throw e
        }
    }

    private async erase(sector: number) {
        try {
            await this.dev.eraseSector(sector)
        } catch (e) {
            this.broken = true
            throw e
        }
    }
}
