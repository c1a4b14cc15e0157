/**
 * The clinic key: 32 random bytes that sign every program the clinic's
 * devices accept. One file, readable by its owner only (mode 0600), in the
 * pft data directory; `pft clinic init` creates it and never overwrites an
 * existing key unless told to (--force), because devices provisioned with
 * the old key would refuse programs signed with a new one.
 *
 * File format (JSON, so a damaged file is told apart from a wrong one):
 *   {"format": "pft-clinic-key", "version": 1, "keyId": "0x1a2b3c4d", "key": "<64 hex digits>"}
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { hex32 } from "../../src/core/program"
import { CliError, EXIT } from "../errors"
import { pftDataDir } from "../paths"
import { CLINIC_KEY_BYTES, clinicKeyId } from "./sign"

export const CLINIC_KEY_FORMAT = "pft-clinic-key"
export const CLINIC_KEY_FILE_NAME = "clinic-key.json"

export interface ClinicKey {
    key: Buffer
    keyId: number
    file: string
}

export function defaultClinicKeyFile(env: NodeJS.ProcessEnv = process.env): string {
    return join(pftDataDir(env), CLINIC_KEY_FILE_NAME)
}

function keyFileText(key: Buffer): string {
    return JSON.stringify({ format: CLINIC_KEY_FORMAT, version: 1, keyId: hex32(clinicKeyId(key)), key: key.toString("hex") }, null, 2) + "\n"
}

export interface CreateClinicKeyOptions {
    file?: string
    /** replace an existing key */
    force?: boolean
    /** source of the key bytes (tests); crypto.randomBytes by default */
    random?: (n: number) => Buffer
}

/**
 * Creates a clinic key file (mode 0600, its directory 0700). Refuses to
 * replace an existing key unless `force`. The file appears whole or not at
 * all: it is written beside, then linked (new) or renamed (force) into place.
 */
export function createClinicKey(opts: CreateClinicKeyOptions = {}): ClinicKey {
    const file = opts.file ?? defaultClinicKeyFile()
    if (existsSync(file) && !opts.force) {
        let id = ""
        try {
            id = ` (key id ${hex32(loadClinicKey(file).keyId)})`
        } catch {
            // unreadable or damaged: still not ours to overwrite silently
        }
        throw new CliError(
            `a clinic key already exists at ${file}${id}; devices provisioned with it would refuse programs signed with a new key. ` +
                "Keep it, or pass --force to replace it (then provision every device again)",
            EXIT.failure
        )
    }
    const key = (opts.random ?? randomBytes)(CLINIC_KEY_BYTES)
    if (key.length !== CLINIC_KEY_BYTES) throw new Error(`key source gave ${key.length} bytes, need ${CLINIC_KEY_BYTES}`)
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, keyFileText(key), { mode: 0o600, flag: "wx" })
    chmodSync(tmp, 0o600) // whatever the umask
    try {
        if (opts.force) renameSync(tmp, file)
        else linkSync(tmp, file) // fails if a key appeared meanwhile
    } catch (e) {
        throw new CliError(`cannot write the clinic key to ${file}: ${(e as Error).message}`, EXIT.failure)
    } finally {
        if (existsSync(tmp)) unlinkSync(tmp)
    }
    return { key, keyId: clinicKeyId(key), file }
}

/** Loads a clinic key file, with an error that says what to do for each way it can be wrong. */
export function loadClinicKey(file: string = defaultClinicKeyFile()): ClinicKey {
    let text: string
    try {
        text = readFileSync(file, "utf8")
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === "ENOENT") throw new CliError(`no clinic key at ${file}: create one with \`pft clinic init\``, EXIT.failure)
        throw new CliError(`cannot read the clinic key ${file}: ${(e as Error).message}`, EXIT.failure)
    }
    if (process.platform !== "win32") {
        const mode = statSync(file).mode & 0o777
        if (mode & 0o077)
            throw new CliError(
                `the clinic key ${file} is readable by others (mode ${mode.toString(8).padStart(4, "0")}): it signs therapy programs; run \`chmod 600 ${file}\``,
                EXIT.failure
            )
    }
    const bad = (why: string) => new CliError(`${file} is not a usable pft clinic key file: ${why}`, EXIT.failure)
    let doc: Record<string, unknown>
    try {
        doc = JSON.parse(text)
    } catch (e) {
        throw bad(`not JSON (${(e as Error).message})`)
    }
    if (typeof doc !== "object" || doc === null || doc["format"] !== CLINIC_KEY_FORMAT) throw bad(`"format" is not "${CLINIC_KEY_FORMAT}"`)
    if (doc["version"] !== 1) throw bad(`version ${JSON.stringify(doc["version"])}, this pft reads version 1`)
    const hex = doc["key"]
    if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) throw bad(`"key" is not ${CLINIC_KEY_BYTES * 2} lowercase hex digits`)
    const key = Buffer.from(hex, "hex")
    const keyId = clinicKeyId(key)
    if (doc["keyId"] !== hex32(keyId)) throw bad(`"keyId" ${JSON.stringify(doc["keyId"])} does not match the key (${hex32(keyId)}): the file is damaged`)
    return { key, keyId, file }
}
