// The clinic key file: created 0600, never silently replaced, loaded with
// errors that say what to do.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { createClinicKey, defaultClinicKeyFile, loadClinicKey } from "../../../host/program/clinic-key"
import { pftDataDir } from "../../../host/paths"
import { clinicKeyId } from "../../../host/program/sign"

const dir = () => mkdtempSync(join(tmpdir(), "pft-key-"))
const fixed = (byte: number) => () => Buffer.alloc(32, byte)

describe("data directory", () => {
    test("$PFT_HOME first, then $XDG_DATA_HOME/pft, then ~/.local/share/pft", () => {
        expect(pftDataDir({ PFT_HOME: "/a", XDG_DATA_HOME: "/b" })).toBe("/a")
        expect(pftDataDir({ XDG_DATA_HOME: "/b" })).toBe("/b/pft")
        expect(pftDataDir({})).toMatch(/\.local\/share\/pft$/)
        expect(defaultClinicKeyFile({ PFT_HOME: "/a" })).toBe("/a/clinic-key.json")
    })
})

describe("create", () => {
    test("writes a 0600 file in a new 0700 directory and loads back", () => {
        const file = join(dir(), "sub", "clinic-key.json")
        const k = createClinicKey({ file, random: fixed(7) })
        expect(statSync(file).mode & 0o777).toBe(0o600)
        expect(statSync(join(file, "..")).mode & 0o777).toBe(0o700)
        expect(k.keyId).toBe(clinicKeyId(Buffer.alloc(32, 7)))
        expect(loadClinicKey(file)).toEqual(k)
        expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ format: "pft-clinic-key", version: 1, key: "07".repeat(32) })
    })
    test("refuses to replace an existing key, naming it", () => {
        const file = join(dir(), "k.json")
        const first = createClinicKey({ file, random: fixed(1) })
        expect(() => createClinicKey({ file, random: fixed(2) })).toThrow(/already exists.*key id 0x[0-9a-f]{8}.*--force/)
        expect(loadClinicKey(file).key).toEqual(first.key)
    })
    test("--force replaces it", () => {
        const file = join(dir(), "k.json")
        createClinicKey({ file, random: fixed(1) })
        const second = createClinicKey({ file, force: true, random: fixed(2) })
        expect(loadClinicKey(file).key).toEqual(second.key)
        expect(statSync(file).mode & 0o777).toBe(0o600)
    })
    test("uses crypto randomness by default: two keys differ", () => {
        const d = dir()
        expect(createClinicKey({ file: join(d, "a") }).key).not.toEqual(createClinicKey({ file: join(d, "b") }).key)
    })
})

describe("load errors say what to do", () => {
    test("missing", () => expect(() => loadClinicKey(join(dir(), "none.json"))).toThrow(/no clinic key at .*pft clinic init/))
    test("readable by others", () => {
        const file = join(dir(), "k.json")
        createClinicKey({ file, random: fixed(3) })
        chmodSync(file, 0o644)
        expect(() => loadClinicKey(file)).toThrow(/mode 0644.*chmod 600/)
    })
    test.each([
        ["not JSON", "{", /not JSON/],
        ["another format", JSON.stringify({ format: "x" }), /"format" is not "pft-clinic-key"/],
        ["a short key", JSON.stringify({ format: "pft-clinic-key", version: 1, key: "00", keyId: "0x0" }), /64 lowercase hex/],
        ["a damaged key id", JSON.stringify({ format: "pft-clinic-key", version: 1, key: "00".repeat(32), keyId: "0x00000000" }), /does not match the key/],
    ])("%s", (_name, text, message) => {
        const file = join(dir(), "k.json")
        writeFileSync(file, text, { mode: 0o600 })
        expect(() => loadClinicKey(file)).toThrow(message)
    })
})
