// Programs on the real firmware in the VM: the clinic key is provisioned
// once, only programs signed with it and newer than the one in force are
// installed, a refused program leaves the old one in force, and the
// program read back equals the one pushed, also after a restart (power
// cycle) of the device.
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { decodeEnvelope, decodeProgram, ProgramStatus, type Program } from "../../src/core/program"
import { findTrainer, type TrainerClient } from "../../host/device/trainer-client"
import { createClinicKey } from "../../host/program/clinic-key"
import { signProgram } from "../../host/program/sign"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { repoRoot } from "../../host/paths"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

function example(name: string, overrides: Partial<Program> = {}): Program {
    const p = JSON.parse(readFileSync(join(repoRoot(), "docs", "examples", name), "utf8")) as Program
    return { ...p, ...overrides }
}

describe("programs on the device", () => {
    let sim: Simulation | undefined
    let trainer: TrainerClient
    const dir = mkdtempSync(join(tmpdir(), "pft-e2e-programs-"))
    const key = createClinicKey({ file: join(dir, "clinic.json") })
    const otherKey = createClinicKey({ file: join(dir, "other.json") })

    beforeAll(async () => {
        sim = await startSimulation({ hostLink: E2E_HOST_LINK })
        trainer = await findTrainer(sim.hostBus, 20000)
    }, 60000)

    afterAll(async () => {
        await sim?.stop()
        rmSync(dir, { recursive: true, force: true })
    })

    test("a push before the key is provisioned is refused and says what to do", async () => {
        const r = await trainer.pushProgram(signProgram(example("downtraining-starter.json"), key.key).envelope)
        expect(r.status).toBe(ProgramStatus.NoClinicKey)
        expect(r.message).toContain("pft device provision")
        expect((await trainer.programStatus()).version).toBe(0)
    })

    test("the clinic key is provisioned once; the same key again is harmless, another is refused", async () => {
        expect((await trainer.provisionKey(Buffer.from(key.key))).status).toBe(ProgramStatus.KeyInstalled)
        expect((await trainer.provisionKey(Buffer.from(key.key))).status).toBe(ProgramStatus.KeyInstalled)
        const other = await trainer.provisionKey(Buffer.from(otherKey.key))
        expect(other.status).toBe(ProgramStatus.KeyConflict)
        expect((await trainer.programStatus()).keyId).toBe(key.keyId)
    })

    test("a signed program is installed, and pushing it again changes nothing", async () => {
        const v1 = example("downtraining-starter.json", { programVersion: 1 })
        const first = await trainer.pushProgram(signProgram(v1, key.key).envelope)
        expect(first.status, first.message).toBe(ProgramStatus.Installed)
        const again = await trainer.pushProgram(signProgram(v1, key.key).envelope)
        expect(again.status, again.message).toBe(ProgramStatus.Unchanged)
        expect((await trainer.programStatus()).version).toBe(1)
    })

    test("a tampered program is refused with a clear message and the old one stays in force", async () => {
        const signed = signProgram(example("relax-then-tone.json", { programVersion: 2 }), key.key)
        const tampered = Buffer.from(signed.envelope)
        tampered[20] ^= 0x01 // a byte inside the program, after the 15-byte header
        const r = await trainer.pushProgram(tampered)
        expect(r.status).toBe(ProgramStatus.BadSignature)
        expect(r.message).toContain("not signed with this device's clinic key")
        expect((await trainer.programStatus()).version).toBe(1)
    })

    test("a program signed with another clinic's key is refused", async () => {
        const r = await trainer.pushProgram(signProgram(example("relax-then-tone.json", { programVersion: 2 }), otherKey.key).envelope)
        expect(r.status).toBe(ProgramStatus.BadSignature)
        expect((await trainer.programStatus()).version).toBe(1)
    })

    test("a newer program replaces the old one; replaying the old one is refused", async () => {
        const v2 = example("relax-then-tone.json", { programVersion: 2 })
        expect((await trainer.pushProgram(signProgram(v2, key.key).envelope)).status).toBe(ProgramStatus.Installed)
        const replay = await trainer.pushProgram(signProgram(example("downtraining-starter.json", { programVersion: 1 }), key.key).envelope)
        expect(replay.status).toBe(ProgramStatus.Replay)
        expect(replay.message).toContain("older than the installed version 2")
        const reuse = await trainer.pushProgram(signProgram(example("glazer-assessment.json", { programVersion: 2 }), key.key).envelope)
        expect(reuse.status).toBe(ProgramStatus.VersionConflict)
        expect((await trainer.programStatus()).version).toBe(2)
    })

    test("the program read back from the device equals the one pushed (host -> device -> host)", async () => {
        const v2 = example("relax-then-tone.json", { programVersion: 2 })
        const bytes = await trainer.readProgram()
        expect(bytes.equals(signProgram(v2, key.key).envelope)).toBe(true)
        expect(decodeProgram(decodeEnvelope(Array.from(bytes)).programBytes)).toEqual(v2)
    })

    test("the program in force survives a restart of the device", async () => {
        expectHostLinkClean(sim!)
        await sim!.stop()
        sim = await startSimulation({ hostLink: E2E_HOST_LINK, clearFlash: false })
        trainer = await findTrainer(sim.hostBus, 20000)
        const s = await trainer.programStatus()
        expect(s.version).toBe(2)
        expect(s.keyId).toBe(key.keyId)
        expect(s.result.status).toBe(ProgramStatus.Installed)
    }, 60000)
})
