import * as ds from "@devicescript/core"
import { randomBuffer } from "@devicescript/crypto"
import { readSetting, writeSetting } from "../platform/own-settings"
import { startServer } from "@devicescript/server"
import type { BlockDevice } from "../core/log/block-device"
import { LogStore } from "../core/log/store"
import { bufferOf, bytesOf } from "../platform/buffers"
import { clinicKeyIdOf } from "../platform/clinic-key-id"
import { logRecordCipher } from "./log-cipher"
import { LogWriter } from "./log-writer"
import { LogState, SessionLogServer } from "./session-log-server"
import { NEWEST_CUT, NEWEST_DONE, NO_STORE, TrainerWatch } from "./trainer-watch"

/** settings keys (<= 13 characters) */
const KEY_SETTING = "logclinickey"
const BOOTS_SETTING = "logboots"
/** the last recorded session's summary fingerprint (src/logger/trainer-watch.ts) */
const SUMMARY_SETTING = "loglastsum"
const KEY_BYTES = 32
/** KeyStatus (services/sessionlog.md) */
const KeyStatus = { Installed: 0, Unchanged: 1, Conflict: 2, Invalid: 3 }

/**
 * The log module's firmware around its flash chip: the clinic key from
 * settings, the store recovered from the chip, the trainer watch feeding
 * it, and the sessionlog service (services/sessionlog.md).
 */
export async function startLogModule(openDevice: () => Promise<BlockDevice>) {
    let state = LogState.NoKey
    let key: Buffer = undefined
    /** the key's id (0: no key) */
    let keyId = 0
    let writer: LogWriter = undefined
    const boots: number = (await readSetting(BOOTS_SETTING, 0)) + 1
    await writeSetting(BOOTS_SETTING, boots)
    // where a boot got to, when it never says `log: ready`
    console.log("log: boot " + boots)

    const keyHex: string = await readSetting(KEY_SETTING, "")
    if (keyHex.length === KEY_BYTES * 2) {
        key = Buffer.from(keyHex, "hex")
        keyId = clinicKeyIdOf(key)
    }

    const openStore = async () => {
        state = LogState.Recovering
        const holder = { store: undefined as LogStore }
        try {
            console.log("log: reading the flash chip")
            const device = await openDevice()
            const cipher = logRecordCipher(key, () => holder.store.storeId())
            // a new store id each time a blank chip is formatted: it salts the records' key (host/logs/cipher.ts)
            const newStoreId = randomBuffer(4).getAt(0, "u32")
            holder.store = new LogStore(device, { cipher: cipher, newStoreId: newStoreId > 0 ? newStoreId : 1 })
            // records of a session that starts while the chip is read wait in the writer's queue
            writer = new LogWriter(holder.store)
            while (!(await holder.store.recoverStep())) await ds.sleep(0)
        } catch (e) {
            // a missing or damaged chip, or a flash failure while reading it: nothing is recorded, read_status says Failed
            state = LogState.Failed
            console.log("log: flash failed: " + e)
            return
        }
        writer.start()
        state = LogState.Ready
        const r = holder.store.recoveryReport()
        console.log("log: ready, store " + holder.store.storeId() + ", " + holder.store.listSessions().length + " sessions, " + r.reads + " reads")
    }

    startServer(
        new SessionLogServer({
            state: () => state,
            writer: () => writer,
            clinicKeyId: () => keyId,
            recordingSession: () => (writer ? writer.store.openSession() : 0),
            provisionKey: async (k: Buffer) => {
                if (!k || k.length !== KEY_BYTES) return KeyStatus.Invalid
                // the trainer's rule (src/program/program-store.ts provision): keys are told apart by their id
                const id = clinicKeyIdOf(k)
                if (key) return id === keyId ? KeyStatus.Unchanged : KeyStatus.Conflict
                await writeSetting(KEY_SETTING, k.toString("hex"))
                key = bufferOf(bytesOf(k))
                keyId = id
                // recovery takes a while: the answer goes out first
                setTimeout(async () => await openStore(), 0)
                return KeyStatus.Installed
            },
        }),
        { roleName: "sessionlog" }
    )

    // with a key the store is read at once: a session found ended meanwhile waits for it (newestSession)
    if (key) state = LogState.Recovering
    const watch = new TrainerWatch({
        add: records => {
            if (writer) writer.add(records)
        },
        bootCount: () => boots,
        newestSession: async () => {
            while (state === LogState.Recovering) await ds.sleep(50)
            if (state !== LogState.Ready) return NO_STORE
            const sessions = writer.store.listSessions()
            return sessions.length > 0 && !sessions[sessions.length - 1].complete ? NEWEST_CUT : NEWEST_DONE
        },
        lastSummary: async () => await readSetting(SUMMARY_SETTING, ""),
        summaryRecorded: (fingerprint: string) => {
            // kept once the summary is on the chip with nothing lost before it: a power cut sooner leaves the session
            // cut, which the next boot finds (one settings write a session, after it; nothing waits for it)
            const w = writer
            if (!w) return
            const upTo = w.recordsGiven
            const lostBefore = w.recordsLost
            setTimeout(async () => {
                while (w.recordsWritten + w.recordsLost < upTo) await ds.sleep(50)
                if (w.recordsLost !== lostBefore) return
                await writeSetting(SUMMARY_SETTING, fingerprint)
                console.log("log: summary written, fingerprint kept")
            }, 0)
        },
    })
    watch.start()
    if (key) await openStore()
}
