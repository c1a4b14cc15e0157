import { ByteReader, ByteWriter, crc32, utf8Decode, utf8Encode } from "../../src/core/codec/bytes"
import type { NumericCase, ThrowCase } from "./types"

function ascii(s: string): number[] {
    const out: number[] = []
    for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i))
    return out
}

function roundTrip(write: (w: ByteWriter) => void, read: (r: ByteReader) => number): number {
    const w = new ByteWriter()
    write(w)
    return read(new ByteReader(w.bytes))
}

export const bytesCases: NumericCase[] = [
    { name: "crc32 check value of 123456789 is 0xCBF43926", actual: () => crc32(ascii("123456789")), expected: 0xcbf43926, tolerance: 0 },
    { name: "crc32 of nothing is 0", actual: () => crc32([]), expected: 0, tolerance: 0 },
    { name: "crc32 continues over parts", actual: () => crc32(ascii("6789"), crc32(ascii("12345"))), expected: 0xcbf43926, tolerance: 0 },
    { name: "crc32 over a range", actual: () => crc32(ascii("xx123456789yy"), 0, 2, 11), expected: 0xcbf43926, tolerance: 0 },
    { name: "u16 round-trips 0xBEEF", actual: () => roundTrip(w => w.u16(0xbeef), r => r.u16()), expected: 0xbeef, tolerance: 0 },
    { name: "u32 round-trips 0xFFFFFFFE", actual: () => roundTrip(w => w.u32(0xfffffffe), r => r.u32()), expected: 0xfffffffe, tolerance: 0 },
    { name: "i16 round-trips -12345", actual: () => roundTrip(w => w.i16(-12345), r => r.i16()), expected: -12345, tolerance: 0 },
    { name: "i32 round-trips -2000000000", actual: () => roundTrip(w => w.i32(-2000000000), r => r.i32()), expected: -2000000000, tolerance: 0 },
    { name: "u48 round-trips a 2026 ms timestamp", actual: () => roundTrip(w => w.u48(1795000000123), r => r.u48()), expected: 1795000000123, tolerance: 0 },
    { name: "u32 is little-endian", actual: () => new ByteWriter().u32(0x01020304).bytes[0], expected: 4, tolerance: 0 },
    { name: "utf8 of é is 2 bytes", actual: () => utf8Encode("é").length, expected: 2, tolerance: 0 },
    { name: "utf8 round-trips a non-ASCII string", actual: () => (utf8Decode(utf8Encode("Zoë ü €")) === "Zoë ü €" ? 1 : 0), expected: 1, tolerance: 0 },
    { name: "str8 round-trips with what follows intact", actual: () => roundTrip(w => w.str8("p-0042").u8(7), r => (r.str8() === "p-0042" ? r.u8() : -1)), expected: 7, tolerance: 0 },
]

export const bytesThrowCases: ThrowCase[] = [
    { name: "reading past the end throws", run: () => new ByteReader([1]).u16() },
    { name: "u8 rejects 256", run: () => new ByteWriter().u8(256) },
    { name: "u16 rejects a fraction", run: () => new ByteWriter().u16(1.5) },
    { name: "i16 rejects -32769", run: () => new ByteWriter().i16(-32769) },
    { name: "malformed utf8 throws", run: () => utf8Decode([0xc3]) },
    { name: "a bare continuation byte throws", run: () => utf8Decode([0x80]) },
]
