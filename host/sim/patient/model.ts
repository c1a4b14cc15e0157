/**
 * The simulated patient: the vaginal pressure (cmH2O, gauge) and the
 * surface-EMG amplitude envelope (uV RMS) a pelvic probe measures, from a
 * muscle activation that follows the device's cues, plus the ground truth
 * (every onset, offset, peak, rest tone, spasm, lead-off) so tests can score
 * the firmware's metrics. Deterministic and seeded (prng.ts, no
 * Math.random); it runs in *sample time*: the caller asks for each sample in
 * order (`sample(tMs)`, tMs non-decreasing, normally one sample interval
 * apart) and says when the patient perceives a cue (`seeCue`), so a session
 * simulates as fast as the CPU allows. Parameters and their sources:
 * profiles.ts.
 *
 * ## Activation a(t), 0..1 of this patient's MVC
 *
 * - A cue seen at t acts after a reaction time r = reactionMs + N(0,1) *
 *   reactionJitterMs, clamped to [max(50, mean - 3 SD), mean + 3 SD] (and
 *   never before the previous action). One reaction is drawn per cue.
 * - Contract: the effort e(t) rises with a half-cosine ramp from its current
 *   value to 1 over riseMs (scaled by the distance left), and
 *   a(t) = clamp(e(t) * L(t) * (1 + k * w(t)), 0, 1) with
 *   L(t) = level * max(0, 1 - enduranceFatiguePct/100 * (t - onset) / 60 s)
 *   (the held level sags linearly over the hold), level =
 *   (1 - fatiguePerRepPct/100)^n for the n-th contraction of the session
 *   (every contraction is a maximal effort, as in the Glazer assessment),
 *   k = trackingErrorPct/100 and w(t) the sum of two unit sinusoids of seeded
 *   phases and periods near 2.5 s and 6.1 s (SD 1: slow tracking wobble).
 *   A rise that starts while the previous rep is still falling continues
 *   from the current activation (no jump).
 * - Release, Rest or Idle: e(t) falls with a half-cosine ramp to 0 over
 *   fallMs * e (full fallMs from full effort). A let-go cue while already
 *   falling or at rest changes nothing.
 *
 * ## Rest tone and EMG
 *
 * - Rest tone T(t) = max(0, restEmgUv + W(t) + S(t)): W is an AR(1)
 *   (Ornstein-Uhlenbeck) wander with SD restEmgSdUv and time constant
 *   restEmgTauMs, started from its stationary distribution; S is the spasm
 *   tone (below).
 * - Noise-free EMG E(t) = T(t) + a(t) * mvcEmgUv.
 * - Measured EMG = max(0, E + (emgNoiseFraction * E + emgNoiseFloorUv) * z(t)
 *   + spikes), z a unit-variance AR(1) with time constant emgNoiseTauMs (an
 *   envelope is low-passed), spikes a Poisson train (emgSpikeRatePerS) of
 *   exponentially decaying bumps (movement artefacts, noisy_electrode only).
 * - Without electrode contact (before insertAtMs, from the lead-off, from
 *   removeAtMs) the measured EMG is max(0, leadOffUv + N(0,1) *
 *   leadOffJitterUv): a railed, hum-filled envelope. The lead-off comes at
 *   leadOffAtMs (sample time) or leadOffAfterFirstCueMs after the first cue
 *   seen (the start of the pre-baseline, wherever the session starts in
 *   sample time), whichever is set and earlier.
 *
 * ## Pressure
 *
 * - Before insertAtMs (and from removeAtMs): exactly 0 (atmospheric, gauge).
 * - Inserted: P = I(t) * (balloonCmH2O + Pt(t) + a(t) * mvcPressureCmH2O +
 *   breathing + bear-down) + N(0,1) * pressureNoiseCmH2O, with I(t) a
 *   half-cosine insertion ramp over insertRampMs (1 once in), Pt(t) =
 *   (T(t) - restEmgUv) * toneCmH2OPerUv the pressure of the tone above its
 *   nominal level (wander, spasm), breathing = breathingCmH2O *
 *   sin(2 pi t / breathingPeriodMs + seeded phase), bear-down = a half-sine
 *   bump of valsalvaCmH2O over valsalvaMs starting at every k *
 *   valsalvaEveryMs (k >= 1): pressure with NO change in EMG.
 *
 * ## Spasm
 *
 * At the first sample at or after a contraction's onset, if the rest tone
 * T is above spasmRestThresholdUv and fewer than spasmMaxCount spasms have
 * happened, a seeded draw with probability spasmProbability sets off a
 * spasm at that sample time + spasmDelayMs: S(t) rises by spasmToneUv with a
 * half-cosine ramp of spasmRiseMs and stays up (or decays with spasmDecayMs).
 * The rep is marked spasmTriggered and the start goes in spasmMs. A spasm is
 * tone (involuntary), not activation: it shows in EMG and pressure at rest.
 *
 * ## Ground truth (what the scorer compares the firmware with)
 *
 * All ground-truth values are noise-free and artefact-free: no EMG noise or
 * spikes, no rail, no breathing, no bear-down, no pressure noise, no
 * insertion ramp. They are evaluated at the sample times the model was
 * asked for (the samples the firmware gets), not in continuous time.
 *
 * - Each channel's zero: EMG 0 uV; pressure the full-rest reading
 *   balloonCmH2O (the firmware zeroes the pressure at rest after insertion).
 *   So pressure truths are "above balloonCmH2O" = Pt(t) + a(t) *
 *   mvcPressureCmH2O, and EMG truths are absolute = T(t) + a(t) * mvcEmgUv.
 *   A firmware that zeroed at a moment when the tone wandered by dT reads
 *   pressure offset by -dT * toneCmH2OPerUv (SD about 0.4 cmH2O typical,
 *   1 cmH2O hypertonic), plus up to ~0.6 x breathingCmH2O if it zeroed on
 *   part of a breath: the scorer's tolerance must allow it.
 * - All times are the model's sample time (the tMs given to seeCue and
 *   sample); a session that starts later in sample time (the firmware
 *   zeroes the probe first) has its times offset by its start.
 * - A rep is one Contract cue (repIndex from the cue). cueOnMs = that cue;
 *   cueOffMs = the next cue seen (the let-go cue), -1 if none yet;
 *   onsetMs = when the rise starts (cue + reaction); offsetMs = when the
 *   fall ends (activation back at exactly 0). If the next rise starts before
 *   the fall ends (a release slower than the gap, e.g. hypertonic with
 *   fallMs over ~1.7 s between 2 s flicks; the default profiles always
 *   let go in time) the rep was not released: released = false,
 *   offsetMs = -1 (the firmware's NoRelease), residualActivation = the
 *   activation when the next rise cut in (small residues may look released
 *   to a detector with a rest band).
 * - Peaks: the max of the noise-free channel value above its zero,
 *   EMG = T + a * mvcEmgUv (the rest tone included), pressure = Pt + a *
 *   mvcPressureCmH2O, over two windows:
 *   peakEmgUv / peakPressureCmH2O / peakActivation over the samples of the
 *   WORK WINDOW [cueOnMs, cueOffMs) (the Contract segment), which is the
 *   window the firmware's RepMetrics.peak uses; repPeakEmgUv /
 *   repPeakPressureCmH2O / repPeakActivation over the samples of the rep
 *   [onsetMs, offsetMs] (or until the next rise). They differ because the
 *   patient keeps squeezing for a reaction time after the let-go cue while
 *   the tracking wobble and (for the first rep) the ramp may still be
 *   climbing: the rep peak is up to ~5% (typical) to ~12% (weak) above
 *   the work-window peak. Score the firmware against peak*, not repPeak*.
 * - interrupted: the EMG electrode had no contact (not yet inserted,
 *   lead-off, removed) at some time in [cueOnMs, max(cueOffMs, end of rep)]
 *   (a rep still going at the last sample counts as going on). Its peaks
 *   are still the physiological ones, which the probe could not see.
 * - mvcEmgUv / mvcPressureCmH2O: the largest work-window peak of the reps
 *   that were not
 *   interrupted (the firmware's SessionMetrics.mvc definition), 0 if none.
 *   The profile's own MVC (activation 1) is in params.
 * - restEmgUv / restPressureCmH2O: one window per Rest/Release/Idle cue,
 *   [cue time, next cue time) (the last one ends one sample after the last
 *   sample), both of the shape RestWindow (the pressure means are in cmH2O
 *   above balloonCmH2O although the fields are named meanUv): meanUv = mean
 *   of the noise-free rest tone (T for EMG, Pt for pressure) over the
 *   window's samples, i.e. the tone alone, without the tail of the previous
 *   contraction's fall; meanSignalUv = mean of the full noise-free channel
 *   (tone + activation tail), which is what a whole-window mean of a
 *   perfect signal gives; contact = the electrode was in contact for all
 *   of it.
 * - Detectors see a contraction start and end when the signal leaves and
 *   re-enters a band around rest, not when the activation leaves or
 *   reaches 0: the half-cosine ramps start and end flat, so a band of b uV
 *   is crossed later than onsetMs and earlier than offsetMs (b = 2 uV:
 *   typical ~45 ms after the onset and ~60 ms before the offset; hypertonic
 *   ~80 ms and ~300 ms, its fall being 1.6 s long). crossingMs()
 *   gives the exact time the activation crosses any level, so a scorer can
 *   use the definition that matches its detector.
 * - leadOffMs / removedMs / spasmMs / valsalvaMs: events reached by the last
 *   sample (-1 / empty if none).
 */
import { Cue } from "../../../src/core/protocol/assessment"
import type { SampleSource } from "../probe-feed"
import { hashUniform, hash2, streamRng, type Rng } from "./prng"
import type { PatientProfile, ProfileName } from "./profiles"

/** One measured sample (same shape as probe-server's ProbeSample). */
export interface PatientSample {
    /** [cmH2O] gauge */
    pressureCmH2O: number
    /** [uV] envelope */
    emgUv: number
}

export interface TrueRep {
    repIndex: number
    /** [ms] Contract cue seen */
    cueOnMs: number
    /** [ms] next cue seen (the let-go cue), -1 if none yet */
    cueOffMs: number
    /** [ms] the rise starts */
    onsetMs: number
    /** [ms] the fall starts (let-go cue + reaction), -1 if none yet */
    fallStartMs: number
    /** [ms] the fall ends (activation back at 0); -1 if not released or not yet */
    offsetMs: number
    /** the activation got back to 0 before the next rise (and by the last sample) */
    released: boolean
    /** activation when the next rise cut the fall short, 0 if released */
    residualActivation: number
    /** [uV] max over the work window [cueOnMs, cueOffMs) of the noise-free EMG (rest tone included): RepMetrics.peak's window */
    peakEmgUv: number
    /** [cmH2O] max over the work window of the noise-free pressure above the full-rest reading (balloonCmH2O) */
    peakPressureCmH2O: number
    /** max activation over the work window (0..1 of MVC) */
    peakActivation: number
    /** [uV] max over the rep [onsetMs, offsetMs] of the noise-free EMG */
    repPeakEmgUv: number
    /** [cmH2O] max over the rep of the noise-free pressure above balloonCmH2O */
    repPeakPressureCmH2O: number
    /** max activation over the rep */
    repPeakActivation: number
    /** no electrode contact (lead-off, removal, not inserted) during the rep */
    interrupted: boolean
    /** this contraction set off a spasm */
    spasmTriggered: boolean
}

/**
 * One rest window (a Rest, Release or Idle cue until the next cue). The same
 * shape serves both channels: in `restEmgUv` the means are in uV (absolute),
 * in `restPressureCmH2O` they are in cmH2O above balloonCmH2O (the pressure
 * channel's zero), despite the field names.
 */
export interface RestWindow {
    /** [ms] cue seen */
    startMs: number
    /** [ms] next cue seen (exclusive) */
    endMs: number
    /** the cue of the window */
    cue: Cue
    /** mean noise-free rest tone (EMG: T; pressure: Pt) over the window's samples */
    meanUv: number
    /** mean noise-free channel value (tone + the tail of a contraction's fall) */
    meanSignalUv: number
    /** the EMG electrode was in contact over the whole window */
    contact: boolean
}

export interface GroundTruth {
    profile: ProfileName
    seed: number
    /** the parameters the model ran with */
    params: PatientProfile
    reps: TrueRep[]
    /** [uV] */
    restEmgUv: RestWindow[]
    /** [cmH2O] above balloonCmH2O (fields named meanUv like the EMG's: same shape) */
    restPressureCmH2O: RestWindow[]
    /** [ms] electrode lost contact, -1 if not (by the last sample) */
    leadOffMs: number
    /** [ms] probe removed, -1 if not */
    removedMs: number
    /** [ms] start of each spasm */
    spasmMs: number[]
    /** [ms] start of each bear-down bump */
    valsalvaMs: number[]
    /** [uV] largest peakEmgUv of the reps not interrupted, 0 if none */
    mvcEmgUv: number
    /** [cmH2O] largest peakPressureCmH2O of the reps not interrupted, 0 if none */
    mvcPressureCmH2O: number
    /** [cmH2O] the pressure channel's zero (full-rest reading once inserted) */
    balloonCmH2O: number
    /** samples produced */
    sampleCount: number
    /** [ms] last sample time, -1 if none */
    lastSampleMs: number
}

/** The noise-free state at the last sample. */
export interface PatientState {
    tMs: number
    activation: number
    /** [uV] rest tone T */
    restToneUv: number
    /** [uV] noise-free EMG */
    emgUv: number
    /** [cmH2O] noise-free pressure above balloonCmH2O */
    pressureAboveRestCmH2O: number
    /** EMG electrode in contact */
    contact: boolean
    /** 0..1 insertion (pressure scale) */
    insertion: number
}

interface RepState {
    repIndex: number
    cueOnMs: number
    cueOffMs: number
    onsetMs: number
    level: number
    /** [ms] start of the fall, -1 before a let-go */
    fallStartMs: number
    /** [ms] planned end of the fall, -1 before a let-go */
    fallEndMs: number
    /** [ms] next rise started before the fall ended, -1 if not */
    cutMs: number
    residual: number
    /** work-window maxima */
    peakEmg: number
    peakPressure: number
    peakActivation: number
    workSampled: boolean
    /** rep maxima */
    repPeakEmg: number
    repPeakPressure: number
    repPeakActivation: number
    sampled: boolean
    spasmChecked: boolean
    spasmTriggered: boolean
}

interface Action {
    startMs: number
    rise: boolean
    fromE: number
    durMs: number
    rep: RepState
}

interface Window {
    startMs: number
    endMs: number
    cue: Cue
    n: number
    tone: number
    signal: number
    toneP: number
    signalP: number
    contact: boolean
}

const enum Stream {
    Reaction = 1,
    Tone = 2,
    EmgNoise = 3,
    Spike = 4,
    Rail = 5,
    Pressure = 6,
    Spasm = 7,
    Shape = 8,
    Drop = 9,
}

/** [ms] the clamp of the reaction time. */
export function reactionBoundsMs(p: PatientProfile): [number, number] {
    const hi = p.reactionMs + 3 * p.reactionJitterMs
    const lo = Math.min(p.reactionMs, Math.max(50, p.reactionMs - 3 * p.reactionJitterMs))
    return [Math.max(0, lo), Math.max(0, hi)]
}

function clamp(x: number, lo: number, hi: number): number {
    return x < lo ? lo : x > hi ? hi : x
}

/** Half-cosine ramp 0..1 for u in [0, 1]. */
function halfCos(u: number): number {
    const v = clamp(u, 0, 1)
    return (1 - Math.cos(Math.PI * v)) / 2
}

export class PatientModel {
    readonly profile: PatientProfile
    readonly seed: number

    private readonly reactionRng: Rng
    private readonly toneRng: Rng
    private readonly emgRng: Rng
    private readonly spikeRng: Rng
    private readonly railRng: Rng
    private readonly pressureRng: Rng
    private readonly spasmRng: Rng
    private readonly dropSeed: number

    private readonly wobblePeriods: [number, number]
    private readonly wobblePhases: [number, number]
    private readonly breathPhase: number

    private readonly actions: Action[] = []
    private readonly reps: RepState[] = []
    private readonly windows: Window[] = []
    private openWindow: Window | undefined
    private readonly spasms: number[] = []
    private readonly valsalvas: number[] = []

    private firstCueMs = -1
    private lastT = -1
    private lastDt = 0
    private count = 0
    private lastSample: PatientSample = { pressureCmH2O: 0, emgUv: 0 }
    private lastState: PatientState = {
        tMs: -1,
        activation: 0,
        restToneUv: 0,
        emgUv: 0,
        pressureAboveRestCmH2O: 0,
        contact: false,
        insertion: 0,
    }
    private wander = 0
    private emgZ = 0
    private spike = 0

    constructor(profile: PatientProfile, seed: number) {
        this.profile = { ...profile }
        this.seed = seed >>> 0
        const s = this.seed
        this.reactionRng = streamRng(s, Stream.Reaction)
        this.toneRng = streamRng(s, Stream.Tone)
        this.emgRng = streamRng(s, Stream.EmgNoise)
        this.spikeRng = streamRng(s, Stream.Spike)
        this.railRng = streamRng(s, Stream.Rail)
        this.pressureRng = streamRng(s, Stream.Pressure)
        this.spasmRng = streamRng(s, Stream.Spasm)
        this.dropSeed = hash2(s, Stream.Drop)
        const shape = streamRng(s, Stream.Shape)
        this.wobblePeriods = [2500 * (0.8 + 0.4 * shape.uniform()), 6100 * (0.8 + 0.4 * shape.uniform())]
        this.wobblePhases = [2 * Math.PI * shape.uniform(), 2 * Math.PI * shape.uniform()]
        this.breathPhase = 2 * Math.PI * shape.uniform()
    }

    /** The patient perceives `cue` at sample time `tMs` (`repIndex` from the Segment, -1 if none). */
    /**
     * The patient perceives `cue` at `tMs`. `notBeforeMs`: her action
     * starts no earlier (the newest sample already produced, when the cue
     * is seen at a time the samples have passed).
     */
    seeCue(cue: Cue, tMs: number, repIndex: number, notBeforeMs = -Infinity): void {
        if (!Number.isFinite(tMs)) throw new RangeError(`cue time must be finite, got ${tMs}`)
        const p = this.profile
        if (this.firstCueMs < 0) this.firstCueMs = tMs
        // rest windows are bounded by cues
        if (this.openWindow) {
            this.openWindow.endMs = tMs
            this.openWindow = undefined
        }
        if (cue !== Cue.Contract) {
            this.openWindow = { startMs: tMs, endMs: -1, cue, n: 0, tone: 0, signal: 0, toneP: 0, signalP: 0, contact: true }
            this.windows.push(this.openWindow)
        }
        const lastRep = this.reps[this.reps.length - 1]
        if (lastRep && lastRep.cueOffMs < 0) lastRep.cueOffMs = tMs

        const [lo, hi] = reactionBoundsMs(p)
        const reaction = clamp(p.reactionMs + p.reactionJitterMs * this.reactionRng.normal(), lo, hi)
        const last = this.actions[this.actions.length - 1]
        const startMs = Math.max(tMs + reaction, last ? last.startMs : -Infinity, notBeforeMs)

        if (cue === Cue.Contract) {
            const level = Math.pow(Math.max(0, 1 - p.fatiguePerRepPct / 100), this.reps.length)
            const rep: RepState = {
                repIndex,
                cueOnMs: tMs,
                cueOffMs: -1,
                onsetMs: startMs,
                level,
                fallStartMs: -1,
                fallEndMs: -1,
                cutMs: -1,
                residual: 0,
                peakEmg: 0,
                peakPressure: 0,
                peakActivation: 0,
                workSampled: false,
                repPeakEmg: 0,
                repPeakPressure: 0,
                repPeakActivation: 0,
                sampled: false,
                spasmChecked: false,
                spasmTriggered: false,
            }
            const a0 = this.activationAt(startMs)
            if (last && (last.rep.fallEndMs < 0 || last.rep.fallEndMs > startMs)) {
                last.rep.cutMs = startMs
                last.rep.residual = a0
            }
            const denom = this.levelAt(rep, startMs) * (1 + this.wobbleK() * this.wobble(startMs))
            const fromE = denom > 0 ? clamp(a0 / denom, 0, 1) : 0
            this.actions.push({ startMs, rise: true, fromE, durMs: p.riseMs * (1 - fromE), rep })
            this.reps.push(rep)
        } else if (last && last.rise) {
            const e0 = this.effortAt(last, startMs)
            const durMs = p.fallMs * e0
            this.actions.push({ startMs, rise: false, fromE: e0, durMs, rep: last.rep })
            last.rep.fallStartMs = startMs
            last.rep.fallEndMs = startMs + durMs
        }
    }

    /** The measured sample at `tMs`; call for every sample, in order. */
    sample(tMs: number): PatientSample {
        if (!Number.isFinite(tMs)) throw new RangeError(`sample time must be finite, got ${tMs}`)
        if (this.count > 0) {
            if (tMs < this.lastT) throw new RangeError(`samples must come in order: ${tMs} ms after ${this.lastT} ms`)
            if (tMs === this.lastT) return { ...this.lastSample }
        }
        const p = this.profile
        const first = this.count === 0
        const dt = first ? 0 : tMs - this.lastT

        // rest-tone wander, AR(1) exact discretisation
        const nTone = this.toneRng.normal()
        if (first) this.wander = p.restEmgSdUv * nTone
        else {
            const rho = p.restEmgTauMs > 0 ? Math.exp(-dt / p.restEmgTauMs) : 0
            this.wander = rho * this.wander + p.restEmgSdUv * Math.sqrt(1 - rho * rho) * nTone
        }

        // spasm checks at the first sample of each contraction
        for (const rep of this.reps) {
            if (rep.spasmChecked || rep.onsetMs > tMs) continue
            rep.spasmChecked = true
            const u = this.spasmRng.uniform()
            if (
                p.spasmProbability > 0 &&
                rep.level > 0 &&
                this.spasms.length < p.spasmMaxCount &&
                this.toneAt(tMs) > p.spasmRestThresholdUv &&
                u < p.spasmProbability
            ) {
                this.spasms.push(tMs + p.spasmDelayMs)
                rep.spasmTriggered = true
            }
        }

        const tone = this.toneAt(tMs)
        const a = this.activationAt(tMs)
        const cleanEmg = tone + a * p.mvcEmgUv
        const toneP = (tone - p.restEmgUv) * p.toneCmH2OPerUv
        const cleanP = toneP + a * p.mvcPressureCmH2O

        const insertion = this.insertionAt(tMs)
        const contact = this.contactAt(tMs)

        // noise streams advance every sample whatever the state
        const nEmg = this.emgRng.normal()
        if (first) this.emgZ = nEmg
        else {
            const rho = p.emgNoiseTauMs > 0 ? Math.exp(-dt / p.emgNoiseTauMs) : 0
            this.emgZ = rho * this.emgZ + Math.sqrt(1 - rho * rho) * nEmg
        }
        const uSpike = this.spikeRng.uniform()
        const uSpikeSize = this.spikeRng.uniform()
        this.spike *= p.emgSpikeMs > 0 ? Math.exp(-dt / p.emgSpikeMs) : 0
        if (p.emgSpikeRatePerS > 0 && uSpike < (p.emgSpikeRatePerS * dt) / 1000) this.spike += p.emgSpikeUv * (0.5 + uSpikeSize)
        const nRail = this.railRng.normal()
        const nPressure = this.pressureRng.normal()

        const emgUv = contact
            ? Math.max(0, cleanEmg + (p.emgNoiseFraction * cleanEmg + p.emgNoiseFloorUv) * this.emgZ + this.spike)
            : Math.max(0, p.leadOffUv + p.leadOffJitterUv * nRail)

        let pressureCmH2O = 0
        if (insertion > 0) {
            const breathing = p.breathingPeriodMs > 0 ? p.breathingCmH2O * Math.sin((2 * Math.PI * tMs) / p.breathingPeriodMs + this.breathPhase) : 0
            pressureCmH2O = insertion * (p.balloonCmH2O + cleanP + breathing + this.valsalvaAt(tMs)) + p.pressureNoiseCmH2O * nPressure
        }

        // ground truth: rest windows
        const w = this.openWindow
        if (w && tMs >= w.startMs) {
            w.n++
            w.tone += tone
            w.signal += cleanEmg
            w.toneP += toneP
            w.signalP += cleanP
            if (!contact) w.contact = false
        }
        // ground truth: the rep in progress
        const act = this.actionAt(tMs)
        if (act && (act.rise || tMs <= act.rep.fallEndMs)) {
            const rep = act.rep
            if (!rep.sampled || cleanEmg > rep.repPeakEmg) rep.repPeakEmg = cleanEmg
            if (!rep.sampled || cleanP > rep.repPeakPressure) rep.repPeakPressure = cleanP
            if (!rep.sampled || a > rep.repPeakActivation) rep.repPeakActivation = a
            rep.sampled = true
        }
        // ground truth: the work window [cueOn, cueOff) of the latest Contract cue
        const work = this.reps[this.reps.length - 1]
        if (work && tMs >= work.cueOnMs && (work.cueOffMs < 0 || tMs < work.cueOffMs)) {
            if (!work.workSampled || cleanEmg > work.peakEmg) work.peakEmg = cleanEmg
            if (!work.workSampled || cleanP > work.peakPressure) work.peakPressure = cleanP
            if (!work.workSampled || a > work.peakActivation) work.peakActivation = a
            work.workSampled = true
        }

        this.lastDt = dt
        this.lastT = tMs
        this.count++
        this.lastSample = { pressureCmH2O, emgUv }
        this.lastState = { tMs, activation: a, restToneUv: tone, emgUv: cleanEmg, pressureAboveRestCmH2O: cleanP, contact, insertion }
        return { ...this.lastSample }
    }

    /**
     * The true activation (0..1 of this patient's MVC): at the last sampled
     * time, or at `tMs` given the cues seen so far (no later cue assumed).
     */
    activation(tMs?: number): number {
        if (tMs === undefined) return this.lastState.activation
        return this.activationAt(tMs)
    }

    /**
     * [ms] when the true activation of rep `repIndex` crosses `level` (0..1
     * of MVC): edge "rise" = first time at or after its onset that it is >=
     * level, "fall" = first time at or after its fall start that it is <=
     * level; searched in 1 ms steps over the ramp (continuous time, not
     * sample times); -1 if it does not cross (or the rep is unknown).
     * E.g. a detector with a band of b uV above rest: level = b / mvcEmgUv.
     */
    crossingMs(repIndex: number, level: number, edge: "rise" | "fall"): number {
        const rep = this.reps.find(r => r.repIndex === repIndex)
        if (!rep) return -1
        const p = this.profile
        if (edge === "rise") {
            const end = rep.onsetMs + p.riseMs + 1
            const stop = rep.cutMs >= 0 ? Math.min(end, rep.cutMs) : rep.fallStartMs >= 0 ? Math.min(end, rep.fallStartMs) : end
            for (let t = rep.onsetMs; t <= stop; t++) if (this.activationAt(t) >= level) return t
            return -1
        }
        if (rep.fallStartMs < 0) return -1
        const stop = rep.cutMs >= 0 ? rep.cutMs : rep.fallEndMs
        for (let t = rep.fallStartMs; t <= stop + 1; t++) if (this.activationAt(t) <= level) return Math.min(t, rep.fallEndMs)
        return -1
    }

    /** The noise-free state at the last sample. */
    state(): PatientState {
        return { ...this.lastState }
    }

    /** Seeded packet loss: whether the batch starting at `firstSeq` is lost (a pure function of seed and firstSeq). */
    dropsBatch(firstSeq: number): boolean {
        const p = this.profile.packetLossProbability
        if (p <= 0) return false
        if (p >= 1) return true
        return hashUniform(this.dropSeed, firstSeq >>> 0) < p
    }

    /** The ground truth so far (call after the last sample). */
    truth(): GroundTruth {
        const p = this.profile
        const lastT = this.count > 0 ? this.lastT : -1
        const reached = (t: number) => t >= 0 && this.count > 0 && t <= lastT
        const leadOffAt = this.leadOffAtMs()
        const leadOffMs = reached(leadOffAt) ? leadOffAt : -1
        const removedMs = reached(p.removeAtMs) ? p.removeAtMs : -1
        const noContactFrom = Math.min(leadOffMs < 0 ? Infinity : leadOffMs, removedMs < 0 ? Infinity : removedMs)

        const reps: TrueRep[] = this.reps.map(r => {
            const released = r.cutMs < 0 && r.fallEndMs >= 0 && r.fallEndMs <= lastT
            const endMs = r.cutMs >= 0 ? r.cutMs : released ? r.fallEndMs : Infinity
            const spanEnd = Math.max(endMs, r.cueOffMs)
            const interrupted = r.cueOnMs < p.insertAtMs || noContactFrom <= spanEnd
            return {
                repIndex: r.repIndex,
                cueOnMs: r.cueOnMs,
                cueOffMs: r.cueOffMs,
                onsetMs: r.onsetMs,
                fallStartMs: r.fallStartMs >= 0 && r.fallStartMs <= lastT ? r.fallStartMs : -1,
                offsetMs: released ? r.fallEndMs : -1,
                released,
                residualActivation: r.cutMs >= 0 ? r.residual : 0,
                peakEmgUv: r.peakEmg,
                peakPressureCmH2O: r.peakPressure,
                peakActivation: r.peakActivation,
                repPeakEmgUv: r.repPeakEmg,
                repPeakPressureCmH2O: r.repPeakPressure,
                repPeakActivation: r.repPeakActivation,
                interrupted,
                spasmTriggered: r.spasmTriggered,
            }
        })
        let mvcEmg = 0
        let mvcP = 0
        for (const r of reps) {
            if (r.interrupted) continue
            mvcEmg = Math.max(mvcEmg, r.peakEmgUv)
            mvcP = Math.max(mvcP, r.peakPressureCmH2O)
        }
        const windows = this.windows.filter(w => w.n > 0)
        const endOf = (w: Window) => (w.endMs >= 0 ? w.endMs : lastT + this.lastDt)
        return {
            profile: p.name,
            seed: this.seed,
            params: { ...p },
            reps,
            restEmgUv: windows.map(w => ({
                startMs: w.startMs,
                endMs: endOf(w),
                cue: w.cue,
                meanUv: w.tone / w.n,
                meanSignalUv: w.signal / w.n,
                contact: w.contact,
            })),
            restPressureCmH2O: windows.map(w => ({
                startMs: w.startMs,
                endMs: endOf(w),
                cue: w.cue,
                meanUv: w.toneP / w.n,
                meanSignalUv: w.signalP / w.n,
                contact: w.contact,
            })),
            leadOffMs,
            removedMs,
            spasmMs: this.spasms.filter(t => reached(t)),
            valsalvaMs: this.valsalvaStarts(lastT),
            mvcEmgUv: mvcEmg,
            mvcPressureCmH2O: mvcP,
            balloonCmH2O: p.balloonCmH2O,
            sampleCount: this.count,
            lastSampleMs: lastT,
        }
    }

    // --- internals ---

    private wobbleK(): number {
        return this.profile.trackingErrorPct / 100
    }

    /** Two slow unit sinusoids: SD 1. */
    private wobble(t: number): number {
        return (
            Math.sin((2 * Math.PI * t) / this.wobblePeriods[0] + this.wobblePhases[0]) +
            Math.sin((2 * Math.PI * t) / this.wobblePeriods[1] + this.wobblePhases[1])
        )
    }

    private levelAt(rep: RepState, t: number): number {
        const held = Math.max(0, t - rep.onsetMs)
        return rep.level * Math.max(0, 1 - ((this.profile.enduranceFatiguePct / 100) * held) / 60000)
    }

    private effortAt(act: Action, t: number): number {
        const u = act.durMs > 0 ? (t - act.startMs) / act.durMs : 1
        const to = act.rise ? 1 : 0
        return act.fromE + (to - act.fromE) * halfCos(u)
    }

    private actionAt(t: number): Action | undefined {
        for (let i = this.actions.length - 1; i >= 0; i--) if (this.actions[i].startMs <= t) return this.actions[i]
        return undefined
    }

    private activationAt(t: number): number {
        const act = this.actionAt(t)
        if (!act) return 0
        const e = this.effortAt(act, t)
        if (e <= 0) return 0
        return clamp(e * this.levelAt(act.rep, t) * (1 + this.wobbleK() * this.wobble(t)), 0, 1)
    }

    /** Rest tone T(t) with the current wander. */
    private toneAt(t: number): number {
        const p = this.profile
        let spasm = 0
        for (const ts of this.spasms) {
            if (t < ts) continue
            let s = p.spasmToneUv * (p.spasmRiseMs > 0 ? halfCos((t - ts) / p.spasmRiseMs) : 1)
            const after = t - ts - p.spasmRiseMs
            if (p.spasmDecayMs > 0 && after > 0) s *= Math.exp(-after / p.spasmDecayMs)
            spasm += s
        }
        return Math.max(0, p.restEmgUv + this.wander + spasm)
    }

    /** [ms] sample time of the lead-off, -1 if none (yet) */
    private leadOffAtMs(): number {
        const p = this.profile
        let at = p.leadOffAtMs >= 0 ? p.leadOffAtMs : Infinity
        if (p.leadOffAfterFirstCueMs >= 0 && this.firstCueMs >= 0) at = Math.min(at, this.firstCueMs + p.leadOffAfterFirstCueMs)
        return at === Infinity ? -1 : at
    }

    private insertionAt(t: number): number {
        const p = this.profile
        if (t < p.insertAtMs) return 0
        if (p.removeAtMs >= 0 && t >= p.removeAtMs) return 0
        if (p.insertRampMs > 0 && t < p.insertAtMs + p.insertRampMs) return halfCos((t - p.insertAtMs) / p.insertRampMs)
        return 1
    }

    private contactAt(t: number): boolean {
        const p = this.profile
        if (t < p.insertAtMs) return false
        const leadOff = this.leadOffAtMs()
        if (leadOff >= 0 && t >= leadOff) return false
        if (p.removeAtMs >= 0 && t >= p.removeAtMs) return false
        return true
    }

    private valsalvaAt(t: number): number {
        const p = this.profile
        if (p.valsalvaEveryMs <= 0 || p.valsalvaMs <= 0) return 0
        const k = Math.floor(t / p.valsalvaEveryMs)
        if (k < 1) return 0
        const u = (t - k * p.valsalvaEveryMs) / p.valsalvaMs
        return u < 1 ? p.valsalvaCmH2O * Math.sin(Math.PI * u) : 0
    }

    private valsalvaStarts(lastT: number): number[] {
        const p = this.profile
        const out: number[] = []
        if (p.valsalvaEveryMs <= 0 || p.valsalvaMs <= 0 || lastT < 0) return out
        for (let t = p.valsalvaEveryMs; t <= lastT; t += p.valsalvaEveryMs) if (t >= p.insertAtMs) out.push(t)
        return out
    }
}

/**
 * Adapter for probe-feed.ts: sample `seq` is taken at seq / sampleRateHz,
 * which must match the `timeMs` the feed passes (same rate on both sides).
 */
export function patientSource(model: PatientModel, sampleRateHz: number): SampleSource {
    const intervalMs = 1000 / sampleRateHz
    return (seq, timeMs) => {
        if (Math.abs(seq * intervalMs - timeMs) > intervalMs / 2)
            throw new RangeError(`patientSource at ${sampleRateHz} Hz got sample ${seq} at ${timeMs} ms: the feed runs at another rate`)
        return model.sample(timeMs)
    }
}
