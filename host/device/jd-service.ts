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
 * replace the device's service objects, so a client looks it up on the
 * device each time; subscriptions stay with the object they were made on.
 */
export function currentService(found: jd.JDService): jd.JDService {
    return found.device.service(found.serviceIndex) ?? found
}

/** Calls `handler` with the unpacked fields of every report of register `register` (spec `shortId`); returns an unsubscribe. */
export function onRegisterReport(service: jd.JDService, shortId: string, register: string, handler: (values: unknown[]) => void): () => void {
    const code = registerReportCode(shortId, register)
    const format = packetInfo(shortId, register).packFormat!
    return service.subscribe(jd.REPORT_RECEIVE, (pkt: jd.Packet) => {
        if (pkt.serviceCommand === code) handler(jd.jdunpack<unknown[]>(pkt.data, format))
    })
}
