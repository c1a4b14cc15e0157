// `pft sim` end to end through the installed binary: it runs the firmware,
// prints what the device reports, and leaves nothing running when it stops
// (after --duration and on Ctrl-C).
import { spawn } from "node:child_process"
import { createConnection } from "node:net"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"

const PFT = join(repoRoot(), "bin", "pft.mjs")

function devtoolsPortOpen(): Promise<boolean> {
    return new Promise(resolve => {
        const s = createConnection({ host: "127.0.0.1", port: 8081 })
        s.once("connect", () => {
            s.destroy()
            resolve(true)
        })
        s.once("error", () => resolve(false))
    })
}

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
    test("--duration --json prints live reports of a streaming probe and exits 0", async () => {
        const pft = startPft(["sim", "--duration", "5", "--json"])
        const code = await pft.exit
        expect(code, pft.err()).toBe(0)
        const reports = pft
            .out()
            .trim()
            .split("\n")
            .map(l => JSON.parse(l))
        expect(reports.length).toBeGreaterThan(10)
        const last = reports[reports.length - 1]
        expect(last.samplesReceived).toBeGreaterThan(150)
        expect(last.samplesLost).toBe(0)
        expect(last.pressureCmH2O).toBeGreaterThan(14) // the default wave rests at 15 cmH2O
        expect(await devtoolsPortOpen()).toBe(false)
    })

    test("Ctrl-C stops the firmware and devtools and exits 0", async () => {
        const pft = startPft(["sim"])
        const deadline = Date.now() + 60000
        while (!pft.out().includes("received") && Date.now() < deadline) await new Promise(r => setTimeout(r, 200))
        expect(pft.out()).toContain("cmH2O")
        pft.child.kill("SIGINT")
        expect(await pft.exit).toBe(0)
        expect(pft.err()).toContain("stopping")
        expect(await devtoolsPortOpen()).toBe(false)
    })
})
