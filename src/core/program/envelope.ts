/**
 * The signed envelope a program travels in, and the device's rule for
 * installing one. The HMAC itself is computed by the caller (node:crypto on
 * the host, @devicescript/crypto on the device; both are byte-identical), so
 * this file only lays out bytes and decides.
 *
 * ```
 *  envelope
 *  +-------+-----+------------+--------+--------+---------------+-------------+
 *  | magic | fmt | programVer | keyId  | length | program bytes | tag         |
 *  | "PFTP"| u8  | u32 LE     | u32 LE | u16 LE | (./codec.ts)  | 32 bytes    |
 *  +-------+-----+------------+--------+--------+---------------+-------------+
 *  |<------------------- signed: HMAC-SHA-256(clinic key, ...) ------------>|
 * ```
 *
 * - `programVer` repeats the program's own version (checked equal) so the
 *   replay rule runs before the program is parsed.
 * - `keyId` names the clinic key: the first 4 bytes (LE) of
 *   HMAC-SHA-256(key, KEY_ID_LABEL). It lets a device say "signed with
 *   another clinic's key" instead of only "bad tag"; it is not a secret and
 *   never replaces the tag check.
 *
 * Install rule (`decideProgramInstall`): a wrong tag is refused first;
 * then a lower version is a replay, the same version with the same bytes an
 * idempotent retry (accepted, nothing changes), the same version with other
 * bytes refused, a higher version accepted once the program validates.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import { ByteReader, ByteWriter, CodecError, utf8Encode } from "../codec/bytes"
import { decodeForDevice } from "./device-check"
import { PROGRAM_FORMAT_VERSION, type Program } from "./types"

/** "PFTP" */
export const ENVELOPE_MAGIC = [0x50, 0x46, 0x54, 0x50]
export const ENVELOPE_FORMAT_VERSION = 1
/** [bytes] HMAC-SHA-256 */
export const TAG_BYTES = 32
/** HMAC-SHA-256(key, utf8(KEY_ID_LABEL)) starts with the key id. */
export const KEY_ID_LABEL = "pft clinic key id"

export interface ProgramEnvelope {
    formatVersion: number
    programVersion: number
    keyId: number
    /** the canonical program bytes */
    programBytes: number[]
    /** everything the tag covers (header + program) */
    signedBytes: number[]
    tag: number[]
}

/** The bytes to HMAC for a key id: utf8(KEY_ID_LABEL). */
export function keyIdMessage(): number[] {
    return utf8Encode(KEY_ID_LABEL)
}

/** The key id from HMAC-SHA-256(key, keyIdMessage()): its first 4 bytes, little-endian. */
export function keyIdFromMac(mac: number[]): number {
    if (mac.length < 4) throw new CodecError("key id: need 4 MAC bytes, have " + mac.length)
    return new ByteReader(mac).u32()
}

/** "0x1a2b3c4d" */
export function hex32(n: number): string {
    const digits = "0123456789abcdef"
    let s = ""
    let v = n
    for (let i = 0; i < 8; i++) {
        const d = v - Math.floor(v / 16) * 16
        s = digits.charAt(d) + s
        v = Math.floor(v / 16)
    }
    return "0x" + s
}

function programVersionOf(programBytes: number[]): number {
    const r = new ByteReader(programBytes)
    const fmt = r.u8()
    if (fmt !== PROGRAM_FORMAT_VERSION) throw new CodecError("program format version " + fmt + ": this code reads version " + PROGRAM_FORMAT_VERSION)
    return r.u32()
}

/** The part of an envelope the tag covers, for the caller to HMAC. */
export function envelopeSignedPart(o: { programBytes: number[]; keyId: number }): number[] {
    if (o.programBytes.length > 0xffff) throw new CodecError("program of " + o.programBytes.length + " bytes is too long for an envelope")
    const w = new ByteWriter()
    w.raw(ENVELOPE_MAGIC)
    w.u8(ENVELOPE_FORMAT_VERSION)
    w.u32(programVersionOf(o.programBytes))
    w.u32(o.keyId)
    w.u16(o.programBytes.length)
    w.raw(o.programBytes)
    return w.bytes
}

/** The whole envelope: the signed part and its tag. */
export function encodeEnvelope(o: { programBytes: number[]; keyId: number; tag: number[] }): number[] {
    if (o.tag.length !== TAG_BYTES) throw new CodecError("tag of " + o.tag.length + " bytes, expected " + TAG_BYTES)
    const w = new ByteWriter()
    w.raw(envelopeSignedPart(o))
    w.raw(o.tag)
    return w.bytes
}

/** Splits an envelope; throws CodecError when it is not one (the tag is not checked here). */
export function decodeEnvelope(bytes: number[]): ProgramEnvelope {
    const r = new ByteReader(bytes)
    for (let i = 0; i < ENVELOPE_MAGIC.length; i++)
        if (r.u8() !== ENVELOPE_MAGIC[i]) throw new CodecError("not a pft program envelope (bad magic)")
    const formatVersion = r.u8()
    if (formatVersion !== ENVELOPE_FORMAT_VERSION)
        throw new CodecError("envelope format version " + formatVersion + ": this code reads version " + ENVELOPE_FORMAT_VERSION)
    const programVersion = r.u32()
    const keyId = r.u32()
    const length = r.u16()
    if (r.remaining() !== length + TAG_BYTES)
        throw new CodecError("envelope length: header says " + length + " program bytes + " + TAG_BYTES + " tag bytes, have " + r.remaining())
    const programBytes = r.raw(length)
    const signedEnd = r.pos
    const tag = r.raw(TAG_BYTES)
    const inner = programVersionOf(programBytes)
    if (inner !== programVersion) throw new CodecError("envelope version " + programVersion + " does not match the program's version " + inner)
    return { formatVersion, programVersion, keyId, programBytes, signedBytes: bytes.slice(0, signedEnd), tag }
}

/** Compares two tags in time independent of where they differ. */
export function tagsEqual(a: number[], b: number[]): boolean {
    if (a.length !== b.length) return false
    let diff = 0
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
    return diff === 0
}

function bytesEqual(a: number[], b: number[]): boolean {
    if (a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
}

export interface InstallDecision {
    accept: boolean
    /** accepted and different from what is installed: store it */
    changed: boolean
    /** a sentence saying what happened and, on a refusal, what to do */
    reason: string
    /** the validated program, when accepted and changed */
    program?: Program
}

export interface InstallRequest {
    /** the installed program's version; 0 when none is installed */
    installedVersion: number
    /** the installed program's canonical bytes */
    installedBytes?: number[]
    candidate: ProgramEnvelope
    /** the caller's HMAC over candidate.signedBytes with the device's clinic key equals candidate.tag (see tagsEqual) */
    tagValid: boolean
}

function refuse(reason: string): InstallDecision {
    return { accept: false, changed: false, reason }
}

/**
 * Whether the device installs a candidate program; the old program stays in
 * force on every refusal.
 */
export function decideProgramInstall(req: InstallRequest): InstallDecision {
    const c = req.candidate
    const v = c.programVersion
    const installed = req.installedVersion
    if (!req.tagValid)
        return refuse(
            "not signed with this device's clinic key (the envelope names key " + hex32(c.keyId) +
                "): sign it with the clinic key this device was provisioned with, or provision the device with this clinic's key; the installed program stays in force"
        )
    if (v < installed)
        return refuse(
            "version " + v + " is older than the installed version " + installed +
                ": an old program is never reinstalled (replay); give the program a version above " + installed + " and push it again"
        )
    if (v === installed) {
        if (req.installedBytes && bytesEqual(req.installedBytes, c.programBytes))
            return { accept: true, changed: false, reason: "version " + v + " is already installed with identical content: nothing to change (a repeated push)" }
        return refuse(
            "version " + v + " is already installed with different content: a version is never reused; give the new program version " + (installed + 1) +
                " or higher and push it again"
        )
    }
    // the device's own check (device-check.ts): the full validator runs on the host before signing
    const checked = decodeForDevice(c.programBytes)
    if (!checked.program) return refuse("the program is invalid: " + checked.problem + "; fix it with `pft program validate` and push it again")
    const was = installed === 0 ? "no program was installed" : "replaces version " + installed
    return { accept: true, changed: true, reason: "version " + v + " installed (" + was + ")", program: checked.program }
}
