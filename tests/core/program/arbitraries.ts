// fast-check generators of valid programs, built from the clinical rules
// (not from the validator), and a walk over a program's fields for
// injecting faults. Node only.
import fc from "fast-check"
import {
    CHARGE_PER_PHASE_MAX_UC,
    FREQUENCY_MAX_HZ,
    PULSE_WIDTH_MAX_US,
    SESSION_STIM_MAX_MS,
} from "../../../src/core/limits"
import {
    CONTRAINDICATION_RULES,
    CONTRAINDICATIONS,
    PHASE_KIND_VALUES,
    STIM_MODE_RULES,
    isToningPhase,
    sessionMaxDurationS,
    type Channels,
    type FieldSpec,
    type Phase,
    type Program,
    programTables,
} from "../../../src/core/program"

type Rec = Record<string, unknown>

function spec(fields: FieldSpec[], key: string): FieldSpec {
    const f = fields.find(x => x.key === key)
    if (!f) throw new Error(`no field ${key}`)
    return f
}

/** Values on a field's grid within [lo, hi] (default: its whole range). */
function onGrid(f: FieldSpec, lo = f.min ?? 0, hi = f.max ?? 0): fc.Arbitrary<number> {
    const scale = f.scale ?? 1
    return fc.integer({ min: Math.ceil(lo * scale - 1e-9), max: Math.floor(hi * scale + 1e-9) }).map(n => n / scale)
}

const phaseField = (kind: string, key: string) => spec(programTables().PHASE_FIELDS[kind], key)

const idArb = fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/)

/** Rest-tone levels for the channels in use (at least one). */
function levelsArb(channels: Channels, withSd: boolean): fc.Arbitrary<Rec> {
    const level = (key: string, sdKey: string): fc.Arbitrary<Rec> => {
        const model: Record<string, fc.Arbitrary<number>> = { [key]: onGrid(spec(programTables().RELAXATION_FIELDS, key)) }
        if (withSd) model[sdKey] = onGrid(spec(programTables().RELAXATION_FIELDS, sdKey))
        return fc.record(model)
    }
    const uv = level("restToneMaxUv", "restToneSdMaxUv")
    const cm = level("restToneMaxCmH2O", "restToneSdMaxCmH2O")
    if (channels === "emg") return uv
    if (channels === "pressure") return cm
    return fc.oneof(uv, cm, fc.tuple(uv, cm).map(([a, b]) => ({ ...a, ...b })))
}

const baselineArb = fc.record({ kind: fc.constant("baseline"), durationS: onGrid(phaseField("baseline", "durationS")) })

const relaxArb = (channels: Channels) =>
    fc
        .tuple(onGrid(phaseField("relax", "durationS")), onGrid(phaseField("relax", "breathPeriodS")), levelsArb(channels, false))
        .map(([durationS, breathPeriodS, levels]) => ({ kind: "relax", durationS, breathPeriodS, ...levels }))

const flicksArb = fc.record({
    kind: fc.constant("flicks"),
    reps: onGrid(phaseField("flicks", "reps")),
    onS: onGrid(phaseField("flicks", "onS")),
    offS: onGrid(phaseField("flicks", "offS")),
    targetPctMvc: onGrid(phaseField("flicks", "targetPctMvc")),
})

const pct = onGrid(phaseField("flicks", "targetPctMvc"))
const rampArb = fc
    .tuple(pct, pct, fc.integer({ min: 1, max: 20 }))
    .map(([a, b, step]) => ({ startPctMvc: Math.min(a, b), stepPctPerSession: step, maxPctMvc: Math.max(a, b) }))

const holdsArb = fc
    .tuple(
        onGrid(phaseField("holds", "reps")),
        onGrid(phaseField("holds", "workS")),
        onGrid(phaseField("holds", "restS")),
        fc.oneof(pct.map(targetPctMvc => ({ targetPctMvc }) as Rec), rampArb.map(targetRamp => ({ targetRamp }) as Rec))
    )
    .map(([reps, workS, restS, target]) => ({ kind: "holds", reps, workS, restS, ...target }))

const assessmentArb = fc
    .record(
        Object.fromEntries(programTables().PHASE_FIELDS["assessment"].map(f => [f.key, onGrid(f)])) as Record<string, fc.Arbitrary<number>>,
        { requiredKeys: [] }
    )
    .map(o => ({ kind: "assessment", ...o }))

/** A stim phase within its mode's rules and the hard limits (caps are fitted around it later). */
const stimArb = (channels: Channels) =>
    fc.constantFrom(...STIM_MODE_RULES).chain(rule => {
        const f = (key: string) => phaseField("stim", key)
        return fc
            .record({
                waveform: fc.constantFrom("symmetric-biphasic", "asymmetric-biphasic"),
                frequencyHz: fc.integer({ min: rule.frequencyMinHz, max: rule.frequencyMaxHz }),
                pulseWidthUs: onGrid(f("pulseWidthUs")),
                durationS: onGrid(f("durationS"), 30, 450),
                rampUpS: onGrid(f("rampUpS")),
                rampDownS: onGrid(f("rampDownS")),
                cycled: rule.cycle === "required" ? fc.constant(true) : fc.boolean(),
                workPick: fc.integer({ min: 0, max: 1000 }),
                restPick: fc.integer({ min: 0, max: 1000 }),
                targetPctMvc: pct,
                triggerPctOfTarget: onGrid(f("triggerPctOfTarget")),
                triggerChannel: channels === "both" ? fc.constantFrom("emg", "pressure") : fc.constant(channels === "emg" ? "emg" : "pressure"),
            })
            .map(r => {
                const out: Rec = { kind: "stim", mode: rule.mode, waveform: r.waveform, frequencyHz: r.frequencyHz, pulseWidthUs: r.pulseWidthUs, durationS: r.durationS, rampUpS: r.rampUpS, rampDownS: r.rampDownS }
                if (r.cycled) {
                    // strengthening rests at least as long as it works
                    const workT = Math.round(10 + (590 * r.workPick) / 1000)
                    const restLo = rule.restAtLeastWork ? workT : 10
                    const restT = Math.round(restLo + ((1200 - restLo) * r.restPick) / 1000)
                    out["workS"] = workT / 10
                    out["restS"] = restT / 10
                }
                if (rule.trigger) {
                    out["targetPctMvc"] = r.targetPctMvc
                    out["triggerPctOfTarget"] = r.triggerPctOfTarget
                    out["triggerChannel"] = r.triggerChannel
                }
                return out
            })
    })

/** mostly false, so that stim phases are generated often */
const rarelyTrue = fc.oneof({ arbitrary: fc.constant(false), weight: 12 }, { arbitrary: fc.constant(true), weight: 1 })

const STIM_ONLY_FLAGS = CONTRAINDICATION_RULES.filter(r => !r.locks.includes("probe")).map(r => r.flag as string)
const STIM_FLAGS = CONTRAINDICATION_RULES.filter(r => r.locks.includes("stim")).map(r => r.flag as string)

const contraArb = fc
    .record(Object.fromEntries(STIM_ONLY_FLAGS.map(k => [k, rarelyTrue])) as Record<string, fc.Arbitrary<boolean>>)
    .map(set => Object.fromEntries(CONTRAINDICATIONS.map(k => [k, set[k] === true])) as Rec)

/** A fraction in [0, 1] on a 1/1000 grid, to pick within a range decided later. */
const frac = fc.integer({ min: 0, max: 1000 }).map(n => n / 1000)

function pickOnGrid(f: FieldSpec, lo: number, hi: number, t: number): number {
    const scale = f.scale ?? 1
    const a = Math.ceil(lo * scale - 1e-9)
    const b = Math.floor(hi * scale + 1e-9)
    return Math.round(a + (b - a) * t) / scale
}

/** Caps that admit every stim phase given (each at most the hard limit). */
function fitCaps(phases: Rec[], t: number[]): Rec {
    const stims = phases.filter(p => p["kind"] === "stim")
    const maxF = Math.max(1, ...stims.map(p => p["frequencyHz"] as number))
    const maxPw = Math.max(50, ...stims.map(p => p["pulseWidthUs"] as number))
    const stimS = stims.reduce((s, p) => s + (p["durationS"] as number), 0)
    const amp = spec(programTables().CAPS_FIELDS, "amplitudeMaxMa")
    const ampTop = Math.floor(((CHARGE_PER_PHASE_MAX_UC * 1000) / maxPw) * 2) / 2
    return {
        amplitudeMaxMa: pickOnGrid(amp, amp.min ?? 0.5, Math.min(amp.max ?? 90, ampTop), t[0]),
        pulseWidthMaxUs: pickOnGrid(spec(programTables().CAPS_FIELDS, "pulseWidthMaxUs"), maxPw, PULSE_WIDTH_MAX_US, t[1]),
        frequencyMaxHz: pickOnGrid(spec(programTables().CAPS_FIELDS, "frequencyMaxHz"), maxF, FREQUENCY_MAX_HZ, t[2]),
        sessionStimMaxMin: pickOnGrid(spec(programTables().CAPS_FIELDS, "sessionStimMaxMin"), Math.max(1, Math.ceil(stimS / 60)), SESSION_STIM_MAX_MS / 60000, t[3]),
    }
}

/** Any valid program: every rule of docs/programs.md holds by construction. */
export const validProgramArb: fc.Arbitrary<Program> = fc
    .record({ channels: fc.constantFrom<Channels>("pressure", "emg", "both"), contraindications: contraArb })
    .chain(({ channels, contraindications }) => {
        const stimAllowed = STIM_FLAGS.every(k => contraindications[k] !== true)
        const phaseArb = fc.oneof(
            baselineArb as fc.Arbitrary<Rec>,
            relaxArb(channels) as fc.Arbitrary<Rec>,
            flicksArb as fc.Arbitrary<Rec>,
            holdsArb as fc.Arbitrary<Rec>,
            assessmentArb as fc.Arbitrary<Rec>,
            ...(stimAllowed ? [stimArb(channels) as fc.Arbitrary<Rec>] : [])
        )
        const hold = spec(programTables().RELAXATION_FIELDS, "holdS")
        const relaxationArb = fc
            .tuple(levelsArb(channels, true), onGrid(hold), frac)
            .map(([levels, holdS, t]) => ({ ...levels, holdS, timeoutS: pickOnGrid(spec(programTables().RELAXATION_FIELDS, "timeoutS"), Math.max(30, holdS), 1200, t) }))
        return fc.record({
            programId: idArb,
            programVersion: fc.integer({ min: 1, max: 4294967295 }),
            patientRef: idArb,
            phases: fc.array(phaseArb, { minLength: 1, maxLength: 6 }),
            relaxation: relaxationArb,
            keepRelaxation: fc.boolean(),
            keepCaps: fc.boolean(),
            capsPick: fc.tuple(frac, frac, frac, frac),
            frequency: fc.oneof(
                fc.integer({ min: 1, max: 3 }).map(sessionsPerDay => ({ sessionsPerDay })),
                fc.integer({ min: 1, max: 21 }).map(sessionsPerWeek => ({ sessionsPerWeek }))
            ),
            usesDilators: fc.option(fc.boolean(), { nil: undefined }),
        }).map(r => {
            const toning = r.phases.some(p => isToningPhase(p as unknown as Phase))
            const hasStim = r.phases.some(p => p["kind"] === "stim")
            const p: Rec = { formatVersion: 1, programVersion: r.programVersion, programId: r.programId, patientRef: r.patientRef, channels, contraindications }
            if (hasStim || r.keepCaps) p["caps"] = fitCaps(r.phases, r.capsPick)
            if (toning || r.keepRelaxation) p["relaxation"] = r.relaxation
            p["frequency"] = r.frequency
            if (r.usesDilators !== undefined) p["usesDilators"] = r.usesDilators
            p["phases"] = r.phases
            return p as unknown as Program
        })
    })
    .filter(p => sessionMaxDurationS(p) <= 3600)

// ---- walking a program's fields ----

/** One field present in a program: its path and its spec ("phase" for a whole phase). */
export interface Slot {
    path: string
    spec: FieldSpec | "phase"
    /** the object holding it, for unknown-field injection (objects only) */
    isObject: boolean
}

function walk(o: Rec, fields: FieldSpec[], prefix: string, out: Slot[]) {
    for (const f of fields) {
        const v = o[f.key]
        if (v === undefined) continue
        const path = prefix ? `${prefix}.${f.key}` : f.key
        out.push({ path, spec: f, isObject: f.kind === "obj" })
        if (f.kind === "obj") walk(v as Rec, f.fields ?? [], path, out)
        if (f.kind === "phases")
            (v as Rec[]).forEach((ph, i) => {
                const pp = `${path}[${i}]`
                out.push({ path: pp, spec: "phase", isObject: true })
                out.push({ path: `${pp}.kind`, spec: { key: "kind", kind: "enum", values: PHASE_KIND_VALUES }, isObject: false })
                walk(ph, programTables().PHASE_FIELDS[ph["kind"] as string], pp, out)
            })
    }
}

/** Every field present in the program, nested objects and phases included. */
export function slotsOf(p: Program): Slot[] {
    const out: Slot[] = []
    walk(p as unknown as Rec, programTables().ROOT_FIELDS, "", out)
    return out
}

/** Values the field must refuse. */
export function invalidValuesFor(s: FieldSpec | "phase"): unknown[] {
    if (s === "phase") return ["flicks", 3, null, []] // ({} is a missing kind: reported at .kind)
    switch (s.kind) {
        case "num": {
            const scale = s.scale ?? 1
            const min = s.min ?? 0
            const max = s.max ?? 0
            const out: unknown[] = [min - 1 / scale, max + 1 / scale, String(min), null, true, {}, Number.NaN, Number.POSITIVE_INFINITY]
            if (min !== max) out.push(min + 1 / (scale * 4))
            return out
        }
        case "enum":
            return ["bogus", (s.values ?? [""])[0].toUpperCase(), 1, null]
        case "bool":
            return ["true", 1, null]
        case "str":
            return ["", "x".repeat((s.max ?? 0) + 1), "has space", "Zoë", 42, null]
        case "obj":
            return ["x", [], null, 5]
        case "phases":
            return [{}, "x", null, []]
    }
}

/** Loose values for fuzzing: anything JSON can carry, and a few that it cannot. */
export const looseValueArb: fc.Arbitrary<unknown> = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e308, -1e-300),
    fc.double(),
    fc.integer({ min: -5, max: 5000 })
)
