/**
 * A therapist's program: the versioned JSON document a clinic writes
 * (docs/programs.md is the reference, docs/program.schema.json the schema
 * for editors), validated by `validateProgram` and carried to the device
 * as canonical bytes (`encodeProgram`) inside a signed envelope.
 *
 * Units are in every field name: `S` seconds, `Min` minutes, `Hz`, `Us`
 * microseconds, `Ma` milliamperes, `Uv` microvolts, `CmH2O`, `PctMvc`
 * percent of the patient's maximum voluntary contraction.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** The only document format this code reads and writes. */
export const PROGRAM_FORMAT_VERSION = 1

/** Which probe channels the program uses for biofeedback and gating. */
export const CHANNELS = ["pressure", "emg", "both"] as const
export type Channels = (typeof CHANNELS)[number]

export const PHASE_KINDS = ["baseline", "relax", "flicks", "holds", "assessment", "stim"] as const
export type PhaseKind = (typeof PHASE_KINDS)[number]

/**
 * Stimulation modes: `strengthen` (35-50 Hz work/rest cycles, toning),
 * `relax` (1-10 Hz, pain relief and relaxation, continuous or cycled),
 * `ets` (EMG- or pressure-triggered: the patient's own contraction to a
 * share of the target starts a stimulated contraction; toning).
 */
export const STIM_MODES = ["strengthen", "relax", "ets"] as const
export type StimMode = (typeof STIM_MODES)[number]

/** Pulse shapes, in the order of the stimulator service's `Waveform` enum (services/stimulator.md: 1, 2). */
export const WAVEFORMS = ["symmetric-biphasic", "asymmetric-biphasic"] as const
export type Waveform = (typeof WAVEFORMS)[number]

/** The probe channel whose signal triggers an `ets` phase. */
export const TRIGGER_CHANNELS = ["emg", "pressure"] as const
export type TriggerChannel = (typeof TRIGGER_CHANNELS)[number]

/**
 * The contraindication questions a program answers, every one explicitly
 * (a missing answer is an error, never a silent "no"). Which modality each
 * one locks, and the sources, are in `CONTRAINDICATION_RULES`
 * (./phases.ts) and docs/programs.md.
 */
export const CONTRAINDICATIONS = [
    "pregnant",
    "pacemakerOrImplant",
    "activeInfection",
    "undiagnosedBleeding",
    "recentSurgeryOrBirth",
    "pelvicCancer",
    "impairedSensation",
    "brokenSkinOrMucosa",
    "epilepsy",
    "cognitiveImpairment",
    "metalImplantOrIud",
    "largeProlapse",
] as const
export type Contraindication = (typeof CONTRAINDICATIONS)[number]

/** Every contraindication question answered "no" (examples and fixtures; a real program answers each). */
export function noContraindications(): Contraindications {
    const c: Record<string, boolean> = {}
    for (const k of CONTRAINDICATIONS) c[k] = false
    return c as unknown as Contraindications
}

export interface Contraindications {
    /** pregnant or trying to conceive */
    pregnant: boolean
    /** cardiac pacemaker, implanted defibrillator, or any implanted stimulator (e.g. sacral neuromodulation) */
    pacemakerOrImplant: boolean
    /** urinary tract or vaginal infection now */
    activeInfection: boolean
    /** vaginal bleeding not yet diagnosed */
    undiagnosedBleeding: boolean
    /** pelvic surgery or childbirth in the last 12 weeks */
    recentSurgeryOrBirth: boolean
    /** pelvic cancer under treatment or review */
    pelvicCancer: boolean
    /** reduced sensation where the electrode sits (cannot judge intensity) */
    impairedSensation: boolean
    /** broken skin or mucosa (incl. severe atrophic vaginitis) where the electrode sits */
    brokenSkinOrMucosa: boolean
    epilepsy: boolean
    /** cannot understand or report what the stimulation feels like */
    cognitiveImpairment: boolean
    /** conductive IUD (coil) or metal implant in the pelvis, hips or lumbar spine */
    metalImplantOrIud: boolean
    /** prolapse large enough that the probe cannot stay in place */
    largeProlapse: boolean
}

/** The therapist's caps for this patient: each at most the device's hard cap (src/core/limits.ts). */
export interface TherapistCaps {
    /** [mA] the intensity buttons stop here */
    amplitudeMaxMa: number
    /** [us] */
    pulseWidthMaxUs: number
    /** [Hz] */
    frequencyMaxHz: number
    /** [min] stimulation time in one session, all stim phases together */
    sessionStimMaxMin: number
}

/**
 * The relaxation criterion that gates toning: rest tone below the level(s)
 * given, stable (SD below the value given), for `holdS` without a break.
 * With both a uV and a cmH2O level, both must hold. Waits at most
 * `timeoutS`; then the session stays in relaxation work.
 */
export interface RelaxationCriterion {
    /** [uV] EMG rest tone below this */
    restToneMaxUv?: number
    /** [uV] SD of the EMG rest tone below this (required with restToneMaxUv) */
    restToneSdMaxUv?: number
    /** [cmH2O] resting pressure above the insertion zero below this */
    restToneMaxCmH2O?: number
    /** [cmH2O] SD of the resting pressure below this (required with restToneMaxCmH2O) */
    restToneSdMaxCmH2O?: number
    /** [s] */
    holdS: number
    /** [s] */
    timeoutS: number
}

/** How often the therapist prescribes a session: exactly one of the two. */
export interface PrescribedFrequency {
    sessionsPerDay?: number
    sessionsPerWeek?: number
}

/** Rest recording. */
export interface BaselinePhase {
    kind: "baseline"
    /** [s] */
    durationS: number
}

/** Down-training ("pelvic drops"): guided breathing, target = rest tone below a level. */
export interface RelaxPhase {
    kind: "relax"
    /** [s] */
    durationS: number
    /** [s] one breath in and out, paced by the LEDs */
    breathPeriodS: number
    /** [uV] target: EMG rest tone below this */
    restToneMaxUv?: number
    /** [cmH2O] target: resting pressure below this */
    restToneMaxCmH2O?: number
}

/** Quick contractions. Toning: gated. */
export interface FlicksPhase {
    kind: "flicks"
    reps: number
    /** [s] */
    onS: number
    /** [s] */
    offS: number
    /** [% MVC] */
    targetPctMvc: number
}

/** A target that rises with each session done: min(start + n x step, max). */
export interface TargetRamp {
    /** [% MVC] */
    startPctMvc: number
    /** [% MVC per session] */
    stepPctPerSession: number
    /** [% MVC] */
    maxPctMvc: number
}

/** Endurance holds: exactly one of targetPctMvc and targetRamp. Toning: gated. */
export interface HoldsPhase {
    kind: "holds"
    reps: number
    /** [s] */
    workS: number
    /** [s] */
    restS: number
    /** [% MVC] */
    targetPctMvc?: number
    targetRamp?: TargetRamp
}

/** The Glazer-style assessment; every field overrides a default (ASSESSMENT_DEFAULTS). Not gated. */
export interface AssessmentPhase {
    kind: "assessment"
    /** [s] */
    preBaselineS?: number
    flickReps?: number
    /** [s] */
    flickOnS?: number
    /** [s] */
    flickOffS?: number
    holdReps?: number
    /** [s] */
    holdWorkS?: number
    /** [s] */
    holdRestS?: number
    /** [s] 0 leaves the endurance contraction out */
    enduranceS?: number
    /** [s] */
    postBaselineS?: number
}

/** Electrical stimulation; the patient sets the intensity, up to caps.amplitudeMaxMa. */
export interface StimPhase {
    kind: "stim"
    mode: StimMode
    waveform: Waveform
    /** [Hz] */
    frequencyHz: number
    /** [us] width of each phase of the biphasic pulse */
    pulseWidthUs: number
    /** [s] */
    durationS: number
    /** [s] */
    rampUpS: number
    /** [s] */
    rampDownS: number
    /**
     * [s] stimulation at the set intensity, per cycle (strengthen, ets; relax
     * when cycled). A cycle is rampUpS, workS, rampDownS, restS (as
     * src/core/stim/plan.ts runs it); an ets assist is rampUpS + workS + rampDownS.
     */
    workS?: number
    /** [s] stimulation off, per cycle */
    restS?: number
    /** [% MVC] ets: the contraction the patient aims for */
    targetPctMvc?: number
    /** [% of target] ets: stimulation starts when the patient reaches this share of the target */
    triggerPctOfTarget?: number
    /** ets: which signal triggers */
    triggerChannel?: TriggerChannel
}

export type Phase = BaselinePhase | RelaxPhase | FlicksPhase | HoldsPhase | AssessmentPhase | StimPhase

export interface Program {
    formatVersion: 1
    /** the clinic's name for the program: letters, digits, "." "_" "-" */
    programId: string
    /** increases with every push; the device refuses a lower or repeated one (replay) */
    programVersion: number
    /** pseudonymous patient code (never a name): letters, digits, "." "_" "-" */
    patientRef: string
    channels: Channels
    contraindications: Contraindications
    /** required when there is a stim phase */
    caps?: TherapistCaps
    /** required when there is a toning phase */
    relaxation?: RelaxationCriterion
    frequency: PrescribedFrequency
    /** the patient also uses vaginal dilators: the device asks the size used after each session */
    usesDilators?: boolean
    phases: Phase[]
}

/** One problem found in a program: where, what value, what is allowed, and a sentence saying so. */
export interface ProgramError {
    /** field path, e.g. `phases[2].onS`; "" for the document itself */
    path: string
    /** the offending value as printed, e.g. `0`, `"fast"`, `(missing)` */
    value: string
    /** what is allowed, e.g. `0.5..5 s` */
    allowed: string
    /** what is wrong and what to do, e.g. `0 is out of range 0.5..5 s` */
    message: string
}

/**
 * The result of validation. Both members name both fields (one of them
 * always undefined) because the DeviceScript compiler checks without
 * strictNullChecks, where `ok` alone does not narrow the union.
 */
export type ProgramValidation = { ok: true; program: Program; errors?: undefined } | { ok: false; program?: undefined; errors: ProgramError[] }

/** `phases[2].onS: 0 is out of range 0.5..5 s` */
export function formatProgramError(e: ProgramError): string {
    return e.path === "" ? e.message : e.path + ": " + e.message
}

/** Thrown by encodeProgram for a program that does not validate. */
export class ProgramInvalidError extends Error {
    constructor(readonly errors: ProgramError[]) {
        super("invalid program: " + (errors.length ? formatProgramError(errors[0]) : "?") + (errors.length > 1 ? " (and " + (errors.length - 1) + " more)" : ""))
        this.name = "ProgramInvalidError"
    }
}
