// The device's own check of a signed program (src/core/program/device-check.ts):
// everything the host's validator accepts passes it, and what keeps the patient
// safe is refused even when a program was signed without validation.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { decodeForDevice, deviceProgramProblem, encodeProgram, validateProgram, type Program } from "../../../src/core/program"
import { AMPLITUDE_MAX_MA } from "../../../src/core/limits"
import { validProgramArb } from "./arbitraries"
import { baseline, flicks, makeProgram, relax, stim } from "./fixtures"

describe("agrees with the host's validator", () => {
    test("every program the validator accepts runs on the device, decoded exactly", () => {
        fc.assert(
            fc.property(validProgramArb, p => {
                const canonical = validateProgram(p).program!
                const d = decodeForDevice(encodeProgram(p))
                expect(d.problem).toBe("")
                expect(d.program).toStrictEqual(canonical)
            }),
            { numRuns: 400 }
        )
    })
})

describe("refuses what is unsafe even when signed without validation", () => {
    test("stimulation for a patient with a pacemaker", () => {
        const p = makeProgram({ contraindications: { pacemakerOrImplant: true }, phases: [relax(), stim()] })
        expect(validateProgram(p).ok).toBe(false)
        expect(deviceProgramProblem(p)).toBe("phase 1: stimulation is contraindicated for this patient (pacemakerOrImplant)")
    })
    test("any probe phase for a pregnant patient", () => {
        const p = makeProgram({ contraindications: { pregnant: true }, phases: [baseline()] })
        expect(deviceProgramProblem(p)).toBe("phase 0: the intravaginal probe is contraindicated for this patient (pregnant)")
    })
    test("a toning phase without a relaxation criterion", () => {
        const p = makeProgram({ relaxation: null, phases: [flicks()] })
        expect(deviceProgramProblem(p)).toBe("phase 0: a toning phase needs the relaxation criterion")
    })
    test("a stim phase without the therapist's caps", () => {
        const p = makeProgram({ caps: null, phases: [relax(), stim({ mode: "relax", frequencyHz: 5, workS: undefined, restS: undefined })] })
        expect(deviceProgramProblem(p)).toBe("phase 1: a stim phase needs the therapist's caps")
    })
    test("an amplitude cap over the hard limit", () => {
        const p = makeProgram({ caps: { amplitudeMaxMa: AMPLITUDE_MAX_MA + 1 }, phases: [relax(), stim()] })
        expect(deviceProgramProblem(p)).toContain("over the hard limit")
    })
    test("a frequency over the therapist's cap", () => {
        const p = makeProgram({ caps: { frequencyMaxHz: 40 }, phases: [relax(), stim({ frequencyHz: 50 })] })
        expect(deviceProgramProblem(p)).toBe("phase 1: 50 Hz is outside the hard limits or the therapist's cap")
    })
    test("a pulse width over the therapist's cap", () => {
        const p = makeProgram({ caps: { pulseWidthMaxUs: 200 }, phases: [relax(), stim({ pulseWidthUs: 300 })] })
        expect(deviceProgramProblem(p)).toBe("phase 1: 300 us is outside the hard limits or the therapist's cap")
    })
    test("more stimulation than the therapist's session cap", () => {
        const p = makeProgram({ caps: { sessionStimMaxMin: 5 }, phases: [relax(), stim({ durationS: 600 })] })
        expect(deviceProgramProblem(p)).toBe("the stimulation time is over the hard limit or the therapist's cap")
    })
    test("a session longer than an hour", () => {
        const p = makeProgram({ phases: [relax({ durationS: 1800 }), relax({ durationS: 1800 }), flicks()] })
        expect(deviceProgramProblem(p)).toBe("the session would be longer than 3600 s")
    })
    test("no phases, or too many", () => {
        expect(deviceProgramProblem(makeProgram({ phases: [] }))).toBe("a program has 1 to 16 phases")
        expect(deviceProgramProblem(makeProgram({ phases: Array.from({ length: 17 }, () => baseline()) }))).toBe("a program has 1 to 16 phases")
    })
    test("a field outside its range is named by the decoder", () => {
        const bytes = encodeProgram(makeProgram({ phases: [relax(), flicks()] }))
        bytes[bytes.length - 1] = 0 // flicks targetPctMvc, range 10..100
        const d = decodeForDevice(bytes)
        expect(d.program).toBe(undefined)
        expect(d.problem).toBe("phases[1].targetPctMvc: 0 is out of range 10..100 % MVC")
    })
    test("malformed bytes are refused, never thrown", () => {
        fc.assert(
            fc.property(fc.uint8Array({ maxLength: 300 }), b => {
                const d = decodeForDevice([...b])
                expect(typeof d.problem).toBe("string")
                if (d.program) expect(deviceProgramProblem(d.program)).toBe("")
            }),
            { numRuns: 1000 }
        )
    })
})

describe("on a valid program", () => {
    test("the examples' shapes pass", () => {
        const programs: Program[] = [makeProgram(), makeProgram({ phases: [relax(), stim()] }), makeProgram({ phases: [baseline()] })]
        for (const p of programs) {
            expect(validateProgram(p).ok).toBe(true)
            expect(deviceProgramProblem(p)).toBe("")
        }
    })
})
