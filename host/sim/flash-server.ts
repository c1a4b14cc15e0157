/**
 * The log module's flash chip in simulation (services/logflash.md): a
 * `MemoryNor` (src/core/log/memory-nor.ts, real NOR semantics) served on
 * the bus from Node, written through to a file so the log survives a
 * restart of the log module's VM, or of the whole simulation, like a power
 * cycle.
 *
 * The file is the chip's image, byte for byte (a sparse file: only the
 * sectors written take disk space). Every program and erase is written to
 * it before the answer goes out, so whatever the firmware saw done is on
 * disk. `program` and `erase_sector` are carried out once per op number:
 * a repeat of one of the last 16 ops is answered with the first answer.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, writeSync } from "node:fs"
import * as jd from "jacdac-ts"
import { deviceBytes, w25qGeometry, W25Q128_SECTORS, type FlashGeometry } from "../../src/core/log/block-device"
import { MemoryNor } from "../../src/core/log/memory-nor"
import { LOG_FLASH_SERVICE, packetInfo, serviceInfo } from "../spec"

export const FlashStatus = { Ok: 0, OutOfRange: 1, CrossesPage: 2, Failed: 3 } as const

/** [bytes] the most a read or program carries (services/logflash.md) */
export const FLASH_MAX_DATA_BYTES = 228
/** ops remembered for repeats (services/logflash.md) */
const REMEMBERED_OPS = 16

export interface SimFlashOptions {
    /** the chip's image file; created blank when missing. Without it the chip lives in memory only. */
    file?: string
    /** default 4096 sectors (a W25Q128JV); the simulation uses fewer for a quick boot */
    sectorCount?: number
}

export class SimFlashServer extends jd.JDServiceServer {
    readonly nor: MemoryNor
    readonly geometry: FlashGeometry
    private fd: number | undefined
    private readonly file: string | undefined
    private readonly recentOps: { op: number; status: number }[] = []
    /** commands carried out, by kind, and repeats answered from memory */
    readonly counts = { geometryReads: 0, reads: 0, programs: 0, erases: 0, repeats: 0 }

    constructor(options: SimFlashOptions = {}) {
        super(serviceInfo(LOG_FLASH_SERVICE).classIdentifier)
        this.geometry = w25qGeometry(options.sectorCount ?? W25Q128_SECTORS)
        this.nor = new MemoryNor({ geometry: this.geometry })
        this.file = options.file
        const code = (name: string) => packetInfo(LOG_FLASH_SERVICE, name, "command")
        const on = (name: string, handler: (values: any[]) => Promise<unknown[]>) => {
            const cmd = code(name)
            this.addCommand(cmd.identifier, async (pkt: jd.Packet) => {
                const answer = await handler(jd.jdunpack(pkt.data, cmd.packFormat ?? ""))
                await this.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(packetInfo(LOG_FLASH_SERVICE, name, "report").packFormat ?? "", answer as any)))
            })
        }
        on("read_geometry", async () => {
            this.counts.geometryReads++
            return [this.geometry.sectorSize, this.geometry.sectorCount, this.geometry.pageSize]
        })
        on("read", async ([address, length]) => this.read(address, length))
        on("program", async ([op, address, data]) => [op, await this.oncePerOp(op, () => this.program(address, [...(data as Uint8Array)]))])
        on("erase_sector", async ([op, index]) => [op, await this.oncePerOp(op, () => this.erase(index))])
    }

    /** Closes the image file (the chip keeps its contents in memory). */
    close(): void {
        if (this.fd !== undefined) closeSync(this.fd)
        this.fd = undefined
    }

    /** Opens the image file (hostFlash calls it before the chip goes on the bus). */
    async load(): Promise<void> {
        if (this.file && this.fd === undefined) await this.openImage(this.file)
    }

    private async openImage(file: string) {
        const size = deviceBytes(this.geometry)
        const { sectorSize, pageSize, sectorCount } = this.geometry
        this.fd = openSync(file, existsSync(file) ? "r+" : "w+")
        const had = fstatSync(this.fd).size
        if (had !== 0 && had !== size) {
            closeSync(this.fd)
            this.fd = undefined
            throw new Error(`flash image ${file} holds ${had} bytes, not ${size} (${sectorCount} sectors): delete it to start with a blank chip`)
        }
        const blank = Buffer.alloc(sectorSize, 0xff)
        const sector = Buffer.alloc(sectorSize)
        for (let i = 0; i < sectorCount; i++) {
            const at = i * sectorSize
            if (had === 0) {
                writeSync(this.fd, blank, 0, sectorSize, at)
                continue
            }
            readSync(this.fd, sector, 0, sectorSize, at)
            if (sector.equals(blank)) continue
            // programming a blank sector leaves exactly these bytes (NOR programs AND)
            for (let p = 0; p < sectorSize; p += pageSize) await this.nor.program(at + p, [...sector.subarray(p, p + pageSize)])
        }
    }

    private async oncePerOp(op: number, run: () => Promise<number>): Promise<number> {
        const seen = this.recentOps.find(o => o.op === op)
        if (seen) {
            this.counts.repeats++
            return seen.status
        }
        const status = await run()
        this.recentOps.push({ op, status })
        if (this.recentOps.length > REMEMBERED_OPS) this.recentOps.shift()
        return status
    }

    private inRange(address: number, length: number): boolean {
        return address >= 0 && length >= 0 && address + length <= deviceBytes(this.geometry)
    }

    private async read(address: number, length: number): Promise<unknown[]> {
        this.counts.reads++
        const n = Math.min(length, FLASH_MAX_DATA_BYTES)
        if (!this.inRange(address, n)) return [address, FlashStatus.OutOfRange, new Uint8Array(0)]
        return [address, FlashStatus.Ok, Uint8Array.from(await this.nor.read(address, n))]
    }

    private async program(address: number, bytes: number[]): Promise<number> {
        this.counts.programs++
        if (!this.inRange(address, bytes.length)) return FlashStatus.OutOfRange
        const page = this.geometry.pageSize
        if (bytes.length > 0 && Math.floor(address / page) !== Math.floor((address + bytes.length - 1) / page)) return FlashStatus.CrossesPage
        await this.nor.program(address, bytes)
        this.persist(address, await this.nor.read(address, bytes.length))
        return FlashStatus.Ok
    }

    private async erase(index: number): Promise<number> {
        this.counts.erases++
        if (!(index >= 0 && index < this.geometry.sectorCount)) return FlashStatus.OutOfRange
        await this.nor.eraseSector(index)
        this.persist(index * this.geometry.sectorSize, new Array<number>(this.geometry.sectorSize).fill(0xff))
        return FlashStatus.Ok
    }

    private persist(address: number, bytes: number[]) {
        if (this.fd !== undefined) writeSync(this.fd, Uint8Array.from(bytes), 0, bytes.length, address)
    }
}

/** Puts a simulated flash chip on `bus`. */
export async function hostFlash(bus: jd.JDBus, options: SimFlashOptions = {}): Promise<SimFlashServer> {
    const server = new SimFlashServer(options)
    await server.load()
    bus.addServiceProvider(new jd.JDServerServiceProvider("pft-log-flash", [server]))
    return server
}
