// e2e-one-link: three firmware VMs on one bus and no host client
//
// Each device keeps its program, clinic key, counters and rest record in
// its own settings store (src/platform/own-settings.ts), and every
// DeviceScript device on the bus serves one. Three VMs of a probe firmware
// (tests/vm/settings-probe.ts) share the simulator bus, each with its own
// flash and device id, and boot again and again: killed and started as by a
// power cut (10 times each, at some point after the first boot), and
// restarting themselves in between. At every boot each one
// reads the device id it wrote into its store at its first boot. The
// settings role of @devicescript/settings bound to a neighbour's store in
// 3 of 153 such boots, and read the neighbour's id; with own-settings a
// boot that finds itself bound to another store restarts before using it.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, test } from "vitest"
import { firmwareImage } from "../../host/sim/simulation"
import { startDevicescript, type ManagedProcess } from "../../host/sim/processes"

const DEVICE_IDS = ["aaaa000000000001", "5555000000000002", "1111000000000003"]
/** process starts per device: the race is at a process's start (a restart inside one keeps what it has heard) */
const STARTS = 10
/** [ms] how long a process may take to its first boot's line (a VM starts in about 2 s, slower on a loaded machine) */
const FIRST_BOOT_MS = 30_000

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const dirs: string[] = []
const running = new Set<ManagedProcess>()
afterAll(async () => {
    for (const p of running) await p.stop(0)
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

test("every boot of three devices on one bus uses its own settings store, never a neighbour's", async () => {
    const root = process.cwd()
    const image = await firmwareImage(root, "tests/vm/settings-probe.ts", 60_000)
    const devtools = startDevicescript({ name: "devtools", args: ["devtools"], cwd: root })
    running.add(devtools)
    await devtools.waitForLine(/websocket\s*:\s*ws:\/\/127\.0\.0\.1:8081/, 20_000)

    /** every `probe:` line of one device, across its process starts */
    const seen: Record<string, string[]> = {}
    const runDevice = async (deviceId: string) => {
        const dir = mkdtempSync(join(tmpdir(), "pft-settings-probe-"))
        dirs.push(dir)
        seen[deviceId] = []
        for (let start = 0; start < STARTS; start++) {
            const vm = startDevicescript({ name: `probe ${deviceId}`, args: ["run", image, "--device-id", deviceId], cwd: dir })
            running.add(vm)
            try {
                await vm.waitForLine(/probe:/, FIRST_BOOT_MS).catch(() => {
                    throw new Error(`${deviceId}: no boot within ${FIRST_BOOT_MS} ms of its start ${start + 1}; its output:\n${vm.lines.join("\n")}`)
                })
                // then the power is cut at some point of its next boots (it restarts itself every 1-2 s)
                await sleep(Math.random() * 3000)
            } finally {
                await vm.stop(0)
                running.delete(vm)
            }
            seen[deviceId].push(...vm.lines.filter(l => l.includes("probe:") || l.includes("settings:")))
        }
    }
    await Promise.all(DEVICE_IDS.map(runDevice))

    const boots = DEVICE_IDS.map(id => seen[id].filter(l => l.includes("probe:")).length)
    const refused = DEVICE_IDS.map(id => seen[id].filter(l => l.includes("is not ours")).length)
    console.info(`settings binding e2e: boots per device ${JSON.stringify(boots)}; boots that found a neighbour's store and restarted ${JSON.stringify(refused)}`)
    DEVICE_IDS.forEach((id, i) => {
        // a boot at least at every start
        expect(boots[i], `boots of ${id}`).toBeGreaterThanOrEqual(STARTS)
        // the id it read is its own at every boot
        const foreign = seen[id].filter(l => l.includes("probe:") && !l.includes(`owner ${id}`))
        expect(foreign, `boots of ${id} that used another device's store`).toEqual([])
    })
}, STARTS * (FIRST_BOOT_MS + 5_000))
