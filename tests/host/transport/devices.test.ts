// `pft devices` lists both links (host/commands/devices.ts), and the
// firmware check names what a device runs (host/device/firmware.ts).
import { describe, expect, test } from "vitest"
import { formatDevices, listDevices, type DeviceListing } from "../../../host/commands/devices"
import type * as jd from "jacdac-ts"
import { describeFirmware, firmwareProblem, otherTrainerInterface, UPDATE_HINT } from "../../../host/device/firmware"
import { interfaceVersion, serviceInfo, STIM_CONTROL_SERVICE, TRAINER_SERVICE } from "../../../host/spec"
import { EXIT } from "../../../host/errors"
import type { SerialPortListing } from "../../../host/transport/serial-ports"

const simDevice: DeviceListing = { transport: "sim", deviceId: "e1daef9b9723f6da", shortId: "AB12", services: ["trainer"] }
const esp: SerialPortListing = { transport: "usb", path: "/dev/ttyACM0", vendorId: "303a", productId: "1001", manufacturer: "Espressif", likely: "Espressif (ESP32-S2/S3/C3 native USB)" }

describe("pft devices", () => {
    test("lists the USB trainers and the simulator's devices together", async () => {
        const r = await listDevices({ wait: 10 }, { sim: async () => [simDevice], usb: async () => [esp] })
        expect(r.sim).toEqual({ url: "ws://127.0.0.1:8081/", running: true, devices: [simDevice] })
        expect(r.usb).toEqual({ ports: [esp] })
        expect(formatDevices(r)).toEqual([
            "usb  /dev/ttyACM0  303a:1001  Espressif  (Espressif (ESP32-S2/S3/C3 native USB))",
            "sim  AB12  e1daef9b9723f6da  trainer",
        ])
    })

    test("no simulator running still lists USB, and says how to start the simulator", async () => {
        const r = await listDevices({ wait: 10, url: "ws://127.0.0.1:9/" }, {
            sim: async () => {
                throw new Error("no simulator bus")
            },
            usb: async () => [esp],
        })
        expect(r.sim.running).toBe(false)
        expect(formatDevices(r)[1]).toBe("sim  no simulator bus at ws://127.0.0.1:9/ (start one with `pft sim --serve`)")
    })

    test("ports that cannot be listed are reported, not fatal", async () => {
        const r = await listDevices({ wait: 10 }, {
            sim: async () => [],
            usb: async () => {
                throw new Error("spawn udevadm ENOENT")
            },
        })
        expect(r.usb).toEqual({ ports: [], error: "spawn udevadm ENOENT" })
        expect(formatDevices(r)).toEqual(["usb  cannot list serial ports: spawn udevadm ENOENT", "sim  no devices on the simulator bus at ws://127.0.0.1:8081/"])
    })

    test("--all is passed to the port listing", async () => {
        let asked: boolean | undefined
        await listDevices({ wait: 10, all: true }, { sim: async () => [], usb: async all => ((asked = all), []) })
        expect(asked).toBe(true)
    })
})

describe("firmware check", () => {
    const where = "USB serial /dev/ttyACM0"
    test("trainer service present: fine", () => {
        expect(firmwareProblem({ trainerFound: true, firmware: { programName: "pft", programVersion: "v0.1.1" }, where })).toBeUndefined()
        expect(firmwareProblem({ trainerFound: true, where })).toBeUndefined()
    })
    test("no trainer and no DeviceScript program: no device (exit 3)", () => {
        const e = firmwareProblem({ trainerFound: false, where })!
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain("no trainer found")
        expect(e.message).toContain("`pft sim --serve`")
    })
    test("a DeviceScript program without the trainer service: wrong firmware (exit 5), named, with how to update", () => {
        const e = firmwareProblem({ trainerFound: false, firmware: { programName: "blinky", programVersion: "v1.0.0", runtimeVersion: "2.16.4" }, where })!
        expect(e.exitCode).toBe(EXIT.wrongFirmware)
        expect(e.message).toBe(`this trainer runs firmware blinky v1.0.0 (DeviceScript 2.16.4), which has no trainer service; ${UPDATE_HINT}`)
    })
    test("a trainer of another interface version: wrong firmware (exit 5), older or newer said, and which side to update", () => {
        const ours = serviceInfo(TRAINER_SERVICE).classIdentifier
        const v = interfaceVersion(ours)
        const older = firmwareProblem({ trainerFound: false, otherTrainerInterface: ours - 0x100, firmware: { programName: "pft", programVersion: "v0.0.9" }, where })!
        expect(older.exitCode).toBe(EXIT.wrongFirmware)
        expect(older.message).toBe(`this trainer runs firmware pft v0.0.9, which speaks an older version of the trainer interface (version ${v - 1}; this pft speaks version ${v}); ${UPDATE_HINT}`)
        const newer = firmwareProblem({ trainerFound: false, otherTrainerInterface: ours + 0x100, where })!
        expect(newer.exitCode).toBe(EXIT.wrongFirmware)
        expect(newer.message).toContain(`speaks a newer version of the trainer interface (version ${v + 1}`)
        expect(newer.message).toContain("update pft")
    })
    test("another interface version is told by the identifier's version byte, in the pft family, for the trainer's service byte only", async () => {
        const ours = serviceInfo(TRAINER_SERVICE).classIdentifier
        // what the function reads of a bus: its devices' announced service classes
        const busWith = (classes: number[]) => ({ devices: () => [{ services: () => classes.map(c => ({ serviceClass: c })) }] }) as unknown as jd.JDBus
        expect(otherTrainerInterface(busWith([ours - 0x100]))).toBe(ours - 0x100)
        expect(otherTrainerInterface(busWith([ours]))).toBeUndefined()
        // another pft service (the stim supervisor's byte) or a foreign family: not a trainer
        expect(otherTrainerInterface(busWith([serviceInfo(STIM_CONTROL_SERVICE).classIdentifier + 0x100, 0x12340c03]))).toBeUndefined()
    })
    test.each([
        [{}, "an unnamed program"],
        [{ programName: "pft" }, "pft"],
        [{ programName: "pft", programVersion: "v0.1.1-0382b57" }, "pft v0.1.1-0382b57"],
        [{ runtimeVersion: "2.16.4" }, "an unnamed program (DeviceScript 2.16.4)"],
    ])("describeFirmware(%j) = %s", (fw, text) => {
        expect(describeFirmware(fw)).toBe(text)
    })
})
