/**
 * The stimulation plan of one stim phase: the amplitude envelope over time,
 * a factor 0..1 of the level the patient chose with the buttons. The
 * supervisor multiplies the level by it and sends the product through the
 * choke point (caps.ts), which also limits the rise to the ramp rate, so a
 * ramp here that is steeper than AMPLITUDE_RAMP_MAX_MA_PER_S at a high level
 * is simply stretched.
 *
 * Modes (issue 5; clinical survey in docs/safety.md):
 * - strengthen: work/rest cycles, each ramp up, work (plateau at the full
 *   level), ramp down, rest. Typically 35-50 Hz, 200-450 us, work shorter
 *   than rest (e.g. 5 s on / 10 s off).
 * - relax (pain / down-training): low frequency (1-10 Hz) or TENS-like;
 *   `restMs` 0 = continuous after one ramp up, otherwise cycled as above.
 * - ets (EMG/pressure-triggered assist): nothing until the patient's own
 *   contraction reaches `triggerPct` of her target (armed); if she then
 *   cannot hold it (falls back under the trigger before `workMs`), the stim
 *   assists for ramp up + work + ramp down and she takes over as it ramps
 *   down; if she holds it for `workMs` on her own, no stim is needed. A rest
 *   of `restMs` follows either way. `etsNext` is a pure function of the
 *   measured level (% of target) and time. An unknown or stale level
 *   (sensor lost) never fires the assist: it disarms.
 *
 * Definitions: `workMs` is the time at the full level; ramps come on top
 * (cycle = rampUp + work + rampDown + rest). Times are relative to the
 * phase start, which is each (re)start and each phase change.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { RAMP_MAX_MS, RAMP_MIN_MS } from "../limits"
import { isFiniteNumber } from "./caps"
import { StimReason } from "./reasons"

export enum StimMode {
    Strengthen = 1,
    Relax = 2,
    Ets = 3,
}

/** The settings of one stim phase, as the program gives them. Pulse width and frequency are clamped at output. */
export interface StimPhaseSettings {
    mode: StimMode
    /** [Hz] */
    frequencyHz: number
    /** [us] width of each phase of the biphasic pulse */
    pulseWidthUs: number
    /** [ms] time at the full level in each cycle (strengthen, cycled relax) or each assist (ets) */
    workMs: number
    /** [ms] time off between cycles; relax: 0 = continuous */
    restMs: number
    /** [ms] clamped to RAMP_MIN_MS..RAMP_MAX_MS */
    rampUpMs: number
    /** [ms] clamped to RAMP_MIN_MS..RAMP_MAX_MS */
    rampDownMs: number
    /** [% of target] ets only: the patient's own level that arms the assist (0 < x <= 100) */
    triggerPct: number
}

/**
 * [ms] A measured level older than this is unknown for ETS (the level
 * normally comes with every probe sample, 100 Hz): it disarms, never fires.
 */
export const ETS_LEVEL_MAX_AGE_MS = 500

export interface PhaseCheck {
    /** the settings to use (a copy, ramps clamped), or undefined when invalid */
    phase: StimPhaseSettings | undefined
    /** None, or InvalidPhase */
    reason: StimReason
}

function clampRamp(ms: number): number {
    return Math.max(RAMP_MIN_MS, Math.min(RAMP_MAX_MS, ms))
}

/**
 * Validates phase settings. Not-a-number values, negative times, an
 * unknown mode, a zero work time where one is needed, or an ETS trigger
 * outside 0..100 % make the phase invalid (the supervisor stops and drops
 * it). Out-of-range but meaningful values are accepted and limited:
 * ramps here, pulse width and frequency at the choke point.
 */
export function checkPhase(p: StimPhaseSettings | undefined): PhaseCheck {
    const bad: PhaseCheck = { phase: undefined, reason: StimReason.InvalidPhase }
    if (!p) return bad
    if (p.mode !== StimMode.Strengthen && p.mode !== StimMode.Relax && p.mode !== StimMode.Ets) return bad
    const nums = [p.frequencyHz, p.pulseWidthUs, p.workMs, p.restMs, p.rampUpMs, p.rampDownMs]
    for (const v of nums) if (!isFiniteNumber(v)) return bad
    if (p.workMs < 0 || p.restMs < 0 || p.frequencyHz <= 0 || p.pulseWidthUs <= 0) return bad
    const continuous = p.mode === StimMode.Relax && p.restMs === 0
    if (!continuous && !(p.workMs > 0)) return bad
    let trigger = 0
    if (p.mode === StimMode.Ets) {
        if (!isFiniteNumber(p.triggerPct) || !(p.triggerPct > 0) || p.triggerPct > 100) return bad
        trigger = p.triggerPct
    }
    return {
        phase: {
            mode: p.mode,
            frequencyHz: p.frequencyHz,
            pulseWidthUs: p.pulseWidthUs,
            workMs: p.workMs,
            restMs: p.restMs,
            rampUpMs: clampRamp(p.rampUpMs),
            rampDownMs: clampRamp(p.rampDownMs),
            triggerPct: trigger,
        },
        reason: StimReason.None,
    }
}

/** Same settings (after checkPhase)? A retried command sets the same phase twice and must change nothing. */
export function samePhase(a: StimPhaseSettings | undefined, b: StimPhaseSettings | undefined): boolean {
    if (!a || !b) return false
    return (
        a.mode === b.mode &&
        a.frequencyHz === b.frequencyHz &&
        a.pulseWidthUs === b.pulseWidthUs &&
        a.workMs === b.workMs &&
        a.restMs === b.restMs &&
        a.rampUpMs === b.rampUpMs &&
        a.rampDownMs === b.rampDownMs &&
        a.triggerPct === b.triggerPct
    )
}

/** The envelope at one instant: factor of the patient's level (0..1) and the stage it is in. */
export interface Envelope {
    factor: number
    reason: StimReason
}

/** x mod m for m > 0 with floor, not `%` (32-bit in DeviceScript, docs/engineering.md) */
function fmod(x: number, m: number): number {
    return x - Math.floor(x / m) * m
}

/** Ramp up, plateau, ramp down, then 0, at `posMs` into the shape. */
export function trapezoid(posMs: number, rampUpMs: number, workMs: number, rampDownMs: number, plateau: StimReason): Envelope {
    if (posMs < 0) return { factor: 0, reason: StimReason.RampUp }
    if (posMs < rampUpMs) return { factor: posMs / rampUpMs, reason: StimReason.RampUp }
    if (posMs < rampUpMs + workMs) return { factor: 1, reason: plateau }
    const down = posMs - rampUpMs - workMs
    if (down < rampDownMs) return { factor: 1 - down / rampDownMs, reason: StimReason.RampDown }
    return { factor: 0, reason: StimReason.Rest }
}

/** Strengthen and relax: the envelope `tMs` after the phase start. */
export function cycleEnvelope(p: StimPhaseSettings, tMs: number): Envelope {
    if (p.mode === StimMode.Relax && p.restMs === 0) {
        if (tMs < p.rampUpMs) return trapezoid(tMs, p.rampUpMs, 0, 0, StimReason.Continuous)
        return { factor: 1, reason: StimReason.Continuous }
    }
    const period = p.rampUpMs + p.workMs + p.rampDownMs + p.restMs
    return trapezoid(fmod(tMs, period), p.rampUpMs, p.workMs, p.rampDownMs, StimReason.Work)
}

export enum EtsStage {
    Waiting = 0,
    Armed = 1,
    Assist = 2,
    Rest = 3,
}

/** ETS state: the stage and when [ms since the phase start] it began. */
export interface EtsState {
    stage: EtsStage
    sinceMs: number
}

export function etsStart(): EtsState {
    return { stage: EtsStage.Waiting, sinceMs: 0 }
}

/**
 * The next ETS state, from the measured level [% of target; NaN = unknown]
 * at `tMs` since the phase start. Pure; one transition per call.
 */
export function etsNext(s: EtsState, levelPct: number, tMs: number, p: StimPhaseSettings): EtsState {
    const known = isFiniteNumber(levelPct)
    const inStage = tMs - s.sinceMs
    switch (s.stage) {
        case EtsStage.Waiting:
            if (known && levelPct >= p.triggerPct) return { stage: EtsStage.Armed, sinceMs: tMs }
            return s
        case EtsStage.Armed:
            // unknown level: we cannot tell a failed hold from a lost sensor, so no assist
            if (!known) return { stage: EtsStage.Waiting, sinceMs: tMs }
            // held on her own for the whole work time: no help needed
            if (inStage >= p.workMs) return { stage: EtsStage.Rest, sinceMs: tMs }
            if (levelPct < p.triggerPct) return { stage: EtsStage.Assist, sinceMs: tMs }
            return s
        case EtsStage.Assist:
            if (inStage >= p.rampUpMs + p.workMs + p.rampDownMs) return { stage: EtsStage.Rest, sinceMs: tMs }
            return s
        case EtsStage.Rest:
            if (inStage >= p.restMs) return { stage: EtsStage.Waiting, sinceMs: tMs }
            return s
    }
    return s
}

/** ETS: the envelope in state `s` at `tMs` since the phase start. */
export function etsEnvelope(s: EtsState, tMs: number, p: StimPhaseSettings): Envelope {
    if (s.stage === EtsStage.Assist) {
        const e = trapezoid(tMs - s.sinceMs, p.rampUpMs, p.workMs, p.rampDownMs, StimReason.EtsAssist)
        return e.factor > 0 ? { factor: e.factor, reason: StimReason.EtsAssist } : e
    }
    if (s.stage === EtsStage.Armed) return { factor: 0, reason: StimReason.EtsArmed }
    if (s.stage === EtsStage.Rest) return { factor: 0, reason: StimReason.Rest }
    return { factor: 0, reason: StimReason.EtsWaiting }
}

/**
 * One running phase: its settings, its start, the ETS state and the latest
 * measured level. The supervisor owns one and restarts it on every start
 * and phase change.
 */
export class StimPlan {
    private ets: EtsState = etsStart()
    private startMs = 0
    private levelPct = NaN
    private levelAtMs = -Infinity

    constructor(readonly phase: StimPhaseSettings) {}

    /** The phase begins now: cycles and ETS from the start. */
    restart(nowMs: number): void {
        this.startMs = nowMs
        this.ets = etsStart()
    }

    /** The patient's measured level [% of target] at `nowMs` (ETS input). */
    measured(levelPct: number, nowMs: number): void {
        this.levelPct = levelPct
        this.levelAtMs = nowMs
    }

    /** Advances ETS to `nowMs` and returns the envelope then. */
    envelope(nowMs: number): Envelope {
        const t = nowMs - this.startMs
        if (this.phase.mode !== StimMode.Ets) return cycleEnvelope(this.phase, t)
        const fresh = nowMs - this.levelAtMs <= ETS_LEVEL_MAX_AGE_MS
        this.ets = etsNext(this.ets, fresh ? this.levelPct : NaN, t, this.phase)
        return etsEnvelope(this.ets, t, this.phase)
    }

    etsStage(): EtsStage {
        return this.ets.stage
    }
}
