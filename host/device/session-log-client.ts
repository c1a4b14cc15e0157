/**
 * The host's side of the log module's session log (services/sessionlog.md):
 * its status, the clinic key, and the pull's three requests (list the
 * sessions, read a session at an offset, acknowledge what is archived).
 * Formats and codes come from the spec.
 *
 * The module's servers send no ACKs, so every request is a command whose
 * report carries what it answers, and the client matches answers by that:
 *
 * ```
 *  command                                      report (matched by)
 *  read_status    {}                        ->  {store_id .. state}              (any)
 *  provision_key  {key}                     ->  {clinic_key_id, status}          (any)
 *  list_sessions  {from_index}              ->  {from_index, total, 6 x entry}   (from_index)
 *  read_session   {session, offset, length} ->  {session, offset, status, data}  (session, offset)
 *  acknowledge    {session, last_seq}       ->  {session, last_seq, result}      (session, last_seq)
 *
 *  list entry, 36 bytes: session u32 | first_seq u32 | last_seq u32 | size u32 |
 *    start_mono u32 ms | start_wall u32 s | boot_count u32 | acked_seq u32 |
 *    start_wall_ms u16 | flags u8 | reserved u8
 *  flags: bits 0-1 time sync (3 unknown) | 2 header | 3 complete | 4 open | 5 archived
 * ```
 *
 * Every command is idempotent (the spec says so), so a request with no
 * answer within `timeoutMs` is sent again, `retries` times; an answer to
 * any of its sends settles it, and every request waiting for the same
 * thing (two reads of one offset) takes the same answer. An answer nobody
 * waits for (late, repeated) is dropped and counted. Errors are
 * LogSourceErrors, as the pull expects: "timeout" (no answer after the
 * retries: asking again may work), "refused" (the module answered
 * NoSession, BadOffset or NotReady), "disconnected" (the module left the
 * bus, the link dropped, or the client was closed).
 *
 * The decoding is pure functions (`decodeSessionEntry`, `decodeLogStatus`);
 * the request bookkeeping is the stateful class.
 */
import * as jd from "jacdac-ts"
import { LogSourceError, LogSourceErrorCode, JACDAC_PAYLOAD_BYTES, type AckOutcome, type SessionInfo } from "../logs/source"
import { packetInfo, SESSION_LOG_SERVICE, type PacketInfo } from "../spec"
import { findService } from "./jd-service"

// ---------------------------------------------------------------- the spec's enums (a test checks them against services.json)

export const LogState = { NoKey: 0, Recovering: 1, Ready: 2, Failed: 3 } as const
export const ReadStatus = { Ok: 0, NoSession: 1, BadOffset: 2, NotReady: 3 } as const
export const AckResultCode = { Written: 0, Already: 1, Pending: 2, NoSession: 3, NotReady: 4 } as const
export const KeyStatus = { Installed: 0, Unchanged: 1, Conflict: 2, Invalid: 3 } as const

/** The member name of `value` in one of the enums above ("NoKey"), or the number. */
export function enumName(e: Record<string, number>, value: number): string {
    for (const k of Object.keys(e)) if (e[k] === value) return k
    return String(value)
}

/** u32 fields that mean "unknown" when all ones (start_mono, start_wall, boot_count) */
const UNKNOWN_U32 = 0xffffffff
/** time sync bits that mean "unknown" */
const TIME_SYNC_UNKNOWN = 3
const FLAG = { timeSyncMask: 0x03, header: 1 << 2, complete: 1 << 3, open: 1 << 4, archived: 1 << 5 } as const

/** [bytes] the fixed fields of a pack format ("u32 u32 u8 b" -> 9): packs zeros for everything before the trailing bytes or repeats */
function fixedBytes(format: string): number {
    const fixed = format.split(/\s+/).filter(Boolean)
    const cut = fixed.findIndex(t => t === "b" || t.startsWith("r:") || t === "s")
    const head = cut < 0 ? fixed : fixed.slice(0, cut)
    return head.length ? jd.jdpack(head.join(" "), head.map(() => 0) as any).length : 0
}

const report = (name: string): PacketInfo => packetInfo(SESSION_LOG_SERVICE, name, "report")
const command = (name: string): PacketInfo => packetInfo(SESSION_LOG_SERVICE, name, "command")

/** [bytes] the most one read_session answer carries: a packet less the report's fields (session, offset, status): 227 */
export function maxReadBytes(): number {
    return JACDAC_PAYLOAD_BYTES - fixedBytes(report("read_session").packFormat!)
}

/** [bytes] one list_sessions entry (36) */
export function sessionEntryBytes(): number {
    const f = report("list_sessions").packFormat!
    const entry = f.slice(f.indexOf("r:") + 2).trim()
    return jd.jdpack(entry, entry.split(/\s+/).map(() => 0) as any).length
}

// ---------------------------------------------------------------- pure decoding

/** read_status, decoded. */
export interface LogModuleStatus {
    storeId: number
    /** 0: no clinic key */
    clinicKeyId: number
    /** [bytes] */
    capacityBytes: number
    /** [bytes] */
    usedBytes: number
    /** [bytes] in sessions not yet archived */
    unarchivedBytes: number
    /** the session being recorded now, 0 if none */
    recordingSession: number
    recordsWritten: number
    /** records the module could not write since boot */
    recordsLost: number
    sessions: number
    unarchivedSessions: number
    /** LogState */
    state: number
}

export function decodeLogStatus(v: number[]): LogModuleStatus {
    return {
        storeId: v[0],
        clinicKeyId: v[1],
        capacityBytes: v[2],
        usedBytes: v[3],
        unarchivedBytes: v[4],
        recordingSession: v[5],
        recordsWritten: v[6],
        recordsLost: v[7],
        sessions: v[8],
        unarchivedSessions: v[9],
        state: v[10],
    }
}

/** One list_sessions entry (its fields in spec order) as the store's SessionInfo. */
export function decodeSessionEntry(v: number[]): SessionInfo {
    const [session, firstSeq, lastSeq, sizeBytes, startMono, startWall, bootCount, ackedSeq, startWallMs, flags] = v
    const sync = flags & FLAG.timeSyncMask
    return {
        session,
        firstSeq,
        lastSeq,
        sizeBytes,
        startMonoMs: startMono === UNKNOWN_U32 ? -1 : startMono,
        startWallMs: startWall === UNKNOWN_U32 ? -1 : startWall === 0 ? 0 : startWall * 1000 + startWallMs,
        timeSync: sync === TIME_SYNC_UNKNOWN ? -1 : sync,
        // the spec gives boot_count no "unknown" value; all ones is read as the store's -1 (a remnant without its header)
        bootCount: bootCount === UNKNOWN_U32 ? -1 : bootCount,
        hasHeader: (flags & FLAG.header) !== 0,
        complete: (flags & FLAG.complete) !== 0,
        open: (flags & FLAG.open) !== 0,
        archived: (flags & FLAG.archived) !== 0,
        ackedSeq,
    }
}

/** What an answer carries to say which request it answers (its report's values -> key); the request computes the same from its command. */
const ANSWER_KEY = {
    read_status: () => "",
    provision_key: () => "",
    list_sessions: (v: unknown[]) => `${v[0]}`,
    read_session: (v: unknown[]) => `${v[0]}:${v[1]}`,
    acknowledge: (v: unknown[]) => `${v[0]}:${v[1]}`,
} as const
type RequestName = keyof typeof ANSWER_KEY

const ACK_OUTCOMES: Record<number, AckOutcome> = {
    [AckResultCode.Written]: "written",
    [AckResultCode.Already]: "already",
    [AckResultCode.Pending]: "pending",
}

// ---------------------------------------------------------------- the client

export interface SessionLogClientOptions {
    /** [ms] wait for an answer before sending the command again (default 1000) */
    timeoutMs?: number
    /** sends of a command after the first, before giving up with "timeout" (default 2) */
    retries?: number
}

/** What the link did, for tests and the debug output. */
export interface SessionLogClientStats {
    requests: number
    /** commands sent, repeats included */
    sends: number
    /** commands sent again after a timeout */
    resends: number
    /** requests that got no answer after every try */
    timeouts: number
    /** answers nobody waited for (late, repeated, or of another client): dropped */
    ignored: number
}

interface Waiter {
    /** what the answer must carry */
    key: string
    settle(values: unknown[]): void
    fail(e: LogSourceError): void
}

export interface KeyResult {
    clinicKeyId: number
    /** KeyStatus */
    status: number
}

export class SessionLogClient {
    readonly stats: SessionLogClientStats = { requests: 0, sends: 0, resends: 0, timeouts: 0, ignored: 0 }
    /** [bytes] the most one read_session asks for */
    readonly maxReadBytes = maxReadBytes()
    private readonly timeoutMs: number
    private readonly retries: number
    /** waiting requests by report code */
    private readonly waiting = new Map<number, Set<Waiter>>()
    private readonly formats = new Map<number, { name: RequestName; format: string }>()
    private readonly unsubscribe: (() => void)[] = []
    private gone: LogSourceError | null = null

    constructor(
        private readonly found: jd.JDService,
        options: SessionLogClientOptions = {}
    ) {
        this.timeoutMs = options.timeoutMs ?? 1000
        this.retries = options.retries ?? 2
        for (const name of Object.keys(ANSWER_KEY) as RequestName[]) {
            const r = report(name)
            this.formats.set(r.identifier, { name, format: r.packFormat ?? "" })
        }
        const device = found.device
        // on the device, not the service: a restart of the module replaces its service objects
        const onReport = (pkt: jd.Packet) => this.onReport(pkt)
        device.on(jd.PACKET_REPORT, onReport)
        this.unsubscribe.push(() => device.off(jd.PACKET_REPORT, onReport))
        const onGone = () => this.disconnect(`the log module (${device.shortId}) left the bus`)
        device.on(jd.DISCONNECT, onGone)
        this.unsubscribe.push(() => device.off(jd.DISCONNECT, onGone))
    }

    /** the log module's device id, as jacdac-ts gives it */
    get deviceId(): string {
        return this.found.device.deviceId
    }

    /** The sessionlog service now (looked up on the device each time: a restart replaces it). */
    get service(): jd.JDService {
        return this.found.device.service(this.found.serviceIndex) ?? this.found
    }

    get bus(): jd.JDBus {
        return this.found.device.bus
    }

    async readStatus(): Promise<LogModuleStatus> {
        return decodeLogStatus((await this.request("read_status", [])) as number[])
    }

    /** Installs the clinic key (32 bytes) once; the same key again answers Unchanged, another one Conflict. */
    async provisionKey(key: Uint8Array): Promise<KeyResult> {
        const v = (await this.request("provision_key", [key])) as number[]
        return { clinicKeyId: v[0], status: v[1] }
    }

    /**
     * Every session of the store, oldest first, page by page (6 per
     * report). If the total changes between pages (a session began, or an
     * archived one was dropped to make room), the list is read again from
     * the start. A drop and a new session between the same two pages leave
     * the total as it was and shift the indexes: one session is then missed
     * by this list and listed by the next pull (only archived sessions are
     * ever dropped, so nothing is lost).
     */
    async listSessions(): Promise<SessionInfo[]> {
        for (let attempt = 0; attempt < 3; attempt++) {
            const out: SessionInfo[] = []
            let total = -1
            let changed = false
            while (total < 0 || out.length < total) {
                const from = out.length
                const [, pageTotal, entries] = (await this.request("list_sessions", [from])) as [number, number, number[][]]
                if (total >= 0 && pageTotal !== total) {
                    changed = true
                    break
                }
                total = pageTotal
                if (entries.length === 0 && out.length < total) {
                    changed = true
                    break
                }
                for (const e of entries) out.push(decodeSessionEntry(e))
            }
            if (!changed) return out.slice(0, total)
        }
        throw new LogSourceError(LogSourceErrorCode.Timeout, "the log module's session list kept changing while it was read (3 tries): pull again")
    }

    /**
     * Up to `length` (<= maxReadBytes) bytes of `session` from `offset`:
     * fewer at its end, [] at its end. Several may be in flight.
     */
    async read(session: number, offset: number, length: number): Promise<number[]> {
        if (!(Number.isInteger(length) && length >= 0 && length <= this.maxReadBytes))
            throw new LogSourceError(LogSourceErrorCode.Refused, `read of ${length} bytes: one read_session answer carries at most ${this.maxReadBytes}`)
        const [, , status, data] = (await this.request("read_session", [session, offset, length])) as [number, number, number, Uint8Array]
        if (status !== ReadStatus.Ok)
            throw new LogSourceError(
                LogSourceErrorCode.Refused,
                `the log module refused the read of session ${session} at offset ${offset}: ${enumName(ReadStatus, status)}${status === ReadStatus.NotReady ? " (it is still recovering its flash: pull again in a moment)" : ""}`
            )
        return Array.from(data.subarray(0, length))
    }

    /** The host archived `session` up to record `lastSeq`. */
    async acknowledge(session: number, lastSeq: number): Promise<AckOutcome> {
        const [, , result] = (await this.request("acknowledge", [session, lastSeq])) as number[]
        const outcome = ACK_OUTCOMES[result]
        if (outcome) return outcome
        throw new LogSourceError(
            LogSourceErrorCode.Refused,
            `the log module refused the acknowledgement of session ${session} up to seq ${lastSeq}: ${enumName(AckResultCode, result)}`
        )
    }

    /** Every waiting and later request fails with "disconnected" (the link dropped). */
    disconnect(reason: string): void {
        if (this.gone) return
        this.gone = new LogSourceError(LogSourceErrorCode.Disconnected, reason)
        for (const set of this.waiting.values()) for (const w of set) w.fail(this.gone)
        this.waiting.clear()
    }

    /** Stops listening; later requests fail with "disconnected". */
    close(): void {
        this.disconnect("the connection to the log module is closed")
        for (const off of this.unsubscribe.splice(0)) off()
    }

    private onReport(pkt: jd.Packet): void {
        if (pkt.serviceIndex !== this.found.serviceIndex) return
        const code = pkt.serviceCommand
        const f = this.formats.get(code)
        if (!f) return
        const set = this.waiting.get(code)
        let values: unknown[]
        try {
            values = jd.jdunpack<unknown[]>(pkt.data, f.format)
        } catch {
            this.stats.ignored++ // a report cut short: its request times out and is asked again
            return
        }
        const key = ANSWER_KEY[f.name](values)
        let taken = false
        if (set)
            for (const w of [...set])
                if (w.key === key) {
                    set.delete(w)
                    w.settle(values)
                    taken = true
                }
        if (!taken) this.stats.ignored++
    }

    /**
     * Sends `name` until an answer that carries what the command asked
     * comes (ANSWER_KEY: the command's leading values are the report's),
     * up to 1 + retries sends of timeoutMs each.
     */
    private async request(name: RequestName, values: unknown[]): Promise<unknown[]> {
        if (this.gone) throw this.gone
        this.stats.requests++
        const key = ANSWER_KEY[name](values)
        const cmd = command(name)
        const code = report(name).identifier
        const set = this.waiting.get(code) ?? new Set<Waiter>()
        this.waiting.set(code, set)
        let waiter!: Waiter
        const answer = new Promise<unknown[]>((settle, fail) => (waiter = { key, settle, fail }))
        answer.catch(() => undefined) // a disconnect between sends: the race below reports it
        set.add(waiter)
        const data = cmd.packFormat ? jd.jdpack(cmd.packFormat, values as any) : new Uint8Array(0)
        const tries = 1 + this.retries
        try {
            for (let i = 0; i < tries; i++) {
                if (i > 0) this.stats.resends++
                this.stats.sends++
                await this.send(jd.Packet.from(cmd.identifier, data))
                let timer: ReturnType<typeof setTimeout> | undefined
                const timeout = new Promise<undefined>(r => (timer = setTimeout(() => r(undefined), this.timeoutMs)))
                const got = await Promise.race([answer, timeout]).finally(() => clearTimeout(timer))
                if (got) return got
            }
        } finally {
            set.delete(waiter)
        }
        this.stats.timeouts++
        throw new LogSourceError(
            LogSourceErrorCode.Timeout,
            `the log module did not answer ${name}${key ? ` (${key})` : ""} after ${tries} tries of ${this.timeoutMs} ms`
        )
    }

    private async send(pkt: jd.Packet): Promise<void> {
        if (this.gone) throw this.gone
        try {
            await this.service.sendPacketAsync(pkt)
        } catch (e) {
            this.disconnect(`cannot send to the log module: ${(e as Error).message ?? e}`)
            throw this.gone
        }
    }
}

/** Waits for the log module's sessionlog service on the bus. */
export async function findSessionLog(bus: jd.JDBus, timeoutMs: number, options: SessionLogClientOptions = {}): Promise<SessionLogClient> {
    const service = await findService(
        bus,
        SESSION_LOG_SERVICE,
        timeoutMs,
        `no log module answered within ${timeoutMs} ms: is the trainer's log module connected and running its firmware (src/main_log.ts)?`
    )
    return new SessionLogClient(service, options)
}
