/**
 * A USB trainer without hardware, for tests: `socat` makes a pair of
 * pseudo-terminals, and this bridge plays the device on one of them,
 * forwarding Jacdac frames between it (JDUSB framing, ./jdusb-frame.ts) and
 * the simulator's devtools bus (one frame per websocket message). The host
 * opens the other one (`hostPath`) with the USB serial transport, exactly as
 * it opens /dev/ttyACM0.
 *
 *   host --serial--> hostPath =socat= devicePath <-bridge-> ws://127.0.0.1:8081 <-> VM
 *
 * Like the firmware, the bridge sends frames only after the host's
 * `enable_packets` (so nothing piles up in the pty before the host opens
 * it). `unplug()` kills socat: the host sees its port close, as when the
 * cable is pulled; `replug()` makes the pair again at the same paths.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import WebSocket from "ws"
import { bridgeCommandOf, encodeFrame, FrameDecoder, USB_BRIDGE_CMD } from "./jdusb-frame"
import { SIM_BUS_URL } from "./sim-bus"

export interface PtyBridgeOptions {
    /** the simulator's devtools websocket */
    busUrl?: string
    /** directory for the two pty links (default: a new temporary one) */
    dir?: string
    /** [ms] how long socat and the websocket may take to come up */
    startTimeoutMs?: number
}

export interface PtyBridgeStats {
    /** frames from the host forwarded to the bus */
    toBus: number
    /** frames from the bus written to the host */
    toHost: number
    /** framing/CRC errors on the serial side */
    badFrames: number
}

export interface PtyBridge {
    /** the "USB port" the host opens */
    readonly hostPath: string
    /** the end the bridge holds */
    readonly devicePath: string
    readonly stats: PtyBridgeStats
    /** Kills socat, as if the cable were pulled (the host's port closes). */
    unplug(): Promise<void>
    /** Makes the pty pair again at the same paths. */
    replug(): Promise<void>
    /** Stops socat (SIGSTOP) without closing anything: the host's writes pile up unread, as with a trainer whose firmware hung. */
    freeze(): void
    /** Lets a frozen socat run again (SIGCONT). */
    thaw(): void
    /** Stops everything and removes the links; safe to call twice. */
    stop(): Promise<void>
}

/** Whether `socat` is on the PATH (Debian: `apt-get install socat`). */
export function socatAvailable(): boolean {
    return spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!check()) {
        if (Date.now() > deadline) throw new Error(`pty bridge: ${what} within ${timeoutMs} ms`)
        await new Promise(r => setTimeout(r, 25))
    }
}

/** Starts socat and the bridge; resolves once both ends and the bus websocket are up. */
export async function startPtyBridge(opts: PtyBridgeOptions = {}): Promise<PtyBridge> {
    if (!socatAvailable()) throw new Error("pty bridge needs socat: `apt-get install socat`")
    const timeoutMs = opts.startTimeoutMs ?? 10000
    const ownDir = !opts.dir
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "pft-pty-"))
    const devicePath = join(dir, "device")
    const hostPath = join(dir, "host")
    const stats: PtyBridgeStats = { toBus: 0, toHost: 0, badFrames: 0 }
    const { SerialPort } = await import("serialport")

    let socat: ChildProcess | undefined
    let port: InstanceType<typeof SerialPort> | undefined
    let packetsEnabled = false
    let stopped = false

    const ws = new WebSocket(opts.busUrl ?? SIM_BUS_URL)
    ws.binaryType = "nodebuffer"
    await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`pty bridge: no simulator bus at ${opts.busUrl ?? SIM_BUS_URL}`)), timeoutMs)
        ws.once("open", () => (clearTimeout(timer), resolve()))
        ws.once("error", e => (clearTimeout(timer), reject(new Error(`pty bridge: no simulator bus at ${opts.busUrl ?? SIM_BUS_URL} (${e.message})`))))
    })
    ws.on("message", (data, isBinary) => {
        if (!isBinary || !packetsEnabled || !port?.isOpen) return
        stats.toHost++
        port.write(encodeFrame(new Uint8Array(data as Buffer)))
    })

    const decoder = new FrameDecoder({
        frame: frame => {
            const cmd = bridgeCommandOf(frame)
            if (cmd === USB_BRIDGE_CMD.enablePackets) packetsEnabled = true
            else if (cmd === USB_BRIDGE_CMD.disablePackets) packetsEnabled = false
            else if (cmd === undefined && ws.readyState === WebSocket.OPEN) {
                stats.toBus++
                ws.send(frame)
            }
        },
        error: () => stats.badFrames++,
    })

    const plug = async () => {
        rmSync(devicePath, { force: true })
        rmSync(hostPath, { force: true })
        packetsEnabled = false
        const proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`], {
            stdio: ["ignore", "ignore", "pipe"],
        })
        socat = proc
        let stderr = ""
        proc.stderr!.on("data", d => (stderr += d))
        await waitFor(() => /starting data transfer loop/.test(stderr) || proc.exitCode !== null, timeoutMs, "socat did not start")
        if (proc.exitCode !== null) throw new Error(`pty bridge: socat exited ${proc.exitCode}: ${stderr.trim()}`)
        await waitFor(() => existsSync(devicePath) && existsSync(hostPath), timeoutMs, "socat made no pty links")
        const p = new SerialPort({ path: devicePath, baudRate: 1_500_000, autoOpen: false })
        await new Promise<void>((resolve, reject) => p.open(e => (e ? reject(e) : resolve())))
        p.on("data", (d: Buffer) => decoder.push(d))
        p.on("error", () => {})
        port = p
    }

    const unplug = async () => {
        const proc = socat
        socat = undefined
        packetsEnabled = false
        if (proc && proc.exitCode === null) {
            proc.kill("SIGCONT") // a frozen one dies as well
            const exited = new Promise(r => proc.once("exit", r))
            proc.kill("SIGKILL")
            await exited
        }
        const p = port
        port = undefined
        if (p?.isOpen) await new Promise<void>(r => p.close(() => r()))
    }

    try {
        await plug()
    } catch (e) {
        await unplug()
        ws.close()
        throw e
    }

    return {
        hostPath,
        devicePath,
        stats,
        unplug,
        async replug() {
            await unplug()
            await plug()
        },
        freeze: () => void socat?.kill("SIGSTOP"),
        thaw: () => void socat?.kill("SIGCONT"),
        async stop() {
            if (stopped) return
            stopped = true
            await unplug()
            ws.close()
            if (ownDir) rmSync(dir, { recursive: true, force: true })
        },
    }
}
