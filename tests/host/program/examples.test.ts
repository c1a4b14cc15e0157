// docs/examples: each validates, round-trips through the canonical bytes and
// a signed envelope, stays small, and reads as intended.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { decodeProgram, encodeProgram, isToningPhase, sessionMaxDurationS, validateProgram, type Program } from "../../../src/core/program"
import { repoRoot } from "../../../host/paths"
import { signProgram, verifyEnvelope } from "../../../host/program/sign"
import { describeProgram } from "../../../host/program/summary"

const dir = join(repoRoot(), "docs", "examples")
const load = (name: string): Program => JSON.parse(readFileSync(join(dir, name), "utf8"))
const KEY = Buffer.alloc(32, 9)

test("the four starter programs are there", () =>
    expect(readdirSync(dir).sort()).toEqual(["downtraining-starter.json", "glazer-assessment.json", "pain-relief-stim.json", "relax-then-tone.json"]))

describe.each(readdirSync(dir))("%s", name => {
    test("validates", () => expect(validateProgram(load(name)).errors ?? []).toEqual([]))
    test("round-trips host -> bytes -> signed envelope -> host unchanged", () => {
        const p = load(name)
        const check = verifyEnvelope(signProgram(p, KEY).envelope, KEY)
        expect(check.tagValid).toBe(true)
        expect(decodeProgram(check.envelope.programBytes)).toStrictEqual(validateProgram(p).program)
        expect(decodeProgram(encodeProgram(p))).toEqual(p)
    })
    test("is far under 400 bytes", () => expect(encodeProgram(load(name)).length).toBeLessThan(120))
    test("a session fits in 30 min", () => expect(sessionMaxDurationS(load(name))).toBeLessThanOrEqual(30 * 60))
})

test("the down-training starter has no toning phase", () => expect(load("downtraining-starter.json").phases.some(isToningPhase)).toBe(false))
test("relax-then-tone relaxes before it tones, gated", () => {
    const p = load("relax-then-tone.json")
    expect(p.phases.map(isToningPhase)).toEqual([false, false, true, true, false])
    expect(p.relaxation).toBeDefined()
})
test("the pain-relief program stimulates in the 1-10 Hz band, not gated", () => {
    const stim = load("pain-relief-stim.json").phases.find(ph => ph.kind === "stim")!
    expect(stim).toMatchObject({ mode: "relax" })
    expect(isToningPhase(stim)).toBe(false)
})
test("the summary of relax-then-tone", () =>
    expect(describeProgram(load("relax-then-tone.json"))).toEqual([
        "relax-then-tone v1 for P-0003: channels emg, 1 session a day, uses dilators",
        "contraindications: none",
        "relaxation gate: EMG rest < 4 uV (SD < 1 uV) for 20 s, waiting at most 300 s",
        "5 phases, up to 17.4 min a session (12.4 min of phases + up to 5 min waiting for the gate); 76 canonical bytes",
        "  1. baseline 60 s",
        "  2. relax 300 s, breathing every 10 s, target rest < 4 uV",
        "  3. flicks 10 x 2 s on / 4 s off at 60 % MVC (gated)",
        "  4. holds 8 x 6 s / 12 s rest at 30 % MVC +2 a session up to 60 % (gated)",
        "  5. relax 180 s, breathing every 10 s, target rest < 4 uV",
    ]))
