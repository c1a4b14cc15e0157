// The envelope layout and the install rule (pure: tags here are made up;
// tests/host/program/sign.test.ts signs for real).
import { describe, expect, test } from "vitest"
import {
    ENVELOPE_MAGIC,
    TAG_BYTES,
    decideProgramInstall,
    decodeEnvelope,
    encodeEnvelope,
    encodeProgram,
    envelopeSignedPart,
    hex32,
    type Program,
} from "../../../src/core/program"
import { makeProgram } from "./fixtures"

const tag = (seed = 1) => Array.from({ length: TAG_BYTES }, (_, i) => (seed * 31 + i) & 0xff)

function versioned(v: number, over: Partial<Program> = {}): Program {
    return { ...makeProgram(), programVersion: v, ...over }
}

function envelope(p: Program) {
    return decodeEnvelope(encodeEnvelope({ programBytes: encodeProgram(p), keyId: 0xdeadbeef, tag: tag() }))
}

describe("layout", () => {
    test("magic, format, version, key id, length, program, tag", () => {
        const programBytes = encodeProgram(versioned(7))
        const bytes = encodeEnvelope({ programBytes, keyId: 0xdeadbeef, tag: tag() })
        expect(bytes.slice(0, 4)).toEqual(ENVELOPE_MAGIC)
        expect(bytes.slice(4, 15)).toEqual([1, 7, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, programBytes.length, 0])
        expect(bytes.length).toBe(15 + programBytes.length + TAG_BYTES)
        const e = decodeEnvelope(bytes)
        expect(e).toEqual({ formatVersion: 1, programVersion: 7, keyId: 0xdeadbeef, programBytes, signedBytes: bytes.slice(0, bytes.length - TAG_BYTES), tag: tag() })
        expect(envelopeSignedPart({ programBytes, keyId: 0xdeadbeef })).toEqual(e.signedBytes)
    })
    test("a header version that differs from the program's is refused", () => {
        const bytes = encodeEnvelope({ programBytes: encodeProgram(versioned(7)), keyId: 1, tag: tag() })
        bytes[5] = 8
        expect(() => decodeEnvelope(bytes)).toThrow(/does not match the program's version 7/)
    })
    test("a wrong length is refused", () => {
        const bytes = encodeEnvelope({ programBytes: encodeProgram(versioned(7)), keyId: 1, tag: tag() })
        expect(() => decodeEnvelope([...bytes, 0])).toThrow(/envelope length/)
    })
    test("a tag of the wrong size cannot be attached", () => expect(() => encodeEnvelope({ programBytes: encodeProgram(versioned(1)), keyId: 1, tag: [1, 2] })).toThrow(/32/))
    test("key ids print as 8 hex digits", () => expect([hex32(0), hex32(0xdeadbeef), hex32(0xffffffff)]).toEqual(["0x00000000", "0xdeadbeef", "0xffffffff"]))
})

describe("install rule (one named test per case)", () => {
    const installed = versioned(5)
    const installedBytes = encodeProgram(installed)
    test("a wrong tag is refused first, even for a newer version", () => {
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: envelope(versioned(9)), tagValid: false })
        expect(d).toMatchObject({ accept: false, changed: false })
        expect(d.reason).toContain("not signed with this device's clinic key")
        expect(d.reason).toContain("0xdeadbeef")
        expect(d.reason).toContain("installed program stays in force")
    })
    test("version 4 after 5 is a replay", () => {
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: envelope(versioned(4)), tagValid: true })
        expect(d.accept).toBe(false)
        expect(d.reason).toMatch(/older than the installed version 5.*replay.*above 5/)
    })
    test("version 5 again with identical bytes is an idempotent retry", () => {
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: envelope(versioned(5)), tagValid: true })
        expect(d).toMatchObject({ accept: true, changed: false })
        expect(d.reason).toContain("already installed with identical content")
    })
    test("version 5 again with other content is refused", () => {
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: envelope(versioned(5, { programId: "changed" })), tagValid: true })
        expect(d.accept).toBe(false)
        expect(d.reason).toContain("version 6 or higher")
    })
    test("version 5 again when the installed bytes are unknown is refused (fail-safe)", () =>
        expect(decideProgramInstall({ installedVersion: 5, candidate: envelope(versioned(5)), tagValid: true }).accept).toBe(false))
    test("version 6 after 5 is installed", () => {
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: envelope(versioned(6)), tagValid: true })
        expect(d).toMatchObject({ accept: true, changed: true })
        expect(d.program).toEqual(versioned(6))
        expect(d.reason).toBe("version 6 installed (replaces version 5)")
    })
    test("the first program on a device", () =>
        expect(decideProgramInstall({ installedVersion: 0, candidate: envelope(versioned(1)), tagValid: true }).reason).toBe("version 1 installed (no program was installed)"))
    test("a signed but invalid program is refused with its first error", () => {
        // signed by a host that did not validate: the device validates again
        const good = encodeProgram(versioned(6))
        const bad = [...good]
        bad[bad.length - 1] = 0 // last flicks field: targetPctMvc 0 (range 10..100)
        const cand = decodeEnvelope(encodeEnvelope({ programBytes: bad, keyId: 1, tag: tag() }))
        const d = decideProgramInstall({ installedVersion: 5, installedBytes, candidate: cand, tagValid: true })
        expect(d.accept).toBe(false)
        expect(d.reason).toContain("the program is invalid: phases[1].targetPctMvc: 0 is out of range 10..100 % MVC")
    })
})
