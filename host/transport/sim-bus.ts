/**
 * The simulator bus transport: jacdac-ts over the DeviceScript devtools
 * websocket (`pft sim --serve`, or a test's simulation).
 */
import * as jd from "jacdac-ts"
import WebSocket from "ws"
import { projectServices } from "../spec"
import { TransportError, type Transport } from "./transport"

/** Devtools has fixed ports (8081 websocket, 8082 tcp, 8083 debugger). */
export const SIM_BUS_URL = "ws://127.0.0.1:8081/"

/**
 * jacdac-ts reports every connect and dispose on console.debug; keep that
 * out of the CLI's and the tests' output unless PFT_DEBUG is set.
 */
export function quietJacdacDebug() {
    if (!process.env.PFT_DEBUG) console.debug = () => {}
}

/** Opens a jacdac-ts bus on the devtools websocket and connects it. */
export async function connectSimBus(url = SIM_BUS_URL): Promise<jd.JDBus> {
    // jacdac-ts looks for a browser-style WebSocket global
    ;(globalThis as any).WebSocket ??= WebSocket
    projectServices()
    quietJacdacDebug()
    const bus = jd.createWebSocketBus({ url, busOptions: { disableRoleManager: true } } as any)
    await bus.connect()
    return bus
}

/** Disconnects and disposes a bus; safe to call twice. */
export async function closeBus(bus: jd.JDBus): Promise<void> {
    try {
        await bus.disconnect()
    } finally {
        bus.dispose()
    }
}

/** The simulator bus as a Transport. */
export function simBusTransport(opts: { url?: string } = {}): Transport {
    const url = opts.url ?? SIM_BUS_URL
    let lost: Promise<TransportError> = new Promise(() => {})
    return {
        kind: "sim",
        describe: () => `simulator bus ${url}`,
        lost: () => lost,
        async connect() {
            let bus: jd.JDBus
            try {
                bus = await connectSimBus(url)
            } catch (e) {
                throw new TransportError("not-found", `nothing answers at ${url} (${(e as Error).message})`, `simulator bus ${url}`)
            }
            const ws = bus.transports[0]
            if (!ws?.connected) {
                await closeBus(bus).catch(() => {})
                throw new TransportError("not-found", `nothing answers at ${url}`, `simulator bus ${url}`)
            }
            lost = new Promise(resolve =>
                ws.once(jd.DISCONNECT, () =>
                    resolve(new TransportError("unplugged", `the simulator bus at ${url} closed in the middle of the transfer: start it again and rerun the command`, `simulator bus ${url}`))
                )
            )
            return bus
        },
    }
}
