/**
 * An in-memory NOR flash with the semantics of a W25Q chip, for tests and
 * the simulator:
 *
 * - program ANDs the new bytes into the old ones (bits only go 1 -> 0), as
 *   the real chip does; a program that crosses a page, leaves the chip or
 *   carries a non-byte is a bug in the caller and throws NorError;
 * - erase sets a sector to 0xFF;
 * - it counts reads, programs and erases;
 * - it can be told to lose power at the Nth program or erase (counting
 *   from 1 since it was made). That operation is left half done, in one of
 *   several ways picked by a seeded generator (a run is repeatable):
 *   a program writes a random subset of its bytes (some only partly: only
 *   some of the bits that should clear do), or a prefix, or everything but
 *   a prefix (the first bytes stay blank while later ones are written);
 *   an erase sets random bits to 1 (garbage), or does nothing yet, or
 *   garbles everything but the sector's first 64 bytes (the header looks
 *   intact), or nearly finishes (a few bits still 0).
 *   From then on every operation, reads included, throws PowerLossError
 *   until `reboot()`;
 * - its contents export to and import from a plain byte array (the
 *   simulator keeps them in a file).
 *
 * Sectors that are blank take no memory (a W25Q128 model is 16 MB).
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import type { BlockDevice, FlashGeometry } from "./block-device"

/** Thrown by every operation from the one that lost power until `reboot()`. */
export class PowerLossError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "PowerLossError"
    }
}

/** Misuse of the device: out of range, crossing a page, not a byte. */
export class NorError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "NorError"
    }
}

export interface MemoryNorOptions {
    geometry: FlashGeometry
    /** initial contents (exportImage of an earlier run); blank if absent */
    image?: number[]
    /** seed of the partial-operation generator (any integer) */
    seed?: number
    /**
     * Awaited before every operation. The VM tests pass `() => ds.sleep(0)`:
     * a store call does many operations, more than one synchronous stretch of
     * the DeviceScript VM may (InfiniteLoop), and a real flash yields anyway.
     */
    beforeOperation?: () => Promise<void>
}

export class MemoryNor implements BlockDevice {
    readonly geometry: FlashGeometry
    /** null = blank (all 0xFF) */
    private sectors: (number[] | null)[] = []
    reads = 0
    programs = 0
    erases = 0
    /** program + erase operations attempted, the one that lost power included */
    mutatingOps = 0
    private cutAt = 0
    private poweredOff = false
    /** the operation that lost power changed at least one bit */
    cutChangedBits = false
    private rng: number
    private readonly beforeOp: (() => Promise<void>) | undefined

    constructor(options: MemoryNorOptions) {
        const g = options.geometry
        if (!(g.sectorSize > 0 && g.pageSize > 0 && g.sectorCount > 0) || g.sectorSize - Math.floor(g.sectorSize / g.pageSize) * g.pageSize !== 0)
            throw new NorError("bad geometry: sector " + g.sectorSize + ", page " + g.pageSize + ", sectors " + g.sectorCount)
        this.geometry = { sectorSize: g.sectorSize, pageSize: g.pageSize, sectorCount: g.sectorCount }
        for (let i = 0; i < g.sectorCount; i++) this.sectors.push(null)
        const seed = options.seed ?? 1
        this.rng = (seed ^ 0x5bd1e995) >>> 0
        if (this.rng === 0) this.rng = 1
        this.beforeOp = options.beforeOperation
        if (options.image) this.importImage(options.image)
    }

    /**
     * Loses power during the `op`-th program or erase since construction
     * (1-based, as counted by `mutatingOps`); 0 cancels.
     */
    cutPowerAtOp(op: number) {
        this.cutAt = op
        this.cutChangedBits = false
    }

    isPoweredOff(): boolean {
        return this.poweredOff
    }

    /** Power comes back: operations work again; no cut is scheduled. */
    reboot() {
        this.poweredOff = false
        this.cutAt = 0
    }

    async read(addr: number, length: number): Promise<number[]> {
        if (this.beforeOp) await this.beforeOp()
        this.checkPower()
        this.checkRange(addr, length)
        this.reads++
        const out: number[] = []
        const s = this.geometry.sectorSize
        let a = addr
        const end = addr + length
        while (a < end) {
            const i = Math.floor(a / s)
            const sectorEnd = Math.min(end, (i + 1) * s)
            const sec = this.sectors[i]
            if (sec === null) for (let k = a; k < sectorEnd; k++) out.push(0xff)
            else for (let k = a - i * s; k < sectorEnd - i * s; k++) out.push(sec[k])
            a = sectorEnd
        }
        return out
    }

    async program(addr: number, bytes: number[]): Promise<void> {
        if (this.beforeOp) await this.beforeOp()
        this.checkPower()
        this.checkRange(addr, bytes.length)
        const p = this.geometry.pageSize
        if (bytes.length > 0 && Math.floor(addr / p) !== Math.floor((addr + bytes.length - 1) / p))
            throw new NorError("program crosses a page: " + bytes.length + " bytes at " + addr + " (page size " + p + ")")
        for (const b of bytes) if (!(b >= 0 && b <= 255) || Math.floor(b) !== b) throw new NorError("not a byte: " + b)
        this.mutatingOps++
        this.programs++
        const s = this.geometry.sectorSize
        const i = Math.floor(addr / s)
        const sec = this.sectorForWrite(i)
        const off = addr - i * s
        if (this.mutatingOps === this.cutAt) {
            const mode = this.next() & 3
            const r = this.next()
            const split = bytes.length > 0 ? r - Math.floor(r / bytes.length) * bytes.length : 0
            for (let k = 0; k < bytes.length; k++) {
                const old = sec[off + k]
                let v = old
                if (mode === 0) {
                    // random subset, some bytes partly
                    const r = this.next() & 3
                    if (r === 1 || r === 3) v = old & bytes[k]
                    else if (r === 2) v = old & (bytes[k] | (this.next() & 0xff))
                } else if (mode === 1) {
                    // a prefix, the byte at the split partly
                    if (k < split) v = old & bytes[k]
                    else if (k === split) v = old & (bytes[k] | (this.next() & 0xff))
                } else if (mode === 2) {
                    // everything but a prefix: the first bytes stay blank
                    if (k >= split) v = old & bytes[k]
                }
                // mode 3: nothing reached the cells
                sec[off + k] = v
                if (v !== old) this.cutChangedBits = true
            }
            this.powerLost("program of " + bytes.length + " bytes at " + addr)
        }
        for (let k = 0; k < bytes.length; k++) sec[off + k] = sec[off + k] & bytes[k]
    }

    async eraseSector(index: number): Promise<void> {
        if (this.beforeOp) await this.beforeOp()
        this.checkPower()
        if (!(index >= 0 && index < this.geometry.sectorCount) || Math.floor(index) !== index)
            throw new NorError("no sector " + index + " (sectors 0.." + (this.geometry.sectorCount - 1) + ")")
        this.mutatingOps++
        this.erases++
        if (this.mutatingOps === this.cutAt) {
            const sec = this.sectorForWrite(index)
            const mode = this.next() & 3
            for (let k = 0; k < sec.length; k++) {
                const old = sec[k]
                let v = old
                if (mode === 0) {
                    // garbage: random bits set
                    const r = this.next() & 3
                    if (r === 1) v = 0xff
                    else if (r >= 2) v = old | (this.next() & 0xff)
                } else if (mode === 1) {
                    // everything but the header area garbled
                    if (k >= 64) v = old | (this.next() & 0xff)
                } else if (mode === 2) {
                    // nearly done: a few bits still 0
                    v = (this.next() & 0xff) === 0 ? old | 0x7f : 0xff
                }
                // mode 3: the erase had not begun
                sec[k] = v
                if (v !== old) this.cutChangedBits = true
            }
            this.powerLost("erase of sector " + index)
        }
        this.sectors[index] = null
    }

    /** The whole contents, one byte per element. */
    exportImage(): number[] {
        const out: number[] = []
        const s = this.geometry.sectorSize
        for (const sec of this.sectors) {
            if (sec === null) for (let k = 0; k < s; k++) out.push(0xff)
            else for (const b of sec) out.push(b)
        }
        return out
    }

    /** Replaces the contents (exactly sectorSize x sectorCount bytes). */
    importImage(image: number[]) {
        const s = this.geometry.sectorSize
        if (image.length !== s * this.geometry.sectorCount)
            throw new NorError("image of " + image.length + " bytes, expected " + s * this.geometry.sectorCount)
        for (let i = 0; i < this.geometry.sectorCount; i++) {
            let blank = true
            for (let k = i * s; k < (i + 1) * s; k++)
                if (image[k] !== 0xff) {
                    blank = false
                    break
                }
            this.sectors[i] = blank ? null : image.slice(i * s, (i + 1) * s)
        }
    }

    private sectorForWrite(i: number): number[] {
        let sec = this.sectors[i]
        if (sec === null) {
            sec = []
            for (let k = 0; k < this.geometry.sectorSize; k++) sec.push(0xff)
            this.sectors[i] = sec
        }
        return sec
    }

    private checkPower() {
        if (this.poweredOff) throw new PowerLossError("flash has no power (lost at operation " + this.cutAt + ")")
    }

    private checkRange(addr: number, length: number) {
        const size = this.geometry.sectorSize * this.geometry.sectorCount
        if (!(addr >= 0 && length >= 0 && addr + length <= size) || Math.floor(addr) !== addr || Math.floor(length) !== length)
            throw new NorError("range " + addr + "+" + length + " outside the chip (0.." + size + ")")
    }

    private powerLost(what: string) {
        this.poweredOff = true
        throw new PowerLossError("power lost during operation " + this.mutatingOps + ": " + what)
    }

    /** xorshift32 */
    private next(): number {
        let x = this.rng
        x ^= x << 13
        x ^= x >>> 17
        x ^= x << 5
        this.rng = x >>> 0
        return this.rng
    }
}
