import { hmac } from "@devicescript/crypto"
import { readSetting, writeSetting } from "../platform/own-settings"
import { crc32 } from "../core/codec/bytes"
import { bufferOf, bytesOf } from "../platform/buffers"
import { clinicKeyIdOf } from "../platform/clinic-key-id"
import {
    decideProgramInstall,
    decodeEnvelope,
    decodeForDevice,
    ENVELOPE_MAX_BYTES,
    installStatus,
    ProgramStatus,
    READ_CHUNK_BYTES,
    SETTINGS_CHUNK_BYTES,
    tagsEqual,
    type Program,
    type ProgramEnvelope,
} from "../core/program"

/** [bytes] a clinic key is an HMAC-SHA-256 key of 32 bytes */
const KEY_BYTES = 32
/** [bytes] the result message is cut to fit one packet */
const MESSAGE_MAX_BYTES = 180

// settings keys (<= 13 characters). The envelope lives in one of two slots
// ("proga0".., "progb0"..); PROG_SETTING names the slot in force and its
// chunk count and is written last, so a power cut mid-write leaves the
// previous program in force.
const KEY_SETTING = "clinickey"
const PROG_SETTING = "prog"
const SLOT_PREFIX = "prog"
/** sessions started with the program in force: {v: version, n: count} (the holds' target ramp) */
const DONE_SETTING = "progdone"

/** The message cut to MESSAGE_MAX_BYTES of UTF-8, "..." marking a cut (the device's messages are ASCII: a cut never splits a character). */
function cut(message: string): string {
    const bytes = Buffer.from(message)
    return bytes.length <= MESSAGE_MAX_BYTES ? message : bytes.slice(0, MESSAGE_MAX_BYTES - 3).toString() + "..."
}

export interface ProgramResult {
    /** counts provisionings and commits since boot */
    seq: number
    version: number
    status: ProgramStatus
    message: string
}

/**
 * The clinic key and the signed program in force, kept in settings (the
 * only persistent store DeviceScript has; see docs/engineering.md), and
 * the staging area a host uploads a new envelope into. Installing goes
 * through decideProgramInstall (src/core/program/envelope.ts): the HMAC is
 * checked with the provisioned key, old versions are refused, and the
 * program in force changes only when a valid, newer program was accepted.
 */
export class ProgramStore {
    private key: number[] = []
    private keyId = 0
    // Bytes kept across calls are Buffers: a number[] costs 8 bytes of heap
    // per byte, and the envelope kept three times as number[] ran the VM's
    // ~64 KB heap out during an install (PANIC 60004 in program_commit).
    private envelope: Buffer = Buffer.alloc(0)
    private programBytes: Buffer = Buffer.alloc(0)
    private version = 0
    private current: Program | undefined = undefined
    private staging: Buffer = Buffer.alloc(0)
    /** 1 where a staging byte was received (retries may repeat chunks) */
    private received: Buffer = Buffer.alloc(0)
    /** the settings slot of the program in force ("" before any) */
    private slot = ""
    private stagingTotal = 0
    private last: ProgramResult = { seq: 0, version: 0, status: ProgramStatus.None, message: "no program installed" }
    private seq = 0
    private done = 0

    /** Reads the key and the program from settings. A damaged stored program is dropped (reported, not run). */
    async load(): Promise<void> {
        const keyHex: string = await readSetting(KEY_SETTING, "")
        if (keyHex.length === KEY_BYTES * 2) {
            this.key = bytesOf(Buffer.from(keyHex, "hex"))
            this.keyId = clinicKeyIdOf(bufferOf(this.key))
        }
        const done: { v: number; n: number } = await readSetting(DONE_SETTING, { v: 0, n: 0 })
        const where: { slot: string; n: number } = await readSetting(PROG_SETTING, { slot: "", n: 0 })
        if (!(where.n > 0)) return
        this.slot = where.slot
        let hex = ""
        for (let i = 0; i < where.n; i++) hex += await readSetting(SLOT_PREFIX + where.slot + i, "")
        try {
            const stored = Buffer.from(hex, "hex")
            const env = decodeEnvelope(bytesOf(stored))
            const checked = decodeForDevice(env.programBytes)
            if (!checked.program) throw new Error("stored program refused: " + checked.problem)
            this.putInForce(stored, env, checked.program)
            if (done.v === this.version) this.done = done.n
            this.last = { seq: this.seq, version: env.programVersion, status: ProgramStatus.Installed, message: "version " + env.programVersion + " in force (from storage)" }
        } catch (e) {
            this.last = { seq: this.seq, version: 0, status: ProgramStatus.Invalid, message: "the stored program was damaged and is not used: push the program again" }
        }
    }

    program(): Program | undefined {
        return this.current
    }

    programVersion(): number {
        return this.version
    }

    clinicKeyId(): number {
        return this.keyId
    }

    result(): ProgramResult {
        return this.last
    }

    envelopeSize(): number {
        return this.envelope.length
    }

    /** Up to READ_CHUNK_BYTES of the envelope in force from `offset`. */
    readEnvelope(offset: number): Buffer {
        if (offset < 0 || offset >= this.envelope.length) return Buffer.alloc(0)
        return this.envelope.slice(offset, Math.min(this.envelope.length, offset + READ_CHUNK_BYTES))
    }

    /** Installs the clinic key once; the same key again is a no-op, another key is refused. */
    async provision(keyBytes: number[]): Promise<ProgramResult> {
        this.seq++
        if (keyBytes.length !== KEY_BYTES) {
            this.last = { seq: this.seq, version: this.version, status: ProgramStatus.KeyConflict, message: "a clinic key is 32 bytes, got " + keyBytes.length + ": use `pft clinic init` to make one" }
            return this.last
        }
        const id = clinicKeyIdOf(bufferOf(keyBytes))
        if (this.key.length > 0) {
            this.last =
                id === this.keyId
                    ? { seq: this.seq, version: this.version, status: ProgramStatus.KeyInstalled, message: "this clinic key is already installed" }
                    : { seq: this.seq, version: this.version, status: ProgramStatus.KeyConflict, message: "another clinic key is installed and cannot be replaced on the device" }
            return this.last
        }
        await writeSetting(KEY_SETTING, bufferOf(keyBytes).toString("hex"))
        this.key = keyBytes
        this.keyId = id
        this.last = { seq: this.seq, version: this.version, status: ProgramStatus.KeyInstalled, message: "clinic key installed" }
        return this.last
    }

    /** Writes a chunk of an envelope being uploaded; a new total starts over. */
    chunk(offset: number, total: number, data: Buffer): void {
        if (total <= 0 || total > ENVELOPE_MAX_BYTES || offset < 0 || offset + data.length > total) return
        if (total !== this.stagingTotal) {
            this.staging = Buffer.alloc(total)
            this.received = Buffer.alloc(total)
            this.stagingTotal = total
        }
        this.staging.blitAt(offset, data, 0, data.length)
        this.received.fillAt(offset, data.length, 1)
    }

    /** Verifies and installs the staged envelope; the program in force changes only if accepted and new. */
    async commit(crc: number, total: number): Promise<ProgramResult> {
        this.seq++
        const r = await this.tryCommit(crc, total)
        // a commit consumes the upload: a retry of it re-sends the chunks
        this.staging = Buffer.alloc(0)
        this.received = Buffer.alloc(0)
        this.stagingTotal = 0
        this.last = { seq: this.seq, version: r.version, status: r.status, message: cut(r.message) }
        return this.last
    }

    private async tryCommit(crc: number, total: number): Promise<ProgramResult> {
        if (this.key.length === 0)
            return { seq: 0, version: this.version, status: ProgramStatus.NoClinicKey, message: "no clinic key on this device: run `pft device provision` first" }
        const complete = total === this.stagingTotal && this.received.indexOf(0) < 0
        const staged = complete ? bytesOf(this.staging) : []
        if (!complete || crc32(staged) !== crc)
            return { seq: 0, version: this.version, status: ProgramStatus.Incomplete, message: "the upload is incomplete or damaged (size or CRC-32 differ): push again" }
        let env: ProgramEnvelope
        try {
            env = decodeEnvelope(staged)
        } catch (e) {
            return { seq: 0, version: this.version, status: ProgramStatus.Invalid, message: "not a signed program envelope: push a file made by `pft program push`" }
        }
        const tag = bytesOf(hmac(bufferOf(this.key), "sha256", bufferOf(env.signedBytes)))
        const req = { installedVersion: this.version, installedBytes: bytesOf(this.programBytes), candidate: env, tagValid: tagsEqual(tag, env.tag) }
        const d = decideProgramInstall(req)
        const status = installStatus(req, d.accept, d.changed)
        if (d.accept && d.changed && d.program) {
            await this.persist(this.staging)
            this.putInForce(this.staging, env, d.program)
        }
        return { seq: 0, version: this.version, status: status, message: d.reason }
    }

    /** Sessions started with the program in force (0 after an install). */
    sessionsDone(): number {
        return this.done
    }

    /** Counts a session started with the program in force. */
    async countSession(): Promise<void> {
        this.done++
        await writeSetting(DONE_SETTING, { v: this.version, n: this.done })
    }

    private putInForce(envelope: Buffer, env: ProgramEnvelope, program: Program) {
        if (program !== this.current) this.done = 0
        this.envelope = envelope
        this.programBytes = bufferOf(env.programBytes)
        this.version = env.programVersion
        this.current = program
    }

    private async persist(bytes: Buffer): Promise<void> {
        const hex = bytes.toString("hex")
        const step = SETTINGS_CHUNK_BYTES * 2
        const slot = this.slot === "a" ? "b" : "a"
        let n = 0
        for (let at = 0; at < hex.length; at += step) {
            await writeSetting(SLOT_PREFIX + slot + n, hex.slice(at, at + step))
            n++
        }
        await writeSetting(PROG_SETTING, { slot: slot, n: n })
        this.slot = slot
    }
}
