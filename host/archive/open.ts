/**
 * Opening the archive for a command: the default file unless `--archive`
 * says otherwise, with errors that say what to do.
 */
import { existsSync } from "node:fs"
import { CliError, EXIT } from "../errors"
import { defaultArchiveFile } from "../paths"
import { Archive } from "./archive"
import { ArchiveVersionError } from "./migrations"

export interface ArchiveOption {
    /** --archive PATH */
    archive?: string
}

/** Opens (and migrates) the archive; `mustExist`: a command that only reads says so rather than make an empty one. */
export function openArchive(opts: ArchiveOption, mustExist: boolean): Archive {
    const file = opts.archive ?? defaultArchiveFile()
    if (mustExist && !existsSync(file)) throw new CliError(`no archive at ${file}: pull sessions into it first with \`pft logs pull\` (or name another with --archive)`, EXIT.failure)
    try {
        return Archive.open(file)
    } catch (e) {
        if (e instanceof ArchiveVersionError) throw new CliError(`${file}: ${e.message}`, EXIT.failure)
        throw new CliError(`cannot open the archive ${file}: ${(e as Error).message}`, EXIT.failure)
    }
}
