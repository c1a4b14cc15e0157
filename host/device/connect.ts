/**
 * Connects to the trainer for one command, over USB serial or the simulator
 * bus (host/transport/), in named steps whose errors say what to do:
 *
 *   select link -> open (no device / busy) -> find trainer (wrong firmware)
 *   -> run the command (unplugged) -> disconnect
 */
import type * as jd from "jacdac-ts"
import { CliError, EXIT } from "../errors"
import { openTransport, TransportError, type Transport, type TransportFailure } from "../transport"
import { selectTransport, wasGuessed, type Selection } from "../transport/select"
import { listSerialPorts, type SerialPortListing } from "../transport/serial-ports"
import { closeBus } from "../transport/sim-bus"
import { firmwareProblem, otherTrainerInterface, readFirmware } from "./firmware"
import { findTrainer, type TrainerClient } from "./trainer-client"

export interface ConnectOptions {
    /** --url: the simulator bus websocket */
    url?: string
    /** --port: a USB serial port */
    port?: string
    /** [ms] how long to look for the trainer */
    waitMs?: number
}

export const NO_TRAINER = "no trainer found: plug it in over USB, or start the simulated one with `pft sim --serve`"

const EXIT_FOR: Record<TransportFailure, number> = {
    "not-found": EXIT.noDevice,
    busy: EXIT.busy,
    permission: EXIT.noDevice,
    "no-answer": EXIT.noDevice,
    unplugged: EXIT.unplugged,
}

/** The CLI error for a link failure (one place maps failures to exit codes). */
export function cliErrorFor(e: TransportError, sel?: Selection): CliError {
    if (e.failure === "not-found" && sel && wasGuessed(sel))
        return new CliError(`${NO_TRAINER} (${sel.reason}; ${e.message})`, EXIT.noDevice)
    return new CliError(e.message, EXIT_FOR[e.failure])
}

export interface TrainerDeps {
    /** the USB trainers plugged in (default: listSerialPorts) */
    usbPorts?: () => Promise<SerialPortListing[]>
    /** opens a transport (tests pass fakes) */
    open?: (sel: Selection) => Transport
}

async function usbPortsOrNone(list: () => Promise<SerialPortListing[]>): Promise<SerialPortListing[]> {
    try {
        return await list()
    } catch {
        return [] // cannot list ports (no udev, no permission): fall back to the simulator
    }
}

/** Step "select" and "open": the link's bus, or a CliError. */
export async function openTrainerLink(opts: ConnectOptions, deps: TrainerDeps = {}): Promise<{ sel: Selection; transport: Transport; bus: jd.JDBus }> {
    const ports = opts.port || opts.url ? [] : await usbPortsOrNone(deps.usbPorts ?? (() => listSerialPorts()))
    const sel = selectTransport(opts, ports)
    const transport = (deps.open ?? openTransport)(sel)
    try {
        return { sel, transport, bus: await transport.connect() }
    } catch (e) {
        if (e instanceof TransportError) throw cliErrorFor(e, sel)
        throw e
    }
}

/** Step "find trainer": the trainer client, or why there is none (no device, wrong firmware). */
export async function trainerOn(bus: jd.JDBus, where: string, waitMs: number): Promise<TrainerClient> {
    try {
        return await findTrainer(bus, waitMs)
    } catch {
        const problem = firmwareProblem({ trainerFound: false, otherTrainerInterface: otherTrainerInterface(bus), firmware: await readFirmware(bus), where })
        throw problem ?? new CliError(`${NO_TRAINER} (on the ${where})`, EXIT.noDevice)
    }
}

/**
 * The host sets the trainer's wall clock whenever it connects (services/trainer.md
 * `set_wall_clock`, idempotent): the device keeps monotonic time, and the
 * session logs take their place on the calendar from this clock.
 */
export async function setTrainerClock(trainer: TrainerClient): Promise<void> {
    await trainer.setWallClock(Math.floor(Date.now() / 1000)).catch(() => {})
}

/**
 * `fn` failed: if the link dropped meanwhile (its close may trail the
 * command's own error by a moment), that is the error to report.
 */
async function preferLost(transport: Transport, sel: Selection, e: unknown): Promise<never> {
    const lost = await Promise.race([transport.lost(), new Promise<undefined>(r => setTimeout(() => r(undefined), 300))])
    throw lost ? cliErrorFor(lost, sel) : e
}

/**
 * Runs `fn` with the trainer and always disconnects. If the link drops
 * while `fn` runs, fails at once with the "unplugged" error instead of
 * waiting for `fn`'s own timeouts.
 */
export async function withTrainer<T>(opts: ConnectOptions, fn: (t: TrainerClient) => Promise<T>, deps: TrainerDeps = {}): Promise<T> {
    const { sel, transport, bus } = await openTrainerLink(opts, deps)
    try {
        const trainer = await trainerOn(bus, transport.describe(), opts.waitMs ?? 5000)
        await setTrainerClock(trainer)
        const lost = transport.lost().then(e => Promise.reject(cliErrorFor(e, sel)))
        lost.catch(() => {}) // only the race below reports it
        return await Promise.race([fn(trainer).catch(e => preferLost(transport, sel, e)), lost])
    } finally {
        await closeBus(bus).catch(() => {})
    }
}
