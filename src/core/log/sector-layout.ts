/**
 * The sector layout of the session log (store.ts): a header at the start of
 * every sector and a seal at its end, around the data area that carries
 * the record stream. Pure codec: encode, and decode to null when a header
 * or seal is blank, damaged or obsolete.
 *
 * Sector layout (little-endian):
 *
 *     offset      size  field
 *     0           4     magic "PFTS"
 *     4           1     layout version (1)
 *     5           1     0
 *     6           2     firstRecordOffset: where the first record that starts in
 *                       this sector starts, in the data area (a record from the
 *                       previous sector may run into it)
 *     8           4     storeId (chosen when the chip was formatted)
 *     12          4     generation
 *     16          4     firstSeq: sequence number of that first record; a floor
 *                       for every later one
 *     20          4     sessionFloor: sessions starting here are numbered >= this
 *     24          4     sector size [bytes]     (geometry check)
 *     28          4     sector count            (geometry check)
 *     32          4     CRC-32 of bytes 0..31
 *     36          1     state: 0xFF live, 0x00 obsolete (cleared just before the
 *                       sector is erased for reuse, outside the CRC)
 *     37          3     0xFF
 *     40          D     data area: the record stream
 *     S-20        20    seal, programmed once no more records can start in the
 *                       sector: magic "PFTE" | lastSeq u32 | lastSession u32 |
 *                       lastRecordEnd u16 (end of the last record starting here,
 *                       from the data area's start; may pass D) | flags u8
 *                       (1 session header, 2 summary, 4 store record, 8 mixed
 *                       sessions) | version u8 | CRC-32 of the 16 bytes before
 *
 * A sector whose seal has no flags holds only plain records of one session
 * (no header, summary or store record): recovery passes over it with one read.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */
import { ByteReader, ByteWriter, crc32 } from "../codec/bytes"
import { RecordKind } from "./records"

const SECTOR_MAGIC = [0x50, 0x46, 0x54, 0x53] // "PFTS"
const SEAL_MAGIC = [0x50, 0x46, 0x54, 0x45] // "PFTE"
const LAYOUT_VERSION = 1
const STATE_LIVE = 0xff
export const STATE_OBSOLETE = 0x00
const STATE_AREA_BYTES = 4

/** Seal flags: what started in the sector. A sector with none can be skipped on boot. */
const SEAL_SESSION_HEADER = 1
const SEAL_SUMMARY = 2
const SEAL_STORE_RECORD = 4
export const SEAL_MIXED = 8

export interface SectorHeader {
    firstRecordOffset: number
    storeId: number
    generation: number
    firstSeq: number
    sessionFloor: number
    sectorSize: number
    sectorCount: number
}

export interface Seal {
    lastSeq: number
    lastSession: number
    lastRecordEnd: number
    flags: number
}

function withCrc(w: ByteWriter): number[] {
    return w.u32(crc32(w.bytes)).bytes
}

export function encodeSectorHeader(h: SectorHeader): number[] {
    const w = new ByteWriter().raw(SECTOR_MAGIC).u8(LAYOUT_VERSION).u8(0).u16(h.firstRecordOffset)
    w.u32(h.storeId).u32(h.generation).u32(h.firstSeq).u32(h.sessionFloor).u32(h.sectorSize).u32(h.sectorCount)
    return withCrc(w)
}

export function encodeSeal(s: Seal): number[] {
    return withCrc(new ByteWriter().raw(SEAL_MAGIC).u32(s.lastSeq).u32(s.lastSession).u16(s.lastRecordEnd).u8(s.flags).u8(LAYOUT_VERSION))
}

const ZERO_HEADER: SectorHeader = { firstRecordOffset: 0, storeId: 0, generation: 0, firstSeq: 0, sessionFloor: 0, sectorSize: 0, sectorCount: 0 }
/** [bytes] sector header with its CRC */
export const SECTOR_HEADER_BYTES = encodeSectorHeader(ZERO_HEADER).length
/** [bytes] header + state byte + padding: where the data area starts */
export const SECTOR_HEADER_AREA_BYTES = SECTOR_HEADER_BYTES + STATE_AREA_BYTES
/** [bytes] seal at the end of every sector */
export const SECTOR_SEAL_BYTES = encodeSeal({ lastSeq: 0, lastSession: 0, lastRecordEnd: 0, flags: 0 }).length

function hasPrefix(bytes: number[], prefix: number[]): boolean {
    for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false
    return true
}

function crcOk(bytes: number[], n: number): boolean {
    return crc32(bytes, 0, 0, n) === new ByteReader(bytes, n).u32()
}

/** The header of a sector (HEADER_AREA bytes), or null if blank, damaged or obsolete. */
export function decodeSectorHeader(bytes: number[]): SectorHeader | null {
    if (!hasPrefix(bytes, SECTOR_MAGIC) || bytes[SECTOR_MAGIC.length] !== LAYOUT_VERSION) return null
    const n = SECTOR_HEADER_BYTES - 4
    if (!crcOk(bytes, n) || bytes[SECTOR_HEADER_BYTES] !== STATE_LIVE) return null
    const r = new ByteReader(bytes, SECTOR_MAGIC.length + 2)
    return {
        firstRecordOffset: r.u16(),
        storeId: r.u32(),
        generation: r.u32(),
        firstSeq: r.u32(),
        sessionFloor: r.u32(),
        sectorSize: r.u32(),
        sectorCount: r.u32(),
    }
}

export function decodeSeal(bytes: number[]): Seal | null {
    if (!hasPrefix(bytes, SEAL_MAGIC) || !crcOk(bytes, SECTOR_SEAL_BYTES - 4)) return null
    const r = new ByteReader(bytes, SEAL_MAGIC.length)
    const s: Seal = { lastSeq: r.u32(), lastSession: r.u32(), lastRecordEnd: r.u16(), flags: r.u8() }
    return r.u8() === LAYOUT_VERSION ? s : null
}

/** [bytes] record stream per sector */
export function sectorDataBytes(sectorSize: number): number {
    return sectorSize - SECTOR_HEADER_AREA_BYTES - SECTOR_SEAL_BYTES
}

/** The seal flag a record sets in the sector it starts in. */
export function sealFlag(kind: number, session: number): number {
    if (kind === RecordKind.SessionHeader) return SEAL_SESSION_HEADER
    if (kind === RecordKind.Summary) return SEAL_SUMMARY
    if (session === 0) return SEAL_STORE_RECORD
    return 0
}
