/**
 * The cues a session gives and the fixed Glazer-style assessment that drives
 * them until therapist programs exist (programs issue): a sequence of
 * segments, each one cue held for a duration of *sample time*.
 *
 * Glazer protocol: Glazer HI, Romanzi L, Polaneczky M. "Pelvic floor muscle
 * surface electromyography: reliability and clinical predictive validity."
 * J Reprod Med 1999;44:779-782; Glazer & Hacad, "The Glazer Protocol:
 * evidence-based medicine pelvic floor muscle (PFM) surface electromyography
 * (SEMG)", Biofeedback 2012;40(2):75-79: pre-baseline 60 s, 5 quick flicks,
 * 5 x 10 s holds with 10 s rest, 60 s endurance, post-baseline 60 s.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** What the device asks the patient to do now (trainer `cue` register). */
export enum Cue {
    /** no session running */
    Idle = 0,
    /** baseline: stay relaxed, breathe */
    Rest = 1,
    /** squeeze (and hold until told to let go) */
    Contract = 2,
    /** let go and rest between contractions */
    Release = 3,
}

export enum SegmentKind {
    Baseline = 0,
    Work = 1,
    Rest = 2,
}

/** Which block of the assessment a segment belongs to. */
export enum Block {
    PreBaseline = 0,
    Flicks = 1,
    Holds = 2,
    Endurance = 3,
    PostBaseline = 4,
}

export interface Segment {
    kind: SegmentKind
    cue: Cue
    block: Block
    /** [ms] sample time */
    durationMs: number
    /** index of the contraction across the whole session (0-based), -1 for baseline and rest */
    repIndex: number
}

export interface AssessmentOptions {
    /** [ms] */
    preBaselineMs: number
    flickCount: number
    /** [ms] */
    flickOnMs: number
    /** [ms] */
    flickOffMs: number
    holdCount: number
    /** [ms] */
    holdOnMs: number
    /** [ms] */
    holdOffMs: number
    /** [ms] one sustained contraction */
    enduranceMs: number
    /** [ms] rest between the holds block and the endurance contraction */
    restBeforeEnduranceMs: number
    /** [ms] */
    postBaselineMs: number
}

/** The Glazer assessment as the metrics issue specifies it (2 s on / 2 s off flicks). */
export const GLAZER_ASSESSMENT: AssessmentOptions = {
    preBaselineMs: 60000,
    flickCount: 5,
    flickOnMs: 2000,
    flickOffMs: 2000,
    holdCount: 5,
    holdOnMs: 10000,
    holdOffMs: 10000,
    enduranceMs: 60000,
    restBeforeEnduranceMs: 0,
    postBaselineMs: 60000,
}

function pushReps(
    out: Segment[],
    options: { block: Block; count: number; onMs: number; offMs: number; firstRep: number }
): number {
    for (let i = 0; i < options.count; i++) {
        out.push({ kind: SegmentKind.Work, cue: Cue.Contract, block: options.block, durationMs: options.onMs, repIndex: options.firstRep + i })
        out.push({ kind: SegmentKind.Rest, cue: Cue.Release, block: options.block, durationMs: options.offMs, repIndex: -1 })
    }
    return options.firstRep + options.count
}

/** The assessment as an ordered list of segments. */
export function assessmentSegments(o: AssessmentOptions): Segment[] {
    const out: Segment[] = []
    out.push({ kind: SegmentKind.Baseline, cue: Cue.Rest, block: Block.PreBaseline, durationMs: o.preBaselineMs, repIndex: -1 })
    let rep = pushReps(out, { block: Block.Flicks, count: o.flickCount, onMs: o.flickOnMs, offMs: o.flickOffMs, firstRep: 0 })
    rep = pushReps(out, { block: Block.Holds, count: o.holdCount, onMs: o.holdOnMs, offMs: o.holdOffMs, firstRep: rep })
    if (o.enduranceMs > 0) {
        if (o.restBeforeEnduranceMs > 0)
            out.push({ kind: SegmentKind.Rest, cue: Cue.Release, block: Block.Endurance, durationMs: o.restBeforeEnduranceMs, repIndex: -1 })
        out.push({ kind: SegmentKind.Work, cue: Cue.Contract, block: Block.Endurance, durationMs: o.enduranceMs, repIndex: rep })
    }
    out.push({ kind: SegmentKind.Baseline, cue: Cue.Rest, block: Block.PostBaseline, durationMs: o.postBaselineMs, repIndex: -1 })
    return out
}

/** Contractions the assessment asks for. */
export function plannedReps(o: AssessmentOptions): number {
    return o.flickCount + o.holdCount + (o.enduranceMs > 0 ? 1 : 0)
}

/** [ms] total sample time of the assessment. */
export function assessmentDurationMs(segments: Segment[]): number {
    let total = 0
    for (const s of segments) total += s.durationMs
    return total
}
