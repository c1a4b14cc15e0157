/**
 * Signing programs on the host: canonical bytes (src/core/program/codec.ts)
 * in a signed envelope (src/core/program/envelope.ts) with an
 * HMAC-SHA-256 tag under the clinic key. The device computes the same HMAC
 * with @devicescript/crypto (byte-identical to node:crypto) and applies
 * `decideProgramInstall`.
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import {
    TAG_BYTES,
    decodeEnvelope,
    encodeEnvelope,
    encodeProgram,
    envelopeSignedPart,
    keyIdFromMac,
    keyIdMessage,
    type Program,
    type ProgramEnvelope,
} from "../../src/core/program"

/** [bytes] 256-bit clinic keys: RFC 2104 section 3 discourages HMAC keys shorter than the hash output (32 bytes for SHA-256) */
export const CLINIC_KEY_BYTES = 32

function checkKey(key: Uint8Array) {
    if (key.length !== CLINIC_KEY_BYTES) throw new Error(`a clinic key is ${CLINIC_KEY_BYTES} bytes, got ${key.length}`)
}

/** HMAC-SHA-256 of `data` under `key`, as bytes. */
export function hmacSha256(key: Uint8Array, data: number[] | Uint8Array): number[] {
    return Array.from(createHmac("sha256", key).update(Uint8Array.from(data)).digest())
}

/** The key id devices and envelopes name this key by (src/core/program/envelope.ts). */
export function clinicKeyId(key: Uint8Array): number {
    checkKey(key)
    return keyIdFromMac(hmacSha256(key, keyIdMessage()))
}

export interface SignedProgram {
    /** the whole envelope, ready to send to a device */
    envelope: Buffer
    /** the canonical program bytes inside it */
    programBytes: number[]
    programVersion: number
    keyId: number
}

/**
 * Encodes (validating first: an invalid program throws ProgramInvalidError)
 * and signs a program with the clinic key.
 */
export function signProgram(program: Program, key: Uint8Array): SignedProgram {
    checkKey(key)
    const programBytes = encodeProgram(program)
    const keyId = clinicKeyId(key)
    const tag = hmacSha256(key, envelopeSignedPart({ programBytes, keyId }))
    return { envelope: Buffer.from(encodeEnvelope({ programBytes, keyId, tag })), programBytes, programVersion: program.programVersion, keyId }
}

export interface EnvelopeCheck {
    envelope: ProgramEnvelope
    /** the tag is the HMAC of the signed part under `key` */
    tagValid: boolean
    /** the envelope names this key's id (a mismatch means another clinic's key) */
    keyIdMatches: boolean
}

/** Splits an envelope and checks its tag against `key`; throws CodecError when the bytes are not an envelope. */
export function verifyEnvelope(bytes: Uint8Array | number[], key: Uint8Array): EnvelopeCheck {
    checkKey(key)
    const envelope = decodeEnvelope(Array.from(bytes))
    const expected = Buffer.from(hmacSha256(key, envelope.signedBytes))
    const tag = Buffer.from(envelope.tag)
    const tagValid = tag.length === TAG_BYTES && timingSafeEqual(expected, tag)
    return { envelope, tagValid, keyIdMatches: envelope.keyId === clinicKeyId(key) }
}
