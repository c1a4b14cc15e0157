// `pft sim` end to end through the installed binary: it runs the firmware
// through an assessment with a simulated patient, prints what the device
// measured, and leaves nothing running when it stops (after --duration, at
// the end of the session, and on Ctrl-C). Its host side runs over the
// run's link (--host-link: the simulator bus, or USB serial).
import { spawn } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { DEVTOOLS_PORT, portInUse } from "../../host/sim/simulation"
import { E2E_HOST_LINK } from "../helpers/e2e-link"
import { shortProgram } from "../../host/sim/short-program"

const PFT = join(repoRoot(), "bin", "pft.mjs")

function startPft(args: string[]) {
    const child = spawn(process.execPath, [PFT, ...args], { cwd: repoRoot(), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", b => (stdout += b))
    child.stderr.on("data", b => (stderr += b))
    const exit = new Promise<number | null>(resolve => child.on("exit", code => resolve(code)))
    return { child, exit, out: () => stdout, err: () => stderr }
}

describe("pft sim", () => {
    test("--json --duration prints the measured session and exits 0", async () => {
        const pft = startPft(["sim", "--host-link", E2E_HOST_LINK, "--speed", "10", "--duration", "12", "--json"])
        const code = await pft.exit
        expect(code, pft.err()).toBe(0)
        const result = JSON.parse(pft.out())
        expect(result.profile).toBe("typical")
        // 12 s at 10x covers the pre-baseline (60 s) and the flicks
        expect(result.reps.emg.length).toBeGreaterThan(0)
        expect(result.summary.emg.preBaseline.mean).toBeGreaterThan(0)
        expect(result.score.emg.reps.length).toBeGreaterThan(0)
        expect(await portInUse(DEVTOOLS_PORT)).toBe(false)
    })

    // over the simulator bus only: what the link carries here (the key, the program, the reads) programs.test.ts runs over both
    test.skipIf(E2E_HOST_LINK === "serial")("--program runs a therapist program instead of the assessment: relaxation first, then its contractions, scored", async () => {
        const file = join(mkdtempSync(join(tmpdir(), "pft-sim-program-")), "program.json")
        writeFileSync(file, JSON.stringify(shortProgram()))
        // the program runner's reports load the VM more than the assessment's: 2x, as the runner's e2e
        const pft = startPft(["sim", "--host-link", E2E_HOST_LINK, "--speed", "2", "--program", file, "--json"])
        const code = await pft.exit
        expect(code, pft.err()).toBe(0)
        const result = JSON.parse(pft.out())
        expect(result.program).toEqual({ programId: "relax-then-tone-short", programVersion: 1 })
        // the program's cues, not the assessment's: 3 flicks and 1 hold, after its relaxation phase
        expect(pft.err()).toContain("relaxation")
        expect(result.summary.emg.repsPlanned).toBe(4)
        expect(result.summary.emg.sessionState).toBe("rating")
        // the typical patient did all four and the device counted them, scored against the truth
        expect(result.score.emg.repsExpected).toBe(4)
        expect(result.summary.emg.repsDone).toBe(4)
        expect(result.score.emg.reps.length).toBe(4)
        expect(await portInUse(DEVTOOLS_PORT)).toBe(false)
    })

    test("--program with an invalid program says what is wrong and runs nothing", async () => {
        const file = join(mkdtempSync(join(tmpdir(), "pft-sim-program-")), "bad.json")
        writeFileSync(file, JSON.stringify({ ...shortProgram(), phases: [{ kind: "flicks", reps: 3, onS: 2, offS: 4, targetPctMvc: 160 }] }))
        const pft = startPft(["sim", "--program", file, "--json"])
        expect(await pft.exit).toBe(2)
        expect(pft.err()).toContain("targetPctMvc")
        expect(pft.err()).toContain("is not a valid program")
        expect(pft.out()).toBe("")
        expect(await portInUse(DEVTOOLS_PORT)).toBe(false)
    })

    test("Ctrl-C stops the session, prints what was measured, stops the VM and devtools, exits 0", async () => {
        const pft = startPft(["sim", "--host-link", E2E_HOST_LINK, "--speed", "5"])
        const deadline = Date.now() + 60000
        while (!pft.out().includes("rest and breathe") && Date.now() < deadline) await new Promise(r => setTimeout(r, 200))
        expect(pft.out()).toContain("pre-baseline")
        pft.child.kill("SIGINT")
        expect(await pft.exit, pft.err()).toBe(0)
        expect(pft.out()).toContain("EMG (uV)")
        expect(pft.out()).toContain("rest tone before")
        expect(await portInUse(DEVTOOLS_PORT)).toBe(false)
    })
})
