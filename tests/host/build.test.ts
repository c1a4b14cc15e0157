// The firmware compiles: for each board it runs on (the handheld's image is
// npm run build; the log module's is its own) and with the whole repo
// type-checked under Node's strict tsconfig.
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { devicescriptCli } from "../../host/sim/processes"

const run = promisify(execFile)

/** Each board's image: its entry point and its board file. */
const BOARD_IMAGES = [
    { entry: "src/main_board.ts", boardFile: "boards/pft_handheld.board.json" },
    { entry: "src/main_log_board.ts", boardFile: "boards/pft_logger.board.json" },
] as const

describe("builds", () => {
    // one after the other (vitest runs a file's tests in order): every build writes .devicescript/bin
    test.each(BOARD_IMAGES)("firmware $entry builds for $boardFile offline", async ({ entry }) => {
        const { stdout, stderr } = await run(process.execPath, [devicescriptCli(), "build", entry], {
            cwd: repoRoot(),
        })
        expect(stdout + stderr).not.toMatch(/error/i)
    }, 60000)

    test("host, tests and core type-check (tsc --noEmit)", async () => {
        const tsc = join(repoRoot(), "node_modules", "typescript", "bin", "tsc")
        const result = await run(process.execPath, [tsc, "-p", "tsconfig.json", "--noEmit"], { cwd: repoRoot() }).catch(
            e => e
        )
        expect(result.stdout ?? "").toBe("")
    }, 120000)
})
