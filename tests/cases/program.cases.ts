// Therapist programs: the same cases run under vitest
// (tests/core/program/shared-cases.test.ts) and in the DeviceScript VM
// (tests/vm/all-program.vm.ts). Small programs only: the VM heap is ~64 KB.
import {
    decideProgramInstall,
    decodeAndValidate,
    decodeEnvelope,
    decodeProgram,
    encodeEnvelope,
    encodeProgram,
    expandAssessment,
    hex32,
    holdsTargetPctMvc,
    isToningPhase,
    keyIdFromMac,
    lockingFlags,
    noContraindications,
    phaseDurationS,
    tagsEqual,
    validateProgram,
    type Contraindications,
    type HoldsPhase,
    type Program,
    type ProgramValidation,
} from "../../src/core/program"
import type { NumericCase, ThrowCase } from "./types"

type Rec = Record<string, unknown>

export { noContraindications }

/** A small valid program (relax, then flicks gated on relaxation); a fresh object every call. */
export function smallProgram(): Program {
    return {
        formatVersion: 1,
        programId: "case",
        programVersion: 3,
        patientRef: "P-1",
        channels: "emg",
        contraindications: noContraindications(),
        relaxation: { restToneMaxUv: 4, restToneSdMaxUv: 1, holdS: 20, timeoutS: 300 },
        frequency: { sessionsPerDay: 1 },
        phases: [
            { kind: "relax", durationS: 120, breathPeriodS: 10, restToneMaxUv: 4 },
            { kind: "flicks", reps: 10, onS: 2, offS: 4, targetPctMvc: 60 },
        ],
    }
}

/** A valid program with one strengthening stim phase (caps 90 mA, 450 us, 50 Hz, 20 min). */
export function stimProgram(stim?: Rec): Program {
    const phase: Rec = {
        kind: "stim",
        mode: "strengthen",
        waveform: "symmetric-biphasic",
        frequencyHz: 50,
        pulseWidthUs: 300,
        durationS: 600,
        rampUpS: 1,
        rampDownS: 1,
        workS: 5,
        restS: 10,
    }
    if (stim) for (const k of Object.keys(stim)) phase[k] = stim[k]
    const p = smallProgram()
    p.caps = { amplitudeMaxMa: 90, pulseWidthMaxUs: 450, frequencyMaxHz: 50, sessionStimMaxMin: 20 }
    p.phases = [p.phases[0], phase as unknown as Program["phases"][0]]
    return p
}

function ok(v: ProgramValidation): number {
    return v.ok ? 1 : 0
}

/** 1 when the program is refused with an error at `path` */
function refusedAt(p: unknown, path: string): number {
    const v = validateProgram(p)
    if (v.ok) return 0
    for (const e of v.errors) if (e.path === path) return 1
    return 0
}

function flicksWith(key: string, value: unknown): Program {
    const p = smallProgram()
    ;(p.phases[1] as unknown as Rec)[key] = value
    return p
}

function withContraindication(p: Program, flag: string): Program {
    ;(p.contraindications as unknown as Rec)[flag] = true
    return p
}

function sameBytes(a: number[], b: number[]): number {
    if (a.length !== b.length) return 0
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return 0
    return 1
}

function fakeTag(seed: number): number[] {
    const t: number[] = []
    for (let i = 0; i < 32; i++) t.push((seed + i * 7) & 0xff)
    return t
}

function envelopeOf(p: Program): number[] {
    return encodeEnvelope({ programBytes: encodeProgram(p), keyId: 0x1a2b3c4d, tag: fakeTag(1) })
}

function versioned(v: number): Program {
    const p = smallProgram()
    p.programVersion = v
    return p
}

function decide(o: { installed: number; installedProgram?: Program; candidate: Program; tagValid: boolean }) {
    return decideProgramInstall({
        installedVersion: o.installed,
        installedBytes: o.installedProgram ? encodeProgram(o.installedProgram) : undefined,
        candidate: decodeEnvelope(envelopeOf(o.candidate)),
        tagValid: o.tagValid,
    })
}

function sessionOf(phases: Rec[]): Program {
    const p = smallProgram()
    p.phases = phases as unknown as Program["phases"]
    return p
}

export const programCases: NumericCase[] = [
    { name: "a small valid program validates", actual: () => ok(validateProgram(smallProgram())), expected: 1, tolerance: 0 },
    { name: "a stim program within every cap validates", actual: () => ok(validateProgram(stimProgram())), expected: 1, tolerance: 0 },
    {
        name: "three wrong fields give three errors, all reported at once",
        actual: () => {
            const p = smallProgram()
            ;(p.phases[1] as unknown as Rec)["onS"] = 0
            p.patientRef = "Jane Doe"
            ;(p as unknown as Rec)["channels"] = "EMG"
            const v = validateProgram(p)
            return v.ok ? 0 : v.errors.length
        },
        expected: 3,
        tolerance: 0,
    },
    { name: "flicks onS 0.5 s (the minimum) is accepted", actual: () => ok(validateProgram(flicksWith("onS", 0.5))), expected: 1, tolerance: 0 },
    { name: "flicks onS 0.4 s is refused at phases[1].onS", actual: () => refusedAt(flicksWith("onS", 0.4), "phases[1].onS"), expected: 1, tolerance: 0 },
    { name: "flicks onS off the 0.1 s grid is refused", actual: () => refusedAt(flicksWith("onS", 1.25), "phases[1].onS"), expected: 1, tolerance: 0 },
    { name: "a number in quotes is refused", actual: () => refusedAt(flicksWith("reps", "10"), "phases[1].reps"), expected: 1, tolerance: 0 },
    { name: "a field in the wrong unit is an unknown field", actual: () => refusedAt(flicksWith("onMs", 2000), "phases[1].onMs"), expected: 1, tolerance: 0 },
    { name: "an unknown phase kind is refused at its kind", actual: () => refusedAt(sessionOf([{ kind: "kegel" }]), "phases[0].kind"), expected: 1, tolerance: 0 },
    { name: "an empty phase list is refused", actual: () => refusedAt(sessionOf([]), "phases"), expected: 1, tolerance: 0 },
    {
        name: "a toning phase without a relaxation criterion is refused",
        actual: () => {
            const p = smallProgram()
            delete p.relaxation
            return refusedAt(p, "relaxation")
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "relax phases alone need no relaxation criterion",
        actual: () => {
            const p = smallProgram()
            delete p.relaxation
            p.phases = [p.phases[0]]
            return ok(validateProgram(p))
        },
        expected: 1,
        tolerance: 0,
    },
    { name: "stim frequency at the therapist's cap (50 Hz) is accepted", actual: () => ok(validateProgram(stimProgram({ frequencyHz: 50 }))), expected: 1, tolerance: 0 },
    {
        name: "stim frequency 1 Hz over the therapist's cap is refused",
        actual: () => {
            const p = stimProgram({ frequencyHz: 46 })
            if (p.caps) p.caps.frequencyMaxHz = 45
            return refusedAt(p, "phases[1].frequencyHz")
        },
        expected: 1,
        tolerance: 0,
    },
    { name: "strengthen at 35 Hz (band edge) is accepted", actual: () => ok(validateProgram(stimProgram({ frequencyHz: 35 }))), expected: 1, tolerance: 0 },
    { name: "strengthen at 34 Hz is refused", actual: () => refusedAt(stimProgram({ frequencyHz: 34 }), "phases[1].frequencyHz"), expected: 1, tolerance: 0 },
    { name: "charge at the cap: 90 mA x 444 us = 39.96 uC is accepted", actual: () => ok(validateProgram(stimProgram({ pulseWidthUs: 444 }))), expected: 1, tolerance: 0 },
    { name: "charge over the cap: 90 mA x 445 us = 40.05 uC is refused", actual: () => refusedAt(stimProgram({ pulseWidthUs: 445 }), "phases[1].pulseWidthUs"), expected: 1, tolerance: 0 },
    { name: "caps.amplitudeMaxMa over the hard cap (90.5 mA) is refused", actual: () => {
        const p = stimProgram()
        if (p.caps) p.caps.amplitudeMaxMa = 90.5
        return refusedAt(p, "caps.amplitudeMaxMa")
    }, expected: 1, tolerance: 0 },
    { name: "a stim phase for a pacemaker patient is refused", actual: () => refusedAt(withContraindication(stimProgram(), "pacemakerOrImplant"), "phases[1]"), expected: 1, tolerance: 0 },
    { name: "a pacemaker does not lock biofeedback phases", actual: () => ok(validateProgram(withContraindication(smallProgram(), "pacemakerOrImplant"))), expected: 1, tolerance: 0 },
    { name: "a pregnant patient gets no probe phase", actual: () => refusedAt(withContraindication(smallProgram(), "pregnant"), "phases[0]"), expected: 1, tolerance: 0 },
    {
        name: "stim time at caps.sessionStimMaxMin (20 min) is accepted",
        actual: () => ok(validateProgram(stimProgram({ durationS: 1200 }))),
        expected: 1,
        tolerance: 0,
    },
    { name: "stim time 1 s over caps.sessionStimMaxMin is refused", actual: () => refusedAt(stimProgram({ durationS: 1201 }), "phases[1].durationS"), expected: 1, tolerance: 0 },
    {
        name: "a session of exactly 60 min is accepted",
        actual: () => ok(validateProgram(sessionOf([{ kind: "relax", durationS: 1800, breathPeriodS: 10, restToneMaxUv: 4 }, { kind: "relax", durationS: 1800, breathPeriodS: 10, restToneMaxUv: 4 }]))),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a session 1 s over 60 min is refused",
        actual: () =>
            refusedAt(sessionOf([{ kind: "relax", durationS: 1800, breathPeriodS: 10, restToneMaxUv: 4 }, { kind: "relax", durationS: 1800, breathPeriodS: 10, restToneMaxUv: 4 }, { kind: "baseline", durationS: 10 }]), "phases"),
        expected: 1,
        tolerance: 0,
    },
    { name: "the small program encodes to 42 bytes", actual: () => encodeProgram(smallProgram()).length, expected: 42, tolerance: 0 },
    {
        name: "decode(encode(p)) equals p",
        actual: () => {
            const v = validateProgram(stimProgram()) // canonical field order
            return v.ok && JSON.stringify(decodeProgram(encodeProgram(v.program))) === JSON.stringify(v.program) ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    { name: "encode(decode(bytes)) gives the same bytes", actual: () => sameBytes(encodeProgram(decodeProgram(encodeProgram(stimProgram()))), encodeProgram(stimProgram())), expected: 1, tolerance: 0 },
    { name: "decodeAndValidate refuses trailing bytes", actual: () => ok(decodeAndValidate([...encodeProgram(smallProgram()), 0])), expected: 0, tolerance: 0 },
    { name: "an envelope keeps the program version", actual: () => decodeEnvelope(envelopeOf(versioned(77))).programVersion, expected: 77, tolerance: 0 },
    { name: "an envelope keeps the key id", actual: () => decodeEnvelope(envelopeOf(smallProgram())).keyId, expected: 0x1a2b3c4d, tolerance: 0 },
    { name: "install: a wrong tag is refused", actual: () => (decide({ installed: 0, candidate: versioned(1), tagValid: false }).accept ? 1 : 0), expected: 0, tolerance: 0 },
    { name: "install: a lower version is refused as a replay", actual: () => (decide({ installed: 5, candidate: versioned(4), tagValid: true }).accept ? 1 : 0), expected: 0, tolerance: 0 },
    {
        name: "install: the same version and bytes is accepted without a change",
        actual: () => {
            const d = decide({ installed: 5, installedProgram: versioned(5), candidate: versioned(5), tagValid: true })
            return (d.accept ? 1 : 0) + (d.changed ? 10 : 0)
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "install: the same version with other bytes is refused",
        actual: () => {
            const other = versioned(5)
            other.programId = "other"
            return decide({ installed: 5, installedProgram: versioned(5), candidate: other, tagValid: true }).accept ? 1 : 0
        },
        expected: 0,
        tolerance: 0,
    },
    { name: "install: a higher version is accepted and changes", actual: () => (decide({ installed: 5, candidate: versioned(6), tagValid: true }).changed ? 1 : 0), expected: 1, tolerance: 0 },
    { name: "the default Glazer assessment takes 300 s", actual: () => phaseDurationS({ kind: "assessment" }), expected: 300, tolerance: 0 },
    { name: "an assessment without flicks has 4 steps", actual: () => expandAssessment({ kind: "assessment", flickReps: 0 }).length, expected: 4, tolerance: 0 },
    { name: "10 flicks of 2 s on / 4 s off take 60 s", actual: () => phaseDurationS({ kind: "flicks", reps: 10, onS: 2, offS: 4, targetPctMvc: 50 }), expected: 60, tolerance: 0 },
    {
        name: "relax-mode stim is not toning, strengthen is",
        actual: () => {
            const s = stimProgram().phases[1]
            const relax = stimProgram({ mode: "relax" }).phases[1]
            return (isToningPhase(s) ? 10 : 0) + (isToningPhase(relax) ? 1 : 0)
        },
        expected: 10,
        tolerance: 0,
    },
    {
        name: "a ramped hold target stops at its maximum",
        actual: () => {
            const h: HoldsPhase = { kind: "holds", reps: 5, workS: 5, restS: 10, targetRamp: { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 } }
            return holdsTargetPctMvc(h, 3) * 1000 + holdsTargetPctMvc(h, 50)
        },
        expected: 36060,
        tolerance: 0,
    },
    { name: "active infection locks both probe and stim", actual: () => lockingFlags(withContraindication(smallProgram(), "activeInfection").contraindications, "probe").length + lockingFlags(withContraindication(smallProgram(), "activeInfection").contraindications, "stim").length, expected: 2, tolerance: 0 },
    { name: "tagsEqual tells one changed byte", actual: () => (tagsEqual(fakeTag(1), fakeTag(1)) ? 1 : 0) + (tagsEqual(fakeTag(1), fakeTag(2)) ? 10 : 0), expected: 1, tolerance: 0 },
    { name: "key id is the MAC's first 4 bytes LE, printed in hex", actual: () => (hex32(keyIdFromMac([0x4d, 0x3c, 0x2b, 0x1a, 9])) === "0x1a2b3c4d" ? 1 : 0), expected: 1, tolerance: 0 },
]

export const programThrowCases: ThrowCase[] = [
    { name: "decodeProgram refuses a wrong format version", run: () => decodeProgram([2, 1, 0, 0, 0]) },
    { name: "decodeEnvelope refuses a bad magic", run: () => decodeEnvelope([0, 0, 0, 0, 1]) },
    {
        name: "decodeEnvelope refuses a truncated envelope",
        run: () => {
            const e = envelopeOf(smallProgram())
            decodeEnvelope(e.slice(0, e.length - 1))
        },
    },
    { name: "encodeProgram refuses an invalid program", run: () => encodeProgram(flicksWith("onS", 0)) },
]
