// `pft monitor` against the simulated trainer with a patient on the probe
// at 100 samples/s, and the stimulator module's firmware on the bus: the
// screen follows the device live and shows the stimulation's status, over
// the simulator bus and over USB serial (the pty bridge, as on a real port).
// e2e-one-link: it runs `pft monitor` over both links itself
import { spawn } from "node:child_process"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { makeProfile, PatientModel, patientSource } from "../../host/sim/patient"
import { startProbeFeed, type ProbeFeed } from "../../host/sim/probe-feed"
import { hostProbe } from "../../host/sim/probe-server"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { socatAvailable, startPtyBridge, type PtyBridge } from "../../host/transport/pty-bridge"
import { SIM_BUS_URL } from "../../host/transport/sim-bus"

const hasSocat = socatAvailable()
if (!hasSocat) console.warn("pft monitor over USB serial skipped: socat is missing (apt-get install socat; .ci/run installs it)")

function runCli(args: string[], timeoutMs: number): Promise<{ code: number; out: string }> {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [join(repoRoot(), "bin", "pft.mjs"), ...args], { cwd: repoRoot() })
        let out = ""
        child.stdout.on("data", d => (out += d))
        child.stderr.on("data", d => (out += d))
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
        child.on("close", code => {
            clearTimeout(timer)
            resolve({ code: code ?? -1, out })
        })
    })
}

describe("pft monitor", () => {
    let sim: Simulation | undefined
    let feed: ProbeFeed | undefined
    let bridge: PtyBridge | undefined

    beforeAll(async () => {
        sim = await startSimulation({ stimFirmware: true })
        const model = new PatientModel(makeProfile("typical"), 1)
        feed = startProbeFeed({ server: hostProbe(sim.bus, 100), source: patientSource(model, 100), sampleRateHz: 100, batchSize: 2 })
    }, 60000)

    afterAll(async () => {
        await bridge?.stop()
        feed?.stop()
        await sim?.stop()
    })

    const screen = async (args: string[]) => {
        const r = await runCli(["monitor", "--duration", "4", ...args], 30000)
        expect(r.code, r.out).toBe(0)
        expect(r.out).toContain("pft monitor")
        expect(r.out).toMatch(/probe (zeroing|ready)/)
        const received = Number(/samples lost \d+ of (\d+)/.exec(r.out)?.[1] ?? "0")
        // 100 samples/s reached the device while the monitor watched
        expect(received).toBeGreaterThan(200)
        expect(r.out).toMatch(/EMG\s+\d+\.\d uV/)
        expect(r.out).toMatch(/[▁▂▃▄▅▆▇█]{10,}/)
        // no program session runs; the stim module was found on the bus and its status read: off, nothing used
        expect(r.out).toContain("program: - (none running)")
        expect(r.out).toContain("stim: off   peak 0.0 mA   used 0:00")
    }

    test("shows the live probe, its state, the EMG trace, the program and the stimulation, and exits after --duration", async () => {
        await screen([])
    }, 60000)

    test.skipIf(!hasSocat)("the same over USB serial (pty bridge)", async () => {
        bridge = await startPtyBridge({ busUrl: SIM_BUS_URL })
        await screen(["--port", bridge.hostPath])
        expect(bridge.stats.badFrames).toBe(0)
    }, 60000)
})
