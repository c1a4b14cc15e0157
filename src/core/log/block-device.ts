/**
 * The block device the session log lives on: a SPI NOR flash chip
 * (W25Q-class) with NOR semantics, or a model of one.
 *
 * - `eraseSector(i)` sets every byte of sector i to 0xFF (the only way to
 *   turn a 0 bit back into 1; on a W25Q128JV it takes ~45 ms, up to 400 ms);
 * - `program(addr, bytes)` can only clear bits: the flash ends up holding
 *   `old AND new` (a W25Q does exactly this); a program must not cross a
 *   page boundary (a W25Q would wrap around to the start of the page);
 * - `read(addr, len)` reads anything, across pages and sectors.
 *
 * The methods are async because every real implementation is: the
 * DeviceScript SPI API (`spi.transfer`) and a Jacdac flash service in the
 * simulator both await. `MemoryNor` (memory-nor.ts) is the in-memory model
 * the tests use.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

export interface FlashGeometry {
    /** [bytes] erase unit (W25Q: 4096) */
    sectorSize: number
    /** [bytes] program unit (W25Q: 256); divides sectorSize */
    pageSize: number
    sectorCount: number
}

/** W25Q-class geometry: 4 KB sectors, 256-byte pages. */
export const W25Q_SECTOR_BYTES = 4096
export const W25Q_PAGE_BYTES = 256
/** W25Q64JV: 64 Mbit = 8 MB */
export const W25Q64_SECTORS = 2048
/** W25Q128JV: 128 Mbit = 16 MB (the chip on the trainer's log module: docs/engineering.md, "Session log storage") */
export const W25Q128_SECTORS = 4096

export function w25qGeometry(sectorCount: number): FlashGeometry {
    return { sectorSize: W25Q_SECTOR_BYTES, pageSize: W25Q_PAGE_BYTES, sectorCount: sectorCount }
}

export interface BlockDevice {
    readonly geometry: FlashGeometry
    /** `length` bytes from `addr` (any alignment) */
    read(addr: number, length: number): Promise<number[]>
    /** ANDs `bytes` into the flash at `addr`; must stay inside one page */
    program(addr: number, bytes: number[]): Promise<void>
    /** sets sector `index` to 0xFF */
    eraseSector(index: number): Promise<void>
}

/** Total size of a device [bytes]. */
export function deviceBytes(g: FlashGeometry): number {
    return g.sectorSize * g.sectorCount
}
