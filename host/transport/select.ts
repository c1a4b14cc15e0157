/**
 * Which link a command uses: `--port PATH` (USB serial) or `--url WS` (the
 * simulator bus) when given; otherwise the one USB trainer if exactly one
 * is plugged in, else the simulator bus. Pure: the ports found are an input.
 */
import { CliError, EXIT } from "../errors"
import type { TransportTarget } from "./index"
import { SIM_BUS_URL } from "./sim-bus"
import type { SerialPortListing } from "./serial-ports"

export interface SelectOptions {
    /** --port: a USB serial port path */
    port?: string
    /** --url: the simulator bus websocket */
    url?: string
}

export interface Selection extends TransportTarget {
    /** why this link, for messages ("the only USB trainer plugged in") */
    reason: string
}

export function selectTransport(opts: SelectOptions, usbPorts: readonly SerialPortListing[]): Selection {
    if (opts.port && opts.url)
        throw new CliError("give either --port (a USB trainer) or --url (the simulated one), not both", EXIT.usage)
    if (opts.port) return { kind: "usb", address: opts.port, reason: "--port" }
    if (opts.url) return { kind: "sim", address: opts.url, reason: "--url" }
    if (usbPorts.length === 1) return { kind: "usb", address: usbPorts[0].path, reason: "the only USB trainer plugged in" }
    if (usbPorts.length > 1)
        return {
            kind: "sim",
            address: SIM_BUS_URL,
            reason: `${usbPorts.length} USB devices found (${usbPorts.map(p => p.path).join(", ")}): pick one with --port; trying the simulator`,
        }
    return { kind: "sim", address: SIM_BUS_URL, reason: "no USB trainer plugged in" }
}

/** Whether the selection was the default guess (so a failure should mention both links). */
export function wasGuessed(sel: Selection): boolean {
    return sel.reason !== "--port" && sel.reason !== "--url"
}
