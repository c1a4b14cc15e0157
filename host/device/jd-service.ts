/** Finding a project service on the bus and reading its pushed reports, for every client in host/device. */
import * as jd from "jacdac-ts"
import { packetInfo, registerReportCode, serviceInfo } from "../spec"

/** Waits for a service of the spec `shortId` on the bus; `missing` says what to check when none comes. */
export async function findService(bus: jd.JDBus, shortId: string, timeoutMs: number, missing: string): Promise<jd.JDService> {
    const serviceClass = serviceInfo(shortId).classIdentifier
    const deadline = Date.now() + timeoutMs
    for (;;) {
        const found = bus.services({ serviceClass })
        if (found.length) return found[0]
        if (Date.now() > deadline) throw new Error(missing)
        await new Promise(r => setTimeout(r, 100))
    }
}

/**
 * The service `found` is now. A restart of its device (the trainer restarts
 * into a newly installed program, a module is power-cycled) makes jacdac-ts
 * replace the device's service objects, or the device object itself when
 * the device was gone long enough to be dropped, so a client looks it up on
 * the bus by device id each time (report subscriptions are made on the bus:
 * onServiceReport).
 */
export function currentService(found: jd.JDService): jd.JDService {
    // a device silent for a while (a module's power cycle under load) is dropped and comes back as a new object
    const device = found.device.bus?.device(found.device.deviceId, true) ?? found.device
    return device.service(found.serviceIndex) ?? found
}

/**
 * Calls `handler` with every report of the service `service` (its device
 * and index), for as long as the subscription lasts. Subscribed on the bus,
 * not on the service object: jacdac-ts replaces that object when the device
 * restarts, and the device object too when it was silent for 3 s
 * (JD_DEVICE_DISCONNECTED_DELAY: a loaded machine, a serial link that
 * stalls), and a subscription made on the old one hears nothing more.
 * Returns an unsubscribe.
 */
export function onServiceReport(service: jd.JDService, handler: (pkt: jd.Packet) => void): () => void {
    const { deviceId, bus } = service.device
    const serviceIndex = service.serviceIndex
    return bus.subscribe(jd.PACKET_REPORT, (pkt: jd.Packet) => {
        if (pkt.deviceIdentifier === deviceId && pkt.serviceIndex === serviceIndex) handler(pkt)
    })
}

/** Calls `handler` with the unpacked fields of every report of register `register` (spec `shortId`); returns an unsubscribe. */
export function onRegisterReport(service: jd.JDService, shortId: string, register: string, handler: (values: unknown[]) => void): () => void {
    const code = registerReportCode(shortId, register)
    const format = packetInfo(shortId, register).packFormat!
    return onServiceReport(service, pkt => {
        if (pkt.serviceCommand === code) handler(jd.jdunpack<unknown[]>(pkt.data, format))
    })
}

/**
 * Reads register `register` (spec `shortId`) of the service `service()` gives
 * now, retrying: a read changes nothing, and jacdac-ts gives one refresh
 * only 150 ms, which a device busy right after boot (or a serial link) can
 * miss. The service is looked up on each try: a device restart replaces it.
 * `who` names the device in the error ("the trainer").
 */
export async function readRegisterValues(service: () => jd.JDService, shortId: string, register: string, who: string, tries = 3): Promise<unknown[]> {
    for (let i = 0; i < tries; i++) {
        const reg = service().register(packetInfo(shortId, register).identifier)
        if (await reg.refresh()) return (reg.unpackedValue ?? []) as unknown[]
        await new Promise(r => setTimeout(r, 100))
    }
    throw new Error(`${who} did not answer a read of ${register} after ${tries} tries`)
}
