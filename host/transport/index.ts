/**
 * The host's transports: one entry per link. Adding a link is a file in
 * this folder and a line here.
 */
import { simBusTransport, SIM_BUS_URL } from "./sim-bus"
import type { Transport, TransportKind } from "./transport"
import { usbSerialTransport } from "./usb-serial"

export * from "./transport"

/** What a transport is opened on: a websocket URL for the simulator, a port path for USB. */
export interface TransportTarget {
    kind: TransportKind
    /** the websocket URL (sim) or the serial port path (usb) */
    address: string
}

export const TRANSPORTS: Record<TransportKind, { label: string; open(address: string): Transport }> = {
    sim: { label: "simulator bus", open: url => simBusTransport({ url }) },
    usb: { label: "USB serial", open: path => usbSerialTransport({ path }) },
}

export function openTransport(target: TransportTarget): Transport {
    return TRANSPORTS[target.kind].open(target.address)
}

export { SIM_BUS_URL }
