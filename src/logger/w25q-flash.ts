import * as ds from "@devicescript/core"
import { digitalWrite, pinMode } from "@devicescript/gpio"
import { spi } from "@devicescript/spi"
import type { BlockDevice, FlashGeometry } from "../core/log/block-device"
import { deviceBytes, W25Q128_SECTORS, w25qGeometry } from "../core/log/block-device"
import { bufferOf, bytesOf } from "../platform/buffers"

// The log module's flash chip, a Winbond W25Q128JV, over SPI (docs/hardware.md,
// "Log module"). Instruction codes, status bits and JEDEC ID from the Winbond
// W25Q128JV datasheet (section 8, Instructions; 7.1 Status Registers); the
// busy times from its section 9.6 "AC Electrical Characteristics" (checked
// in revision M, 2024-12-24: tPP and tSE below). Section 9.7 is
// "Serial Output Timing", a timing diagram with no program or erase times.

/** Standard SPI instructions (datasheet 8.1.2, Instruction Set Table 1) */
const Cmd = {
    WriteEnable: 0x06,
    ReadStatus1: 0x05,
    ReadStatus3: 0x15,
    ReadData: 0x03,
    PageProgram: 0x02,
    SectorErase: 0x20,
    JedecId: 0x9f,
} as const

/** Status Register-1 bits (datasheet 7.1) */
const Status1 = {
    /** BUSY: a program, erase or status write is in progress; the chip ignores other instructions */
    Busy: 0x01,
    /** WEL: set by Write Enable, cleared when a program or erase ends */
    WriteEnableLatch: 0x02,
    /** BP0-BP2, TB, SEC: some part of the array is write protected (factory default: none) */
    ProtectMask: 0x7c,
} as const

/** Status Register-3 bit WPS: individual block locks, all locked at power-up (factory default: 0) */
const STATUS3_WPS = 0x04

/** JEDEC ID of the W25Q128JV-IN/IQ/JQ (datasheet 8.1.1): Winbond, SPI memory type, 128 Mbit */
const JEDEC = { manufacturer: 0xef, memoryType: 0x40, capacity: 0x18 } as const

/** [bytes] instruction + 24-bit address */
const COMMAND_BYTES = 4
/** [bytes] the most one transfer of the DeviceScript ESP32 SPI driver moves (main/spi.c BLOCK_SIZE), command included */
const MAX_TRANSFER_BYTES = 4096
/** [bytes] data of one Read Data transfer */
const MAX_READ_DATA_BYTES = MAX_TRANSFER_BYTES - COMMAND_BYTES
/**
 * [bytes] a longer read yields once before returning: converting a full
 * transfer to numbers is a large share of the VM's synchronous budget
 * (docs/devicescript-subset.md, Limits), and the caller goes on decoding.
 */
const YIELD_AFTER_READ_BYTES = 1024

/** How long each kind of write may keep the chip busy. */
interface BusyLimit {
    what: string
    /** [ms] datasheet 9.6 maximum */
    maxMs: number
    /** [ms] sleep between two status polls (the VM runs other fibers meanwhile) */
    pollMs: number
}

/** Page Program tPP: typ 0.4 ms, max 3 ms (datasheet 9.6) */
const PAGE_PROGRAM: BusyLimit = { what: "page program", maxMs: 3, pollMs: 1 }
/** Sector Erase (4KB) tSE: typ 45 ms, max 400 ms (datasheet 9.6) */
const SECTOR_ERASE: BusyLimit = { what: "sector erase", maxMs: 400, pollMs: 5 }

/** [Hz] the fastest clock Read Data (03h) allows (datasheet 9.6, fR) */
const MAX_READ_HZ = 50000000
/** [Hz] default SPI clock: 10 MHz leaves margin for board and GPIO-matrix delays */
const DEFAULT_SPI_HZ = 10000000

export interface W25qFlashOptions {
    /** /CS: driven low around each transfer (the board starts it high with sPin and pulls it up) */
    cs: ds.OutputPin
    sck: ds.OutputPin
    /** chip DI (IO0) */
    mosi: ds.OutputPin
    /** chip DO (IO1) */
    miso: ds.InputPin
    /** [Hz] SPI clock, at most 50 MHz (Read Data); default 10 MHz */
    hz?: number
}

/** The chip is missing, is another chip, is write protected or broke a datasheet limit. */
export class W25qError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "W25qError"
    }
}

function hex(bytes: number[]): string {
    return bufferOf(bytes).toString("hex")
}

/** Instruction + 24-bit address, then `dataBytes` zeros (clocked out while the chip answers, or filled in by the caller). */
function commandFrame(cmd: number, addr: number, dataBytes: number): Buffer {
    const b = Buffer.alloc(COMMAND_BYTES + dataBytes)
    b.setAt(0, "u8", cmd)
    b.setAt(1, "u8", (addr >> 16) & 0xff)
    b.setAt(2, "u8", (addr >> 8) & 0xff)
    b.setAt(3, "u8", addr & 0xff)
    return b
}

class W25qFlash implements BlockDevice {
    readonly geometry: FlashGeometry = w25qGeometry(W25Q128_SECTORS)
    private readonly sizeBytes = deviceBytes(this.geometry)
    /** the operation running now ("" = none): the chip takes one at a time, and answers nothing else while busy */
    private running = ""

    constructor(private readonly cs: ds.OutputPin) {}

    /** Waits out a write left running by an earlier boot, then checks the chip is a writable W25Q128JV. */
    async check() {
        // a VM restart does not reset the chip: an erase may still be running, and a busy chip ignores 9Fh
        await this.waitReady(SECTOR_ERASE, false)
        const id = bytesOf(await this.transfer(bufferOf([Cmd.JedecId, 0, 0, 0]))).slice(1)
        if (id[0] !== JEDEC.manufacturer || id[1] !== JEDEC.memoryType || id[2] !== JEDEC.capacity)
            throw new W25qError(
                "no W25Q128JV on the log module's SPI bus: JEDEC ID " + hex(id) + ", expected " + hex([JEDEC.manufacturer, JEDEC.memoryType, JEDEC.capacity]) + " (ff ff ff or 00 00 00: no chip answering)"
            )
        const s1 = await this.readStatus(Cmd.ReadStatus1)
        const s3 = await this.readStatus(Cmd.ReadStatus3)
        if ((s1 & Status1.ProtectMask) !== 0 || (s3 & STATUS3_WPS) !== 0)
            throw new W25qError("W25Q128JV is write protected: status register 1 " + hex([s1]) + ", 3 " + hex([s3]) + " (expected BP/TB/SEC and WPS clear)")
    }

    async read(addr: number, length: number): Promise<number[]> {
        this.checkRange(addr, length, "read")
        this.enter("read")
        try {
            let out: number[] = []
            for (let at = addr; at < addr + length; at += MAX_READ_DATA_BYTES) {
                const n = Math.min(MAX_READ_DATA_BYTES, addr + length - at)
                const part = bytesOf((await this.transfer(commandFrame(Cmd.ReadData, at, n))).slice(COMMAND_BYTES))
                if (out.length === 0) out = part
                else for (const b of part) out.push(b)
            }
            if (length > YIELD_AFTER_READ_BYTES) await ds.sleep(0)
            return out
        } finally {
            this.running = ""
        }
    }

    async program(addr: number, bytes: number[]): Promise<void> {
        this.checkRange(addr, bytes.length, "program")
        const page = this.geometry.pageSize
        if (bytes.length > 0 && Math.floor(addr / page) !== Math.floor((addr + bytes.length - 1) / page))
            throw new W25qError("program crosses a page: " + bytes.length + " bytes at " + addr + " (page size " + page + "; the chip would wrap to the page start)")
        if (bytes.length === 0) return
        this.enter("program")
        try {
            await this.writeEnable()
            const frame = commandFrame(Cmd.PageProgram, addr, bytes.length)
            frame.blitAt(COMMAND_BYTES, bufferOf(bytes), 0, bytes.length)
            await this.transfer(frame)
            await this.waitReady(PAGE_PROGRAM, true)
        } finally {
            this.running = ""
        }
    }

    async eraseSector(index: number): Promise<void> {
        if (!(index >= 0 && index < this.geometry.sectorCount && Math.floor(index) === index))
            throw new W25qError("no sector " + index + " (sectors 0.." + (this.geometry.sectorCount - 1) + ")")
        this.enter("erase")
        try {
            await this.writeEnable()
            await this.transfer(commandFrame(Cmd.SectorErase, index * this.geometry.sectorSize, 0))
            await this.waitReady(SECTOR_ERASE, true)
        } finally {
            this.running = ""
        }
    }

    /** One transfer with /CS low around it (the runtime's SPI driver has no CS pin). */
    private async transfer(tx: Buffer): Promise<Buffer> {
        digitalWrite(this.cs, 0)
        try {
            return await spi.transfer(tx)
        } finally {
            digitalWrite(this.cs, 1)
        }
    }

    private async readStatus(cmd: number): Promise<number> {
        return (await this.transfer(bufferOf([cmd, 0]))).getAt(1, "u8")
    }

    /** 06h before every program and erase; WEL read back, so a chip that ignored it fails here and not silently. */
    private async writeEnable() {
        await this.transfer(bufferOf([Cmd.WriteEnable]))
        const s1 = await this.readStatus(Cmd.ReadStatus1)
        if ((s1 & Status1.WriteEnableLatch) === 0) throw new W25qError("W25Q128JV write enable not latched: status register 1 " + hex([s1]))
    }

    /**
     * Polls BUSY until it clears. Times out only on a poll taken after the
     * datasheet maximum (a slow VM between polls is not the chip's fault).
     * With `strict` false (boot) it gives up quietly: the ID check says what is wrong.
     */
    private async waitReady(limit: BusyLimit, strict: boolean) {
        const start = ds.millis()
        while (true) {
            const polledAt = ds.millis()
            const s1 = await this.readStatus(Cmd.ReadStatus1)
            if ((s1 & Status1.Busy) === 0) return
            if (polledAt - start > limit.maxMs) {
                if (!strict) return
                throw new W25qError("W25Q128JV " + limit.what + " still busy after " + Math.round(polledAt - start) + " ms (datasheet max " + limit.maxMs + " ms), status register 1 " + hex([s1]))
            }
            await ds.sleep(limit.pollMs)
        }
    }

    private checkRange(addr: number, length: number, what: string) {
        if (!(addr >= 0 && length >= 0 && addr + length <= this.sizeBytes && Math.floor(addr) === addr && Math.floor(length) === length))
            throw new W25qError(what + " of " + length + " bytes at " + addr + " is outside the chip (" + this.sizeBytes + " bytes)")
    }

    private enter(what: string) {
        if (this.running !== "") throw new W25qError(what + " started while a " + this.running + " was running: calls to the flash must be serialised")
        this.running = what
    }
}

/**
 * The W25Q128JV on the log module's SPI bus as the session log's
 * BlockDevice (src/core/log/block-device.ts): configures SPI2 (mode 0),
 * waits out any write an earlier boot left running, and checks the JEDEC
 * ID and that no part of the chip is write protected. Throws W25qError
 * naming what it read otherwise.
 */
export async function startW25qFlash(options: W25qFlashOptions): Promise<BlockDevice> {
    const hz = options.hz ?? DEFAULT_SPI_HZ
    if (!(hz > 0 && hz <= MAX_READ_HZ)) throw new W25qError("SPI clock " + hz + " Hz: Read Data (03h) allows at most " + MAX_READ_HZ + " Hz")
    pinMode(options.cs, ds.GPIOMode.OutputHigh)
    spi.configure({ miso: options.miso, mosi: options.mosi, sck: options.sck, mode: 0, hz: hz })
    const flash = new W25qFlash(options.cs)
    await flash.check()
    return flash
}
