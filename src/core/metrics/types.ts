/**
 * What the device measures, per contraction and per session, on one channel
 * (EMG envelope in uV, or zeroed pressure in cmH2O). Times are sample time in
 * ms since the session started (sample seq x sample interval).
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** Bits of RepMetrics.flags */
export enum RepFlag {
    None = 0,
    /** no onset found in the work window (or before the next cue) */
    NoContraction = 1,
    /** the rep was cut by probe removal / lead-off: flagged, not counted */
    Interrupted = 2,
    /** samples were lost inside the rep */
    Dropout = 4,
    /** the signal hit the sensor's range inside the rep */
    Saturated = 8,
    /** the signal was already above the rest band when the cue came */
    StartedHigh = 16,
    /** the signal had not returned to the rest band before the next cue */
    NoRelease = 32,
    /**
     * the EMG electrode's contact was poor inside the rep (EmgContact Jumpy
     * or Noisy): timings are still located, but its amplitudes (peak, means,
     * hold CV, its share of the MVC) carry the artefacts; re-seat the probe
     */
    PoorContact = 64,
}

export interface RepMetrics {
    /** index in the session (Segment.repIndex) */
    repIndex: number
    /** Block of the assessment (protocol/assessment.ts) */
    block: number
    /** [ms] contract cue */
    cueOnMs: number
    /** [ms] let-go cue (end of the work window) */
    cueOffMs: number
    /** [ms] detected onset, -1 if none */
    onsetMs: number
    /** [ms] detected offset (back within the rest band), -1 if none */
    offsetMs: number
    /** [ms] onset - cueOn, -1 if no onset */
    onsetLatencyMs: number
    /** peak value in the work window (channel units) */
    peak: number
    /** [%] peak as a percentage of the session MVC so far (this rep included) */
    peakPctMvc: number
    /** [ms] peak time - onset, -1 if no onset */
    timeToPeakMs: number
    /** mean over the work window [cueOn, cueOff] */
    meanWork: number
    /** [ms] time at or above the hold target inside the work window */
    holdAtTargetMs: number
    /** coefficient of variation (SD / mean, ratio) over the plateau */
    holdCv: number
    /** [ms] offset - cueOff: time to get back within the rest band after the let-go cue, -1 if never */
    releaseLatencyMs: number
    /** for the endurance contraction: [%] decline of the mean of the last 10 s vs the first 10 s, else 0 */
    enduranceDeclinePct: number
    /** RepFlag bits */
    flags: number
}

export interface RestMetrics {
    /** mean over the window (channel units) */
    mean: number
    /** standard deviation */
    sd: number
    /** coefficient of variation, SD / mean (ratio), 0 if mean is 0 */
    cv: number
    /** [ms] samples used */
    durationMs: number
}

export interface SessionMetrics {
    preBaseline: RestMetrics
    postBaseline: RestMetrics
    /** largest rep peak */
    mvc: number
    repsPlanned: number
    /** reps with an onset, not interrupted */
    repsDone: number
    /** [%] decline of rep peaks from the first to the last hold (least-squares fit), 0 if < 2 holds */
    holdFatiguePct: number
    /** [%] RepMetrics.enduranceDeclinePct of the endurance contraction, 0 if none */
    enduranceDeclinePct: number
    /** [ms] time with a contract cue */
    timeOnTaskMs: number
}
