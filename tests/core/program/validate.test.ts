// One named test per validation rule, at its exact boundary (oref0 style):
// the last value accepted and the first refused, with the field path the
// error must name.
import { describe, expect, test } from "vitest"
import {
    CONTRAINDICATION_RULES,
    formatProgramError,
    validateProgram,
    type FieldSpec,
    type Phase,
    type ProgramError,
    programTables,
} from "../../../src/core/program"
import { assessmentOptions, expandAssessment, holdsTargetPctMvc, isToningPhase, phaseDurationS, sessionMaxDurationS } from "../../../src/core/program"
import { GLAZER_ASSESSMENT } from "../../../src/core/protocol/assessment"
import { baseline, etsStim, flicks, holds, makeProgram, relax, relaxStim, stim, withPath } from "./fixtures"

function errorsOf(p: unknown): ProgramError[] {
    const v = validateProgram(p)
    return v.ok ? [] : v.errors
}

function errorAt(p: unknown, path: string): ProgramError | undefined {
    return errorsOf(p).find(e => e.path === path)
}

function expectValid(p: unknown) {
    const errors = errorsOf(p)
    expect(errors.map(formatProgramError)).toEqual([])
}

function expectRefusedAt(p: unknown, path: string, text?: string) {
    const e = errorAt(p, path)
    expect(e, `no error at ${path}; got: ${errorsOf(p).map(formatProgramError).join(" | ")}`).toBeDefined()
    if (text) expect(formatProgramError(e!)).toContain(text)
}

describe("the fixture programs are valid", () => {
    test("makeProgram()", () => expectValid(makeProgram()))
    test("with every phase kind", () =>
        expectValid(makeProgram({ channels: "both", phases: [baseline(), relax(), flicks(), holds(), { kind: "assessment" }, stim(), etsStim(), relaxStim()], caps: { sessionStimMaxMin: 30 } })))
})

// ---- every numeric field's range, from the field tables ----

interface RangeCase {
    name: string
    path: string
    value: number
    refused: boolean
    base: () => unknown
}

/** programs that contain every field once, with room around each value */
function fullPhaseProgram(kind: string): unknown {
    const phase: Record<string, Phase> = {
        baseline: baseline(),
        relax: relax({ restToneMaxCmH2O: 5 }),
        flicks: flicks(),
        holds: holds(),
        assessment: { kind: "assessment", preBaselineS: 60, flickReps: 5, flickOnS: 2, flickOffS: 2, holdReps: 5, holdWorkS: 10, holdRestS: 10, enduranceS: 60, postBaselineS: 60 },
        stim: etsStim(),
    }
    return makeProgram({ channels: "both", phases: [phase[kind]], relaxation: { restToneMaxCmH2O: 5, restToneSdMaxCmH2O: 1 } })
}

function rangeCases(fields: FieldSpec[], prefix: string, base: () => unknown): RangeCase[] {
    const out: RangeCase[] = []
    for (const f of fields) {
        if (f.kind !== "num" || f.min === f.max) continue
        const step = 1 / (f.scale ?? 1)
        const path = prefix ? `${prefix}.${f.key}` : f.key
        const min = f.min ?? 0
        const max = f.max ?? 0
        out.push({ name: `${path}: ${min} (minimum) passes the range check`, path, value: min, refused: false, base })
        out.push({ name: `${path}: ${max} (maximum) passes the range check`, path, value: max, refused: false, base })
        out.push({ name: `${path}: ${Math.round((min - step) * 10) / 10} is out of range`, path, value: Math.round((min - step) * 10) / 10, refused: true, base })
        out.push({ name: `${path}: ${Math.round((max + step) * 10) / 10} is out of range`, path, value: Math.round((max + step) * 10) / 10, refused: true, base })
    }
    return out
}

const RANGE_CASES: RangeCase[] = [
    ...rangeCases(programTables().ROOT_FIELDS, "", () => makeProgram()),
    ...rangeCases(programTables().ROOT_FIELDS.find(f => f.key === "caps")!.fields!, "caps", () => makeProgram()),
    ...rangeCases(programTables().ROOT_FIELDS.find(f => f.key === "relaxation")!.fields!, "relaxation", () => fullPhaseProgram("relax")),
    ...rangeCases(programTables().ROOT_FIELDS.find(f => f.key === "frequency")!.fields!.slice(0, 1), "frequency", () => makeProgram()),
    ...rangeCases(programTables().ROOT_FIELDS.find(f => f.key === "frequency")!.fields!.slice(1), "frequency", () => makeProgram({ frequency: { sessionsPerWeek: 3 } })),
    ...Object.keys(programTables().PHASE_FIELDS).flatMap(kind => rangeCases(programTables().PHASE_FIELDS[kind], "phases[0]", () => fullPhaseProgram(kind))),
    ...rangeCases(programTables().PHASE_FIELDS["holds"].find(f => f.key === "targetRamp")!.fields!, "phases[0].targetRamp", () =>
        makeProgram({ phases: [holds({ targetPctMvc: undefined, targetRamp: { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 } })] })
    ),
]

describe("ranges (every numeric field, both ends)", () => {
    test.each(RANGE_CASES)("$name", c => {
        const e = errorAt(withPath(c.base(), c.path, c.value), c.path)
        const rangeError = e !== undefined && /out of range/.test(e.message)
        expect(rangeError, e ? formatProgramError(e) : "no error").toBe(c.refused)
    })
})

describe("fields", () => {
    test("off the 0.1 s grid is refused", () => expectRefusedAt(withPath(makeProgram(), "phases[1].onS", 1.25), "phases[1].onS", "is not a multiple of 0.1 s"))
    test("on the 0.1 s grid is accepted (0.7 is not exact in binary)", () => expectValid(withPath(makeProgram(), "phases[1].onS", 0.7)))
    test("amplitude off the 0.5 mA grid is refused", () => expectRefusedAt(withPath(makeProgram(), "caps.amplitudeMaxMa", 40.2), "caps.amplitudeMaxMa", "multiple of 0.5 mA"))
    test("a fraction in a whole-number field is refused", () => expectRefusedAt(withPath(makeProgram(), "phases[1].reps", 2.5), "phases[1].reps", "not a whole number"))
    test("a number in quotes is refused with a hint", () => expectRefusedAt(withPath(makeProgram(), "phases[1].reps", "10"), "phases[1].reps", "without quotes"))
    test("a field in the wrong unit names the right one", () =>
        expectRefusedAt(withPath(makeProgram(), "relaxation.holdMs", 20000), "relaxation.holdMs", "did you mean holdS? (the unit is part of the name: holdS is in s)"))
    test("an unknown field at the root", () => expectRefusedAt(withPath(makeProgram(), "notes", "x"), "notes", "unknown field"))
    test("an unknown field in a phase", () => expectRefusedAt(withPath(makeProgram(), "phases[0].colour", "blue"), "phases[0].colour", "unknown field"))
    test("a missing required field", () => expectRefusedAt(withPath(makeProgram(), "phases[1].reps", undefined), "phases[1].reps", "missing"))
    test("an unknown enum value", () => expectRefusedAt(withPath(makeProgram(), "channels", "EMG"), "channels", "is not one of pressure, emg, both"))
    test("an unknown phase kind", () => expectRefusedAt(withPath(makeProgram(), "phases[0].kind", "kegel"), "phases[0].kind"))
    test("formatVersion 2 is refused", () => expectRefusedAt(withPath(makeProgram(), "formatVersion", 2), "formatVersion", "must be 1"))
    test("a contraindication left unanswered is refused", () => expectRefusedAt(withPath(makeProgram(), "contraindications.epilepsy", undefined), "contraindications.epilepsy", "missing"))
    test.each([
        ["P-0042", false],
        ["x".repeat(24), false],
        ["x".repeat(25), true],
        ["", true],
        ["Jane Doe", true],
        ["zoë", true],
    ])("patientRef %j refused: %s", (ref, refused) => expect(errorAt(withPath(makeProgram(), "patientRef", ref), "patientRef") !== undefined).toBe(refused))
    test("the document must be an object", () => {
        for (const v of [null, 3, "x", [], undefined]) expect(errorsOf(v)[0].path).toBe("")
    })
})

describe("phases list", () => {
    test("empty is refused", () => expectRefusedAt(makeProgram({ phases: [] }), "phases", "at least one phase"))
    test("16 phases are accepted", () => expectValid(makeProgram({ phases: Array.from({ length: 16 }, () => baseline(10)) })))
    test("17 phases are refused", () => expectRefusedAt(makeProgram({ phases: Array.from({ length: 17 }, () => baseline(10)) }), "phases", "more than the 16"))
})

describe("stim against the hard limits and the therapist's caps", () => {
    const withStim = (over: Record<string, unknown>, caps: Record<string, number> = {}) => makeProgram({ phases: [relax(), stim(over)], caps })
    test("frequency at caps.frequencyMaxHz is accepted", () => expectValid(withStim({ frequencyHz: 40 }, { frequencyMaxHz: 40 })))
    test("frequency 1 Hz over caps.frequencyMaxHz is refused", () => expectRefusedAt(withStim({ frequencyHz: 41 }, { frequencyMaxHz: 40 }), "phases[1].frequencyHz", "caps.frequencyMaxHz"))
    test("pulse width at caps.pulseWidthMaxUs is accepted", () => expectValid(withStim({ pulseWidthUs: 250 }, { pulseWidthMaxUs: 250 })))
    test("pulse width 1 us over caps.pulseWidthMaxUs is refused", () => expectRefusedAt(withStim({ pulseWidthUs: 251 }, { pulseWidthMaxUs: 250 }), "phases[1].pulseWidthUs", "caps.pulseWidthMaxUs"))
    test("charge 90 mA x 444 us = 39.96 uC is accepted", () => expectValid(withStim({ pulseWidthUs: 444 })))
    test("charge 90 mA x 445 us = 40.05 uC is refused, with both ways out", () =>
        expectRefusedAt(withStim({ pulseWidthUs: 445 }), "phases[1].pulseWidthUs", "lower pulseWidthUs to 444 us or caps.amplitudeMaxMa to 89.5 mA"))
    test("charge 88.5 mA x 450 us = 39.8 uC is accepted", () => expectValid(withStim({ pulseWidthUs: 450 }, { amplitudeMaxMa: 88.5 })))
    test("charge 89 mA x 450 us = 40.05 uC is refused", () => expectRefusedAt(withStim({ pulseWidthUs: 450 }, { amplitudeMaxMa: 89 }), "phases[1].pulseWidthUs", "40.05 uC"))
    test("caps.amplitudeMaxMa at the hard cap 90 mA is accepted", () => expectValid(makeProgram({ caps: { amplitudeMaxMa: 90 } })))
    test("caps.amplitudeMaxMa 90.5 mA is refused as over the hard limit", () => expectRefusedAt(makeProgram({ caps: { amplitudeMaxMa: 90.5 } }), "caps.amplitudeMaxMa", "hard limit"))
    test("a stim phase needs caps", () => expectRefusedAt(makeProgram({ phases: [relax(), stim()], caps: null }), "caps", "stim phases need the therapist's caps"))
    test("caps without a stim phase are allowed", () => expectValid(makeProgram()))
    test("stim time equal to caps.sessionStimMaxMin is accepted", () => expectValid(makeProgram({ phases: [stim({ durationS: 600 }), stim({ durationS: 600 })] })))
    test("stim time 1 s over caps.sessionStimMaxMin is refused at the phase that crosses it", () =>
        expectRefusedAt(makeProgram({ phases: [stim({ durationS: 600 }), stim({ durationS: 601 })] }), "phases[1].durationS", "caps.sessionStimMaxMin (20 min)"))
})

describe("stim modes", () => {
    test.each([
        ["strengthen", 35, false],
        ["strengthen", 50, false],
        ["strengthen", 34, true],
        ["ets", 35, false],
        ["ets", 34, true],
        ["relax", 1, false],
        ["relax", 10, false],
        ["relax", 11, true],
    ])("%s at %d Hz refused: %s", (mode, hz, refused) => {
        const phase = mode === "relax" ? relaxStim({ frequencyHz: hz }) : mode === "ets" ? etsStim({ frequencyHz: hz }) : stim({ frequencyHz: hz })
        const e = errorAt(makeProgram({ phases: [phase] }), "phases[0].frequencyHz")
        expect(e !== undefined, e?.message).toBe(refused)
    })
    test("strengthen rest equal to work is accepted", () => expectValid(makeProgram({ phases: [stim({ workS: 5, restS: 5 })] })))
    test("strengthen rest 0.1 s shorter than work is refused", () => expectRefusedAt(makeProgram({ phases: [stim({ workS: 5, restS: 4.9 })] }), "phases[0].restS", "at least as long as the work"))
    test("ramps come before and after the work time, so they may be longer than it", () =>
        expectValid(makeProgram({ phases: [stim({ workS: 1, restS: 10, rampUpS: 9, rampDownS: 9 })] })))
    test("strengthen without work/rest is refused", () => expectRefusedAt(makeProgram({ phases: [stim({ workS: undefined })] }), "phases[0].workS", "work/rest cycles"))
    test("relax mode continuous (neither work nor rest) is accepted", () => expectValid(makeProgram({ phases: [relaxStim()] })))
    test("relax mode cycled (both) is accepted, rest shorter than work allowed", () => expectValid(makeProgram({ phases: [relaxStim({ workS: 10, restS: 5 })] })))
    test("relax mode with work but no rest is refused", () => expectRefusedAt(makeProgram({ phases: [relaxStim({ workS: 10 })] }), "phases[0].restS", "together"))
    test("ets without its trigger fields is refused, each named", () => {
        const p = makeProgram({ phases: [etsStim({ targetPctMvc: undefined, triggerPctOfTarget: undefined, triggerChannel: undefined })] })
        for (const k of ["targetPctMvc", "triggerPctOfTarget", "triggerChannel"]) expectRefusedAt(p, `phases[0].${k}`, "required for mode \"ets\"")
    })
    test("trigger fields on a strengthen phase are refused", () => expectRefusedAt(makeProgram({ phases: [stim({ triggerChannel: "emg" })] }), "phases[0].triggerChannel", "only for mode \"ets\""))
    test("ets triggered by a channel not in use is refused", () => expectRefusedAt(makeProgram({ phases: [etsStim({ triggerChannel: "pressure" })] }), "phases[0].triggerChannel", "not a channel this program uses"))
    test("ets triggered by pressure with channels both is accepted", () =>
        expectValid(makeProgram({ channels: "both", phases: [etsStim({ triggerChannel: "pressure" })] })))
})

describe("contraindications", () => {
    const stimLocks = CONTRAINDICATION_RULES.filter(r => r.locks.includes("stim")).map(r => r.flag)
    const probeLocks = CONTRAINDICATION_RULES.filter(r => r.locks.includes("probe")).map(r => r.flag)
    const stimOnly = stimLocks.filter(f => !probeLocks.includes(f))
    test("every flag locks stim", () => expect(stimLocks.length).toBe(CONTRAINDICATION_RULES.length))
    test.each(stimLocks)("%s refuses a stim phase", flag =>
        expectRefusedAt(makeProgram({ phases: [relax(), relaxStim()], contraindications: { [flag]: true } }), "phases[1]", `contraindications.${flag}`))
    test.each(stimOnly)("%s leaves biofeedback phases alone", flag => expectValid(makeProgram({ contraindications: { [flag]: true } })))
    test.each(probeLocks)("%s refuses every probe phase", flag => {
        const p = makeProgram({ phases: [baseline(), relax()], contraindications: { [flag]: true } })
        expectRefusedAt(p, "phases[0]", "intravaginal probe")
        expectRefusedAt(p, "phases[1]", "intravaginal probe")
    })
    test("pregnant: the probe lock names pregnancy and says what to do", () =>
        expectRefusedAt(makeProgram({ contraindications: { pregnant: true } }), "phases[0]", "\"relax\" uses the intravaginal probe, which is contraindicated for this patient (contraindications.pregnant): remove this phase"))
    test("pregnant with stim: one error for the stim phase naming the flag", () => {
        const errors = errorsOf(makeProgram({ phases: [relaxStim()], contraindications: { pregnant: true } })).filter(e => e.path === "phases[0]")
        expect(errors).toHaveLength(1)
        expect(errors[0].message).toContain("stimulation is contraindicated")
    })
})

describe("the relaxation gate", () => {
    test.each([
        ["flicks", flicks()],
        ["holds", holds()],
        ["strengthen stim", stim()],
        ["ets stim", etsStim()],
    ])("%s without a relaxation criterion is refused", (_name, phase) =>
        expectRefusedAt(makeProgram({ phases: [relax(), phase as Phase], relaxation: null }), "relaxation", "phases[1]"))
    test.each([
        ["baseline", baseline()],
        ["relax", relax()],
        ["assessment", { kind: "assessment" } as Phase],
        ["relax-mode stim", relaxStim()],
    ])("%s needs no relaxation criterion", (_name, phase) => expectValid(makeProgram({ phases: [phase as Phase], relaxation: null })))
    test("which phases are toning", () => {
        expect([flicks(), holds(), stim(), etsStim()].every(isToningPhase)).toBe(true)
        expect([baseline(), relax(), relaxStim(), { kind: "assessment" } as Phase].some(isToningPhase)).toBe(false)
    })
    test("timeoutS equal to holdS is accepted", () => expectValid(makeProgram({ relaxation: { holdS: 30, timeoutS: 30 } })))
    test("timeoutS 1 s shorter than holdS is refused", () => expectRefusedAt(makeProgram({ relaxation: { holdS: 31, timeoutS: 30 } }), "relaxation.timeoutS", "could never be met"))
    test("a criterion with no level is refused", () =>
        expectRefusedAt(makeProgram({ relaxation: { restToneMaxUv: undefined, restToneSdMaxUv: undefined } }), "relaxation", "needs a rest-tone level"))
    test("a level without its SD is refused", () => expectRefusedAt(makeProgram({ relaxation: { restToneSdMaxUv: undefined } }), "relaxation.restToneSdMaxUv", "stable"))
    test("an SD without its level is refused", () =>
        expectRefusedAt(makeProgram({ channels: "both", relaxation: { restToneSdMaxCmH2O: 1 } }), "relaxation.restToneMaxCmH2O", "missing"))
    test("a uV level with pressure-only channels is refused", () =>
        expectRefusedAt(makeProgram({ channels: "pressure", phases: [relax({ restToneMaxUv: undefined, restToneMaxCmH2O: 5 })] }), "relaxation.restToneMaxUv", "no EMG"))
    test("a cmH2O relax target with EMG-only channels is refused", () =>
        expectRefusedAt(makeProgram({ phases: [relax({ restToneMaxCmH2O: 5 })] }), "phases[0].restToneMaxCmH2O", "no pressure"))
    test("a relax phase needs a target", () => expectRefusedAt(makeProgram({ phases: [relax({ restToneMaxUv: undefined })] }), "phases[0]", "needs a rest-tone level"))
})

describe("holds targets", () => {
    const ramp = { startPctMvc: 30, stepPctPerSession: 5, maxPctMvc: 60 }
    test("a ramp alone is accepted", () => expectValid(makeProgram({ phases: [holds({ targetPctMvc: undefined, targetRamp: ramp })] })))
    test("both a fixed target and a ramp are refused", () => expectRefusedAt(makeProgram({ phases: [holds({ targetRamp: ramp })] }), "phases[0]", "not both"))
    test("neither is refused", () => expectRefusedAt(makeProgram({ phases: [holds({ targetPctMvc: undefined })] }), "phases[0].targetPctMvc", "missing"))
    test("a ramp starting at its maximum is accepted", () => expectValid(makeProgram({ phases: [holds({ targetPctMvc: undefined, targetRamp: { ...ramp, startPctMvc: 60 } })] })))
    test("a ramp starting above its maximum is refused", () =>
        expectRefusedAt(makeProgram({ phases: [holds({ targetPctMvc: undefined, targetRamp: { ...ramp, startPctMvc: 61 } })] }), "phases[0].targetRamp.startPctMvc", "above maxPctMvc"))
    test("the ramped target: start, steps, then the maximum", () => {
        const h = holds({ targetPctMvc: undefined, targetRamp: ramp }) as Extract<Phase, { kind: "holds" }>
        expect([0, 1, 5, 6, 100].map(n => holdsTargetPctMvc(h, n))).toEqual([30, 35, 55, 60, 60])
        expect(holdsTargetPctMvc(holds({ targetPctMvc: 45 }) as Extract<Phase, { kind: "holds" }>, 9)).toBe(45)
    })
})

describe("frequency", () => {
    test("sessionsPerWeek alone is accepted", () => expectValid(makeProgram({ frequency: { sessionsPerWeek: 5 } })))
    test("both are refused", () => expectRefusedAt(makeProgram({ frequency: { sessionsPerDay: 1, sessionsPerWeek: 5 } }), "frequency", "not both"))
    test("neither is refused", () => expectRefusedAt(makeProgram({ frequency: {} }), "frequency", "missing"))
})

describe("session length", () => {
    const longRelax = (s: number) => relax({ durationS: s })
    test("exactly 60 min of phases is accepted", () => expectValid(makeProgram({ phases: [longRelax(1800), longRelax(1800)] })))
    test("60 min + 1 s is refused", () => expectRefusedAt(makeProgram({ phases: [longRelax(1800), longRelax(1790), baseline(11)] }), "phases", "over the 60 min maximum"))
    test("the gate's timeout counts when a phase is gated: 55 min + 5 min gate is accepted", () =>
        expectValid(makeProgram({ phases: [longRelax(1800), longRelax(1440), flicks({ reps: 10, onS: 2, offS: 4 })], relaxation: { timeoutS: 300 } })))
    test("55 min + 5 min 1 s gate is refused, saying so", () =>
        expectRefusedAt(makeProgram({ phases: [longRelax(1800), longRelax(1440), flicks({ reps: 10, onS: 2, offS: 4 })], relaxation: { timeoutS: 301 } }), "phases", "waiting for the relaxation gate"))
    test("sessionMaxDurationS adds the gate once", () =>
        expect(sessionMaxDurationS(makeProgram({ phases: [flicks(), holds()], relaxation: { timeoutS: 300 } }))).toBe(60 + 8 * 18 + 300))
})

describe("assessment", () => {
    test("the defaults are the Glazer protocol the firmware already runs", () => expect(assessmentOptions({ kind: "assessment" })).toEqual(GLAZER_ASSESSMENT))
    test("steps and overrides", () => {
        const steps = expandAssessment({ kind: "assessment", holdReps: 3, enduranceS: 0 })
        expect(steps.map(s => s.block)).toEqual(["preBaseline", "flicks", "holds", "postBaseline"])
        expect(steps[2]).toEqual({ block: "holds", reps: 3, workS: 10, restS: 10, durationS: 60 })
    })
    test("durations sum exactly on the 0.1 s grid", () => expect(phaseDurationS({ kind: "assessment", flickReps: 3, flickOnS: 0.7, flickOffS: 1.1 })).toBe(285.4))
})

test("every problem is reported at once", () => {
    let p = makeProgram({ phases: [relax(), flicks({ onS: 0 }), stim({ frequencyHz: 60 })], contraindications: { pacemakerOrImplant: true }, relaxation: null })
    p = withPath(p, "patientRef", "Jane Doe") as typeof p
    p = withPath(p, "caps.pulseWidthMaxUs", 500) as typeof p
    const paths = errorsOf(p).map(e => e.path)
    expect(paths).toEqual(expect.arrayContaining(["patientRef", "caps.pulseWidthMaxUs", "phases[1].onS", "phases[2]", "phases[2].frequencyHz", "relaxation"]))
})

test("messages carry the path, the value and the range", () => {
    const e = errorAt(withPath(makeProgram(), "phases[1].onS", 0), "phases[1].onS")!
    expect(formatProgramError(e)).toBe("phases[1].onS: 0 is out of range 0.5..5 s in steps of 0.1")
    expect(e.value).toBe("0")
    expect(e.allowed).toBe("0.5..5 s in steps of 0.1")
})
