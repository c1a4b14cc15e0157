/**
 * `pft program validate FILE`: checks a program file with the same code the
 * device runs. Invalid: every error on its own line (`path: message`), exit
 * code 2. Valid: a short summary.
 */
import { formatProgramError } from "../../src/core/program"
import { CliError, EXIT } from "../errors"
import { readProgramFile } from "../program/load"
import { describeProgram } from "../program/summary"

export interface ProgramValidateOptions {
    json?: boolean
}

export async function runProgramValidate(file: string, opts: ProgramValidateOptions): Promise<void> {
    const v = readProgramFile(file)
    if (!v.ok) {
        if (opts.json) console.log(JSON.stringify({ file, ok: false, errors: v.errors }, null, 2))
        else for (const e of v.errors) console.log(formatProgramError(e))
        const n = v.errors.length
        throw new CliError(`${file} is not a valid program: ${n} error${n === 1 ? "" : "s"}`, EXIT.usage)
    }
    const summary = describeProgram(v.program)
    if (opts.json) {
        console.log(JSON.stringify({ file, ok: true, program: v.program, summary }, null, 2))
        return
    }
    console.log(`${file}: valid`)
    for (const line of summary) console.log(line)
}
