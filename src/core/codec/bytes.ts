/**
 * Little-endian byte codec over plain `number[]` (one byte 0..255 per
 * element), shared by firmware and host: DeviceScript has no typed arrays
 * and its `Buffer` API differs from Node's, so core formats (programs, log
 * records) are encoded here and the drivers copy the bytes into a `Buffer`.
 *
 * Floats are not encoded: DeviceScript prints and packs floats with 6-7
 * digits, so formats carry fixed-point integers (e.g. cmH2O x 100) instead.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** Thrown when a read runs past the end or a value does not fit its field. */
export class CodecError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "CodecError"
    }
}

function checkInt(value: number, min: number, max: number, what: string) {
    if (!(value >= min && value <= max) || Math.floor(value) !== value)
        throw new CodecError(what + " out of range: " + value + " (allowed " + min + ".." + max + ")")
}

/** Appends little-endian fields to a byte array. */
export class ByteWriter {
    readonly bytes: number[] = []

    u8(v: number): ByteWriter {
        checkInt(v, 0, 0xff, "u8")
        this.bytes.push(v)
        return this
    }
    u16(v: number): ByteWriter {
        checkInt(v, 0, 0xffff, "u16")
        this.bytes.push(v & 0xff, (v >> 8) & 0xff)
        return this
    }
    u32(v: number): ByteWriter {
        checkInt(v, 0, 0xffffffff, "u32")
        // floor-based: `%` is 32-bit in DeviceScript
        const hi = Math.floor(v / 65536)
        const lo = v - hi * 65536
        this.bytes.push(lo & 0xff, (lo >> 8) & 0xff, hi & 0xff, (hi >> 8) & 0xff)
        return this
    }
    i16(v: number): ByteWriter {
        checkInt(v, -0x8000, 0x7fff, "i16")
        return this.u16(v < 0 ? v + 0x10000 : v)
    }
    i32(v: number): ByteWriter {
        checkInt(v, -0x80000000, 0x7fffffff, "i32")
        return this.u32(v < 0 ? v + 0x100000000 : v)
    }
    /** [0, 2^48) as 6 bytes: millisecond timestamps for ~8900 years */
    u48(v: number): ByteWriter {
        checkInt(v, 0, 281474976710655, "u48")
        const hi = Math.floor(v / 4294967296)
        this.u32(v - hi * 4294967296)
        return this.u16(hi)
    }
    raw(bytes: number[]): ByteWriter {
        for (const b of bytes) this.u8(b)
        return this
    }
    /** UTF-8 with a u8 length prefix (at most 255 bytes) */
    str8(s: string): ByteWriter {
        const b = utf8Encode(s)
        if (b.length > 255) throw new CodecError("string longer than 255 bytes: " + b.length)
        this.u8(b.length)
        return this.raw(b)
    }
}

/** Reads little-endian fields from a byte array; throws CodecError past the end. */
export class ByteReader {
    pos: number

    constructor(readonly bytes: number[], start?: number) {
        this.pos = start ?? 0
    }

    remaining(): number {
        return this.bytes.length - this.pos
    }
    private need(n: number) {
        if (this.pos + n > this.bytes.length)
            throw new CodecError("truncated: need " + n + " bytes at offset " + this.pos + ", have " + this.remaining())
    }
    u8(): number {
        this.need(1)
        return this.bytes[this.pos++]
    }
    u16(): number {
        this.need(2)
        const v = this.bytes[this.pos] + this.bytes[this.pos + 1] * 256
        this.pos += 2
        return v
    }
    u32(): number {
        const lo = this.u16()
        return lo + this.u16() * 65536
    }
    i16(): number {
        const v = this.u16()
        return v >= 0x8000 ? v - 0x10000 : v
    }
    i32(): number {
        const v = this.u32()
        return v >= 0x80000000 ? v - 0x100000000 : v
    }
    u48(): number {
        const lo = this.u32()
        return lo + this.u16() * 4294967296
    }
    raw(n: number): number[] {
        this.need(n)
        const out = this.bytes.slice(this.pos, this.pos + n)
        this.pos += n
        return out
    }
    str8(): string {
        return utf8Decode(this.raw(this.u8()))
    }
}

/** UTF-8 bytes of a string (BMP and surrogate pairs). */
export function utf8Encode(s: string): number[] {
    const out: number[] = []
    for (let i = 0; i < s.length; i++) {
        let c = s.charCodeAt(i)
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
            const lo = s.charCodeAt(i + 1)
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + (c - 0xd800) * 1024 + (lo - 0xdc00)
                i++
            }
        }
        if (c < 0x80) out.push(c)
        else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63))
        else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
        else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63))
    }
    return out
}

/** String from UTF-8 bytes; throws CodecError on malformed input. */
export function utf8Decode(b: number[]): string {
    let s = ""
    let i = 0
    while (i < b.length) {
        const c = b[i]
        let n = 0
        let cp = 0
        if (c < 0x80) cp = c
        else if (c >= 0xc2 && c < 0xe0) { n = 1; cp = c & 31 }
        else if (c >= 0xe0 && c < 0xf0) { n = 2; cp = c & 15 }
        else if (c >= 0xf0 && c < 0xf5) { n = 3; cp = c & 7 }
        else throw new CodecError("malformed UTF-8 at byte " + i)
        for (let k = 1; k <= n; k++) {
            const cc = b[i + k]
            if (cc === undefined || (cc & 0xc0) !== 0x80) throw new CodecError("malformed UTF-8 at byte " + (i + k))
            cp = cp * 64 + (cc & 63)
        }
        i += n + 1
        if (cp >= 0x10000) {
            const v = cp - 0x10000
            s += String.fromCharCode(0xd800 + (v >> 10), 0xdc00 + (v & 1023))
        } else s += String.fromCharCode(cp)
    }
    return s
}

/**
 * CRC-32 a nibble at a time: a 16-entry table (the 256-entry one costs
 * kilobytes of the ~64 KB DeviceScript heap), values of
 * (n * 0xEDB88320 over 4 reflected steps) for n = 0..15.
 */
const CRC_NIBBLE = [
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
]

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor
 * 0xFFFFFFFF: the zlib/PNG CRC, "123456789" -> 0xCBF43926), as an unsigned
 * number. Pass the previous result as `crc` to continue over several parts.
 */
export function crc32(bytes: number[], crc?: number, start?: number, end?: number): number {
    let c = (crc ?? 0) ^ 0xffffffff
    const from = start ?? 0
    const to = end ?? bytes.length
    for (let i = from; i < to; i++) {
        c = c ^ bytes[i]
        c = CRC_NIBBLE[c & 15] ^ (c >>> 4)
        c = CRC_NIBBLE[c & 15] ^ (c >>> 4)
    }
    return (c ^ 0xffffffff) >>> 0
}

const HEX = "0123456789abcdef"

/** Lower-case hex of bytes ("0a1b..."). */
export function toHex(bytes: number[]): string {
    let s = ""
    for (const b of bytes) s += HEX.charAt(b >> 4) + HEX.charAt(b & 15)
    return s
}

/** Bytes of a hex string (either case); throws CodecError on an odd length or a non-hex character. */
export function fromHex(s: string): number[] {
    if (s.length % 2 !== 0) throw new CodecError("hex string of odd length " + s.length)
    const out: number[] = []
    const lower = s.toLowerCase()
    for (let i = 0; i < lower.length; i += 2) {
        const hi = HEX.indexOf(lower.charAt(i))
        const lo = HEX.indexOf(lower.charAt(i + 1))
        if (hi < 0 || lo < 0) throw new CodecError("not a hex digit at " + (hi < 0 ? i : i + 1))
        out.push(hi * 16 + lo)
    }
    return out
}
