/**
 * `pft program push FILE`: validates the program, signs it with the clinic
 * key (HMAC-SHA-256 over its canonical bytes, host/program/sign.ts) and
 * installs it on the device, which checks the signature and the version
 * itself. A refusal leaves the old program in force and says why.
 */
import { formatProgramError, ProgramStatus } from "../../src/core/program"
import { withTrainer, type ConnectOptions } from "../device/connect"
import { CliError, EXIT } from "../errors"
import { loadClinicKey } from "../program/clinic-key"
import { readProgramFile } from "../program/load"
import { signProgram } from "../program/sign"

export interface ProgramPushOptions extends ConnectOptions {
    keyFile?: string
}

export async function runProgramPush(file: string, opts: ProgramPushOptions): Promise<void> {
    const v = readProgramFile(file)
    if (!v.ok) {
        for (const e of v.errors) console.error(formatProgramError(e))
        throw new CliError(`${file} is not a valid program: nothing was sent (check it with \`pft program validate\`)`, EXIT.usage)
    }
    const key = loadClinicKey(opts.keyFile)
    const signed = signProgram(v.program, key.key)
    const r = await withTrainer(opts, t => t.pushProgram(signed.envelope))
    if (r.status === ProgramStatus.Installed || r.status === ProgramStatus.Unchanged) {
        console.log(`${v.program.programId} version ${signed.programVersion}: ${r.message}`)
        return
    }
    throw new CliError(`the device refused ${v.program.programId} version ${signed.programVersion}: ${r.message}`, EXIT.failure)
}
