// `pft sim --replay` runs a recorded trace through the real firmware and
// prints what it measured.
import { execFile } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { E2E_HOST_LINK } from "../helpers/e2e-link"
import { shortProgram } from "../../host/sim/short-program"

const run = promisify(execFile)

describe("pft sim --replay", () => {
    test("a resting trace gives the rest tone it holds and no contractions", async () => {
        // 90 s at 100 Hz: probe in at rest, 15 cmH2O and 3 uV with a small ripple. The session starts
        // once the probe is zeroed (a few s in) and its first flick is over 64 s later: 75 s left a
        // margin of a few seconds, which a busy VM ate
        const rows = ["time_ms,pressure_cmH2O,emg_uV"]
        for (let i = 0; i < 9000; i++) rows.push(`${i * 10},${(15 + 0.2 * ((i % 7) - 3) / 3).toFixed(3)},${(3 + 0.3 * ((i % 5) - 2) / 2).toFixed(3)}`)
        const file = join(mkdtempSync(join(tmpdir(), "pft-replay-")), "rest.csv")
        writeFileSync(file, rows.join("\n"))
        const { stdout } = await run(process.execPath, [join(repoRoot(), "bin", "pft.mjs"), "sim", "--host-link", E2E_HOST_LINK, "--replay", file, "--speed", "10", "--json"], {
            cwd: repoRoot(),
            timeout: 120000,
        })
        const result = JSON.parse(stdout)
        expect(result.replay).toBe(file)
        expect(result.summary.emg.preBaseline.mean).toBeGreaterThan(2.9)
        expect(result.summary.emg.preBaseline.mean).toBeLessThan(3.1)
        // the session reached the flicks before the trace ended, and nobody squeezed
        expect(result.reps.emg.length).toBeGreaterThan(0)
        expect(result.summary.emg.repsDone).toBe(0)
        expect(result.score).toBeUndefined()
    })

    // over the simulator bus only, as cli-sim's --program test
    test.skipIf(E2E_HOST_LINK === "serial")("--program: a resting trace meets the program's relaxation gate and reaches its flicks, none done", async () => {
        // 70 s at 100 Hz of the same rest (3 uV, under the program's 4 uV gate): baseline 10 s, relaxation
        // (the gate held 10 s), then the flicks from about 40 s into the session
        const rows = ["time_ms,pressure_cmH2O,emg_uV"]
        for (let i = 0; i < 7000; i++) rows.push(`${i * 10},${(15 + 0.2 * ((i % 7) - 3) / 3).toFixed(3)},${(3 + 0.3 * ((i % 5) - 2) / 2).toFixed(3)}`)
        const dir = mkdtempSync(join(tmpdir(), "pft-replay-"))
        const file = join(dir, "rest.csv")
        writeFileSync(file, rows.join("\n"))
        const programFile = join(dir, "program.json")
        writeFileSync(programFile, JSON.stringify(shortProgram()))
        const { stdout, stderr } = await run(
            process.execPath,
            [join(repoRoot(), "bin", "pft.mjs"), "sim", "--host-link", E2E_HOST_LINK, "--replay", file, "--program", programFile, "--speed", "4", "--json"],
            { cwd: repoRoot(), timeout: 120000 }
        )
        const result = JSON.parse(stdout)
        expect(result.program.programId).toBe("relax-then-tone-short")
        expect(stderr).toContain("relaxation")
        expect(stderr).toContain("squeeze (quick flicks, contraction 1)")
        expect(result.summary.emg.repsPlanned).toBe(4)
        expect(result.reps.emg.length).toBeGreaterThan(0)
        expect(result.summary.emg.repsDone).toBe(0)
    })
})
