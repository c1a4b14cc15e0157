/**
 * The host's side of encryption at rest (src/core/log/records.ts): the
 * records' key, derived from the clinic key for one store, and
 * AES-256-CCM from node:crypto (byte-compatible with @devicescript/crypto).
 *
 * Key = HKDF-SHA-256(ikm = clinic key (32 bytes), salt = storeId as u32
 * little-endian, info = "pft-log-v1", 32 bytes). Salting with the store id
 * means a reformatted chip (new store id, sequence numbers from 1 again)
 * never reuses a key and nonce pair. The firmware must derive the very same
 * key: `sha256Hkdf(clinicKey, "pft-log-v1", storeIdLe)` with @devicescript/crypto.
 */
import { createCipheriv, createDecipheriv, hkdfSync } from "node:crypto"
import type { RecordCipher } from "../../src/core/log/records"

export const LOG_KEY_INFO = "pft-log-v1"
/** [bytes] AES-CCM tag the device writes (docs/engineering.md, "Record format") */
export const LOG_TAG_BYTES = 8
const KEY_BYTES = 32

/** The salt: storeId as 4 little-endian bytes. */
export function storeIdSalt(storeId: number): Buffer {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(storeId >>> 0)
    return b
}

/** The records' key for one store. */
export function deriveLogKey(clinicKey: Buffer, storeId: number): Buffer {
    return Buffer.from(hkdfSync("sha256", clinicKey, storeIdSalt(storeId), LOG_KEY_INFO, KEY_BYTES))
}

/** AES-256-CCM with a 13-byte nonce and an 8-byte tag, for `key` (32 bytes). */
export function ccmRecordCipher(key: Buffer, tagBytes = LOG_TAG_BYTES): RecordCipher {
    return {
        encrypt: (nonce, plain) => {
            const c = createCipheriv("aes-256-ccm", key, Buffer.from(nonce), { authTagLength: tagBytes })
            const ct = Buffer.concat([c.update(Buffer.from(plain)), c.final()])
            return [...ct, ...c.getAuthTag()]
        },
        decrypt: (nonce, data) => {
            if (data.length < tagBytes) return null
            const d = createDecipheriv("aes-256-ccm", key, Buffer.from(nonce), { authTagLength: tagBytes })
            d.setAuthTag(Buffer.from(data.slice(data.length - tagBytes)))
            try {
                return [...Buffer.concat([d.update(Buffer.from(data.slice(0, data.length - tagBytes))), d.final()])]
            } catch {
                return null
            }
        },
    }
}

/** The cipher for the records of store `storeId` of a device provisioned with `clinicKey`. */
export function logCipher(clinicKey: Buffer, storeId: number): RecordCipher {
    return ccmRecordCipher(deriveLogKey(clinicKey, storeId))
}
