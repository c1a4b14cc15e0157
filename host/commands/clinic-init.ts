/**
 * `pft clinic init`: creates the clinic's signing key (32 random bytes,
 * mode 0600). Refuses to replace an existing key unless --force.
 */
import { hex32 } from "../../src/core/program"
import { createClinicKey, defaultClinicKeyFile } from "../program/clinic-key"

export interface ClinicInitOptions {
    force?: boolean
    keyFile?: string
}

export async function runClinicInit(opts: ClinicInitOptions): Promise<void> {
    const key = createClinicKey({ file: opts.keyFile ?? defaultClinicKeyFile(), force: opts.force })
    console.log(`clinic key ${hex32(key.keyId)} written to ${key.file} (readable by you only)`)
    console.log("Keep a backup in a safe place: devices provisioned with this key accept only programs signed with it.")
}
