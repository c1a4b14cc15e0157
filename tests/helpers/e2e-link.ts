/**
 * The host link this run of an e2e file uses. scripts/test.mjs runs every
 * e2e file that talks to the device twice, once per link (PFT_E2E_LINK=sim,
 * then serial: the pty bridge, as a trainer on USB); a file that does not
 * (or that tests both links itself) says so in a `// e2e-one-link:` line.
 * Run alone (`npx vitest run FILE`), a file uses the simulator bus.
 */
import { expect } from "vitest"
import { HOST_LINKS, type HostLink, type Simulation } from "../../host/sim/simulation"

function linkFromEnv(): HostLink {
    const v = process.env.PFT_E2E_LINK
    if (v === undefined || v === "") return "sim"
    if (!(HOST_LINKS as readonly string[]).includes(v)) throw new Error(`PFT_E2E_LINK=${v}: use ${HOST_LINKS.join(" or ")}`)
    return v as HostLink
}

export const E2E_HOST_LINK: HostLink = linkFromEnv()

/** `pft` arguments that reach a simulation on this run's link (Simulation.hostConnect) */
export function linkArgs(connect: { url: string } | { port: string }): string[] {
    return "port" in connect ? ["--port", connect.port] : ["--url", connect.url]
}

/**
 * Over USB serial, the host's traffic really went through the "port": frames
 * both ways and none malformed (on the simulator bus, nothing to check).
 */
export function expectHostLinkClean(sim: Simulation): void {
    if (sim.hostLink !== "serial") return
    const stats = sim.bridge!.stats
    expect({ toDevice: stats.toBus > 0, toHost: stats.toHost > 0, malformed: stats.badFrames }, "the USB serial link (pty bridge)").toEqual({
        toDevice: true,
        toHost: true,
        malformed: 0,
    })
}
