// Node-side helpers for the session log tests: the real cipher (AES-256-CCM
// from node:crypto, as the host uses it; the device uses @devicescript/crypto,
// byte-compatible) and reading a whole session back.
import { createCipheriv, createDecipheriv, createHash } from "node:crypto"
import { decodeRecords, type DecodedRecord, type RecordCipher, type RecordFault } from "../../../src/core/log/records"
import type { LogStore } from "../../../src/core/log/store"

export const CCM_TAG_BYTES = 8

/** AES-256-CCM, 13-byte nonce, 8-byte tag; the key is SHA-256 of `secret`. */
export function ccmCipher(secret: string): RecordCipher {
    const key = createHash("sha256").update(secret).digest()
    return {
        encrypt: (nonce, plain) => {
            const c = createCipheriv("aes-256-ccm", key, Buffer.from(nonce), { authTagLength: CCM_TAG_BYTES })
            const ct = Buffer.concat([c.update(Buffer.from(plain)), c.final()])
            return [...ct, ...c.getAuthTag()]
        },
        decrypt: (nonce, data) => {
            if (data.length < CCM_TAG_BYTES) return null
            const d = createDecipheriv("aes-256-ccm", key, Buffer.from(nonce), { authTagLength: CCM_TAG_BYTES })
            d.setAuthTag(Buffer.from(data.slice(data.length - CCM_TAG_BYTES)))
            try {
                return [...Buffer.concat([d.update(Buffer.from(data.slice(0, data.length - CCM_TAG_BYTES))), d.final()])]
            } catch {
                return null
            }
        },
    }
}

/** A session's bytes, pulled in `chunk`-byte reads as the host does. */
export async function pullSession(store: LogStore, session: number, chunk = 200): Promise<number[]> {
    const info = store.sessionInfo(session)
    if (!info) throw new Error(`no session ${session}`)
    const out: number[] = []
    while (out.length < info.sizeBytes) {
        const part = await store.readSession(session, out.length, chunk)
        if (part.length === 0) throw new Error(`session ${session}: empty read at ${out.length} of ${info.sizeBytes}`)
        out.push(...part)
    }
    return out
}

export async function decodeSession(store: LogStore, session: number, cipher?: RecordCipher): Promise<{ records: DecodedRecord[]; faults: RecordFault[] }> {
    return decodeRecords(await pullSession(store, session), cipher)
}
