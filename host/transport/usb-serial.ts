/**
 * The USB serial transport: jacdac-ts over a serial port, in the JDUSB
 * framing of ./jdusb-frame.ts, opened with the `serialport` package.
 *
 * jacdac-ts's own `createNodeWebSerialTransport(SerialPort)` picks the first
 * port whose vendor it knows and cannot be given a path, and it swallows
 * open errors ("device not found"), so this file opens the port itself:
 * a chosen path, a clear error for each way opening fails, then a handshake
 * (`enable_packets` until the device answers with a frame) before the bus
 * sees the link. The bus then runs on jacdac-ts's WebSerialTransport with
 * this link underneath.
 *
 * Steps: open (not found / busy / permission) -> handshake (no answer) ->
 * bus connected -> lost (unplugged).
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs"
import * as jd from "jacdac-ts"
import { projectServices } from "../spec"
import { quietJacdacDebug } from "./sim-bus"
import { bridgeCommandFrame, encodeFrame, FrameDecoder, USB_BRIDGE_CMD } from "./jdusb-frame"
import { TransportError, type Transport } from "./transport"

/** [baud] what jacdac-ts and DeviceScript use; native USB CDC ignores it */
export const JDUSB_BAUD = 1_500_000

export interface UsbSerialOptions {
    path: string
    /** [ms] how long the device may take to answer enable_packets */
    handshakeMs?: number
    /** [ms] a write the port has not taken in this long means the device stopped reading (default WRITE_STALL_MS) */
    writeStallMs?: number
}

/**
 * [ms] A write to the port waits while the device takes no data (its
 * firmware hung, its USB stack stuck: the OS buffers fill). Without a bound
 * every command behind it waits forever; past this the link counts as lost,
 * so the command fails saying what to do. A working trainer takes a 64-byte
 * frame in well under a millisecond; 10 s leaves room for a loaded host.
 */
export const WRITE_STALL_MS = 10_000

/** A process that has a file open (from /proc, Linux only). */
export interface PortHolder {
    pid: number
    command: string
}

/**
 * Which processes have `path` open, best effort: /proc/<pid>/fd on Linux
 * (only processes this user may inspect), else nothing. Asked only after
 * the lock failed: holding a port open is not itself a conflict (socat
 * holds both ends of its pty pair).
 */
export function portHolders(path: string, proc = "/proc"): PortHolder[] {
    let target: string
    try {
        target = realpathSync(path)
    } catch {
        return []
    }
    const out: PortHolder[] = []
    let pids: string[]
    try {
        pids = readdirSync(proc).filter(p => /^\d+$/.test(p))
    } catch {
        return []
    }
    for (const pid of pids) {
        try {
            const fds = readdirSync(`${proc}/${pid}/fd`)
            if (!fds.some(fd => safeReadlink(`${proc}/${pid}/fd/${fd}`) === target)) continue
            out.push({ pid: Number(pid), command: readFileSync(`${proc}/${pid}/comm`, "utf8").trim() })
        } catch {
            // gone, or not ours to inspect
        }
    }
    return out
}

function safeReadlink(p: string): string | undefined {
    try {
        return readlinkSync(p)
    } catch {
        return undefined
    }
}

function holdersText(holders: PortHolder[]): string {
    return holders.length ? ` (held by ${holders.map(h => `${h.command}, pid ${h.pid}`).join("; ")})` : ""
}

/**
 * The TransportError for a failed open of `path`, from serialport's message
 * (bindings-cpp: "Error: <strerror>, cannot open <path>", "Error <strerror>
 * Cannot lock port") and the processes holding the port.
 */
export function openError(path: string, message: string, holders: PortHolder[] = []): TransportError {
    const where = `USB serial ${path}`
    if (/Cannot lock port|Resource busy|EBUSY|Resource temporarily unavailable/i.test(message))
        return new TransportError(
            "busy",
            `the trainer's port ${path} is in use by another program${holdersText(holders)}: close it (a serial monitor, \`devicescript devtools --serial\`, another pft) and try again`,
            where
        )
    if (/No such file|ENOENT|cannot find|not found/i.test(message))
        return new TransportError("not-found", `no serial port ${path}: is the trainer plugged in? \`pft devices\` lists the ports`, where)
    if (/Permission denied|EACCES/i.test(message))
        return new TransportError(
            "permission",
            `no permission to open ${path}: add yourself to the port's group (often \`sudo usermod -aG dialout $USER\`, then log in again)`,
            where
        )
    return new TransportError("not-found", `cannot open ${path}: ${message}`, where)
}

/**
 * An open serial port speaking JDUSB: decodes frames from it, sends frames
 * to it and tells when it goes away.
 */
class SerialLink {
    onFrame: (frame: Uint8Array) => void = () => {}
    private closing = false
    private framesSeen = 0
    private lostResolve!: (e: TransportError) => void
    readonly lost = new Promise<TransportError>(r => (this.lostResolve = r))
    private readonly decoder = new FrameDecoder({
        frame: f => {
            this.framesSeen++
            this.onFrame(f)
        },
        log: line => {
            if (process.env.PFT_DEBUG) console.error(`device: ${line}`)
        },
    })

    private constructor(
        readonly path: string,
        private readonly port: import("serialport").SerialPort,
        private readonly writeStallMs: number
    ) {
        port.on("data", (d: Buffer) => this.decoder.push(d))
        port.on("error", () => {
            // a failed read or write is followed by close (handled there)
        })
        port.on("close", () => {
            if (this.closing) return
            this.lostResolve(
                new TransportError(
                    "unplugged",
                    `the trainer on ${path} went away (unplugged, or its port closed) in the middle of the transfer: plug it back in and run the command again (\`pft logs pull\` resumes where it stopped)`,
                    `USB serial ${path}`
                )
            )
        })
    }

    static async open(path: string, writeStallMs = WRITE_STALL_MS): Promise<SerialLink> {
        const { SerialPort } = await import("serialport")
        const port = new SerialPort({ path, baudRate: JDUSB_BAUD, autoOpen: false, lock: true })
        await new Promise<void>((resolve, reject) =>
            port.open(e => (e ? reject(openError(path, e.message, portHolders(path))) : resolve()))
        )
        return new SerialLink(path, port, writeStallMs)
    }

    get isOpen() {
        return this.port.isOpen && !this.closing
    }

    write(bytes: Uint8Array): Promise<void> {
        if (!this.isOpen) return Promise.resolve()
        return new Promise(resolve => {
            const stall = setTimeout(() => {
                this.lostResolve(
                    new TransportError(
                        "no-answer",
                        `the trainer on ${this.path} stopped taking data (a write waited ${this.writeStallMs / 1000} s): its firmware may have hung. Unplug it, plug it back in and run the command again`,
                        `USB serial ${this.path}`
                    )
                )
                resolve()
            }, this.writeStallMs)
            this.port.write(Buffer.from(bytes), () => {
                clearTimeout(stall)
                resolve()
            })
        })
    }

    send(frame: Uint8Array): Promise<void> {
        return this.write(encodeFrame(frame))
    }

    /** Sends enable_packets until the device answers with any frame. */
    async handshake(timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs
        while (this.framesSeen === 0) {
            if (Date.now() > deadline)
                throw new TransportError(
                    "no-answer",
                    `the device on ${this.path} opened but sends no Jacdac packets within ${timeoutMs} ms: is it a trainer running its firmware? (see docs/engineering.md, "Flash a board")`,
                    `USB serial ${this.path}`
                )
            await this.send(bridgeCommandFrame(USB_BRIDGE_CMD.enablePackets))
            await new Promise(r => setTimeout(r, 100))
        }
    }

    async close(): Promise<void> {
        if (this.closing) return
        this.closing = true
        if (!this.port.isOpen) return
        await new Promise<void>(resolve => this.port.close(() => resolve()))
    }
}

/** jacdac-ts's serial IO, on a link that is already open and answering. */
class LinkIO implements jd.HF2_IO, jd.Proto {
    isFreeFlowing = true
    onData: (v: Uint8Array) => void = () => {}
    onError: (e: Error) => void = () => {}

    constructor(private readonly link: SerialLink) {}

    async connectAsync(): Promise<jd.Proto> {
        if (!this.link.isOpen) throw new Error(`${this.link.path} is closed`)
        return this
    }
    log(): void {}
    error(msg: string): void {
        this.onError(new Error(msg))
    }
    description(): string {
        return this.link.path
    }
    async sendPacketAsync(pkt: Uint8Array): Promise<void> {
        await this.link.write(pkt)
    }
    onJDMessage(f: (buf: Uint8Array) => void): void {
        this.link.onFrame = f
    }
    sendJDMessageAsync(buf: Uint8Array): Promise<void> {
        return this.link.send(buf)
    }
    async postConnectAsync(): Promise<void> {}
    async disconnectAsync(): Promise<void> {
        await this.link.close()
    }
}

/** A trainer on a USB serial port (or anything that looks like one: the pty bridge). */
export function usbSerialTransport(opts: UsbSerialOptions): Transport {
    let link: SerialLink | undefined
    const never = new Promise<TransportError>(() => {})
    return {
        kind: "usb",
        describe: () => `USB serial ${opts.path}`,
        lost: () => link?.lost ?? never,
        async connect() {
            projectServices()
            quietJacdacDebug()
            link = await SerialLink.open(opts.path, opts.writeStallMs)
            try {
                await link.handshake(opts.handshakeMs ?? 3000)
            } catch (e) {
                await link.close()
                throw e
            }
            const io = new LinkIO(link)
            const transport = new jd.WebSerialTransport({ mkTransport: () => io })
            const bus = new jd.JDBus([transport], { disableRoleManager: true, client: false })
            void link.lost.then(() => transport.disconnect(true))
            await bus.connect()
            return bus
        },
    }
}
