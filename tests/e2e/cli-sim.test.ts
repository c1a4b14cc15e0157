// `pft sim` end to end through the installed binary: it runs the firmware
// through an assessment with a simulated patient, prints what the device
// measured, and leaves nothing running when it stops (after --duration, at
// the end of the session, and on Ctrl-C). Its host side runs over the
// run's link (--host-link: the simulator bus, or USB serial).
import { spawn } from "node:child_process"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { DEVTOOLS_PORT, portInUse } from "../../host/sim/simulation"
import { E2E_HOST_LINK } from "../helpers/e2e-link"

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
