import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository (package) root, whatever the current directory. */
export function repoRoot(): string {
    return join(dirname(fileURLToPath(import.meta.url)), "..")
}
