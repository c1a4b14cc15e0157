/** Reading a program file: JSON syntax errors become program errors, so every problem prints the same way. */
import { readFileSync } from "node:fs"
import { validateProgram, type ProgramValidation } from "../../src/core/program"
import { CliError, EXIT } from "../errors"

/** "(line 3, column 5)" for a JSON.parse error that gives only a position */
function where(text: string, message: string): string {
    if (/line \d+/.test(message)) return ""
    const m = /position (\d+)/.exec(message)
    if (!m) return ""
    const before = text.slice(0, Number(m[1])).split("\n")
    return ` (line ${before.length}, column ${before[before.length - 1].length + 1})`
}

/** Parses program JSON text and validates it. */
export function parseProgramText(text: string): ProgramValidation {
    let json: unknown
    try {
        json = JSON.parse(text)
    } catch (e) {
        const message = (e as Error).message
        return { ok: false, errors: [{ path: "", value: "", allowed: "a JSON document", message: `not JSON: ${message}${where(text, message)}` }] }
    }
    return validateProgram(json)
}

/** Reads and validates a program file; a file that cannot be read is a usage error. */
export function readProgramFile(file: string): ProgramValidation {
    let text: string
    try {
        text = readFileSync(file, "utf8")
    } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`, EXIT.usage)
    }
    return parseProgramText(text)
}
