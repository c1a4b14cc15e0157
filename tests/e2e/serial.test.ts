// The trainer over "USB" for real, without hardware: the firmware runs in
// the VM on the devtools bus, the pty bridge (socat) makes a serial port
// that carries that bus in Jacdac serial (JDUSB) framing, and the host opens
// it with the USB serial transport, exactly as it opens /dev/ttyACM0. What
// the host reads over serial must equal what it reads on the simulator bus;
// pulling the "cable" (killing socat) mid-transfer must give the clear
// unplugged error, and the next command must work once it is plugged back.
// Needs socat (`apt-get install socat`); skipped, saying so, without it.
// e2e-one-link: it compares the two links itself
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { ProgramStatus, type Program } from "../../src/core/program"
import { withTrainer } from "../../host/device/connect"
import { findTrainer, type TrainerClient } from "../../host/device/trainer-client"
import { CliError, EXIT } from "../../host/errors"
import { repoRoot } from "../../host/paths"
import { createClinicKey } from "../../host/program/clinic-key"
import { signProgram } from "../../host/program/sign"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { socatAvailable, startPtyBridge, type PtyBridge } from "../../host/transport/pty-bridge"
import { SIM_BUS_URL } from "../../host/transport/sim-bus"

const hasSocat = socatAvailable()
if (!hasSocat) console.warn("e2e serial tests skipped: socat is missing (apt-get install socat; .ci/run installs it)")

function example(name: string, overrides: Partial<Program> = {}): Program {
    const p = JSON.parse(readFileSync(join(repoRoot(), "docs", "examples", name), "utf8")) as Program
    return { ...p, ...overrides }
}

describe.skipIf(!hasSocat)("the trainer over USB serial (pty bridge to the simulator)", () => {
    let sim: Simulation | undefined
    let bridge: PtyBridge | undefined
    let simTrainer: TrainerClient
    const dir = mkdtempSync(join(tmpdir(), "pft-e2e-serial-"))
    const key = createClinicKey({ file: join(dir, "clinic.json") })
    /** one command over the serial port, as `pft ... --port <hostPath>` runs it */
    const overSerial = <T>(fn: (t: TrainerClient) => Promise<T>) => withTrainer({ port: bridge!.hostPath, waitMs: 20000 }, fn)

    beforeAll(async () => {
        sim = await startSimulation()
        simTrainer = await findTrainer(sim.bus, 20000)
        bridge = await startPtyBridge({ busUrl: SIM_BUS_URL })
    }, 90000)

    afterAll(async () => {
        await bridge?.stop()
        await sim?.stop()
        rmSync(dir, { recursive: true, force: true })
    })

    test("the host finds the trainer on the serial port; its program status equals the simulator bus's", async () => {
        const serial = await overSerial(t => t.programStatus())
        expect(serial).toEqual(await simTrainer.programStatus())
        expect(serial.version).toBe(0)
        expect(bridge!.stats.badFrames).toBe(0)
    })

    test("provision the key and push a program over serial: the device says the same over both links", async () => {
        expect((await overSerial(t => t.provisionKey(Buffer.from(key.key)))).status).toBe(ProgramStatus.KeyInstalled)
        const signed = signProgram(example("downtraining-starter.json", { programVersion: 1 }), key.key)
        const pushed = await overSerial(t => t.pushProgram(signed.envelope))
        expect(pushed.status, pushed.message).toBe(ProgramStatus.Installed)

        const serial = await overSerial(t => t.programStatus())
        expect(serial).toEqual(await simTrainer.programStatus())
        expect(serial.version).toBe(1)
        expect(serial.keyId).toBe(key.keyId)
        const readBack = await overSerial(t => t.readProgram())
        expect(readBack.equals(signed.envelope)).toBe(true)
        expect(readBack.equals(await simTrainer.readProgram())).toBe(true)
    }, 60000)

    test("unplugged in the middle of a push: the unplugged error, the old program stays; plugged back in, the push goes through", async () => {
        const b = bridge!
        const v2 = signProgram(example("relax-then-tone.json", { programVersion: 2 }), key.key)
        // 32-byte chunks: the envelope (~120 bytes) goes in several, and the cable goes after the first
        const chunkBytes = 32
        expect(v2.envelope.length).toBeGreaterThan(2 * chunkBytes)
        let unplugged = false
        const err = await overSerial(t =>
            t.pushProgram(
                v2.envelope,
                () => {
                    if (unplugged) return
                    unplugged = true
                    void b.unplug()
                },
                chunkBytes
            )
        ).catch(e => e)
        expect(err).toBeInstanceOf(CliError)
        expect((err as CliError).exitCode).toBe(EXIT.unplugged)
        expect((err as CliError).message).toContain("went away (unplugged")
        expect((err as CliError).message).toContain("run the command again")
        expect((await simTrainer.programStatus()).version).toBe(1)

        await b.replug()
        const again = await overSerial(t => t.pushProgram(v2.envelope))
        expect(again.status, again.message).toBe(ProgramStatus.Installed)
        expect((await simTrainer.programStatus()).version).toBe(2)
    }, 60000)

    test("the port held by another program: busy (exit 4)", async () => {
        const { SerialPort } = await import("serialport")
        const holder = new SerialPort({ path: bridge!.hostPath, baudRate: 1_500_000, autoOpen: false })
        await new Promise<void>((res, rej) => holder.open(e => (e ? rej(e) : res())))
        try {
            const err = await overSerial(t => t.programStatus()).catch(e => e)
            expect((err as CliError).exitCode).toBe(EXIT.busy)
            expect((err as CliError).message).toContain("in use by another program")
        } finally {
            await new Promise<void>(r => holder.close(() => r()))
        }
    }, 30000)
})
