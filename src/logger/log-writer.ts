import * as ds from "@devicescript/core"
import { decodePayload, encodePayload, type LogRecord } from "../core/log/records"
import { StoreErrorCode } from "../core/log/store"
import { bytesOf } from "../platform/buffers"
import type { LogStore } from "../core/log/store"

/**
 * records waiting for the flash, each as its kind and plain payload in a
 * Buffer (~100-210 bytes; a trace record as objects takes ~1 KB of the VM
 * heap); more are counted as lost, so a stalled chip cannot eat the heap.
 * 64 records are about two minutes of a session: the boot-time recovery of
 * a full W25Q128 (docs/engineering.md) while the patient already started.
 */
const QUEUE_MAX = 64

/**
 * The one writer of the log store: the store is not re-entrant, so the
 * records the trainer watch produces wait in a queue that one fiber
 * appends in order, and the server's reads take the same lock.
 */
export class LogWriter {
    private queue: Buffer[] = []
    private busy = false
    recordsWritten = 0
    recordsLost = 0
    /** records given to add(): each is written, lost, or still queued */
    recordsGiven = 0
    /** the last append's error, for the console */
    lastError = ""

    constructor(readonly store: LogStore) {}

    /** Runs `work` with the store to itself. */
    async locked<T>(work: () => Promise<T>): Promise<T> {
        while (this.busy) await ds.sleep(2)
        this.busy = true
        try {
            return await work()
        } finally {
            this.busy = false
        }
    }

    add(records: LogRecord[]) {
        for (const r of records) {
            this.recordsGiven++
            if (this.queue.length >= QUEUE_MAX) {
                this.recordsLost++
                continue
            }
            try {
                const payload = encodePayload(r)
                const item = Buffer.alloc(1 + payload.length)
                item[0] = r.kind
                for (let i = 0; i < payload.length; i++) item[1 + i] = payload[i]
                this.queue.push(item)
            } catch (e) {
                // a field out of range: a bug upstream, never a reason to stop recording
                this.recordsLost++
                console.log("log: record not encodable (kind " + r.kind + "): " + e)
            }
        }
    }

    /** Appends what is queued, forever. */
    start() {
        const self = this
        setInterval(async () => {
            if (self.queue.length === 0 || self.busy || !self.store.isReady()) return
            await self.locked(async () => await self.drain())
        }, 20)
    }

    private async drain() {
        while (this.queue.length > 0) {
            const item = this.queue[0]
            const kind = item[0]
            try {
                await this.store.append(decodePayload(kind, bytesOf(item.slice(1)), 0))
                this.recordsWritten++
            } catch (e) {
                // a full store of unarchived sessions or a flash failure: counted, shown in read_status
                this.recordsLost++
                this.lastError = "" + e
                console.log("log: record lost (kind " + kind + "): " + this.lastError)
                // a flash operation failed mid-write: the store must be rebuilt from the chip (store.ts), as after a power cut
                if ((e as any).code === StoreErrorCode.Broken) ds.restart()
            }
            this.queue.shift()
        }
    }
}
