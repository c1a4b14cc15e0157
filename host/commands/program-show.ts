/**
 * `pft program show` / `pft program pull [--out FILE]`: reads the signed
 * program the device runs now, checks its signature against the clinic key
 * when one is at hand, and prints it (show) or writes it as a program file
 * (pull).
 */
import { writeFileSync } from "node:fs"
import { decodeEnvelope, decodeProgram, type Program } from "../../src/core/program"
import { hex32 } from "../../src/core/program/envelope"
import { withTrainer, type ConnectOptions } from "../device/connect"
import { CliError, EXIT } from "../errors"
import { loadClinicKey } from "../program/clinic-key"
import { verifyEnvelope } from "../program/sign"
import { describeProgram } from "../program/summary"

export interface ProgramShowOptions extends ConnectOptions {
    keyFile?: string
    json?: boolean
    out?: string
}

interface DeviceProgram {
    program: Program
    version: number
    keyId: number
    /** true/false when a clinic key was available to check, undefined otherwise */
    signatureValid?: boolean
}

async function readDeviceProgram(opts: ProgramShowOptions): Promise<DeviceProgram | undefined> {
    const bytes = await withTrainer(opts, t => t.readProgram())
    if (bytes.length === 0) return undefined
    const env = decodeEnvelope(Array.from(bytes))
    let signatureValid: boolean | undefined
    try {
        signatureValid = verifyEnvelope(bytes, loadClinicKey(opts.keyFile).key).tagValid
    } catch {
        signatureValid = undefined
    }
    return { program: decodeProgram(env.programBytes), version: env.programVersion, keyId: env.keyId, signatureValid }
}

export async function runProgramShow(opts: ProgramShowOptions): Promise<void> {
    const p = await readDeviceProgram(opts)
    if (!p) {
        console.log("no program installed: the device runs its built-in Glazer assessment")
        return
    }
    if (opts.json) {
        console.log(JSON.stringify(p, null, 2))
        return
    }
    const sig = p.signatureValid === undefined ? "not checked (no clinic key here)" : p.signatureValid ? "valid" : "INVALID for this clinic's key"
    console.log(`version ${p.version}, signed with key ${hex32(p.keyId)}: signature ${sig}`)
    for (const line of describeProgram(p.program)) console.log(line)
}

export async function runProgramPull(opts: ProgramShowOptions): Promise<void> {
    const p = await readDeviceProgram(opts)
    if (!p) throw new CliError("no program installed on the device: nothing to pull", EXIT.failure)
    const text = JSON.stringify(p.program, null, 2) + "\n"
    if (opts.out) {
        writeFileSync(opts.out, text)
        console.log(`${p.program.programId} version ${p.version} written to ${opts.out}`)
    } else process.stdout.write(text)
}
