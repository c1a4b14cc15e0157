// Signing with node:crypto: envelopes round-trip, any changed bit fails the
// check, and the key id agrees with the core's definition.
import { createHash, createHmac } from "node:crypto"
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { decideProgramInstall, decodeProgram, keyIdFromMac, KEY_ID_LABEL } from "../../../src/core/program"
import { clinicKeyId, hmacSha256, signProgram, verifyEnvelope } from "../../../host/program/sign"
import { validProgramArb } from "../../core/program/arbitraries"
import { makeProgram } from "../../core/program/fixtures"

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(k => Buffer.from(k))
const KEY = createHash("sha256").update("test clinic").digest()
const OTHER_KEY = createHash("sha256").update("another clinic").digest()

describe("HMAC and key id", () => {
    test("RFC 4231 test case 2 (HMAC-SHA-256, key \"Jefe\")", () => {
        const mac = hmacSha256(Buffer.from("Jefe"), Array.from(Buffer.from("what do ya want for nothing?")))
        expect(Buffer.from(mac).toString("hex")).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    })
    test("the key id is the first 4 bytes (LE) of HMAC(key, label)", () => {
        const mac = createHmac("sha256", KEY).update(KEY_ID_LABEL).digest()
        expect(clinicKeyId(KEY)).toBe(mac.readUInt32LE(0))
        expect(clinicKeyId(KEY)).toBe(keyIdFromMac(Array.from(mac)))
    })
    test("keys are 32 bytes", () => expect(() => clinicKeyId(Buffer.alloc(16))).toThrow(/32 bytes/))
})

describe("signed envelopes", () => {
    test("round-trip every valid program and key", () => {
        fc.assert(
            fc.property(validProgramArb, keyArb, (p, key) => {
                const s = signProgram(p, key)
                const check = verifyEnvelope(s.envelope, key)
                expect(check.tagValid).toBe(true)
                expect(check.keyIdMatches).toBe(true)
                expect(check.envelope.programVersion).toBe(p.programVersion)
                expect(decodeProgram(check.envelope.programBytes)).toEqual(p)
            }),
            { numRuns: 200 }
        )
    })
    test("one flipped bit anywhere: not a valid envelope, or a tag that does not check", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), (p, bit) => {
                const env = Buffer.from(signProgram(p, KEY).envelope)
                const i = bit % (env.length * 8)
                env[i >> 3] ^= 1 << (i & 7)
                let tagValid = false
                try {
                    tagValid = verifyEnvelope(env, KEY).tagValid
                } catch (e) {
                    expect((e as Error).name).toBe("CodecError")
                }
                expect(tagValid).toBe(false)
            }),
            { numRuns: 500 }
        )
    })
    test("another clinic's key: tag and key id both fail", () => {
        const check = verifyEnvelope(signProgram(makeProgram(), KEY).envelope, OTHER_KEY)
        expect([check.tagValid, check.keyIdMatches]).toEqual([false, false])
    })
    test("a tampered program is refused by the device rule and the old one stays", () => {
        const env = Buffer.from(signProgram({ ...makeProgram(), programVersion: 2 }, KEY).envelope)
        env[env.length - 40] ^= 1 // inside the program
        const check = verifyEnvelope(env, KEY)
        const d = decideProgramInstall({ installedVersion: 1, candidate: check.envelope, tagValid: check.tagValid })
        expect(d.accept).toBe(false)
        expect(d.reason).toContain("not signed with this device's clinic key")
    })
    test("an invalid program is not signed", () => expect(() => signProgram(makeProgram({ phases: [] }), KEY)).toThrow(/invalid program: phases: empty/))
})
