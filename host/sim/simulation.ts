/**
 * A headless simulation: devtools bus + the firmware in the DeviceScript
 * WASM VM + jacdac-ts from Node, with simulated services hosted on the bus.
 *
 * Devtools listens on fixed ports (8081-8083), so one simulation runs at a
 * time per network namespace: `startSimulation` waits for a running one to
 * finish, then fails with a clear message. The trainer VM keeps its flash in
 * .devicescript/flash/sim.bin of its working directory: the repo, or
 * $PFT_SIM_HOME when set (scripts/test.mjs gives each e2e worker, each in a
 * namespace of its own, its own directory).
 */
import { createHash } from "node:crypto"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs"
import { createConnection } from "node:net"
import { tmpdir } from "node:os"
import { basename, dirname, join } from "node:path"
import * as jd from "jacdac-ts"
import { repoRoot } from "../paths"
import { closeBus, connectSimBus, SIM_BUS_URL } from "../transport/sim-bus"
import { startDevicescript, type ManagedProcess } from "./processes"
import { startPtyBridge, type PtyBridge } from "../transport/pty-bridge"
import { openTransport } from "../transport"
import { hostFlash, type SimFlashServer } from "./flash-server"
import { lockDir } from "./dir-lock"

export const DEVTOOLS_PORT = 8081

export interface SimulationOptions {
    /** firmware entry, relative to the repo root */
    firmware?: string
    /** start with an empty simulated flash (default true) */
    clearFlash?: boolean
    /** called with every line the VM prints */
    onVmLine?: (line: string) => void
    /** [ms] how long to wait for a previous simulation to free the ports */
    portWaitMs?: number
    /** [ms] how long the firmware may take to compile and start */
    startTimeoutMs?: number
    /**
     * Also run the stimulator module's own firmware (src/main_stim.ts: the
     * stim supervisor, services/stimcontrol.md) in a second VM on the same
     * bus, as its own device with its own flash
     */
    stimFirmware?: boolean
    /**
     * Also run the log module's firmware (src/main_log.ts: the session log,
     * services/sessionlog.md) in its own VM, with its flash chip served from
     * Node (host/sim/flash-server.ts)
     */
    logFirmware?: boolean
    /**
     * the directory the log module's VM runs in, kept after the simulation
     * (its settings, the clinic key among them, and its flash image
     * `flash.img` persist between runs); default: a new one, removed at stop
     */
    logDir?: string
    /**
     * the directory the stim module's VM runs in, kept after the simulation
     * (its settings, the rest record among them, persist between runs);
     * default: a new one, removed at stop
     */
    stimDir?: string
    /** sectors of the simulated chip (default 256: 1 MB, a quick boot; the board's W25Q128JV has 4096) */
    flashSectors?: number
    /**
     * How the host side (the trainer, log and stim clients; `hostBus`)
     * reaches the devices: "sim", the simulator bus itself (default), or
     * "serial", USB serial framing through the pty bridge
     * (host/transport/pty-bridge.ts, needs socat), as a trainer on
     * /dev/ttyACM0. The simulated hardware (probe, flash chip, output stage)
     * stays on `bus` either way.
     */
    hostLink?: HostLink
}

/** The host's link to the simulated devices (SimulationOptions.hostLink). */
export type HostLink = "sim" | "serial"
export const HOST_LINKS: readonly HostLink[] = ["sim", "serial"]

/** the second VM's device id (any fixed id other than the trainer VM's) */
export const STIM_VM_DEVICE_ID = "5717c0de00000001"
/** the log module VM's device id */
export const LOG_VM_DEVICE_ID = "10600de000000001"
/** sectors of the simulated flash chip unless asked otherwise */
export const SIM_FLASH_SECTORS = 256

export interface Simulation {
    /** the simulator bus, where the simulated hardware is hosted */
    readonly bus: jd.JDBus
    /** the bus the host talks to the devices on: `bus` itself, or the USB serial link's (hostLink) */
    readonly hostBus: jd.JDBus
    readonly hostLink: HostLink
    /** how a `pft` command reaches the devices over the host link: its --url or --port */
    readonly hostConnect: { url: string } | { port: string }
    /** the pty bridge under the serial host link */
    readonly bridge?: PtyBridge
    /**
     * Runs `fn` with the host link free for another opener, a `pft` command
     * given `hostConnect`: a serial port takes one opener at a time, as a
     * real one does, so over USB serial `hostBus` is closed meanwhile and a
     * new one opened after (find clients on it again). On the simulator bus
     * it just runs `fn`.
     */
    withHostLinkFree<T>(fn: () => Promise<T>): Promise<T>
    readonly devtools: ManagedProcess
    readonly vm: ManagedProcess
    /** the stimulator module's firmware, when asked for (`stimFirmware`) */
    readonly stim?: ModuleVmSim
    /** the log module's firmware and its flash chip, when asked for (`logFirmware`) */
    readonly log?: LogModuleSim
    /** Stops the bus, the VM and devtools; safe to call more than once. */
    stop(): Promise<void>
}

/** A module's firmware in a VM of its own, with its own settings. */
export interface ModuleVmSim {
    /** the module's VM now (restart() replaces it) */
    vm(): ManagedProcess
    /**
     * Kills the module's VM at once (a power cut: no shutdown) and starts it again on the same settings (and flash),
     * after `whileOff` resolves when given (what happens while the module is off).
     */
    restart(whileOff?: () => Promise<void>): Promise<void>
}

export interface LogModuleSim extends ModuleVmSim {
    readonly flash: SimFlashServer
}

/**
 * The firmware's crash report, if the VM printed one (an uncaught exception
 * and its stack, or a PANIC), else undefined: an error on the host side
 * ("the trainer did not answer") then names the cause.
 */
export function firmwareCrash(sim: Simulation): string | undefined {
    const lines = sim.vm.lines
    const at = lines.findIndex(l => /Exception:|PANIC/.test(l))
    if (at < 0) return undefined
    return lines
        .slice(at, at + 8)
        .map(l => l.replace(/^.*?WASM>\s*/, "").trim())
        .join("\n  ")
}

/** Whether something listens on 127.0.0.1:`port`. */
export function portInUse(port: number): Promise<boolean> {
    return new Promise(resolve => {
        const socket = createConnection({ host: "127.0.0.1", port })
        socket.once("connect", () => {
            socket.destroy()
            resolve(true)
        })
        socket.once("error", () => resolve(false))
    })
}

async function waitForPortFree(port: number, waitMs: number): Promise<void> {
    const deadline = Date.now() + waitMs
    while (await portInUse(port)) {
        if (Date.now() > deadline)
            throw new Error(
                `port ${port} is in use: another simulation (pft sim, a test or devtools) is running. Stop it and try again.`
            )
        await new Promise(r => setTimeout(r, 200))
    }
}

/** Every file under `dir` (recursively), sorted. */
function filesUnder(dir: string): string[] {
    if (!existsSync(dir)) return []
    const out: string[] = []
    for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) out.push(...filesUnder(p))
        else out.push(p)
    }
    return out.sort()
}

/**
 * The compiled image of firmware `entry`, built once per content of the
 * firmware sources (src/, services/, the entry's folder, devsconfig.json) and
 * kept in .devicescript/cache: compiling in `devs run` costs ~3 s per
 * simulation start, and the e2e tests start a dozen and a half.
 */
export async function firmwareImage(cwd: string, entry: string, timeoutMs: number): Promise<string> {
    const hash = createHash("sha256")
    // the entry's own folder too: an entry outside src/ (a bench's) may import its neighbours
    const sources = [...filesUnder(join(cwd, "src")), ...filesUnder(join(cwd, "services")), ...filesUnder(dirname(join(cwd, entry))), join(cwd, "devsconfig.json")]
    for (const f of sources) {
        if (!existsSync(f)) continue
        hash.update(f)
        hash.update(readFileSync(f))
    }
    const cacheDir = join(cwd, ".devicescript", "cache")
    const image = join(cacheDir, `${basename(entry).replace(/\W+/g, "_")}-${hash.digest("hex").slice(0, 16)}.devs`)
    if (existsSync(image)) return image
    mkdirSync(cacheDir, { recursive: true })
    // every build writes .devicescript/bin: simulations starting side by side (e2e workers) build one at a time
    const release = await lockDir(join(cacheDir, "build.lock"), timeoutMs)
    try {
        if (existsSync(image)) return image // built by another worker while this one waited
        const build = startDevicescript({ name: `build ${entry}`, args: ["build", "--quiet", entry], cwd })
        await build.waitForExit(timeoutMs)
        const partial = `${image}.${process.pid}.tmp`
        copyFileSync(join(cwd, ".devicescript", "bin", "bytecode.devs"), partial)
        renameSync(partial, image) // whole or absent, for a reader in another process
    } finally {
        release()
    }
    return image
}

/** The trainer VM's working directory (its flash lives under it): $PFT_SIM_HOME, else the repo. */
export function trainerVmDir(): string {
    return process.env.PFT_SIM_HOME || repoRoot()
}

/** The firmware entries a simulation runs: the trainer's, the stim module's and the log module's. */
export const SIM_FIRMWARE_ENTRIES = ["src/main.ts", "src/main_stim.ts", "src/main_log.ts"] as const

/**
 * Compiles every simulation firmware image not yet in the cache, so that
 * simulations then started side by side (the e2e workers) never compile:
 * a build rewrites .devicescript/services.json, which they read.
 */
export async function buildSimFirmware(timeoutMs = 120000): Promise<string[]> {
    const images: string[] = []
    for (const entry of SIM_FIRMWARE_ENTRIES) images.push(await firmwareImage(repoRoot(), entry, timeoutMs))
    return images
}

/** Starts devtools and the firmware VM, and connects a Node bus to them. */
export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
    const cwd = repoRoot()
    const firmware = options.firmware ?? "src/main.ts"
    if (!existsSync(join(cwd, firmware))) throw new Error(`firmware entry ${firmware} not found in ${cwd}`)
    await waitForPortFree(DEVTOOLS_PORT, options.portWaitMs ?? 30000)
    const vmDir = trainerVmDir()
    mkdirSync(vmDir, { recursive: true })
    if (options.clearFlash ?? true) rmSync(join(vmDir, ".devicescript", "flash", "sim.bin"), { force: true })

    const started: ManagedProcess[] = []
    let bus: jd.JDBus | undefined
    let hostBus: jd.JDBus | undefined
    let bridge: PtyBridge | undefined
    let stopped = false
    const dirs: string[] = []
    /** the module VMs running now (restart() replaces one), stopped before the rest */
    const moduleVms: ManagedProcess[] = []
    let flash: SimFlashServer | undefined
    const stop = async () => {
        if (stopped) return
        stopped = true
        if (hostBus && hostBus !== bus) await closeBus(hostBus).catch(() => {})
        await bridge?.stop()
        if (bus) await closeBus(bus).catch(() => {})
        for (const p of moduleVms) await p.stop()
        for (const p of started.reverse()) await p.stop()
        flash?.close()
        for (const d of dirs) rmSync(d, { recursive: true, force: true })
    }
    /** compiled first and run from its own directory: every VM compiles to .devicescript/bin and keeps its flash in the working directory */
    const buildInDir = async (entry: string, name: string, keepDir?: string): Promise<string> => {
        const dir = keepDir ?? mkdtempSync(join(tmpdir(), `pft-${name}-vm-`))
        if (keepDir) mkdirSync(keepDir, { recursive: true })
        else dirs.push(dir)
        copyFileSync(await firmwareImage(cwd, entry, options.startTimeoutMs ?? 60000), join(dir, `${name}.devs`))
        return dir
    }
    /** A module's firmware (built into `dir` by buildInDir) as a device of its own on the bus, once it has deployed. */
    const runModuleVm = async (dir: string, name: string, deviceId: string): Promise<ManagedProcess> => {
        const p = startDevicescript({ name: `${name} vm`, args: ["run", join(dir, `${name}.devs`), "--device-id", deviceId], cwd: dir })
        try {
            await p.waitForLine(/self-deployed|deployed/, options.startTimeoutMs ?? 30000)
        } catch (e) {
            await p.stop()
            throw e
        }
        return p
    }
    /** A module's VM started, with restart (a power cut: killed at once, then started again on the same directory). */
    const moduleVm = async (dir: string, name: string, deviceId: string): Promise<ModuleVmSim> => {
        let now = await runModuleVm(dir, name, deviceId)
        moduleVms.push(now)
        return {
            vm: () => now,
            restart: async whileOff => {
                await now.stop(0)
                await whileOff?.()
                const next = await runModuleVm(dir, name, deviceId)
                moduleVms[moduleVms.indexOf(now)] = next
                now = next
            },
        }
    }
    try {
        const devtools = startDevicescript({ name: "devtools", args: ["devtools"], cwd })
        started.push(devtools)
        await devtools.waitForLine(/websocket\s*:\s*ws:\/\/127\.0\.0\.1:8081/, 20000)
        let stim: ModuleVmSim | undefined
        if (options.stimFirmware) stim = await moduleVm(await buildInDir("src/main_stim.ts", "stim", options.stimDir), "stim", STIM_VM_DEVICE_ID)
        const logDir = options.logFirmware ? await buildInDir("src/main_log.ts", "log", options.logDir) : undefined
        const image = await firmwareImage(cwd, firmware, options.startTimeoutMs ?? 60000)
        const vm = startDevicescript({ name: "vm", args: ["run", image], cwd: vmDir, onLine: options.onVmLine })
        started.push(vm)
        await vm.waitForLine(/self-deployed|deployed/, options.startTimeoutMs ?? 30000)
        bus = await connectSimBus(SIM_BUS_URL)
        let log: LogModuleSim | undefined
        if (logDir) {
            flash = await hostFlash(bus, { file: join(logDir, "flash.img"), sectorCount: options.flashSectors ?? SIM_FLASH_SECTORS })
            log = { flash, ...(await moduleVm(logDir, "log", LOG_VM_DEVICE_ID)) }
        }
        const hostLink = options.hostLink ?? "sim"
        let hostConnect: Simulation["hostConnect"] = { url: SIM_BUS_URL }
        let withHostLinkFree: Simulation["withHostLinkFree"] = fn => fn()
        if (hostLink === "serial") {
            const b = await startPtyBridge({ busUrl: SIM_BUS_URL })
            bridge = b
            hostConnect = { port: b.hostPath }
            const openHostBus = () => {
                const link = openTransport({ kind: "usb", address: b.hostPath })
                // a stalled or closed port, said when it happens: the host's waits time out after it
                void link.lost().then(e => stopped || console.error(`simulation: the host's USB serial link dropped: ${e.message}`))
                return link.connect()
            }
            hostBus = await openHostBus()
            withHostLinkFree = async fn => {
                await closeBus(hostBus!)
                try {
                    return await fn()
                } finally {
                    hostBus = await openHostBus()
                }
            }
        } else hostBus = bus
        const simBus = bus
        return {
            bus: simBus,
            get hostBus() {
                return hostBus!
            },
            hostLink,
            hostConnect,
            bridge,
            withHostLinkFree,
            devtools,
            vm,
            stim,
            log,
            stop,
        }
    } catch (e) {
        await stop()
        throw e
    }
}
