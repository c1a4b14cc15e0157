import { decrypt, encrypt, sha256Hkdf } from "@devicescript/crypto"
import type { RecordCipher } from "../core/log/records"
import { bufferOf, bytesOf } from "../platform/buffers"

/** HKDF info of the records' key (host/logs/cipher.ts LOG_KEY_INFO) */
const LOG_KEY_INFO = "pft-log-v1"
/** [bytes] AES-CCM tag on the device's records (docs/engineering.md, "Record format") */
const TAG_BYTES = 8

/**
 * AES-256-CCM of the records with the key HKDF-SHA-256(clinic key, salt =
 * store id u32 LE, info "pft-log-v1"), as the host derives it
 * (host/logs/cipher.ts). The store id is known only once the store has read
 * its chip, so the key is derived at first use.
 */
export function logRecordCipher(clinicKey: Buffer, storeId: () => number): RecordCipher {
    const state = { key: Buffer.alloc(0) }
    const key = () => {
        if (state.key.length === 0) {
            const salt = Buffer.alloc(4)
            salt.setAt(0, "u32", storeId())
            state.key = sha256Hkdf(clinicKey, LOG_KEY_INFO, salt)
        }
        return state.key
    }
    return {
        encrypt: (nonce: number[], plain: number[]) =>
            bytesOf(encrypt({ data: bufferOf(plain), algo: "aes-256-ccm", key: key(), iv: bufferOf(nonce), tagLength: TAG_BYTES })),
        decrypt: (nonce: number[], data: number[]) => {
            try {
                const plain = decrypt({ data: bufferOf(data), algo: "aes-256-ccm", key: key(), iv: bufferOf(nonce), tagLength: TAG_BYTES })
                return plain ? bytesOf(plain) : null
            } catch (e) {
                return null
            }
        },
    }
}
