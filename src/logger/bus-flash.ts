import * as ds from "@devicescript/core"
import { randomBuffer } from "@devicescript/crypto"
import type { BlockDevice, FlashGeometry } from "../core/log/block-device"
import { request } from "../platform/request"

/** [bytes] the most one read or program carries (services/logflash.md) */
const MAX_DATA_BYTES = 228
const STATUS_OK = 0

/**
 * The log module's flash chip in the simulator: a BlockDevice over the
 * `logflash` service (services/logflash.md) that host/sim/flash-server.ts
 * serves. On the board, w25q-flash.ts drives the chip over SPI instead.
 */
class BusFlash implements BlockDevice {
    geometry: FlashGeometry = { sectorSize: 0, pageSize: 0, sectorCount: 0 }
    /**
     * program/erase op numbers: random start each boot (the server remembers recent ops). From the
     * crypto source: the VM's Math.random() gives the same numbers at every start, so a boot that wrote
     * fewer than 16 ops had the next boot's first writes answered as repeats, and never carried out
     */
    private op = randomBuffer(4).getAt(0, "u32") & 0x7fffffff

    constructor(private readonly flash: ds.PftLogFlash) {}

    async readGeometry(): Promise<boolean> {
        const a = await request(this.flash, ds.PftLogFlashCodes.CmdReadGeometry, Buffer.alloc(0), () => true)
        if (a === undefined) return false
        this.geometry = { sectorSize: a.getAt(0, "u32"), sectorCount: a.getAt(4, "u32"), pageSize: a.getAt(8, "u16") }
        return true
    }

    async read(addr: number, length: number): Promise<number[]> {
        const out: number[] = []
        for (let at = addr; at < addr + length; at += MAX_DATA_BYTES) await this.readPart(at, Math.min(MAX_DATA_BYTES, addr + length - at), out)
        return out
    }

    private async readPart(at: number, n: number, out: number[]) {
        const cmd = Buffer.alloc(5)
        cmd.setAt(0, "u32", at)
        cmd.setAt(4, "u8", n)
        const a = await request(this.flash, ds.PftLogFlashCodes.CmdRead, cmd, r => r.getAt(0, "u32") === at)
        check(a, "read", at)
        if (a.length - 5 !== n) throw new Error("flash read at " + at + ": " + (a.length - 5) + " bytes of " + n)
        for (let i = 5; i < a.length; i++) out.push(a.getAt(i, "u8"))
    }

    async program(addr: number, bytes: number[]): Promise<void> {
        for (let i = 0; i < bytes.length; i += MAX_DATA_BYTES) {
            const n = Math.min(MAX_DATA_BYTES, bytes.length - i)
            const cmd = Buffer.alloc(8 + n)
            for (let k = 0; k < n; k++) cmd.setAt(8 + k, "u8", bytes[i + k])
            await this.mutate(ds.PftLogFlashCodes.CmdProgram, cmd, addr + i, "program")
        }
    }

    async eraseSector(index: number): Promise<void> {
        await this.mutate(ds.PftLogFlashCodes.CmdEraseSector, Buffer.alloc(8), index, "erase")
    }

    private async mutate(code: number, cmd: Buffer, where: number, what: string) {
        const op = ++this.op
        cmd.setAt(0, "u32", op)
        cmd.setAt(4, "u32", where)
        check(await request(this.flash, code, cmd, r => r.getAt(0, "u32") === op), what, where)
    }
}

function check(answer: Buffer, what: string, where: number) {
    if (answer === undefined) throw new Error("flash " + what + " at " + where + ": no answer")
    const status = answer.getAt(4, "u8")
    if (status !== STATUS_OK) throw new Error("flash " + what + " at " + where + ": status " + status)
}

/** The simulated chip, once its server answers (waits for it). */
export async function startBusFlash(): Promise<BlockDevice> {
    const f = new BusFlash(new ds.PftLogFlash())
    while (!(await f.readGeometry())) await ds.sleep(500)
    return f
}
