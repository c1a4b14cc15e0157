/**
 * The JSON Schema (draft 2020-12) of program files, generated from the same
 * field tables the validator and the codec use (src/core/program/fields.ts),
 * so ranges and fields cannot drift. It is for editors (completion, hover
 * text, range checks while typing); `pft program validate` stays the
 * authority: the rules between fields (therapist caps, charge per phase,
 * contraindications, the relaxation gate, session length) are only there.
 *
 * docs/program.schema.json is this output (`pft program schema`); a test
 * keeps the two equal.
 */
import { PHASE_KIND_VALUES, STIM_MODE_RULES, STIM_TRIGGER_KEYS, rangeText, type FieldSpec, programTables } from "../../src/core/program"

type Json = Record<string, unknown>

/** What each field means, for hover text; keyed "object.key", falling back to "key". */
const DESCRIPTIONS: Record<string, string> = {
    formatVersion: "Format of this document; this device reads 1.",
    programVersion: "Raise it with every push: the device refuses a lower or reused version (replay protection).",
    programId: "The clinic's name for the program.",
    patientRef: "Pseudonymous patient code (e.g. P-0042), never a name.",
    channels: "Probe channels used for biofeedback and the relaxation gate. Both live on the intravaginal probe.",
    contraindications: "Answer every question. Stim phases are refused when a stim contraindication is set, and every phase when a probe contraindication is set (docs/programs.md).",
    caps: "The therapist's caps for this patient, each at most the device's hard limit. Required when there is a stim phase.",
    relaxation:
        "The relaxation criterion that gates toning phases (flicks, holds, strengthen and ets stim): rest tone below the level(s), SD below the value(s), held for holdS, waited for at most timeoutS. Required when there is a toning phase.",
    frequency: "Prescribed sessions, which adherence is measured against: sessionsPerDay or sessionsPerWeek.",
    usesDilators: "The patient also uses vaginal dilators: the device asks which size after each session.",
    phases: "The session, in order.",
    "contraindications.pregnant": "Pregnant or trying to conceive: no probe and no stim phase at all.",
    "contraindications.pacemakerOrImplant": "Cardiac pacemaker, defibrillator or any implanted stimulator: no stim.",
    "contraindications.activeInfection": "Urinary tract or vaginal infection: no probe, no stim.",
    "contraindications.undiagnosedBleeding": "Undiagnosed vaginal bleeding: no probe, no stim.",
    "contraindications.recentSurgeryOrBirth": "Pelvic surgery or childbirth in the last 12 weeks: no probe, no stim.",
    "contraindications.pelvicCancer": "Pelvic cancer under treatment or review: no stim.",
    "contraindications.impairedSensation": "Reduced sensation where the electrode sits: no stim.",
    "contraindications.brokenSkinOrMucosa": "Broken skin or mucosa (incl. severe atrophic vaginitis) at the electrode: no stim.",
    "contraindications.epilepsy": "Epilepsy: no stim.",
    "contraindications.cognitiveImpairment": "Cannot understand or report what stimulation feels like: no stim.",
    "contraindications.metalImplantOrIud": "Conductive IUD or metal implant in the pelvis, hips or lumbar spine: no stim.",
    "contraindications.largeProlapse": "Prolapse that keeps the probe from staying in place: no probe, no stim.",
    "caps.amplitudeMaxMa": "The intensity buttons stop here.",
    "caps.pulseWidthMaxUs": "Longest pulse width a stim phase may use; with amplitudeMaxMa it must stay within 40 uC per phase.",
    "caps.frequencyMaxHz": "Highest pulse rate a stim phase may use.",
    "caps.sessionStimMaxMin": "Stimulation time in one session, all stim phases together.",
    "relaxation.restToneMaxUv": "EMG rest tone must be below this (needs channels emg or both).",
    "relaxation.restToneSdMaxUv": "SD of the EMG rest tone must be below this (rest stable). Required with restToneMaxUv.",
    "relaxation.restToneMaxCmH2O": "Resting pressure above the insertion zero must be below this (needs channels pressure or both).",
    "relaxation.restToneSdMaxCmH2O": "SD of the resting pressure must be below this. Required with restToneMaxCmH2O.",
    "relaxation.holdS": "How long the rest must stay low and stable.",
    "relaxation.timeoutS": "How long a session waits for the criterion; then it stays in relaxation work. At least holdS.",
    "frequency.sessionsPerDay": "Sessions a day.",
    "frequency.sessionsPerWeek": "Sessions a week.",
    "targetRamp.startPctMvc": "Target in the first session.",
    "targetRamp.stepPctPerSession": "Added after each session done.",
    "targetRamp.maxPctMvc": "The target never goes above this.",
    "baseline.durationS": "Rest recording.",
    "relax.durationS": "Down-training time.",
    "relax.breathPeriodS": "One breath in and out, paced by the LEDs (slow diaphragmatic breathing is about 10 s).",
    "relax.restToneMaxUv": "Target shown on the LEDs: EMG rest tone below this. At least one target.",
    "relax.restToneMaxCmH2O": "Target shown on the LEDs: resting pressure below this. At least one target.",
    "flicks.reps": "Quick contractions.",
    "flicks.onS": "Each contraction.",
    "flicks.offS": "Rest after each.",
    "flicks.targetPctMvc": "Target, in % of the patient's maximum voluntary contraction.",
    "holds.reps": "Endurance holds.",
    "holds.workS": "Each hold.",
    "holds.restS": "Rest after each.",
    "holds.targetPctMvc": "Fixed target. Give this or targetRamp.",
    "holds.targetRamp": "Target that rises each session: min(start + sessions done x step, max). Give this or targetPctMvc.",
    "assessment.preBaselineS": "Glazer pre-baseline rest (default 60 s).",
    "assessment.flickReps": "Quick flicks (default 5; 0 leaves them out).",
    "assessment.flickOnS": "Default 2 s.",
    "assessment.flickOffS": "Default 2 s.",
    "assessment.holdReps": "Holds (default 5; 0 leaves them out).",
    "assessment.holdWorkS": "Default 10 s.",
    "assessment.holdRestS": "Default 10 s.",
    "assessment.enduranceS": "One sustained contraction (default 60 s; 0 leaves it out).",
    "assessment.postBaselineS": "Glazer post-baseline rest (default 60 s).",
    "stim.mode": "strengthen: 35-50 Hz work/rest cycles (toning). relax: 1-10 Hz pain relief, continuous or cycled. ets: triggered by the patient's own contraction (toning).",
    "stim.waveform": "Pulse shape.",
    "stim.frequencyHz": "Pulse rate; within the mode's band and caps.frequencyMaxHz.",
    "stim.pulseWidthUs": "Width of each phase of the biphasic pulse; at most caps.pulseWidthMaxUs.",
    "stim.durationS": "Stimulation time of this phase; all stim phases together at most caps.sessionStimMaxMin.",
    "stim.rampUpS": "Intensity ramps up from zero over this, before workS.",
    "stim.rampDownS": "Intensity ramps down to zero over this, after workS.",
    "stim.workS": "Stimulation at the set intensity per cycle, between the ramps (strengthen and ets; relax when cycled). A cycle is rampUpS + workS + rampDownS + restS.",
    "stim.restS": "Stimulation off per cycle; at least workS for strengthen and ets.",
    "stim.targetPctMvc": "ets only: the contraction the patient aims for.",
    "stim.triggerPctOfTarget": "ets only: stimulation starts when the patient reaches this share of the target.",
    "stim.triggerChannel": "ets only: the signal that triggers; a channel the program uses.",
}

function describe(scope: string, f: FieldSpec): string | undefined {
    return DESCRIPTIONS[`${scope}.${f.key}`] ?? DESCRIPTIONS[f.key]
}

function numSchema(f: FieldSpec): Json {
    const scale = f.scale ?? 1
    const s: Json = scale === 1 ? { type: "integer" } : { type: "number" }
    if (f.min === f.max) return { ...s, const: f.min }
    s["minimum"] = f.min
    s["maximum"] = f.max
    // 0.5 is exact in binary, 0.1 is not: JSON Schema validators disagree on
    // multipleOf 0.1, so a tenths grid is stated in the text only.
    if (scale === 2) s["multipleOf"] = 0.5
    return s
}

function fieldSchema(scope: string, f: FieldSpec): Json {
    let s: Json
    switch (f.kind) {
        case "num":
            s = numSchema(f)
            break
        case "enum":
            s = { enum: [...(f.values ?? [])] }
            break
        case "bool":
            s = { type: "boolean" }
            break
        case "str":
            s = { type: "string", minLength: f.min, maxLength: f.max, pattern: "^[A-Za-z0-9._-]+$" }
            break
        case "obj":
            s = objectSchema(f.key, f.fields ?? [])
            break
        case "phases":
            s = { type: "array", minItems: f.min, maxItems: f.max, items: { oneOf: PHASE_KIND_VALUES.map(k => ({ $ref: `#/$defs/${k}Phase` })) } }
            break
    }
    const text = describe(scope, f)
    const range = f.kind === "num" && f.min !== f.max ? `[${rangeText(f)}]` : ""
    const description = [text, range].filter(Boolean).join(" ")
    return description ? { description, ...s } : s
}

function objectSchema(scope: string, fields: FieldSpec[], extra: Json = {}): Json {
    const properties: Json = {}
    for (const f of fields) properties[f.key] = fieldSchema(scope, f)
    const required = fields.filter(f => !f.optional).map(f => f.key)
    return { type: "object", additionalProperties: false, ...(required.length ? { required } : {}), properties, ...extra }
}

const levelRequired = { anyOf: [{ required: ["restToneMaxUv"] }, { required: ["restToneMaxCmH2O"] }] }

/** Mode rules (src/core/program/fields.ts STIM_MODE_RULES) as if/then. */
function stimModeConditions(): Json[] {
    return STIM_MODE_RULES.map(rule => {
        const then: Json = { properties: { frequencyHz: { type: "integer", minimum: rule.frequencyMinHz, maximum: rule.frequencyMaxHz } } }
        const all: Json[] = []
        if (rule.cycle === "required") all.push({ required: ["workS", "restS"] })
        else all.push({ dependentRequired: { workS: ["restS"], restS: ["workS"] } })
        if (rule.trigger) all.push({ required: STIM_TRIGGER_KEYS })
        else all.push({ not: { anyOf: STIM_TRIGGER_KEYS.map(k => ({ required: [k] })) } })
        return { if: { required: ["mode"], properties: { mode: { const: rule.mode } } }, then: { ...then, allOf: all } }
    })
}

function phaseSchema(kind: string): Json {
    const fields = programTables().PHASE_FIELDS[kind]
    const base = objectSchema(kind, [{ key: "kind", kind: "enum", values: [kind] }, ...fields])
    const props = base["properties"] as Json
    props["kind"] = { const: kind }
    if (kind === "relax") return { ...base, ...levelRequired }
    if (kind === "holds") return { ...base, oneOf: [{ required: ["targetPctMvc"] }, { required: ["targetRamp"] }] }
    if (kind === "stim") return { ...base, allOf: stimModeConditions() }
    return base
}

/** The program JSON Schema (draft 2020-12). */
export function programJsonSchema(): Json {
    const root = objectSchema("", programTables().ROOT_FIELDS)
    const props = root["properties"] as Json
    const relaxation = props["relaxation"] as Json
    props["relaxation"] = { ...relaxation, ...levelRequired, dependentRequired: {
        restToneMaxUv: ["restToneSdMaxUv"],
        restToneSdMaxUv: ["restToneMaxUv"],
        restToneMaxCmH2O: ["restToneSdMaxCmH2O"],
        restToneSdMaxCmH2O: ["restToneMaxCmH2O"],
    } }
    const frequency = props["frequency"] as Json
    props["frequency"] = { ...frequency, oneOf: [{ required: ["sessionsPerDay"] }, { required: ["sessionsPerWeek"] }] }
    const defs: Json = {}
    for (const kind of PHASE_KIND_VALUES) defs[`${kind}Phase`] = phaseSchema(kind)
    return {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        title: "pft therapist program",
        description:
            "A therapist's program for the pft pelvic-floor trainer (docs/programs.md). Generated from src/core/program/fields.ts by `pft program schema`. " +
            "The schema checks fields and ranges while you type; `pft program validate` also checks the rules between fields (caps, contraindications, the relaxation gate, session length) and is what the device applies.",
        ...root,
        $defs: defs,
    }
}
