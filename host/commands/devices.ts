import * as jd from "jacdac-ts"
import { closeBus, connectSimBus } from "../transport/sim-bus"
import { CliError, EXIT } from "../errors"

export interface DevicesOptions {
    url: string
    wait: number
    json?: boolean
}

export interface DeviceListing {
    transport: "sim"
    deviceId: string
    shortId: string
    services: string[]
}

/** Lists what is on the simulator bus. */
export async function listSimDevices(url: string, waitMs: number): Promise<DeviceListing[]> {
    let bus: jd.JDBus
    try {
        bus = await connectSimBus(url)
    } catch (e) {
        throw new CliError(`no simulator bus at ${url}: start one with \`pft sim\` (${(e as Error).message})`, EXIT.noDevice)
    }
    try {
        await new Promise(r => setTimeout(r, waitMs))
        if (!bus.connected)
            throw new CliError(`no simulator bus at ${url}: start one with \`pft sim\``, EXIT.noDevice)
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

export async function runDevices(opts: DevicesOptions): Promise<void> {
    const devices = await listSimDevices(opts.url, opts.wait)
    if (opts.json) {
        console.log(JSON.stringify(devices, null, 2))
        return
    }
    if (!devices.length) {
        console.log("no devices on the simulator bus")
        return
    }
    for (const d of devices) console.log(`${d.transport}  ${d.shortId}  ${d.deviceId}  ${d.services.join(", ")}`)
}
