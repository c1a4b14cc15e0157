/**
 * The simulator bus transport: jacdac-ts over the DeviceScript devtools
 * websocket. (USB serial joins this folder in the transport issue.)
 */
import * as jd from "jacdac-ts"
import WebSocket from "ws"
import { projectServices } from "../spec"

/** Devtools has fixed ports (8081 websocket, 8082 tcp, 8083 debugger). */
export const SIM_BUS_URL = "ws://127.0.0.1:8081/"

/**
 * jacdac-ts reports every connect and dispose on console.debug; keep that
 * out of the CLI's and the tests' output unless PFT_DEBUG is set.
 */
function quietJacdacDebug() {
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
