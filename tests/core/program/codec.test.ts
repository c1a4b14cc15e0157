// The canonical program bytes: exact round trips, one encoding per program,
// strict decoding. Node only (fast-check); the shared cases cover the VM.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { CodecError } from "../../../src/core/codec/bytes"
import {
    PHASES_MAX,
    ProgramInvalidError,
    decodeAndValidate,
    decodeProgram,
    encodeProgram,
    validateProgram,
    type Program,
} from "../../../src/core/program"
import { validProgramArb } from "./arbitraries"
import { etsStim, flicks, holds, makeProgram, relax } from "./fixtures"

type Rec = Record<string, unknown>

/** the same document with every object's keys in another order */
function shuffleKeys(v: unknown, seed: number): unknown {
    if (Array.isArray(v)) return v.map((x, i) => shuffleKeys(x, seed + i))
    if (typeof v !== "object" || v === null) return v
    const keys = Object.keys(v)
    const order = keys.map((k, i) => ({ k, r: Math.sin(seed * 997 + i * 31) })).sort((a, b) => a.r - b.r)
    const out: Rec = {}
    for (const { k } of order) out[k] = shuffleKeys((v as Rec)[k], seed + 1)
    return out
}

describe("round trips", () => {
    test("decode(encode(p)) equals p for every valid program", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                const canonical = validateProgram(p).program!
                expect(decodeProgram(encodeProgram(p))).toStrictEqual(canonical)
            }),
            { numRuns: 500 }
        )
    })
    test("encode(decode(bytes)) gives back the same bytes", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                const bytes = encodeProgram(p)
                expect(encodeProgram(decodeProgram(bytes))).toEqual(bytes)
            }),
            { numRuns: 300 }
        )
    })
    test("equal programs give identical bytes, whatever the key order", () => {
        fc.assert(
            fc.property(validProgramArb, fc.integer(), (p, seed) => {
                expect(encodeProgram(shuffleKeys(p, seed) as Program)).toEqual(encodeProgram(p))
            }),
            { numRuns: 300 }
        )
    })
    test("different programs give different bytes", () => {
        fc.assert(
            fc.property(validProgramArb, validProgramArb, (a, b) => {
                const same = JSON.stringify(validateProgram(a).program) === JSON.stringify(validateProgram(b).program)
                expect(encodeProgram(a).join(",") === encodeProgram(b).join(",")).toBe(same)
            }),
            { numRuns: 300 }
        )
    })
    test("decoded bytes validate", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                expect(decodeAndValidate(encodeProgram(p)).ok).toBe(true)
            }),
            { numRuns: 200 }
        )
    })
})

describe("size", () => {
    test("a typical relax-then-tone program is well under 400 bytes", () => {
        const p = makeProgram({ channels: "both", phases: [relax(), flicks(), holds(), relax(), holds({ targetPctMvc: undefined, targetRamp: { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 } })] })
        expect(encodeProgram(p).length).toBeLessThan(120)
    })
    test("the largest program (16 of the largest phase, long ids) stays under 500 bytes", () => {
        const p = makeProgram({ channels: "both", phases: Array.from({ length: PHASES_MAX }, () => etsStim({ durationS: 30 })), caps: { sessionStimMaxMin: 20 } })
        p.programId = "x".repeat(24)
        p.patientRef = "y".repeat(24)
        expect(encodeProgram(p).length).toBeLessThan(500)
    })
    test("no generated program reaches 500 bytes", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                expect(encodeProgram(p).length).toBeLessThan(500)
            }),
            { numRuns: 300 }
        )
    })
})

describe("the layout", () => {
    test("format version, then the program version little-endian", () => {
        const b = encodeProgram({ ...makeProgram(), programVersion: 0x01020304 })
        expect(b.slice(0, 5)).toEqual([1, 4, 3, 2, 1])
    })
    test("an optional field left out costs nothing but its flag bit", () => {
        const withDilators = encodeProgram({ ...makeProgram(), usesDilators: false })
        expect(withDilators.length).toBe(encodeProgram(makeProgram()).length)
        expect(decodeProgram(withDilators).usesDilators).toBe(false)
        expect("usesDilators" in decodeProgram(encodeProgram(makeProgram()))).toBe(false)
    })
    test("numbers are fixed-point: 0.7 s is stored as 7", () => {
        const a = encodeProgram(makeProgram({ phases: [flicks({ onS: 0.7 })] }))
        const b = encodeProgram(makeProgram({ phases: [flicks({ onS: 0.8 })] }))
        const at = a.findIndex((x, i) => x !== b[i])
        expect([a[at], b[at]]).toEqual([7, 8])
    })
})

describe("strict decoding", () => {
    const good = () => encodeProgram(makeProgram())
    test("an invalid program has no encoding", () => expect(() => encodeProgram(makeProgram({ phases: [] }))).toThrow(ProgramInvalidError))
    test("trailing bytes", () => expect(() => decodeProgram([...good(), 0])).toThrow(/after the end/))
    test("truncated at every length", () => {
        const b = good()
        for (let n = 0; n < b.length; n++) expect(() => decodeProgram(b.slice(0, n))).toThrow(CodecError)
    })
    test("another format version", () => expect(() => decodeProgram([2, ...good().slice(1)])).toThrow(/format version 2/))
    test("an unused flag bit set", () => {
        const b = good()
        b[5] |= 0x80 // root flags: 4 bits used
        expect(() => decodeProgram(b)).toThrow(/unknown flag bits/)
    })
    test("random bytes never crash decodeAndValidate", () => {
        fc.assert(
            fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }), b => {
                expect(typeof decodeAndValidate(b).ok).toBe("boolean")
            }),
            { numRuns: 500 }
        )
    })
    test("a valid encoding with one byte changed either fails or decodes to a program that re-encodes to those bytes", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (p, at, x) => {
                const b = encodeProgram(p)
                const i = at % b.length
                b[i] ^= x
                const r = decodeAndValidate(b)
                if (r.ok) expect(encodeProgram(r.program)).toEqual(b)
            }),
            { numRuns: 500 }
        )
    })
})
