// Properties of the validator over random programs and random JSON. Node
// only (fast-check); the shared cases cover the VM.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_STEP_MA,
    AVERAGE_CURRENT_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    RAMP_MAX_MS,
    RAMP_MIN_MS,
    SESSION_STIM_MAX_MS,
    averageCurrentMa,
    chargePerPhaseUc,
} from "../../../src/core/limits"
import {
    CONTRAINDICATIONS,
    isToningPhase,
    lockingFlags,
    sessionMaxDurationS,
    stimModeRule,
    validateProgram,
    type Program,
} from "../../../src/core/program"
import { invalidValuesFor, looseValueArb, slotsOf, validProgramArb } from "./arbitraries"
import { withPath } from "./fixtures"

type Rec = Record<string, unknown>

describe("valid programs", () => {
    test("every generated valid program is accepted, unchanged", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                const v = validateProgram(p)
                expect(v.errors ?? []).toEqual([])
                expect(v.program).toStrictEqual(JSON.parse(JSON.stringify(v.program)))
                expect(v.program).toEqual(p)
            }),
            { numRuns: 300 }
        )
    })
})

describe("random input never crashes the validator", () => {
    test("random JSON", () => {
        fc.assert(
            fc.property(fc.jsonValue(), v => {
                const r = validateProgram(v)
                expect(r.ok).toBe(false)
                for (const e of r.errors ?? []) expect(typeof e.path + typeof e.message + typeof e.value + typeof e.allowed).toBe("stringstringstringstring")
            }),
            { numRuns: 300 }
        )
    })
    test("anything at all", () => {
        fc.assert(
            fc.property(fc.anything(), v => {
                expect(typeof validateProgram(v).ok).toBe("boolean")
            }),
            { numRuns: 300 }
        )
    })
    test("a valid program with a random value anywhere", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), looseValueArb, (p, pick, value) => {
                const slots = slotsOf(p)
                const slot = slots[pick % slots.length]
                const r = validateProgram(withPath(p, slot.path, value))
                if (!r.ok) expect(r.errors.length).toBeGreaterThan(0)
            }),
            { numRuns: 300 }
        )
    })
    test("valid programs with many fields replaced by random JSON", () => {
        fc.assert(
            fc.property(validProgramArb, fc.array(fc.tuple(fc.nat(), looseValueArb), { minLength: 1, maxLength: 8 }), (p, edits) => {
                let q: unknown = p
                for (const [pick, value] of edits) {
                    const slots = slotsOf(p)
                    q = withPath(q, slots[pick % slots.length].path, value)
                }
                expect(typeof validateProgram(q).ok).toBe("boolean")
            }),
            { numRuns: 200 }
        )
    })
})

describe("every fault is reported with its path", () => {
    test("an invalid value in any field", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), fc.nat(), (p, pick, which) => {
                const slots = slotsOf(p)
                const slot = slots[pick % slots.length]
                const bad = invalidValuesFor(slot.spec)
                const value = bad[which % bad.length]
                const r = validateProgram(withPath(p, slot.path, value))
                expect(r.ok, `${slot.path} = ${String(value)} accepted`).toBe(false)
                expect(r.errors!.map(e => e.path), `${slot.path} = ${String(value)}`).toContain(slot.path)
            }),
            { numRuns: 1000 }
        )
    })
    test("a required field removed", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), (p, pick) => {
                const slots = slotsOf(p).filter(s => s.spec !== "phase" && !s.spec.optional)
                const slot = slots[pick % slots.length]
                const r = validateProgram(withPath(p, slot.path, undefined))
                expect(r.ok).toBe(false)
                expect(r.errors!.find(e => e.path === slot.path)?.message).toMatch(/^missing/)
            }),
            { numRuns: 500 }
        )
    })
    test("an unknown field added to any object", () => {
        fc.assert(
            fc.property(validProgramArb, fc.nat(), fc.constantFrom("extra", "durationMs", "amplitudeMa", "__proto__x"), (p, pick, key) => {
                const objects = ["", ...slotsOf(p).filter(s => s.isObject).map(s => s.path)]
                const at = objects[pick % objects.length]
                const path = at ? `${at}.${key}` : key
                const r = validateProgram(withPath(p, path, 1))
                expect(r.errors?.map(e => e.path)).toContain(path)
            }),
            { numRuns: 300 }
        )
    })
})

/** A valid program with stim and caps numbers, and contraindication flags, randomly pushed around. */
const perturbedArb = fc
    .tuple(
        validProgramArb,
        fc.array(fc.tuple(fc.nat(), fc.oneof(fc.integer({ min: -5, max: 700 }), fc.double({ min: -5, max: 5000, noNaN: true }))), { maxLength: 6 }),
        fc.array(fc.constantFrom(...CONTRAINDICATIONS), { maxLength: 2 })
    )
    .map(([p, edits, flags]) => {
        const numeric = slotsOf(p).filter(s => s.spec !== "phase" && s.spec.kind === "num" && /caps|phases\[\d+\]\.(frequencyHz|pulseWidthUs|durationS|workS|restS|ramp)/.test(s.path))
        let q = p as unknown
        if (numeric.length) for (const [pick, value] of edits) q = withPath(q, numeric[pick % numeric.length].path, value)
        for (const f of flags) q = withPath(q, `contraindications.${f}`, true)
        return q
    })

describe("whatever is accepted respects every limit", () => {
    test("hard caps, therapist caps, modes, contraindications, gate, session length", () => {
        let accepted = 0
        fc.assert(
            fc.property(perturbedArb, q => {
                const v = validateProgram(q)
                if (!v.ok) return
                accepted++
                const p: Program = v.program
                const stims = p.phases.filter(ph => ph.kind === "stim")
                if (p.caps) {
                    expect(p.caps.amplitudeMaxMa).toBeLessThanOrEqual(AMPLITUDE_MAX_MA)
                    expect(p.caps.amplitudeMaxMa).toBeGreaterThanOrEqual(AMPLITUDE_STEP_MA)
                    expect(p.caps.pulseWidthMaxUs).toBeLessThanOrEqual(PULSE_WIDTH_MAX_US)
                    expect(p.caps.frequencyMaxHz).toBeLessThanOrEqual(FREQUENCY_MAX_HZ)
                    expect(p.caps.sessionStimMaxMin * 60000).toBeLessThanOrEqual(SESSION_STIM_MAX_MS)
                }
                let stimS = 0
                for (const s of stims) {
                    const caps = p.caps!
                    expect(caps).toBeDefined()
                    expect(s.frequencyHz).toBeGreaterThanOrEqual(FREQUENCY_MIN_HZ)
                    expect(s.frequencyHz).toBeLessThanOrEqual(Math.min(FREQUENCY_MAX_HZ, caps.frequencyMaxHz))
                    expect(s.pulseWidthUs).toBeGreaterThanOrEqual(PULSE_WIDTH_MIN_US)
                    expect(s.pulseWidthUs).toBeLessThanOrEqual(Math.min(PULSE_WIDTH_MAX_US, caps.pulseWidthMaxUs))
                    const corner = { amplitudeMa: caps.amplitudeMaxMa, pulseWidthUs: s.pulseWidthUs, frequencyHz: s.frequencyHz }
                    expect(chargePerPhaseUc(corner)).toBeLessThanOrEqual(CHARGE_PER_PHASE_MAX_UC)
                    expect(averageCurrentMa(corner)).toBeLessThanOrEqual(AVERAGE_CURRENT_MAX_MA)
                    for (const ramp of [s.rampUpS, s.rampDownS]) {
                        expect(ramp * 1000).toBeGreaterThanOrEqual(RAMP_MIN_MS)
                        expect(ramp * 1000).toBeLessThanOrEqual(RAMP_MAX_MS)
                    }
                    const rule = stimModeRule(s.mode)!
                    expect(s.frequencyHz).toBeGreaterThanOrEqual(rule.frequencyMinHz)
                    expect(s.frequencyHz).toBeLessThanOrEqual(rule.frequencyMaxHz)
                    stimS += s.durationS
                }
                if (stims.length) expect(stimS).toBeLessThanOrEqual(p.caps!.sessionStimMaxMin * 60)
                expect(stimS * 1000).toBeLessThanOrEqual(SESSION_STIM_MAX_MS)
                if (lockingFlags(p.contraindications, "stim").length) expect(stims).toHaveLength(0)
                if (lockingFlags(p.contraindications, "probe").length) expect(p.phases).toHaveLength(0)
                if (p.phases.some(isToningPhase)) expect(p.relaxation).toBeDefined()
                expect(sessionMaxDurationS(p)).toBeLessThanOrEqual(3600)
            }),
            { numRuns: 1000 }
        )
        expect(accepted).toBeGreaterThan(50) // the property saw real programs
    })
})

test("validated output never shares structure with the input", () => {
    fc.assert(
        fc.property(validProgramArb, p => {
            const v = validateProgram(p)
            expect(v.program).not.toBe(p)
            expect((v.program as unknown as Rec)["phases"]).not.toBe((p as unknown as Rec)["phases"])
        }),
        { numRuns: 50 }
    )
})
