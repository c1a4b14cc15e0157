import { homedir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository (package) root, whatever the current directory. */
export function repoRoot(): string {
    return join(dirname(fileURLToPath(import.meta.url)), "..")
}

/**
 * Where pft keeps its own data (clinic key, session archive): $PFT_HOME,
 * else $XDG_DATA_HOME/pft, else ~/.local/share/pft.
 */
export function pftDataDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env["PFT_HOME"]) return env["PFT_HOME"]
    if (env["XDG_DATA_HOME"]) return join(env["XDG_DATA_HOME"], "pft")
    return join(homedir(), ".local", "share", "pft")
}

export const ARCHIVE_FILE_NAME = "archive.sqlite"

/** The session archive (SQLite) unless `--archive PATH` says otherwise. */
export function defaultArchiveFile(env: NodeJS.ProcessEnv = process.env): string {
    return join(pftDataDir(env), ARCHIVE_FILE_NAME)
}
