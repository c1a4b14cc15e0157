/**
 * `pft devices`: the simulator bus's devices and the USB serial ports that
 * may be a trainer (every serial port with --all).
 */
import * as jd from "jacdac-ts"
import { closeBus, connectSimBus, SIM_BUS_URL } from "../transport/sim-bus"
import { listSerialPorts, type SerialPortListing } from "../transport/serial-ports"
import { CliError, EXIT } from "../errors"

export interface DevicesOptions {
    url?: string
    wait: number
    json?: boolean
    /** list every serial port, not only likely trainers */
    all?: boolean
}

export interface DeviceListing {
    transport: "sim"
    deviceId: string
    shortId: string
    services: string[]
}

export interface DevicesReport {
    sim: { url: string; running: boolean; devices: DeviceListing[] }
    usb: { ports: SerialPortListing[]; error?: string }
}

/** Lists what is on the simulator bus; a CliError if nothing answers at `url`. */
export async function listSimDevices(url: string, waitMs: number): Promise<DeviceListing[]> {
    let bus: jd.JDBus
    try {
        bus = await connectSimBus(url)
    } catch (e) {
        throw new CliError(`no simulator bus at ${url}: start one with \`pft sim\` (${(e as Error).message})`, EXIT.noDevice)
    }
    try {
        await new Promise(r => setTimeout(r, waitMs))
        if (!bus.connected) throw new CliError(`no simulator bus at ${url}: start one with \`pft sim\``, EXIT.noDevice)
        return bus
            .devices({ ignoreInfrastructure: true })
            .filter(d => !d.isClient && d.deviceId !== bus.selfDevice?.deviceId)
            .map(d => ({
                transport: "sim" as const,
                deviceId: d.deviceId,
                shortId: d.shortId,
                services: d.services().slice(1).map(s => s.specification?.shortId ?? `0x${s.serviceClass.toString(16)}`),
            }))
    } finally {
        await closeBus(bus)
    }
}

export interface DevicesDeps {
    sim?: (url: string, waitMs: number) => Promise<DeviceListing[]>
    usb?: (all: boolean) => Promise<SerialPortListing[]>
}

/** Both links at once; neither failing stops the other from being listed. */
export async function listDevices(opts: DevicesOptions, deps: DevicesDeps = {}): Promise<DevicesReport> {
    const url = opts.url ?? SIM_BUS_URL
    const [sim, usb] = await Promise.allSettled([
        (deps.sim ?? listSimDevices)(url, opts.wait),
        (deps.usb ?? (all => listSerialPorts({ all })))(!!opts.all),
    ])
    return {
        sim: { url, running: sim.status === "fulfilled", devices: sim.status === "fulfilled" ? sim.value : [] },
        usb: usb.status === "fulfilled" ? { ports: usb.value } : { ports: [], error: (usb.reason as Error)?.message ?? String(usb.reason) },
    }
}

/** The text `pft devices` prints. */
export function formatDevices(r: DevicesReport, all = false): string[] {
    const lines: string[] = []
    if (r.usb.error) lines.push(`usb  cannot list serial ports: ${r.usb.error}`)
    else if (!r.usb.ports.length) lines.push(all ? "usb  no serial ports" : "usb  no trainer plugged in (--all lists every serial port)")
    for (const p of r.usb.ports) {
        const ids = p.vendorId ? `${p.vendorId}:${p.productId ?? "?"}` : "no USB ids"
        lines.push(`usb  ${p.path}  ${ids}  ${[p.manufacturer, p.serialNumber].filter(Boolean).join(" ")}${p.likely ? `  (${p.likely})` : ""}`.trimEnd())
    }
    if (!r.sim.running) lines.push(`sim  no simulator bus at ${r.sim.url} (start one with \`pft sim --serve\`)`)
    else if (!r.sim.devices.length) lines.push(`sim  no devices on the simulator bus at ${r.sim.url}`)
    for (const d of r.sim.devices) lines.push(`sim  ${d.shortId}  ${d.deviceId}  ${d.services.join(", ")}`)
    return lines
}

export async function runDevices(opts: DevicesOptions): Promise<void> {
    const report = await listDevices(opts)
    if (!report.sim.running && !report.usb.ports.length)
        throw new CliError(
            `no devices: no trainer plugged in over USB${report.usb.error ? ` (${report.usb.error})` : ""}, and no simulator bus at ${report.sim.url}: plug the trainer in, or start one with \`pft sim\` (\`pft sim --serve\` keeps it running)`,
            EXIT.noDevice
        )
    if (opts.json) {
        console.log(JSON.stringify(report, null, 2))
        return
    }
    for (const line of formatDevices(report, opts.all)) console.log(line)
}
