/**
 * The program format as data: every field's key, type, unit, range and
 * resolution, in canonical order. The validator (./validate.ts), the binary
 * codec (./codec.ts) and the host's JSON Schema (host/program/schema.ts) all
 * read these tables, so a range or a field is defined once.
 *
 * Numbers are fixed-point: a field with `scale` 10 takes values in steps of
 * 0.1 and is stored as value x 10 (an integer); the validator rejects a value
 * off that grid, so decode(encode(p)) gives back exactly p. The byte width
 * of a stored number follows from max x scale (u8, u16 or u32).
 *
 * Ranges, and why (sources in docs/programs.md):
 * - stim caps and stim parameters: the device's hard caps, src/core/limits.ts
 *   (imported, never copied);
 * - rest-tone levels: resting PFM sEMG is ~2-10 uV in healthy women (Oleksy
 *   et al. 2020, Glazer protocol normative values: pre-baseline 6.3 +- 3.3
 *   uV) and higher when overactive; 0.5-50 uV covers both with room;
 *   pressure above the insertion zero 0.5-50 cmH2O (the conditioner calls
 *   rest stable under 0.75 cmH2O SD, src/core/sensing/pressure-conditioner.ts);
 * - times: Glazer protocol blocks (flicks 2 s on/off, 10 s holds, 60 s
 *   baselines) with room either side; ramps [NT] 0.5-9 s via limits.ts.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_STEP_MA,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    RAMP_MAX_MS,
    RAMP_MIN_MS,
    SESSION_STIM_MAX_MS,
} from "../limits"
import { CHANNELS, CONTRAINDICATIONS, PHASE_KINDS, STIM_MODES, TRIGGER_CHANNELS, WAVEFORMS } from "./types"

export type FieldKind = "num" | "enum" | "bool" | "str" | "obj" | "phases"

export interface FieldSpec {
    key: string
    kind: FieldKind
    /** may be left out (else a missing field is an error) */
    optional?: boolean
    /** num: unit as printed in messages ("s", "Hz", "% MVC"...) */
    unit?: string
    /** num: smallest allowed; str: shortest length */
    min?: number
    /** num: largest allowed; str: longest length */
    max?: number
    /** num: steps per unit (1 whole units, 2 halves, 10 tenths); stored as value x scale */
    scale?: number
    /** num: where the range comes from, when it is a device limit */
    source?: string
    /** enum: allowed values, stored as their index */
    values?: readonly string[]
    /** obj: its fields */
    fields?: FieldSpec[]
}

/** Phases in one program. */
export const PHASES_MAX = 16

/**
 * [s] The longest session a program may plan, the relaxation gate's
 * timeout included: clinical home sessions are 10-30 min, once or twice a
 * day (docs/programs.md); an hour is the sane ceiling.
 */
export const SESSION_MAX_S = 60 * 60

const HARD = "the device's hard limit (src/core/limits.ts)"

/** [s] ramp range from the hard limits */
const RAMP_MIN_S = RAMP_MIN_MS / 1000
const RAMP_MAX_S = RAMP_MAX_MS / 1000
const SESSION_STIM_MAX_MIN = SESSION_STIM_MAX_MS / 60000

const ID_LENGTH_MAX = 24

/** The field tables, built when first needed (see programTables). */
export interface ProgramTables {
    CONTRAINDICATION_FIELDS: FieldSpec[]
    CAPS_FIELDS: FieldSpec[]
    RELAXATION_FIELDS: FieldSpec[]
    FREQUENCY_FIELDS: FieldSpec[]
    TARGET_RAMP_FIELDS: FieldSpec[]
    /** Fields of each phase kind, after its `kind` (which every phase has). */
    PHASE_FIELDS: Record<string, FieldSpec[]>
    /** The first bytes of the encoding, fixed so a reader can tell version and replay before anything else. */
    ROOT_HEADER_FIELDS: FieldSpec[]
    ROOT_BODY_FIELDS: FieldSpec[]
    ROOT_FIELDS: FieldSpec[]
}

function buildProgramTables(): ProgramTables {
    const REST_TONE_UV: FieldSpec = { key: "restToneMaxUv", kind: "num", optional: true, unit: "uV", min: 0.5, max: 50, scale: 10 }
    const REST_TONE_CMH2O: FieldSpec = { key: "restToneMaxCmH2O", kind: "num", optional: true, unit: "cmH2O", min: 0.5, max: 50, scale: 10 }

    const CONTRAINDICATION_FIELDS: FieldSpec[] = CONTRAINDICATIONS.map(c => ({ key: c as string, kind: "bool" as FieldKind }))

    const CAPS_FIELDS: FieldSpec[] = [
        { key: "amplitudeMaxMa", kind: "num", unit: "mA", min: AMPLITUDE_STEP_MA, max: AMPLITUDE_MAX_MA, scale: 1 / AMPLITUDE_STEP_MA, source: HARD },
        { key: "pulseWidthMaxUs", kind: "num", unit: "us", min: PULSE_WIDTH_MIN_US, max: PULSE_WIDTH_MAX_US, scale: 1, source: HARD },
        { key: "frequencyMaxHz", kind: "num", unit: "Hz", min: FREQUENCY_MIN_HZ, max: FREQUENCY_MAX_HZ, scale: 1, source: HARD },
        { key: "sessionStimMaxMin", kind: "num", unit: "min", min: 1, max: SESSION_STIM_MAX_MIN, scale: 1, source: HARD },
    ]

    const RELAXATION_FIELDS: FieldSpec[] = [
        REST_TONE_UV,
        { key: "restToneSdMaxUv", kind: "num", optional: true, unit: "uV", min: 0.1, max: 20, scale: 10 },
        REST_TONE_CMH2O,
        { key: "restToneSdMaxCmH2O", kind: "num", optional: true, unit: "cmH2O", min: 0.1, max: 10, scale: 10 },
        { key: "holdS", kind: "num", unit: "s", min: 5, max: 300, scale: 1 },
        { key: "timeoutS", kind: "num", unit: "s", min: 30, max: 1200, scale: 1 },
    ]

    const FREQUENCY_FIELDS: FieldSpec[] = [
        { key: "sessionsPerDay", kind: "num", optional: true, unit: "sessions", min: 1, max: 3, scale: 1 },
        { key: "sessionsPerWeek", kind: "num", optional: true, unit: "sessions", min: 1, max: 21, scale: 1 },
    ]

    const TARGET_RAMP_FIELDS: FieldSpec[] = [
        { key: "startPctMvc", kind: "num", unit: "% MVC", min: 10, max: 100, scale: 1 },
        { key: "stepPctPerSession", kind: "num", unit: "% MVC", min: 1, max: 20, scale: 1 },
        { key: "maxPctMvc", kind: "num", unit: "% MVC", min: 10, max: 100, scale: 1 },
    ]

    const TARGET_PCT: FieldSpec = { key: "targetPctMvc", kind: "num", unit: "% MVC", min: 10, max: 100, scale: 1 }

    /** Fields of each phase kind, after its `kind` (which every phase has). */
    const PHASE_FIELDS: Record<string, FieldSpec[]> = {
        baseline: [{ key: "durationS", kind: "num", unit: "s", min: 10, max: 600, scale: 1 }],
        relax: [
            { key: "durationS", kind: "num", unit: "s", min: 30, max: 1800, scale: 1 },
            { key: "breathPeriodS", kind: "num", unit: "s", min: 4, max: 20, scale: 10 },
            REST_TONE_UV,
            REST_TONE_CMH2O,
        ],
        flicks: [
            { key: "reps", kind: "num", unit: "reps", min: 1, max: 50, scale: 1 },
            { key: "onS", kind: "num", unit: "s", min: 0.5, max: 5, scale: 10 },
            { key: "offS", kind: "num", unit: "s", min: 1, max: 30, scale: 10 },
            TARGET_PCT,
        ],
        holds: [
            { key: "reps", kind: "num", unit: "reps", min: 1, max: 30, scale: 1 },
            { key: "workS", kind: "num", unit: "s", min: 2, max: 60, scale: 10 },
            { key: "restS", kind: "num", unit: "s", min: 2, max: 120, scale: 10 },
            { key: "targetPctMvc", kind: "num", optional: true, unit: "% MVC", min: 10, max: 100, scale: 1 },
            { key: "targetRamp", kind: "obj", optional: true, fields: TARGET_RAMP_FIELDS },
        ],
        assessment: [
            { key: "preBaselineS", kind: "num", optional: true, unit: "s", min: 10, max: 300, scale: 1 },
            { key: "flickReps", kind: "num", optional: true, unit: "reps", min: 0, max: 10, scale: 1 },
            { key: "flickOnS", kind: "num", optional: true, unit: "s", min: 0.5, max: 5, scale: 10 },
            { key: "flickOffS", kind: "num", optional: true, unit: "s", min: 1, max: 30, scale: 10 },
            { key: "holdReps", kind: "num", optional: true, unit: "reps", min: 0, max: 10, scale: 1 },
            { key: "holdWorkS", kind: "num", optional: true, unit: "s", min: 2, max: 60, scale: 10 },
            { key: "holdRestS", kind: "num", optional: true, unit: "s", min: 2, max: 60, scale: 10 },
            { key: "enduranceS", kind: "num", optional: true, unit: "s", min: 0, max: 120, scale: 1 },
            { key: "postBaselineS", kind: "num", optional: true, unit: "s", min: 10, max: 300, scale: 1 },
        ],
        stim: [
            { key: "mode", kind: "enum", values: STIM_MODES },
            { key: "waveform", kind: "enum", values: WAVEFORMS },
            { key: "frequencyHz", kind: "num", unit: "Hz", min: FREQUENCY_MIN_HZ, max: FREQUENCY_MAX_HZ, scale: 1, source: HARD },
            { key: "pulseWidthUs", kind: "num", unit: "us", min: PULSE_WIDTH_MIN_US, max: PULSE_WIDTH_MAX_US, scale: 1, source: HARD },
            { key: "durationS", kind: "num", unit: "s", min: 30, max: SESSION_STIM_MAX_MS / 1000, scale: 1, source: HARD },
            { key: "rampUpS", kind: "num", unit: "s", min: RAMP_MIN_S, max: RAMP_MAX_S, scale: 10, source: HARD },
            { key: "rampDownS", kind: "num", unit: "s", min: RAMP_MIN_S, max: RAMP_MAX_S, scale: 10, source: HARD },
            { key: "workS", kind: "num", optional: true, unit: "s", min: 1, max: 60, scale: 10 },
            { key: "restS", kind: "num", optional: true, unit: "s", min: 1, max: 120, scale: 10 },
            { key: "targetPctMvc", kind: "num", optional: true, unit: "% MVC", min: 10, max: 100, scale: 1 },
            { key: "triggerPctOfTarget", kind: "num", optional: true, unit: "% of target", min: 10, max: 100, scale: 1 },
            { key: "triggerChannel", kind: "enum", optional: true, values: TRIGGER_CHANNELS },
        ],
    }

    /** The first bytes of the encoding, fixed so a reader can tell version and replay before anything else. */
    const ROOT_HEADER_FIELDS: FieldSpec[] = [
        { key: "formatVersion", kind: "num", unit: "", min: 1, max: 1, scale: 1 },
        { key: "programVersion", kind: "num", unit: "", min: 1, max: 4294967295, scale: 1 },
    ]

    const ROOT_BODY_FIELDS: FieldSpec[] = [
        { key: "programId", kind: "str", min: 1, max: ID_LENGTH_MAX },
        { key: "patientRef", kind: "str", min: 1, max: ID_LENGTH_MAX },
        { key: "channels", kind: "enum", values: CHANNELS },
        { key: "contraindications", kind: "obj", fields: CONTRAINDICATION_FIELDS },
        { key: "caps", kind: "obj", optional: true, fields: CAPS_FIELDS },
        { key: "relaxation", kind: "obj", optional: true, fields: RELAXATION_FIELDS },
        { key: "frequency", kind: "obj", fields: FREQUENCY_FIELDS },
        { key: "usesDilators", kind: "bool", optional: true },
        { key: "phases", kind: "phases", min: 1, max: PHASES_MAX },
    ]

    const ROOT_FIELDS: FieldSpec[] = [...ROOT_HEADER_FIELDS, ...ROOT_BODY_FIELDS]
    return {
        CONTRAINDICATION_FIELDS,
        CAPS_FIELDS,
        RELAXATION_FIELDS,
        FREQUENCY_FIELDS,
        TARGET_RAMP_FIELDS,
        PHASE_FIELDS,
        ROOT_HEADER_FIELDS,
        ROOT_BODY_FIELDS,
        ROOT_FIELDS,
    }
}

let tables: ProgramTables | undefined

/**
 * The field tables. They are objects on the heap, and the DeviceScript
 * simulator's heap is ~64 KB: they are built on first use and the firmware
 * frees them (releaseProgramTables) once a program is checked, so they do
 * not sit in memory through a session.
 */
export function programTables(): ProgramTables {
    if (tables === undefined) tables = buildProgramTables()
    return tables
}

/** Drops the tables (built again on the next programTables()). */
export function releaseProgramTables(): void {
    tables = undefined
}

/** The allowed values of the phase `kind` field, in encoding order. */
export const PHASE_KIND_VALUES: readonly string[] = PHASE_KINDS

/**
 * Stim modes as data: frequency band, whether work/rest cycles are
 * required / allowed, and whether the ets trigger fields belong. Bands:
 * [Clin] in limits.ts (strengthening 35-50 Hz, pain/relaxation 1-10 Hz);
 * ets strengthens, so it uses the strengthening band.
 */
export interface StimModeRule {
    mode: string
    frequencyMinHz: number
    frequencyMaxHz: number
    /** "required": workS and restS must be given; "optional": both or neither (continuous) */
    cycle: "required" | "optional"
    /** targetPctMvc, triggerPctOfTarget, triggerChannel required (else not allowed) */
    trigger: boolean
    /** gated behind the relaxation criterion */
    toning: boolean
    /** restS must be at least workS (muscle fatigue) */
    restAtLeastWork: boolean
}

export const STIM_MODE_RULES: StimModeRule[] = [
    { mode: "strengthen", frequencyMinHz: 35, frequencyMaxHz: 50, cycle: "required", trigger: false, toning: true, restAtLeastWork: true },
    { mode: "relax", frequencyMinHz: 1, frequencyMaxHz: 10, cycle: "optional", trigger: false, toning: false, restAtLeastWork: false },
    { mode: "ets", frequencyMinHz: 35, frequencyMaxHz: 50, cycle: "required", trigger: true, toning: true, restAtLeastWork: true },
]

/** The ets-only fields of a stim phase. */
export const STIM_TRIGGER_KEYS = ["targetPctMvc", "triggerPctOfTarget", "triggerChannel"]

export function stimModeRule(mode: string): StimModeRule | undefined {
    for (const r of STIM_MODE_RULES) if (r.mode === mode) return r
    return undefined
}

/** Bytes a stored number takes: from the largest stored value, max x scale. */
export function numWidth(f: FieldSpec): number {
    const top = (f.max ?? 0) * (f.scale ?? 1)
    if (top <= 0xff) return 1
    if (top <= 0xffff) return 2
    return 4
}
