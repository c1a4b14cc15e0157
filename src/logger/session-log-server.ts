import * as ds from "@devicescript/core"
import { Server } from "@devicescript/server"
import { AckResult, StoreErrorCode } from "../core/log/store"
import { bufferOf } from "../platform/buffers"
import { commandArgs } from "../platform/command-args"
import type { LogWriter } from "./log-writer"

/** services/sessionlog.md enums */
export const LogState = { NoKey: 0, Recovering: 1, Ready: 2, Failed: 3 }
const ReadStatus = { Ok: 0, NoSession: 1, BadOffset: 2, NotReady: 3 }
const AckCode = { Written: 0, Already: 1, Pending: 2, NoSession: 3, NotReady: 4 }
/** [bytes] the most one read_session report carries */
const MAX_READ_BYTES = 227
/** sessions per list_sessions report */
const LIST_PAGE = 6
const NO_TIME = 0xffffffff


/** What the server needs from the module around it. */
export interface LogModuleState {
    state(): number
    writer(): LogWriter
    clinicKeyId(): number
    provisionKey(key: Buffer): Promise<number>
    recordingSession(): number
}

/** The log module's service (services/sessionlog.md): lists, reads and acknowledges the store's sessions. */
export class SessionLogServer extends Server implements ds.PftSessionLogServerSpec {
    constructor(private readonly m: LogModuleState) {
        super(ds.PftSessionLog.spec)
    }

    readStatus(): any {
        const w = this.m.writer()
        const ready = this.m.state() === LogState.Ready
        const u = ready ? w.store.usage() : undefined
        return [
            w ? w.store.storeId() : 0,
            this.m.clinicKeyId(),
            u ? u.capacityBytes : 0,
            u ? u.usedBytes : 0,
            u ? u.unarchivedBytes : 0,
            this.m.recordingSession(),
            w ? w.recordsWritten : 0,
            w ? w.recordsLost : 0,
            u ? u.sessions : 0,
            u ? u.unarchivedSessions : 0,
            this.m.state(),
        ]
    }

    async provisionKey(key: Buffer): Promise<any> {
        const status = await this.m.provisionKey(commandArgs(key)[0])
        return [this.m.clinicKeyId(), status]
    }

    listSessions(fromIndex: number): any {
        const from = commandArgs(fromIndex)[0]
        const ready = this.m.state() === LogState.Ready
        const all = ready ? this.m.writer().store.listSessions() : []
        const out: number[] = [from, all.length]
        for (let i = from; i < all.length && i < from + LIST_PAGE; i++) {
            const s = all[i]
            const wallS = s.startWallMs < 0 ? NO_TIME : Math.floor(s.startWallMs / 1000)
            const sync = s.timeSync < 0 ? 3 : s.timeSync
            const flags = sync | (s.hasHeader ? 4 : 0) | (s.complete ? 8 : 0) | (s.open ? 16 : 0) | (s.archived ? 32 : 0)
            out.push(s.session, s.firstSeq, s.lastSeq, s.sizeBytes, s.startMonoMs < 0 ? NO_TIME : s.startMonoMs, wallS, s.bootCount, s.ackedSeq)
            out.push(s.startWallMs < 0 ? 0 : s.startWallMs - wallS * 1000, flags, 0)
        }
        return out
    }

    async readSession(session: number, offset: number, length: number): Promise<any> {
        const a = commandArgs(session)
        const s = a[0]
        const at = a[1]
        const n = Math.min(a[2], MAX_READ_BYTES)
        if (this.m.state() !== LogState.Ready) return [s, at, ReadStatus.NotReady, Buffer.alloc(0)]
        const w = this.m.writer()
        let status = ReadStatus.Ok
        let bytes: number[] = []
        await w.locked(async () => {
            try {
                bytes = await w.store.readSession(s, at, n)
            } catch (e) {
                const code = (e as any).code
                status = code === StoreErrorCode.NoSession ? ReadStatus.NoSession : code === StoreErrorCode.BadRequest ? ReadStatus.BadOffset : ReadStatus.NotReady
            }
        })
        return [s, at, status, bufferOf(bytes)]
    }

    async acknowledge(session: number, lastSeq: number): Promise<any> {
        const a = commandArgs(session)
        if (this.m.state() !== LogState.Ready) return [a[0], a[1], AckCode.NotReady]
        const w = this.m.writer()
        let result = AckCode.NoSession
        await w.locked(async () => {
            try {
                const r = await w.store.acknowledge(a[0], a[1])
                result = r === AckResult.Written ? AckCode.Written : r === AckResult.Already ? AckCode.Already : AckCode.Pending
            } catch (e) {
                result = (e as any).code === StoreErrorCode.NoSession ? AckCode.NoSession : AckCode.NotReady
            }
        })
        return [a[0], a[1], result]
    }
}
