/**
 * USB serial ports that may be a trainer: `serialport`'s SerialPort.list(),
 * kept to the USB vendors of the boards DeviceScript runs on (the same kind
 * of filter `devicescript flash` uses), or every port with `all`.
 *
 * SerialPort.list() needs udev on Linux (`udevadm`); where it is missing (a
 * container, a minimal system), the ports are read from /dev and sysfs.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs"
import { join } from "node:path"

/** USB vendor ids of likely Jacdac / ESP32 boards. */
export const TRAINER_USB_VENDORS = [
    { vendorId: 0x303a, name: "Espressif (ESP32-S2/S3/C3 native USB)" },
    { vendorId: 0x10c4, name: "Silicon Labs CP210x (ESP32 dev boards)" },
    { vendorId: 0x1a86, name: "WCH CH340/CH343 (ESP32 dev boards)" },
    { vendorId: 0x0403, name: "FTDI" },
    { vendorId: 0x2e8a, name: "Raspberry Pi (RP2040)" },
] as const

/** One port as serialport's list() reports it (fields are strings, ids in hex). */
export interface PortInfo {
    path: string
    manufacturer?: string
    serialNumber?: string
    vendorId?: string
    productId?: string
    pnpId?: string
}

export interface SerialPortListing {
    transport: "usb"
    path: string
    /** hex, e.g. "303a" */
    vendorId?: string
    productId?: string
    manufacturer?: string
    serialNumber?: string
    /** why it looks like a trainer, or undefined for an unknown port listed with `all` */
    likely?: string
}

export interface ListPortsOptions {
    /** every serial port, not only likely trainers */
    all?: boolean
    /** SerialPort.list (tests pass a fake) */
    list?: () => Promise<PortInfo[]>
}

/** Why a port looks like a Jacdac / ESP32 device, or undefined. */
export function likelyTrainer(p: PortInfo): string | undefined {
    if (p.serialNumber && /^(PX|JD)/.test(p.serialNumber)) return "Jacdac serial number"
    const vid = p.vendorId ? parseInt(p.vendorId, 16) : NaN
    return TRAINER_USB_VENDORS.find(v => v.vendorId === vid)?.name
}

/** The likely trainers (or all ports), sorted by path. */
export async function listSerialPorts(opts: ListPortsOptions = {}): Promise<SerialPortListing[]> {
    const list = opts.list ?? defaultList
    const ports = await list()
    return ports
        .map(p => ({
            transport: "usb" as const,
            path: p.path,
            vendorId: p.vendorId?.toLowerCase(),
            productId: p.productId?.toLowerCase(),
            manufacturer: p.manufacturer,
            serialNumber: p.serialNumber,
            likely: likelyTrainer(p),
        }))
        .filter(p => opts.all || p.likely)
        .sort((a, b) => a.path.localeCompare(b.path))
}

async function defaultList(): Promise<PortInfo[]> {
    const { SerialPort } = await import("serialport")
    try {
        return (await SerialPort.list()) as PortInfo[]
    } catch (e) {
        // no udevadm: read the USB ids from sysfs instead
        if (process.platform === "linux") return listFromSysfs()
        throw e
    }
}

/** Linux without udev: /sys/class/tty/ttyACM* and ttyUSB*, ids from the USB device above them. */
export function listFromSysfs(sysTty = "/sys/class/tty", dev = "/dev"): PortInfo[] {
    if (!existsSync(sysTty)) return []
    const out: PortInfo[] = []
    for (const name of readdirSync(sysTty)) {
        if (!/^tty(ACM|USB)\d+$/.test(name)) continue
        const info: PortInfo = { path: join(dev, name) }
        try {
            // .../usbN/N-M/N-M:1.0/ttyACM0: the USB device is the first ancestor with idVendor
            let d = realpathSync(join(sysTty, name, "device"))
            for (let i = 0; i < 4 && d !== "/"; i++, d = join(d, "..")) {
                if (existsSync(join(d, "idVendor"))) {
                    const read = (f: string) => (existsSync(join(d, f)) ? readFileSync(join(d, f), "utf8").trim() : undefined)
                    info.vendorId = read("idVendor")
                    info.productId = read("idProduct")
                    info.manufacturer = read("manufacturer")
                    info.serialNumber = read("serial")
                    break
                }
            }
        } catch {
            // no device link: list the port without ids
        }
        out.push(info)
    }
    return out
}
