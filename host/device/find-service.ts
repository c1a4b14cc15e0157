import * as jd from "jacdac-ts"
import { serviceInfo } from "../spec"

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
