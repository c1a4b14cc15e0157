// docs/program.schema.json is generated from the field tables and agrees
// with the validator on the examples, on random valid programs and on a set
// of invalid ones.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import Ajv2020 from "ajv/dist/2020"
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { validateProgram } from "../../../src/core/program"
import { repoRoot } from "../../../host/paths"
import { programJsonSchema } from "../../../host/program/schema"
import { validProgramArb } from "../../core/program/arbitraries"
import { etsStim, flicks, holds, makeProgram, relax, relaxStim, stim, withPath } from "../../core/program/fixtures"

const schemaFile = join(repoRoot(), "docs", "program.schema.json")
const examplesDir = join(repoRoot(), "docs", "examples")
// strictRequired off: "required" inside anyOf/oneOf names properties declared beside it, which is standard JSON Schema
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false })
const schemaValid = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")))

test("docs/program.schema.json is the generator's output (regenerate: pft program schema > docs/program.schema.json)", () => {
    expect(JSON.parse(readFileSync(schemaFile, "utf8"))).toEqual(programJsonSchema())
})

describe("schema and validator agree", () => {
    test.each(readdirSync(examplesDir))("example %s: both accept", name => {
        const doc = JSON.parse(readFileSync(join(examplesDir, name), "utf8"))
        expect(schemaValid(doc), JSON.stringify(schemaValid.errors)).toBe(true)
        expect(validateProgram(doc).ok).toBe(true)
    })

    test("every valid program passes the schema (the schema is never stricter)", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                expect(schemaValid(p), JSON.stringify(schemaValid.errors?.slice(0, 3))).toBe(true)
            }),
            { numRuns: 300 }
        )
    })

    const base = () => makeProgram({ channels: "both", phases: [relax(), flicks(), holds(), stim(), etsStim(), relaxStim(), { kind: "assessment" }], caps: { sessionStimMaxMin: 40 } })
    const INVALID: [string, unknown][] = [
        ["an unknown root field", withPath(base(), "notes", "x")],
        ["a field in the wrong unit", withPath(base(), "phases[1].onMs", 2000)],
        ["a missing required field", withPath(base(), "phases[1].reps", undefined)],
        ["a number as a string", withPath(base(), "phases[1].reps", "10")],
        ["a fraction where whole numbers go", withPath(base(), "phases[1].reps", 2.5)],
        ["under a minimum", withPath(base(), "phases[1].onS", 0.4)],
        ["over a maximum", withPath(base(), "caps.amplitudeMaxMa", 90.5)],
        ["amplitude off its 0.5 mA grid", withPath(base(), "caps.amplitudeMaxMa", 40.2)],
        ["a wrong enum value", withPath(base(), "channels", "EMG")],
        ["an unknown phase kind", withPath(base(), "phases[0].kind", "kegel")],
        ["formatVersion 2", withPath(base(), "formatVersion", 2)],
        ["programVersion 0", withPath(base(), "programVersion", 0)],
        ["a name as patientRef", withPath(base(), "patientRef", "Jane Doe")],
        ["an empty phase list", withPath(base(), "phases", [])],
        ["17 phases", withPath(base(), "phases", Array.from({ length: 17 }, () => relax()))],
        ["an unanswered contraindication", withPath(base(), "contraindications.epilepsy", undefined)],
        ["both sessionsPerDay and sessionsPerWeek", withPath(base(), "frequency.sessionsPerWeek", 3)],
        ["neither", withPath(base(), "frequency.sessionsPerDay", undefined)],
        ["holds with both targets", withPath(base(), "phases[2].targetRamp", { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 })],
        ["holds with no target", withPath(base(), "phases[2].targetPctMvc", undefined)],
        ["a relax phase with no target", withPath(base(), "phases[0].restToneMaxUv", undefined)],
        ["a relaxation level without its SD", withPath(base(), "relaxation.restToneSdMaxUv", undefined)],
        ["strengthen outside 35..50 Hz", withPath(base(), "phases[3].frequencyHz", 20)],
        ["strengthen without work/rest", withPath(base(), "phases[3].workS", undefined)],
        ["relax-mode stim outside 1..10 Hz", withPath(base(), "phases[5].frequencyHz", 20)],
        ["relax-mode stim with work but no rest", withPath(base(), "phases[5].workS", 5)],
        ["ets without its trigger", withPath(base(), "phases[4].triggerChannel", undefined)],
        ["trigger fields on strengthen", withPath(base(), "phases[3].triggerPctOfTarget", 80)],
    ]
    test("the invalid set's base program is valid for both", () => {
        expect(validateProgram(base()).ok).toBe(true)
        expect(schemaValid(base()), JSON.stringify(schemaValid.errors)).toBe(true)
    })
    test.each(INVALID)("%s: both refuse", (_name, doc) => {
        expect(schemaValid(doc)).toBe(false)
        expect(validateProgram(doc).ok).toBe(false)
    })

    // Documented limit: rules between fields are the validator's alone.
    test.each([
        ["a toning phase without a relaxation criterion", makeProgram({ relaxation: null })],
        ["stim over the therapist's frequency cap", makeProgram({ phases: [stim({ frequencyHz: 50 })], caps: { frequencyMaxHz: 40 } })],
        ["stim for a pacemaker patient", makeProgram({ phases: [relaxStim()], contraindications: { pacemakerOrImplant: true } })],
    ])("only the validator refuses %s", (_name, doc) => {
        expect(schemaValid(doc)).toBe(true)
        expect(validateProgram(doc).ok).toBe(false)
    })
})
