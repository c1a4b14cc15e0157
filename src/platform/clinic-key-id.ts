import { hmac } from "@devicescript/crypto"
import { KEY_ID_LABEL, keyIdFromMac } from "../core/program/envelope"
import { bytesOf } from "./buffers"

/** The id of a clinic key: the first 4 bytes of HMAC-SHA-256(key, KEY_ID_LABEL) (src/core/program/envelope.ts). */
export function clinicKeyIdOf(key: Buffer): number {
    return keyIdFromMac(bytesOf(hmac(key, "sha256", Buffer.from(KEY_ID_LABEL))))
}
