/**
 * The program's phases as the runner steps through them: each phase's
 * segments (one cue each, as protocol/assessment.ts defines them, so the
 * metrics' ChannelAnalyzer is fed exactly as for the fixed assessment),
 * computed on demand rather than stored (a 50-rep flicks phase would be
 * 100 objects on a ~64 KB heap), its length, its rep numbers, whether it
 * is toning (gated) and whether a contraindication locks it.
 *
 * Segments per phase kind (block numbers: protocol Block, plus
 * BLOCK_RELAX and BLOCK_STIM):
 *
 * | phase | segments |
 * |---|---|
 * | baseline | one Baseline / Rest cue; block PreBaseline before the session's first contraction, PostBaseline after |
 * | relax | one Rest / Rest cue, BLOCK_RELAX, the phase's length |
 * | gate work | one Rest / Rest cue, BLOCK_RELAX, open-ended (durationMs 0) |
 * | flicks | per rep Work / Contract (onS), then Rest / Release (offS); block Flicks |
 * | holds | per rep Work / Contract (workS), then Rest / Release (restS); block Holds |
 * | assessment | protocol assessmentSegments, rep numbers shifted to the phase's first rep |
 * | stim | one Work / Rest cue with repIndex -1, BLOCK_STIM (a Work segment, so rest statistics are never taken under stimulation) |
 *
 * Rep numbers are fixed per program: phase i's reps always have the same
 * indices, whether or not earlier phases ran, so sessions compare rep by
 * rep.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { isToningPhase, lockingFlags, phaseDurationS, phaseUsesProbe, phaseUsesStim, assessmentOptions, holdsTargetPctMvc } from "../program/phases"
import type { AssessmentPhase, FlicksPhase, HoldsPhase, Phase, Program, RelaxPhase, StimPhase } from "../program/types"
import { assessmentSegments, Block, Cue, plannedReps, SegmentKind, type Segment } from "../protocol/assessment"
import { StimMode, type StimPhaseSettings } from "../stim/plan"
import { msOfS } from "./gate"
import { RunnerReason } from "./types"

/** Segment block of relaxation work (relax phases and gate work); the protocol's Block ends at 4. */
export const BLOCK_RELAX = 5
/** Segment block of a stimulation phase. */
export const BLOCK_STIM = 6
/** [ms] breathing period when the program gives none: 6 breaths a minute (Lehrer & Gevirtz 2014, docs/programs.md) */
export const DEFAULT_BREATH_PERIOD_MS = 10000

export interface PhasePlan {
    index: number
    phase: Phase
    toning: boolean
    /** None, ContraindicationProbe or ContraindicationStim */
    lock: RunnerReason
    /** how many contraindication flags lock it */
    lockFlags: number
    /** [ms] the phase's own length */
    durationMs: number
    /** repIndex of its first contraction */
    firstRep: number
    /** contractions it asks for */
    reps: number
    segmentCount: number
    /** [ms] relax phases: one breath */
    breathPeriodMs: number
    /** [% MVC] flicks, holds (the ramp for this session), ets; 0 otherwise */
    targetPctMvc: number
    /** assessment: its segments, built when the phase starts */
    assessment: Segment[] | null
}

function asBlock(n: number): Block {
    return n as Block
}

function repsOf(phase: Phase): number {
    if (phase.kind === "flicks") return (phase as FlicksPhase).reps
    if (phase.kind === "holds") return (phase as HoldsPhase).reps
    if (phase.kind === "assessment") return plannedReps(assessmentOptions(phase as AssessmentPhase))
    return 0
}

function durationOf(phase: Phase): number {
    switch (phase.kind) {
        case "flicks": {
            const f = phase as FlicksPhase
            return f.reps * (msOfS(f.onS) + msOfS(f.offS))
        }
        case "holds": {
            const h = phase as HoldsPhase
            return h.reps * (msOfS(h.workS) + msOfS(h.restS))
        }
        case "assessment":
            // whole tenths of a second: exact in ms
            return phaseDurationS(phase) * 1000
        case "baseline":
        case "relax":
        case "stim":
            return msOfS(phase.durationS)
    }
    return 0
}

function segmentCountOf(phase: Phase): number {
    if (phase.kind === "flicks" || phase.kind === "holds") return 2 * repsOf(phase)
    if (phase.kind === "assessment") return assessmentSegments(assessmentOptions(phase as AssessmentPhase)).length
    return 1
}

function targetOf(phase: Phase, sessionsDone: number): number {
    if (phase.kind === "flicks") return (phase as FlicksPhase).targetPctMvc
    if (phase.kind === "holds") return holdsTargetPctMvc(phase as HoldsPhase, sessionsDone)
    if (phase.kind === "stim") return (phase as StimPhase).targetPctMvc ?? 0
    return 0
}

/** The program's phases as plans, with the locks of its contraindications applied. */
export function planPhases(program: Program, sessionsDone: number): PhasePlan[] {
    const probeFlags = lockingFlags(program.contraindications, "probe").length
    const stimFlags = lockingFlags(program.contraindications, "stim").length
    const out: PhasePlan[] = []
    let rep = 0
    for (let i = 0; i < program.phases.length; i++) {
        const phase = program.phases[i]
        let lock = RunnerReason.None
        let flags = 0
        if (phaseUsesProbe(phase) && probeFlags > 0) {
            lock = RunnerReason.ContraindicationProbe
            flags = probeFlags
        } else if (phaseUsesStim(phase) && stimFlags > 0) {
            lock = RunnerReason.ContraindicationStim
            flags = stimFlags
        }
        const reps = repsOf(phase)
        out.push({
            index: i,
            phase: phase,
            toning: isToningPhase(phase),
            lock: lock,
            lockFlags: flags,
            durationMs: durationOf(phase),
            firstRep: rep,
            reps: reps,
            segmentCount: segmentCountOf(phase),
            breathPeriodMs: phase.kind === "relax" ? msOfS((phase as RelaxPhase).breathPeriodS) : 0,
            targetPctMvc: targetOf(phase, sessionsDone),
            assessment: null,
        })
        rep += reps
    }
    return out
}

/** The assessment's segments with rep numbers from the phase's first rep (built once, when the phase starts). */
export function assessmentPlanSegments(plan: PhasePlan): Segment[] {
    if (plan.assessment !== null) return plan.assessment
    const segs = assessmentSegments(assessmentOptions(plan.phase as AssessmentPhase))
    for (const s of segs) if (s.repIndex >= 0) s.repIndex += plan.firstRep
    plan.assessment = segs
    return segs
}

/**
 * Segment `j` of a phase. `afterContraction`: a contraction was already
 * cued in this session (a baseline is then a post-baseline).
 */
export function planSegment(plan: PhasePlan, j: number, afterContraction: boolean): Segment {
    const p = plan.phase
    switch (p.kind) {
        case "baseline":
            return {
                kind: SegmentKind.Baseline,
                cue: Cue.Rest,
                block: afterContraction ? Block.PostBaseline : Block.PreBaseline,
                durationMs: plan.durationMs,
                repIndex: -1,
            }
        case "relax":
            return { kind: SegmentKind.Rest, cue: Cue.Rest, block: asBlock(BLOCK_RELAX), durationMs: plan.durationMs, repIndex: -1 }
        case "stim":
            return { kind: SegmentKind.Work, cue: Cue.Rest, block: asBlock(BLOCK_STIM), durationMs: plan.durationMs, repIndex: -1 }
        case "flicks":
        case "holds": {
            const flick = p.kind === "flicks"
            const onMs = flick ? msOfS((p as FlicksPhase).onS) : msOfS((p as HoldsPhase).workS)
            const offMs = flick ? msOfS((p as FlicksPhase).offS) : msOfS((p as HoldsPhase).restS)
            const block = flick ? Block.Flicks : Block.Holds
            const r = Math.floor(j / 2)
            if (j - 2 * r === 0) return { kind: SegmentKind.Work, cue: Cue.Contract, block: block, durationMs: onMs, repIndex: plan.firstRep + r }
            return { kind: SegmentKind.Rest, cue: Cue.Release, block: block, durationMs: offMs, repIndex: -1 }
        }
        case "assessment": {
            const s = assessmentPlanSegments(plan)[j]
            return { kind: s.kind, cue: s.cue, block: s.block, durationMs: s.durationMs, repIndex: s.repIndex }
        }
    }
    return { kind: SegmentKind.Rest, cue: Cue.Rest, block: asBlock(BLOCK_RELAX), durationMs: 0, repIndex: -1 }
}

/** [ms] where segment `j` begins in the phase's own timeline. */
export function planSegmentOffsetMs(plan: PhasePlan, j: number): number {
    const p = plan.phase
    if (p.kind === "flicks" || p.kind === "holds") {
        const flick = p.kind === "flicks"
        const onMs = flick ? msOfS((p as FlicksPhase).onS) : msOfS((p as HoldsPhase).workS)
        const offMs = flick ? msOfS((p as FlicksPhase).offS) : msOfS((p as HoldsPhase).restS)
        const r = Math.floor(j / 2)
        return r * (onMs + offMs) + (j - 2 * r === 1 ? onMs : 0)
    }
    if (p.kind === "assessment") {
        const segs = assessmentPlanSegments(plan)
        let t = 0
        for (let k = 0; k < j && k < segs.length; k++) t += segs[k].durationMs
        return t
    }
    return 0
}

/** The gate-work segment: relaxation until the gate is met or times out. */
export function gateWorkSegment(): Segment {
    return { kind: SegmentKind.Rest, cue: Cue.Rest, block: asBlock(BLOCK_RELAX), durationMs: 0, repIndex: -1 }
}

/**
 * A stim phase in the stim supervisor's terms (src/core/stim/plan.ts). A
 * relax-mode phase without cycles is continuous (workMs 0, restMs 0).
 */
export function stimSettingsOf(phase: StimPhase): StimPhaseSettings {
    let mode = StimMode.Strengthen
    if (phase.mode === "relax") mode = StimMode.Relax
    else if (phase.mode === "ets") mode = StimMode.Ets
    return {
        mode: mode,
        frequencyHz: phase.frequencyHz,
        pulseWidthUs: phase.pulseWidthUs,
        workMs: phase.workS !== undefined ? msOfS(phase.workS) : 0,
        restMs: phase.restS !== undefined ? msOfS(phase.restS) : 0,
        rampUpMs: msOfS(phase.rampUpS),
        rampDownMs: msOfS(phase.rampDownS),
        triggerPct: mode === StimMode.Ets ? phase.triggerPctOfTarget ?? 0 : 0,
    }
}

/**
 * The breathing period for gate work before phase `index`: the nearest
 * relax phase before it, else the first relax phase, else the default.
 */
export function gateBreathPeriodMs(plans: PhasePlan[], index: number): number {
    for (let i = index - 1; i >= 0; i--) if (plans[i].breathPeriodMs > 0) return plans[i].breathPeriodMs
    for (const p of plans) if (p.breathPeriodMs > 0) return p.breathPeriodMs
    return DEFAULT_BREATH_PERIOD_MS
}
