// TEST FIXTURE, not product code: a Node jacdac-ts server of the log
// module's sessionlog service (services/sessionlog.md) over a real LogStore
// (src/core/log/store.ts, e.g. on a MemoryNor), so the host's client and
// LogSource can be tested on an in-process bus without the firmware
// (src/main_log.ts) or a VM. It follows the spec text on its own (its
// entry encoding is written from the spec, not taken from the client), and
// serves one store call at a time, as the firmware must.
//
// It can misbehave as a link without ACKs does: `behave(command, values)`
// returns what to do with one command (drop the answer, answer twice,
// answer late); `state` can be set (Recovering, Failed, ...).
//
// Also a fake trainer with only read_program and provision_key (for
// currentProgram and `pft device provision`).
import * as jd from "jacdac-ts"
import { clinicKeyId } from "../../../host/program/sign"
import { JACDAC_PAYLOAD_BYTES } from "../../../host/logs/source"
import { packetInfo, serviceInfo, SESSION_LOG_SERVICE, TRAINER_SERVICE } from "../../../host/spec"
import { ProgramStatus } from "../../../src/core/program/install-status"
import { AckResult, StoreError, StoreErrorCode, type LogStore } from "../../../src/core/log/store"
import type { SessionInfo } from "../../../src/core/log/session-index"

/** The spec's enums, written out here from services/sessionlog.md (the client has its own copy). */
export const State = { NoKey: 0, Recovering: 1, Ready: 2, Failed: 3 } as const
const Read = { Ok: 0, NoSession: 1, BadOffset: 2, NotReady: 3 } as const
const Ack = { Written: 0, Already: 1, Pending: 2, NoSession: 3, NotReady: 4 } as const
const Key = { Installed: 0, Unchanged: 1, Conflict: 2, Invalid: 3 } as const

export const COMMANDS = ["read_status", "provision_key", "list_sessions", "read_session", "acknowledge"] as const
export type CommandName = (typeof COMMANDS)[number]

/** What to do with the answer to one command (default: send it at once). */
export interface Behaviour {
    /** no answer (the command is carried out all the same) */
    drop?: boolean
    /** the answer goes out twice */
    twice?: boolean
    /** [ms] the answer goes out this late */
    delayMs?: number
}

export interface SessionLogTestServerOptions {
    store: LogStore
    /** the clinic key already installed; none: state NoKey until provision_key */
    key?: Uint8Array
    /** the state reported (default: Ready with a key, NoKey without) */
    state?: number
}

const U32_ALL_ONES = 0xffffffff

/** One list_sessions entry, in spec order, from the store's SessionInfo. */
export function encodeEntry(s: SessionInfo): number[] {
    const wall = s.startWallMs < 0 ? { s: U32_ALL_ONES, ms: 0 } : s.startWallMs === 0 ? { s: 0, ms: 0 } : { s: Math.floor(s.startWallMs / 1000), ms: s.startWallMs % 1000 }
    const sync = s.timeSync < 0 ? 3 : s.timeSync & 3
    const flags = sync | (s.hasHeader ? 4 : 0) | (s.complete ? 8 : 0) | (s.open ? 16 : 0) | (s.archived ? 32 : 0)
    return [
        s.session,
        s.firstSeq,
        s.lastSeq,
        s.sizeBytes,
        s.startMonoMs < 0 ? U32_ALL_ONES : s.startMonoMs % 2 ** 32,
        wall.s,
        s.bootCount < 0 ? U32_ALL_ONES : s.bootCount,
        s.ackedSeq,
        wall.ms,
        flags,
        0,
    ]
}

const cmd = (name: string) => packetInfo(SESSION_LOG_SERVICE, name, "command")
const rep = (name: string) => packetInfo(SESSION_LOG_SERVICE, name, "report")

/** [bytes] the packed size of a format's leading fixed fields */
function packedBytes(format: string): number {
    const t = format.trim().split(/\s+/)
    return jd.jdpack(t.join(" "), t.map(() => 0) as any).length
}

export class SessionLogTestServer extends jd.JDServiceServer {
    readonly store: LogStore
    state: number
    key: Uint8Array | undefined
    /** decides the fate of each answer; tests replace it */
    behave: (name: CommandName, values: unknown[]) => Behaviour | undefined = () => undefined
    /** commands received, by name */
    readonly received: Record<CommandName, number> = { read_status: 0, provision_key: 0, list_sessions: 0, read_session: 0, acknowledge: 0 }
    /** answers sent, by name (repeats included) */
    readonly answered: Record<CommandName, number> = { read_status: 0, provision_key: 0, list_sessions: 0, read_session: 0, acknowledge: 0 }
    /** [bytes] the most one read answer carries: a packet less the report's fixed fields */
    readonly maxReadBytes: number
    /** sessions per list report */
    readonly perPage: number
    /** read_session commands received and not yet answered (or dropped), and the most at once */
    readsOpen = 0
    maxReadsOpen = 0
    private tail: Promise<unknown> = Promise.resolve()
    private readonly timers = new Set<ReturnType<typeof setTimeout>>()

    constructor(o: SessionLogTestServerOptions) {
        super(serviceInfo(SESSION_LOG_SERVICE).classIdentifier)
        this.store = o.store
        this.key = o.key
        this.state = o.state ?? (o.key ? State.Ready : State.NoKey)
        const readFormat = rep("read_session").packFormat!
        this.maxReadBytes = JACDAC_PAYLOAD_BYTES - packedBytes(readFormat.replace(/\s+b$/, ""))
        const listFormat = rep("list_sessions").packFormat!
        const [head, entry] = listFormat.split("r:")
        this.perPage = Math.floor((JACDAC_PAYLOAD_BYTES - packedBytes(head)) / packedBytes(entry))
        this.serve("read_status", async () => this.status())
        this.serve("provision_key", async ([key]) => this.provision(key as Uint8Array))
        this.serve("list_sessions", async ([from]) => this.list(from as number))
        this.serve("read_session", async ([session, offset, length]) => this.read(session as number, offset as number, length as number))
        this.serve("acknowledge", async ([session, lastSeq]) => this.acknowledge(session as number, lastSeq as number))
    }

    /** Cancels answers still to go out late. */
    stop(): void {
        for (const t of this.timers) clearTimeout(t)
        this.timers.clear()
    }

    /** Runs `handler` for each `name` command, one store call at a time (answers null: no answer), then answers as `behave` says. */
    private serve(name: CommandName, handler: (values: unknown[]) => Promise<unknown[] | null>) {
        const c = cmd(name)
        const format = rep(name).packFormat ?? ""
        this.addCommand(c.identifier, (pkt: jd.Packet) => {
            this.received[name]++
            const values = c.packFormat ? jd.jdunpack<unknown[]>(pkt.data, c.packFormat) : []
            const isRead = name === "read_session"
            if (isRead) this.maxReadsOpen = Math.max(this.maxReadsOpen, ++this.readsOpen)
            const closed = () => {
                if (isRead) this.readsOpen--
            }
            const run = this.tail.then(() => handler(values))
            this.tail = run.catch(() => undefined)
            void run.then(answer => {
                const b = this.behave(name, values) ?? {}
                if (answer === null || b.drop) return closed()
                const send = () => {
                    this.answered[name]++
                    return this.sendPacketAsync(jd.Packet.from(c.identifier, jd.jdpack(format, answer as any)))
                }
                const go = async () => {
                    closed()
                    await send()
                    if (b.twice) await send()
                }
                if (b.delayMs) {
                    const t = setTimeout(() => {
                        this.timers.delete(t)
                        void go()
                    }, b.delayMs)
                    this.timers.add(t)
                } else void go()
            })
        })
    }

    private ready(): boolean {
        return this.state === State.Ready && this.store.isReady()
    }

    private async status(): Promise<unknown[]> {
        const u = this.store.usage()
        const keyId = this.key ? clinicKeyId(this.key) : 0
        return [this.store.storeId(), keyId, u.capacityBytes, u.usedBytes, u.unarchivedBytes, this.store.openSession(), 0, 0, u.sessions, u.unarchivedSessions, this.state]
    }

    private async provision(key: Uint8Array): Promise<unknown[]> {
        if (key.length !== 32) return [0, Key.Invalid]
        if (!this.key) {
            this.key = Uint8Array.from(key)
            if (this.state === State.NoKey) this.state = State.Ready
            return [clinicKeyId(this.key), Key.Installed]
        }
        const same = this.key.length === key.length && this.key.every((b, i) => b === key[i])
        return [clinicKeyId(this.key), same ? Key.Unchanged : Key.Conflict]
    }

    /** list_sessions has no status field: while not ready the module does not answer (the spec says nothing). */
    private async list(from: number): Promise<unknown[] | null> {
        if (!this.ready()) return null
        const all = this.store.listSessions()
        return [from, all.length, all.slice(from, from + this.perPage).map(encodeEntry)]
    }

    private async read(session: number, offset: number, length: number): Promise<unknown[]> {
        const none = new Uint8Array(0)
        if (!this.ready()) return [session, offset, Read.NotReady, none]
        try {
            const bytes = await this.store.readSession(session, offset, Math.min(length, this.maxReadBytes))
            return [session, offset, Read.Ok, Uint8Array.from(bytes)]
        } catch (e) {
            return [session, offset, readStatusOf(e), none]
        }
    }

    private async acknowledge(session: number, lastSeq: number): Promise<unknown[]> {
        if (!this.ready()) return [session, lastSeq, Ack.NotReady]
        try {
            const r = await this.store.acknowledge(session, lastSeq)
            return [session, lastSeq, r === AckResult.Written ? Ack.Written : r === AckResult.Already ? Ack.Already : Ack.Pending]
        } catch (e) {
            if (!(e instanceof StoreError)) throw e
            // the spec has no result for a last_seq outside the session's records (store BadRequest): NoSession is the nearest
            return [session, lastSeq, e.code === StoreErrorCode.NoSession || e.code === StoreErrorCode.BadRequest ? Ack.NoSession : Ack.NotReady]
        }
    }
}

function readStatusOf(e: unknown): number {
    if (!(e instanceof StoreError)) throw e
    if (e.code === StoreErrorCode.NoSession) return Read.NoSession
    if (e.code === StoreErrorCode.BadRequest) return Read.BadOffset
    return Read.NotReady
}

/** Hosts the server on `bus` as a device of its own (the log module); returns it and its provider (to take it off the bus). */
export function hostSessionLog(bus: jd.JDBus, o: SessionLogTestServerOptions): { server: SessionLogTestServer; provider: jd.JDServerServiceProvider } {
    const server = new SessionLogTestServer(o)
    const provider = new jd.JDServerServiceProvider("pft-log-module", [server])
    bus.addServiceProvider(provider)
    return { server, provider }
}

export interface FakeTrainer {
    server: jd.JDServiceServer
    provider: jd.JDServerServiceProvider
    /** the clinic key it holds */
    key(): Uint8Array | undefined
}

/**
 * A trainer with only what the log pull and `pft device provision` use:
 * `read_program` (answering `envelope`; empty: no program), `provision_key`
 * with its outcome in `program_result`, and the program registers.
 */
export function hostTrainer(bus: jd.JDBus, o: { envelope?: Uint8Array; key?: Uint8Array } = {}): FakeTrainer {
    const envelope = o.envelope ?? new Uint8Array(0)
    let key = o.key
    let seq = 0
    const trainer = new jd.JDServiceServer(serviceInfo(TRAINER_SERVICE).classIdentifier)
    const reg = (name: string, value: unknown[]) => trainer.addRegister(packetInfo(TRAINER_SERVICE, name).identifier, value as any)
    reg("program_version", [0])
    const keyIdReg = reg("clinic_key_id", [key ? clinicKeyId(key) : 0])
    reg("program_size", [envelope.length])
    const result = reg("program_result", [0, 0, ProgramStatus.None, ""])
    const on = (name: string, handler: (values: any[]) => void) => {
        const c = packetInfo(TRAINER_SERVICE, name, "command")
        ;(trainer as any).addCommand(c.identifier, (pkt: jd.Packet) => handler(jd.jdunpack(pkt.data, c.packFormat!)))
    }
    const readFormat = packetInfo(TRAINER_SERVICE, "read_program", "report").packFormat!
    on("read_program", ([at]) => {
        const chunk = 200
        const code = packetInfo(TRAINER_SERVICE, "read_program", "command").identifier
        void trainer.sendPacketAsync(jd.Packet.from(code, jd.jdpack(readFormat, [at, envelope.length, envelope.subarray(at, at + chunk)] as any)))
    })
    on("provision_key", ([k]) => {
        const given = Uint8Array.from(k as Uint8Array)
        const same = key !== undefined && key.length === given.length && key.every((b, i) => b === given[i])
        if (!key) key = given
        const [status, message] = same
            ? [ProgramStatus.KeyInstalled, "this clinic key is already installed"]
            : key === given
              ? [ProgramStatus.KeyInstalled, "clinic key installed"]
              : [ProgramStatus.KeyConflict, "another clinic key is installed"]
        keyIdReg.setValues([clinicKeyId(key)] as any)
        result.setValues([++seq, 0, status, message] as any)
        void result.sendGetAsync()
    })
    const provider = new jd.JDServerServiceProvider("pft-trainer", [trainer])
    bus.addServiceProvider(provider)
    return { server: trainer, provider, key: () => key }
}
