/**
 * What the session runner needs to know about phases: which are gated
 * (toning), how long each takes, the assessment's concrete steps, the
 * ramped hold target, and which modalities a patient's contraindications
 * lock.
 *
 * Contraindication sources:
 * - [Design] ../../shared design.md, clinic policy: biofeedback probes and
 *   e-stim are not used in pregnancy; e-stim not with a pacemaker/implanted
 *   stimulator, active infection or undiagnosed bleeding.
 * - [NT-FAQ] Verity Medical, "Frequently asked questions: electrical
 *   stimulation and biofeedback - NeuroTrac Continence, Pelvitone, Simplex,
 *   MyoPlus": not with loss of sensation at the electrode, pelvic cancer
 *   under treatment or review, pregnancy or trying to conceive, within 12
 *   weeks of childbirth or pelvic surgery, a pacemaker (cardiac or other),
 *   urinary tract or vaginal infection, broken skin at the electrode, a
 *   prolapse that keeps the probe from staying in place.
 * - [Elitone] Elidah Elitone instructions for use: not with pregnancy,
 *   electronic implants, cancer, epilepsy, cognitive dysfunction, pelvic
 *   surgery in the last 6 weeks, conductive IUD or metal implants in the
 *   pelvis, hips or lumbar spine.
 * - [PFS] pelvicfloorspecialist.com, "Electrical stimulation": active
 *   infection, pregnancy, 6 weeks postpartum or post-surgery, atrophic
 *   vaginitis, pacemaker.
 *
 * The probe module carries both sensors (services/pelvicprobe.md: an
 * intravaginal probe with a pressure channel and surface-EMG electrodes),
 * so every phase that senses uses the intravaginal probe, whichever
 * channels the program uses.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import { assessmentDurationMs, assessmentSegments, type AssessmentOptions } from "../protocol/assessment"
import { stimModeRule } from "./fields"
import type { AssessmentPhase, Contraindication, Contraindications, HoldsPhase, Phase, Program, StimPhase } from "./types"

/** A modality a contraindication can lock. */
export type Modality = "probe" | "stim"

export interface ContraindicationRule {
    flag: Contraindication
    locks: Modality[]
}

/**
 * Which modality each contraindication locks (sources in the file header).
 * JSON text: data, not bytecode, in the firmware image (fields.ts tableText).
 */
export const CONTRAINDICATION_RULES: ContraindicationRule[] = JSON.parse(
    "[" +
        // [Design] [NT-FAQ] [Elitone] [PFS]
        '{"flag":"pregnant","locks":["probe","stim"]},' +
        // [Design] [NT-FAQ] [Elitone] [PFS]
        '{"flag":"pacemakerOrImplant","locks":["stim"]},' +
        // [Design] [NT-FAQ] [PFS]; an infected vagina is not probed either
        '{"flag":"activeInfection","locks":["probe","stim"]},' +
        // [Design]; not probed until diagnosed
        '{"flag":"undiagnosedBleeding","locks":["probe","stim"]},' +
        // [NT-FAQ] 12 weeks, [Elitone] [PFS] 6 weeks: tissue healing
        '{"flag":"recentSurgeryOrBirth","locks":["probe","stim"]},' +
        // [NT-FAQ] [Elitone]
        '{"flag":"pelvicCancer","locks":["stim"]},' +
        // [NT-FAQ]: cannot judge a safe intensity
        '{"flag":"impairedSensation","locks":["stim"]},' +
        // [NT-FAQ] [PFS]
        '{"flag":"brokenSkinOrMucosa","locks":["stim"]},' +
        // [Elitone]
        '{"flag":"epilepsy","locks":["stim"]},' +
        // [Elitone]
        '{"flag":"cognitiveImpairment","locks":["stim"]},' +
        // [Elitone]
        '{"flag":"metalImplantOrIud","locks":["stim"]},' +
        // [NT-FAQ]: the probe does not stay in place
        '{"flag":"largeProlapse","locks":["probe","stim"]}' +
        "]"
)

/** The flags set in `c` that lock `modality`, in CONTRAINDICATIONS order; empty means unlocked. */
export function lockingFlags(c: Contraindications, modality: Modality): Contraindication[] {
    const out: Contraindication[] = []
    for (const rule of CONTRAINDICATION_RULES) {
        if (rule.locks.indexOf(modality) < 0) continue
        if ((c as unknown as Record<string, boolean>)[rule.flag] === true) out.push(rule.flag)
    }
    return out
}

/**
 * Toning phases start only once the relaxation criterion has been met in
 * this session: flicks, holds, and stim in a strengthening mode
 * (strengthen, ets). Relax-mode stim, baseline, relax and the assessment
 * are not gated.
 */
export function isToningPhase(phase: Phase): boolean {
    if (phase.kind === "flicks" || phase.kind === "holds") return true
    if (phase.kind === "stim") {
        const rule = stimModeRule((phase as StimPhase).mode)
        return rule ? rule.toning : true // an unknown mode is treated as gated (fail-safe)
    }
    return false
}

/** Whether the phase needs the intravaginal probe (all sensing phases, and stim through the probe's electrodes). */
export function phaseUsesProbe(_phase: Phase): boolean {
    // every phase kind senses through the probe or stimulates through it
    return true
}

/** Whether the phase stimulates. */
export function phaseUsesStim(phase: Phase): boolean {
    return phase.kind === "stim"
}

/** Glazer protocol defaults (src/core/protocol/assessment.ts has the sources). */
export const ASSESSMENT_DEFAULTS: {
    preBaselineS: number
    flickReps: number
    flickOnS: number
    flickOffS: number
    holdReps: number
    holdWorkS: number
    holdRestS: number
    enduranceS: number
    postBaselineS: number
} = JSON.parse(
    // JSON text: data, not bytecode, in the 64 KB firmware image
    '{"preBaselineS":60,"flickReps":5,"flickOnS":2,"flickOffS":2,"holdReps":5,"holdWorkS":10,"holdRestS":10,"enduranceS":60,"postBaselineS":60}'
)

export type AssessmentBlock = "preBaseline" | "flicks" | "holds" | "endurance" | "postBaseline"

/** One block of the assessment, with every value filled in. */
export interface AssessmentStep {
    block: AssessmentBlock
    /** contractions (0 for the baselines) */
    reps: number
    /** [s] each contraction (0 for the baselines) */
    workS: number
    /** [s] rest after each contraction (0 for the baselines and endurance) */
    restS: number
    /** [s] the whole block */
    durationS: number
}

/** [tenths of s] exact for values on the 0.1 s grid */
function tenths(s: number): number {
    return Math.floor(s * 10 + 0.5)
}

function step(o: { block: AssessmentBlock; reps: number; workS: number; restS: number; durationTenths: number }): AssessmentStep {
    return { block: o.block, reps: o.reps, workS: o.workS, restS: o.restS, durationS: o.durationTenths / 10 }
}

/**
 * The assessment's concrete steps with the defaults applied, in order;
 * blocks with no contractions (flickReps 0, holdReps 0, enduranceS 0) are
 * left out.
 */
export function expandAssessment(phase: AssessmentPhase): AssessmentStep[] {
    const d = ASSESSMENT_DEFAULTS
    const pre = phase.preBaselineS ?? d.preBaselineS
    const flickReps = phase.flickReps ?? d.flickReps
    const flickOnS = phase.flickOnS ?? d.flickOnS
    const flickOffS = phase.flickOffS ?? d.flickOffS
    const holdReps = phase.holdReps ?? d.holdReps
    const holdWorkS = phase.holdWorkS ?? d.holdWorkS
    const holdRestS = phase.holdRestS ?? d.holdRestS
    const enduranceS = phase.enduranceS ?? d.enduranceS
    const post = phase.postBaselineS ?? d.postBaselineS
    const out: AssessmentStep[] = []
    out.push(step({ block: "preBaseline", reps: 0, workS: 0, restS: 0, durationTenths: tenths(pre) }))
    if (flickReps > 0)
        out.push(step({ block: "flicks", reps: flickReps, workS: flickOnS, restS: flickOffS, durationTenths: flickReps * (tenths(flickOnS) + tenths(flickOffS)) }))
    if (holdReps > 0)
        out.push(step({ block: "holds", reps: holdReps, workS: holdWorkS, restS: holdRestS, durationTenths: holdReps * (tenths(holdWorkS) + tenths(holdRestS)) }))
    if (enduranceS > 0) out.push(step({ block: "endurance", reps: 1, workS: enduranceS, restS: 0, durationTenths: tenths(enduranceS) }))
    out.push(step({ block: "postBaseline", reps: 0, workS: 0, restS: 0, durationTenths: tenths(post) }))
    return out
}

/** The assessment in the form src/core/protocol/assessment.ts runs (milliseconds). */
export function assessmentOptions(phase: AssessmentPhase): AssessmentOptions {
    const d = ASSESSMENT_DEFAULTS
    const ms = (s: number) => tenths(s) * 100
    return {
        preBaselineMs: ms(phase.preBaselineS ?? d.preBaselineS),
        flickCount: phase.flickReps ?? d.flickReps,
        flickOnMs: ms(phase.flickOnS ?? d.flickOnS),
        flickOffMs: ms(phase.flickOffS ?? d.flickOffS),
        holdCount: phase.holdReps ?? d.holdReps,
        holdOnMs: ms(phase.holdWorkS ?? d.holdWorkS),
        holdOffMs: ms(phase.holdRestS ?? d.holdRestS),
        enduranceMs: ms(phase.enduranceS ?? d.enduranceS),
        restBeforeEnduranceMs: 0,
        postBaselineMs: ms(phase.postBaselineS ?? d.postBaselineS),
    }
}

/** [tenths of s] a phase's own length (for the gated phases: not counting the wait for the gate) */
function phaseTenths(phase: Phase): number {
    switch (phase.kind) {
        case "baseline":
        case "relax":
        case "stim":
            return tenths(phase.durationS)
        case "flicks":
            return phase.reps * (tenths(phase.onS) + tenths(phase.offS))
        case "holds":
            return phase.reps * (tenths(phase.workS) + tenths(phase.restS))
        case "assessment": {
            // the protocol's own segments, as the runner runs them (expandAssessment is host-only: device image size)
            return assessmentDurationMs(assessmentSegments(assessmentOptions(phase))) / 100
        }
    }
    return 0
}

/** [s] how long the phase runs once started (a gated phase may first wait for the gate). */
export function phaseDurationS(phase: Phase): number {
    return phaseTenths(phase) / 10
}

/** [s] the longest a session of this program can take: every phase, plus one wait for the relaxation gate when a phase is gated. */
export function sessionMaxDurationS(program: Program): number {
    let total = 0
    let gated = false
    for (const p of program.phases) {
        total += phaseTenths(p)
        if (isToningPhase(p)) gated = true
    }
    if (gated && program.relaxation) total += tenths(program.relaxation.timeoutS)
    return total / 10
}

/** [s] stimulation time of a session: the stim phases' durations. */
export function sessionStimS(program: Program): number {
    let total = 0
    for (const p of program.phases) if (p.kind === "stim") total += p.durationS
    return total
}

/**
 * [% MVC] a holds phase's target in the session after `sessionsDone`
 * sessions of this program: the fixed target, or min(start + n x step, max).
 */
export function holdsTargetPctMvc(phase: HoldsPhase, sessionsDone: number): number {
    const ramp = phase.targetRamp
    if (!ramp) return phase.targetPctMvc ?? 0
    const n = sessionsDone > 0 ? Math.floor(sessionsDone) : 0
    const t = ramp.startPctMvc + n * ramp.stepPctPerSession
    return t < ramp.maxPctMvc ? t : ramp.maxPctMvc
}
