import { crc32 as zlibCrc32 } from "node:zlib"
import fc from "fast-check"
import { expect, test } from "vitest"
import { ByteReader, ByteWriter, crc32, utf8Decode, utf8Encode } from "../../../src/core/codec/bytes"
import { runCases } from "../../helpers/run-cases"
import { bytesCases, bytesThrowCases } from "../../cases/bytes.cases"

runCases("bytes", bytesCases, bytesThrowCases)

test("crc32 matches zlib on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), b => {
        expect(crc32(Array.from(b))).toBe(zlibCrc32(b))
    }))
})

test("utf8 matches Node's encoder and round-trips", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), s => {
        const bytes = utf8Encode(s)
        expect(bytes).toEqual(Array.from(Buffer.from(s, "utf8")))
        expect(utf8Decode(bytes)).toBe(s)
    }))
})

test("integer fields round-trip in sequence", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -32768, max: 32767 }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (a, b, c) => {
        const w = new ByteWriter().u32(a).i16(b).u48(c)
        const r = new ByteReader(w.bytes)
        expect([r.u32(), r.i16(), r.u48(), r.remaining()]).toEqual([a, b, c, 0])
    }))
})
