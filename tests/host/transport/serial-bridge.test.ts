// The USB serial path for real, without hardware and without the
// simulator: a tiny websocket hub on an ephemeral port stands in for the
// devtools bus, a jacdac-ts device on it hosts a fake trainer service, and
// the pty bridge (socat) makes a "USB port" the host opens with the USB
// serial transport. Skipped, saying so, when socat is missing.
import * as jd from "jacdac-ts"
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest"
import WebSocket, { WebSocketServer } from "ws"
import { NO_TRAINER, withTrainer } from "../../../host/device/connect"
import { CliError, EXIT } from "../../../host/errors"
import { packetInfo, projectServices, serviceInfo, TRAINER_SERVICE } from "../../../host/spec"
import { socatAvailable, startPtyBridge, type PtyBridge } from "../../../host/transport/pty-bridge"
import { closeBus } from "../../../host/transport/sim-bus"
import { TransportError, type Transport } from "../../../host/transport"
import { usbSerialTransport } from "../../../host/transport/usb-serial"

const hasSocat = socatAvailable()
if (!hasSocat) console.warn("serial bridge tests skipped: socat is missing (apt-get install socat)")

/** Relays every binary message to the other clients, as devtools does. */
function startHub(): Promise<{ url: string; close(): Promise<void> }> {
    return new Promise(resolve => {
        const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => {
            const { port } = wss.address() as { port: number }
            resolve({
                url: `ws://127.0.0.1:${port}/`,
                close: () =>
                    new Promise(r => {
                        for (const c of wss.clients) c.terminate()
                        wss.close(() => r())
                    }),
            })
        })
        wss.on("connection", ws =>
            ws.on("message", (data, isBinary) => {
                for (const c of wss.clients) if (c !== ws && c.readyState === WebSocket.OPEN) c.send(data, { binary: isBinary })
            })
        )
    })
}

interface FakeDevice {
    bus: jd.JDBus
    close(): Promise<void>
}

/** A device on the hub: a fake trainer (its program registers) or only a DeviceScript manager. */
async function startDevice(url: string, what: "trainer" | "other-firmware"): Promise<FakeDevice> {
    ;(globalThis as any).WebSocket ??= WebSocket
    projectServices()
    const bus = jd.createWebSocketBus({ url, busOptions: { disableRoleManager: true } } as any)
    const servers: jd.JDServiceServer[] = []
    if (what === "trainer") {
        const trainer = new jd.JDServiceServer(serviceInfo(TRAINER_SERVICE).classIdentifier)
        trainer.addRegister(packetInfo(TRAINER_SERVICE, "program_version").identifier, [7])
        trainer.addRegister(packetInfo(TRAINER_SERVICE, "clinic_key_id").identifier, [0x1234abcd])
        trainer.addRegister(packetInfo(TRAINER_SERVICE, "program_size").identifier, [321])
        trainer.addRegister(packetInfo(TRAINER_SERVICE, "program_result").identifier, [3, 7, 1, "installed"])
        servers.push(trainer)
    } else {
        const mgr = new jd.JDServiceServer(jd.SRV_DEVICE_SCRIPT_MANAGER)
        mgr.addRegister(jd.DeviceScriptManagerReg.ProgramName, ["blinky"])
        mgr.addRegister(jd.DeviceScriptManagerReg.ProgramVersion, ["v1.2.3"])
        mgr.addRegister(jd.DeviceScriptManagerReg.RuntimeVersion, [4, 16, 2]) // "u16 u8 u8": patch, minor, major
        servers.push(mgr)
    }
    bus.addServiceProvider(new jd.JDServerServiceProvider("fake", servers))
    await bus.connect()
    return { bus, close: () => closeBus(bus) }
}

async function cliError(p: Promise<unknown>): Promise<CliError> {
    try {
        await p
    } catch (e) {
        if (e instanceof CliError) return e
        throw e
    }
    throw new Error("expected a CliError")
}

describe.skipIf(!hasSocat)("USB serial over the pty bridge (fake bus, no simulator)", () => {
    let hub: Awaited<ReturnType<typeof startHub>>
    let device: FakeDevice | undefined
    let bridge: PtyBridge | undefined

    beforeAll(async () => {
        hub = await startHub()
    })
    afterEach(async () => {
        await bridge?.stop()
        await device?.close()
        bridge = device = undefined
    })
    afterAll(async () => {
        await hub.close()
    })

    test("the host finds the trainer on the serial port and reads its program status", async () => {
        device = await startDevice(hub.url, "trainer")
        bridge = await startPtyBridge({ busUrl: hub.url })
        const status = await withTrainer({ port: bridge.hostPath, waitMs: 5000 }, t => t.programStatus())
        expect(status).toEqual({ version: 7, keyId: 0x1234abcd, size: 321, result: { seq: 3, version: 7, status: 1, message: "installed" } })
        expect(bridge.stats.toBus).toBeGreaterThan(0)
        expect(bridge.stats.toHost).toBeGreaterThan(0)
        expect(bridge.stats.badFrames).toBe(0)
    }, 20000)

    test("a port another program holds is busy (exit 4) and says who holds it", async () => {
        device = await startDevice(hub.url, "trainer")
        bridge = await startPtyBridge({ busUrl: hub.url })
        const { SerialPort } = await import("serialport")
        const holder = new SerialPort({ path: bridge.hostPath, baudRate: 1_500_000, autoOpen: false })
        await new Promise<void>((res, rej) => holder.open(e => (e ? rej(e) : res())))
        try {
            const e = await cliError(withTrainer({ port: bridge.hostPath, waitMs: 2000 }, t => t.programStatus()))
            expect(e.exitCode).toBe(EXIT.busy)
            expect(e.message).toContain("in use by another program")
            expect(e.message).toContain(`pid ${process.pid}`) // this test process holds it
        } finally {
            await new Promise<void>(r => holder.close(() => r()))
        }
    }, 20000)

    test("unplugged in the middle of a command: the unplugged error (exit 6) at once; plugged back in, it works again", async () => {
        device = await startDevice(hub.url, "trainer")
        bridge = await startPtyBridge({ busUrl: hub.url })
        const b = bridge
        const started = Date.now()
        const e = await cliError(
            withTrainer({ port: b.hostPath, waitMs: 5000 }, async t => {
                await t.programStatus()
                await b.unplug()
                // a long transfer: reads until the link drops
                for (;;) await t.programStatus()
            })
        )
        expect(e.exitCode).toBe(EXIT.unplugged)
        expect(e.message).toContain("went away (unplugged")
        expect(e.message).toContain("run the command again")
        expect(Date.now() - started).toBeLessThan(8000)
        await b.replug()
        expect((await withTrainer({ port: b.hostPath, waitMs: 5000 }, t => t.programStatus())).version).toBe(7)
    }, 30000)

    test("a trainer that stops taking data in the middle of a command: the no-answer error (exit 3) once a write has waited writeStallMs, not a hang", async () => {
        device = await startDevice(hub.url, "trainer")
        bridge = await startPtyBridge({ busUrl: hub.url })
        const b = bridge
        const writeStallMs = 1000
        let frozenAt = 0
        let lost = false
        const e = await cliError(
            withTrainer(
                { port: b.hostPath, waitMs: 5000 },
                async t => {
                    await t.programStatus()
                    b.freeze()
                    frozenAt = Date.now()
                    // a push's chunks (200 B each): the OS buffers fill, then a write waits; once the link is
                    // lost, sends return at once, so the loop ends there and yields to the timers on the way
                    const chunk = packetInfo(TRAINER_SERVICE, "program_chunk", "command")
                    for (let at = 0; !lost; at += 200) {
                        await t.service.sendPacketAsync(jd.Packet.from(chunk.identifier, jd.jdpack(chunk.packFormat!, [at % 60000, 60000, Buffer.alloc(200, 0x5a)])))
                        await new Promise(r => setImmediate(r))
                    }
                },
                {
                    open: sel => {
                        const transport = usbSerialTransport({ path: sel.address!, writeStallMs })
                        void transport.lost().then(() => (lost = true))
                        return transport
                    },
                }
            )
        )
        b.thaw()
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain("stopped taking data")
        expect(e.message).toContain("plug it back in")
        expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(writeStallMs)
        expect(Date.now() - frozenAt).toBeLessThan(writeStallMs + 10000)
    }, 30000)

    test("a device without the trainer service: wrong firmware (exit 5), naming the firmware it runs", async () => {
        device = await startDevice(hub.url, "other-firmware")
        bridge = await startPtyBridge({ busUrl: hub.url })
        const e = await cliError(withTrainer({ port: bridge.hostPath, waitMs: 1500 }, t => t.programStatus()))
        expect(e.exitCode).toBe(EXIT.wrongFirmware)
        expect(e.message).toContain("this trainer runs firmware blinky v1.2.3 (DeviceScript 2.16.4)")
        expect(e.message).toContain("update it with")
    }, 20000)

    test("nothing on the bus behind the port: no trainer found (exit 3)", async () => {
        bridge = await startPtyBridge({ busUrl: hub.url })
        // no device: the handshake gets no frame back
        const e = await cliError(withTrainer({ port: bridge.hostPath, waitMs: 1000 }, t => t.programStatus()))
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain("sends no Jacdac packets")
    }, 20000)

    test("a port that does not exist: not found (exit 3)", async () => {
        const e = await cliError(withTrainer({ port: "/nonexistent/ttyACM9", waitMs: 1000 }, t => t.programStatus()))
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain("no serial port /nonexistent/ttyACM9")
    })

    test("no link at all (nothing at the simulator URL, no USB trainer): the no-trainer sentence, exit 3", async () => {
        const nothing: Transport = {
            kind: "sim",
            describe: () => "simulator bus ws://127.0.0.1:9/",
            lost: () => new Promise(() => {}),
            connect: async () => {
                throw new TransportError("not-found", "nothing answers at ws://127.0.0.1:9/")
            },
        }
        const e = await cliError(withTrainer({ waitMs: 500 }, t => t.programStatus(), { usbPorts: async () => [], open: () => nothing }))
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain(NO_TRAINER)
    })
})
