// Finding USB trainers (host/transport/serial-ports.ts) with a fake
// SerialPort.list() and a fake sysfs, and the errors of opening a port
// (host/transport/usb-serial.ts).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { likelyTrainer, listFromSysfs, listSerialPorts, type PortInfo } from "../../../host/transport/serial-ports"
import { openError, portHolders } from "../../../host/transport/usb-serial"

const PORTS: PortInfo[] = [
    { path: "/dev/ttyS0" },
    { path: "/dev/ttyACM1", vendorId: "303A", productId: "1001", manufacturer: "Espressif", serialNumber: "F4:12:FA:00:00:01" },
    { path: "/dev/ttyUSB0", vendorId: "10c4", productId: "ea60", manufacturer: "Silicon Labs" },
    { path: "/dev/ttyACM0", vendorId: "2341", productId: "0043", manufacturer: "Arduino" },
    { path: "/dev/ttyACM2", vendorId: "1234", productId: "0001", serialNumber: "JD1234" },
]

const dirs: string[] = []
afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir() {
    const d = mkdtempSync(join(tmpdir(), "pft-ports-"))
    dirs.push(d)
    return d
}

describe("listing USB serial ports", () => {
    test("only likely trainers by default (ESP32 USB vendors, Jacdac serial numbers), sorted by path", async () => {
        const got = await listSerialPorts({ list: async () => PORTS })
        expect(got.map(p => p.path)).toEqual(["/dev/ttyACM1", "/dev/ttyACM2", "/dev/ttyUSB0"])
        expect(got[0]).toMatchObject({ transport: "usb", vendorId: "303a", productId: "1001", manufacturer: "Espressif" })
        expect(got[0].likely).toContain("Espressif")
        expect(got[1].likely).toBe("Jacdac serial number")
    })

    test("--all lists every port, unknown ones without a reason", async () => {
        const got = await listSerialPorts({ all: true, list: async () => PORTS })
        expect(got.map(p => p.path)).toEqual(["/dev/ttyACM0", "/dev/ttyACM1", "/dev/ttyACM2", "/dev/ttyS0", "/dev/ttyUSB0"])
        expect(got.find(p => p.path === "/dev/ttyS0")!.likely).toBeUndefined()
    })

    test.each([
        [{ path: "a", vendorId: "303a" }, true],
        [{ path: "a", vendorId: "1a86" }, true],
        [{ path: "a", vendorId: "2341" }, false],
        [{ path: "a" }, false],
        [{ path: "a", serialNumber: "PX0001" }, true],
    ])("likelyTrainer(%j) -> %s", (p, yes) => {
        expect(!!likelyTrainer(p)).toBe(yes)
    })

    test("without udev: ports and USB ids from sysfs", () => {
        const root = tempDir()
        const usbDev = join(root, "devices", "usb1", "1-1")
        mkdirSync(join(usbDev, "1-1:1.0", "tty", "ttyACM0"), { recursive: true })
        writeFileSync(join(usbDev, "idVendor"), "303a\n")
        writeFileSync(join(usbDev, "idProduct"), "1001\n")
        writeFileSync(join(usbDev, "manufacturer"), "Espressif\n")
        writeFileSync(join(usbDev, "serial"), "F4:12\n")
        const tty = join(root, "class", "tty")
        mkdirSync(join(tty, "ttyACM0"), { recursive: true })
        symlinkSync(join(usbDev, "1-1:1.0"), join(tty, "ttyACM0", "device"))
        mkdirSync(join(tty, "ttyS0"), { recursive: true }) // not USB: skipped
        mkdirSync(join(tty, "ttyUSB3"), { recursive: true }) // no device link: listed without ids
        expect(listFromSysfs(tty, "/dev")).toEqual([
            { path: "/dev/ttyACM0", vendorId: "303a", productId: "1001", manufacturer: "Espressif", serialNumber: "F4:12" },
            { path: "/dev/ttyUSB3" },
        ])
        expect(listFromSysfs(join(root, "missing"))).toEqual([])
    })
})

describe("opening a port: errors that say what to do", () => {
    test.each([
        { message: "Error Resource temporarily unavailable Cannot lock port", failure: "busy", says: "in use by another program" },
        { message: "Error: No such file or directory, cannot open /dev/ttyACM0", failure: "not-found", says: "is the trainer plugged in" },
        { message: "Error: Permission denied, cannot open /dev/ttyACM0", failure: "permission", says: "dialout" },
        { message: "Error: Input/output error, cannot open /dev/ttyACM0", failure: "not-found", says: "cannot open /dev/ttyACM0" },
    ])("$failure: $message", ({ message, failure, says }) => {
        const e = openError("/dev/ttyACM0", message)
        expect(e.failure).toBe(failure)
        expect(e.message).toContain(says)
    })

    test("busy names the programs holding the port when it can tell", () => {
        const e = openError("/dev/ttyACM0", "Cannot lock port", [
            { pid: 42, command: "minicom" },
            { pid: 43, command: "node" },
        ])
        expect(e.message).toContain("held by minicom, pid 42; node, pid 43")
    })

    test("portHolders finds the processes with the port open (fake /proc)", () => {
        const root = tempDir()
        const port = join(root, "ttyACM0")
        writeFileSync(port, "")
        const proc = join(root, "proc")
        const fake = (pid: number, comm: string, targets: string[]) => {
            mkdirSync(join(proc, String(pid), "fd"), { recursive: true })
            writeFileSync(join(proc, String(pid), "comm"), `${comm}\n`)
            targets.forEach((t, i) => symlinkSync(t, join(proc, String(pid), "fd", String(i))))
        }
        fake(100, "minicom", ["/dev/null", port])
        fake(200, "bash", ["/dev/null"])
        mkdirSync(join(proc, "self")) // not a pid
        expect(portHolders(port, proc)).toEqual([{ pid: 100, command: "minicom" }])
        expect(portHolders(join(root, "nope"), proc)).toEqual([])
    })
})
