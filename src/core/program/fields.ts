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

/** An enum field's allowed values, by its key. */
function enumValues(key: string): readonly string[] {
    if (key === "channels") return CHANNELS
    if (key === "mode") return STIM_MODES
    if (key === "waveform") return WAVEFORMS
    if (key === "triggerChannel") return TRIGGER_CHANNELS
    return []
}

const REST_TONE_UV = '["restToneMaxUv","num",1,"uV",0.5,50,10]'
const REST_TONE_CMH2O = '["restToneMaxCmH2O","num",1,"cmH2O",0.5,50,10]'

/**
 * The rows of one table as JSON text: `[key, kind, flags, unit, min, max,
 * scale]` (num), `[key, kind, flags, min, max]` (str, phases) or `[key,
 * kind, flags]`; `flags` 1 optional, 2 the range is the device's hard
 * limit. An object field's table is named by its key; a phase kind's is
 * "phase." + kind. JSON text because text is data in a DeviceScript image,
 * not bytecode, and the image holds at most 64 KB of bytecode: as object
 * literals the tables took 3.7 KB of it (docs/engineering.md).
 */
function tableText(name: string): string {
    switch (name) {
        case "header":
            return '[["formatVersion","num",0,"",1,1,1],["programVersion","num",0,"",1,4294967295,1]]'
        case "root":
            return (
                `[["programId","str",0,1,${ID_LENGTH_MAX}],["patientRef","str",0,1,${ID_LENGTH_MAX}],["channels","enum",0],` +
                '["contraindications","obj",0],["caps","obj",1],["relaxation","obj",1],["frequency","obj",0],' +
                `["usesDilators","bool",1],["phases","phases",0,1,${PHASES_MAX}]]`
            )
        case "caps":
            return (
                `[["amplitudeMaxMa","num",2,"mA",${AMPLITUDE_STEP_MA},${AMPLITUDE_MAX_MA},${1 / AMPLITUDE_STEP_MA}],` +
                `["pulseWidthMaxUs","num",2,"us",${PULSE_WIDTH_MIN_US},${PULSE_WIDTH_MAX_US},1],` +
                `["frequencyMaxHz","num",2,"Hz",${FREQUENCY_MIN_HZ},${FREQUENCY_MAX_HZ},1],` +
                `["sessionStimMaxMin","num",2,"min",1,${SESSION_STIM_MAX_MIN},1]]`
            )
        case "relaxation":
            return (
                "[" +
                REST_TONE_UV +
                ',["restToneSdMaxUv","num",1,"uV",0.1,20,10],' +
                REST_TONE_CMH2O +
                ',["restToneSdMaxCmH2O","num",1,"cmH2O",0.1,10,10],' +
                '["holdS","num",0,"s",5,300,1],' +
                '["timeoutS","num",0,"s",30,1200,1]]'
            )
        case "frequency":
            return '[["sessionsPerDay","num",1,"sessions",1,3,1],["sessionsPerWeek","num",1,"sessions",1,21,1]]'
        case "targetRamp":
            return '[["startPctMvc","num",0,"% MVC",10,100,1],["stepPctPerSession","num",0,"% MVC",1,20,1],["maxPctMvc","num",0,"% MVC",10,100,1]]'
        case "phase.baseline":
            return '[["durationS","num",0,"s",10,600,1]]'
        case "phase.relax":
            return '[["durationS","num",0,"s",30,1800,1],["breathPeriodS","num",0,"s",4,20,10],' + REST_TONE_UV + "," + REST_TONE_CMH2O + "]"
        case "phase.flicks":
            return '[["reps","num",0,"reps",1,50,1],["onS","num",0,"s",0.5,5,10],["offS","num",0,"s",1,30,10],["targetPctMvc","num",0,"% MVC",10,100,1]]'
        case "phase.holds":
            return (
                '[["reps","num",0,"reps",1,30,1],["workS","num",0,"s",2,60,10],["restS","num",0,"s",2,120,10],' +
                '["targetPctMvc","num",1,"% MVC",10,100,1],["targetRamp","obj",1]]'
            )
        case "phase.assessment":
            return (
                '[["preBaselineS","num",1,"s",10,300,1],["flickReps","num",1,"reps",0,10,1],["flickOnS","num",1,"s",0.5,5,10],' +
                '["flickOffS","num",1,"s",1,30,10],["holdReps","num",1,"reps",0,10,1],["holdWorkS","num",1,"s",2,60,10],' +
                '["holdRestS","num",1,"s",2,60,10],["enduranceS","num",1,"s",0,120,1],["postBaselineS","num",1,"s",10,300,1]]'
            )
        case "phase.stim":
            return (
                '[["mode","enum",0],["waveform","enum",0],' +
                `["frequencyHz","num",2,"Hz",${FREQUENCY_MIN_HZ},${FREQUENCY_MAX_HZ},1],` +
                `["pulseWidthUs","num",2,"us",${PULSE_WIDTH_MIN_US},${PULSE_WIDTH_MAX_US},1],` +
                `["durationS","num",2,"s",30,${SESSION_STIM_MAX_MS / 1000},1],` +
                `["rampUpS","num",2,"s",${RAMP_MIN_S},${RAMP_MAX_S},10],["rampDownS","num",2,"s",${RAMP_MIN_S},${RAMP_MAX_S},10],` +
                '["workS","num",1,"s",1,60,10],["restS","num",1,"s",1,120,10],["targetPctMvc","num",1,"% MVC",10,100,1],' +
                '["triggerPctOfTarget","num",1,"% of target",10,100,1],["triggerChannel","enum",1]]'
            )
    }
    return "[]"
}

/**
 * The fields of one table (see tableText), built now and not kept: an
 * object field carries no `fields` here, read them with
 * `objectFields(field)`. The decoder walks a program this way, so only the
 * tables on its current path are on the heap at once (all of them took
 * 12 KB of the simulator's ~64 KB heap and, freed, left it too fragmented
 * for the next session's buffers).
 */
export function tableFields(name: string): FieldSpec[] {
    if (name === "contraindications") return CONTRAINDICATIONS.map(c => ({ key: c as string, kind: "bool" as FieldKind }))
    const rows: any[][] = JSON.parse(tableText(name))
    return rows.map(r => {
        const kind = r[1] as FieldKind
        const f: FieldSpec = { key: r[0], kind: kind }
        if (r[2] & 1) f.optional = true
        if (r[2] & 2) f.source = HARD
        if (kind === "num") {
            f.unit = r[3]
            f.min = r[4]
            f.max = r[5]
            f.scale = r[6]
        } else if (kind === "str" || kind === "phases") {
            f.min = r[3]
            f.max = r[4]
        }
        if (kind === "enum") f.values = enumValues(f.key)
        return f
    })
}

/** An object field's fields: its table, built now unless programTables filled them in. */
export function objectFields(f: FieldSpec): FieldSpec[] {
    return f.fields ?? tableFields(f.key)
}

/** A table with every object field's fields filled in, all the way down. */
function deepFields(name: string): FieldSpec[] {
    const fields = tableFields(name)
    for (const f of fields) if (f.kind === "obj") f.fields = deepFields(f.key)
    return fields
}

let tables: ProgramTables | undefined

/**
 * Every table, each object field's fields filled in, built once and kept:
 * for the host (validator, JSON Schema, tests). The firmware does not call
 * it (the decoder uses tableFields).
 */
export function programTables(): ProgramTables {
    if (tables !== undefined) return tables
    const PHASE_FIELDS: Record<string, FieldSpec[]> = {}
    for (const kind of PHASE_KINDS) PHASE_FIELDS[kind] = deepFields("phase." + kind)
    const ROOT_HEADER_FIELDS = deepFields("header")
    const ROOT_BODY_FIELDS = deepFields("root")
    tables = {
        CONTRAINDICATION_FIELDS: deepFields("contraindications"),
        CAPS_FIELDS: deepFields("caps"),
        RELAXATION_FIELDS: deepFields("relaxation"),
        FREQUENCY_FIELDS: deepFields("frequency"),
        TARGET_RAMP_FIELDS: deepFields("targetRamp"),
        PHASE_FIELDS,
        ROOT_HEADER_FIELDS,
        ROOT_BODY_FIELDS,
        ROOT_FIELDS: [...ROOT_HEADER_FIELDS, ...ROOT_BODY_FIELDS],
    }
    return tables
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

// JSON text: data, not bytecode, in the 64 KB firmware image (docs/engineering.md)
export const STIM_MODE_RULES: StimModeRule[] = JSON.parse(
    "[" +
        '{"mode":"strengthen","frequencyMinHz":35,"frequencyMaxHz":50,"cycle":"required","trigger":false,"toning":true,"restAtLeastWork":true},' +
        '{"mode":"relax","frequencyMinHz":1,"frequencyMaxHz":10,"cycle":"optional","trigger":false,"toning":false,"restAtLeastWork":false},' +
        '{"mode":"ets","frequencyMinHz":35,"frequencyMaxHz":50,"cycle":"required","trigger":true,"toning":true,"restAtLeastWork":true}' +
        "]"
)

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
