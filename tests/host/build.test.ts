// The firmware compiles: for the handheld board (npm run build) and with the
// whole repo type-checked under Node's strict tsconfig.
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { devicescriptCli } from "../../host/sim/processes"

const run = promisify(execFile)

describe("builds", () => {
    test("firmware builds for boards/pft_handheld.board.json offline", async () => {
        const { stdout, stderr } = await run(process.execPath, [devicescriptCli(), "build", "src/main_board.ts"], {
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
