/**
 * Patient profiles for the simulated patient (model.ts): every parameter of
 * the model, with its unit in its name, and the six clinical pictures the
 * simulator plays.
 *
 * Where the numbers come from (a number not listed here is a model choice,
 * tuned so the picture is recognisable and the tests are meaningful, and is
 * marked "model choice" in the parameter's comment):
 *
 * - Resting intravaginal sEMG of 2-5 uV in healthy women (Glazer HI,
 *   Romanzi L, Polaneczky M. "Pelvic floor muscle surface electromyography:
 *   reliability and clinical predictive validity." J Reprod Med
 *   1999;44:779-782): typical rest 3 uV.
 * - Elevated and unstable resting sEMG, and weaker, slower-to-recover
 *   contractions, in vulvar vestibulitis / vulvodynia (Glazer HI, Rodke G,
 *   Swencionis C, Hertz R, Young AW. "Treatment of vulvar vestibulitis
 *   syndrome with electromyographic biofeedback of pelvic floor musculature."
 *   J Reprod Med 1995;40:283-290; Glazer 1999 above): hypertonic rest
 *   12 uV with a wander SD of 2.5 uV and a slow release (exact figures are a
 *   model choice inside that picture).
 * - Vaginal squeeze pressure with balloon probes some 20-50 cmH2O above rest,
 *   resting pressure roughly 10-30 cmH2O depending on probe and position
 *   (Bo K, Sherburn M. "Evaluation of female pelvic-floor muscle function and
 *   strength." Phys Ther 2005;85:269-282): typical squeeze 30 cmH2O over a
 *   15 cmH2O balloon reading at rest; the weak profile's 10 cmH2O is below
 *   that range on purpose.
 * - Bearing down (a Valsalva-like push) instead of squeezing is common when
 *   women are first asked to contract: about a quarter did so after verbal
 *   instruction (Bump RC, Hurt WG, Fantl JA, Wyman JF. "Assessment of Kegel
 *   pelvic muscle exercise performance after brief verbal instruction." Am J
 *   Obstet Gynecol 1991;165:322-329): the weak profile bears down now and
 *   then, raising pressure with no pelvic-floor EMG.
 * - Reaction to a cue: simple reaction times of healthy adults are about
 *   200-300 ms (Woods DL et al. "Factors influencing the latency of simple
 *   reaction time." Front Hum Neurosci 2015;9:131); a pelvic-floor
 *   contraction is an unfamiliar, unseen movement, so the profiles use
 *   300-450 ms means (model choice within the 200-500 ms the design asks for).
 * - Breathing: adult resting respiratory rate 12-20 breaths/min, here 15
 *   (4 s period); its intra-abdominal pressure swing seen by the probe,
 *   about 1 cmH2O, is a model choice.
 * - Lead-off: an electrode that loses skin/mucosa contact leaves a
 *   high-impedance input that picks up mains hum and drives the envelope
 *   to the front end's rail; 2000 uV is a model choice (far above any muscle
 *   signal, inside the probe's u16.16 mV range).
 */
import { assessmentSegments, Block, GLAZER_ASSESSMENT, SegmentKind } from "../../../src/core/protocol/assessment"

export type ProfileName = "typical" | "weak" | "hypertonic" | "spasm" | "noisy_electrode" | "lead_off"

export const PROFILE_NAMES: readonly ProfileName[] = ["typical", "weak", "hypertonic", "spasm", "noisy_electrode", "lead_off"]

export interface PatientProfile {
    name: ProfileName
    description: string

    // --- EMG at rest ---
    /** [uV] mean resting EMG envelope (rest tone, noise-free) */
    restEmgUv: number
    /** [uV] SD of the slow wander of the rest tone (AR(1) around restEmgUv) */
    restEmgSdUv: number
    /** [ms] time constant of the rest-tone wander (model choice: seconds) */
    restEmgTauMs: number

    // --- a maximal contraction ---
    /** [uV] EMG envelope above rest at activation 1 (this patient's MVC) */
    mvcEmgUv: number
    /** [cmH2O] pressure above the full-rest reading at activation 1 */
    mvcPressureCmH2O: number
    /** [cmH2O/uV] pressure the rest tone adds per uV above restEmgUv (wander, spasm); model choice: mvcPressureCmH2O / mvcEmgUv */
    toneCmH2OPerUv: number

    // --- response to cues ---
    /** [ms] mean reaction time from seeing a cue to starting the rise or fall */
    reactionMs: number
    /** [ms] SD of the reaction time (normal, clamped to mean +- 3 SD and >= 50 ms) */
    reactionJitterMs: number
    /** [ms] half-cosine rise from rest to the target */
    riseMs: number
    /** [ms] half-cosine fall from full activation to 0 (shorter from a partial level) */
    fallMs: number
    /** [%] slow tracking wobble of the held level (SD, multiplicative) */
    trackingErrorPct: number
    /** [%] drop of each rep's peak level per earlier rep (compounding) */
    fatiguePerRepPct: number
    /** [%] decline of the held level over 60 s of holding (linear in time held) */
    enduranceFatiguePct: number

    // --- pressure artefacts ---
    /** [cmH2O] amplitude of the breathing sinusoid */
    breathingCmH2O: number
    /** [ms] breathing period */
    breathingPeriodMs: number
    /** [ms] a bear-down (Valsalva) starts every this often (at k * valsalvaEveryMs, k >= 1); 0 = none */
    valsalvaEveryMs: number
    /** [cmH2O] height of the bear-down bump */
    valsalvaCmH2O: number
    /** [ms] duration of the bump (half-sine) */
    valsalvaMs: number

    // --- measurement noise ---
    /** [ratio] EMG noise SD as a fraction of the noise-free level */
    emgNoiseFraction: number
    /** [uV] EMG noise SD floor */
    emgNoiseFloorUv: number
    /** [ms] time constant of the EMG noise low-pass (AR(1)); the envelope is smooth */
    emgNoiseTauMs: number
    /** [1/s] rate of EMG spikes (movement artefacts; Poisson) */
    emgSpikeRatePerS: number
    /** [uV] typical spike height (uniform 0.5x..1.5x) */
    emgSpikeUv: number
    /** [ms] exponential decay time of a spike */
    emgSpikeMs: number
    /** [cmH2O] white noise SD on pressure (once inserted) */
    pressureNoiseCmH2O: number
    /** [ratio] probability that a batch of samples is lost on the bus */
    packetLossProbability: number

    // --- the probe ---
    /** [cmH2O] pressure the inserted probe reads at full rest (gauge) */
    balloonCmH2O: number
    /** [ms] sample time the probe goes in; before it pressure is 0 (atmospheric) and the EMG rails (no contact) */
    insertAtMs: number
    /** [ms] half-cosine rise of the pressure during insertion (0 = a step) */
    insertRampMs: number
    /** [ms] sample time the probe comes out (pressure 0, EMG rails), -1 = never */
    removeAtMs: number

    // --- spasm (toning an overactive floor) ---
    /** [ratio] probability that a contraction started while the rest tone is above the threshold sets off a spasm; 0 = never */
    spasmProbability: number
    /** [uV] rest tone above which a contraction can set off a spasm */
    spasmRestThresholdUv: number
    /** [uV] rise of the rest tone in a spasm */
    spasmToneUv: number
    /** [ms] from the rep's onset to the start of the spasm */
    spasmDelayMs: number
    /** [ms] half-cosine rise of the spasm's tone */
    spasmRiseMs: number
    /** [ms] exponential decay time of the spasm's tone after its rise; 0 = it stays up */
    spasmDecayMs: number
    /** at most this many spasms per session */
    spasmMaxCount: number

    // --- EMG lead-off ---
    /** [ms] sample time the EMG electrode loses contact for good, -1 = never */
    leadOffAtMs: number
    /** [ms] the electrode loses contact this long after the first cue the patient sees (the pre-baseline's start), -1 = never */
    leadOffAfterFirstCueMs: number
    /** [uV] envelope level with no electrode contact (railed mains hum) */
    leadOffUv: number
    /** [uV] SD of the white jitter on that level */
    leadOffJitterUv: number
}

/**
 * [ms] from the start of the Glazer assessment (GLAZER_ASSESSMENT) to the
 * middle of its hold number `holdNumber` (0-based): 105000 ms for the second
 * hold with the standard timings. The lead_off profile loses its electrode
 * there, counted from the first cue it sees, so it lands mid-hold wherever
 * the session starts in sample time.
 */
export function glazerMidHoldMs(holdNumber = 1): number {
    let t = 0
    let holds = 0
    for (const s of assessmentSegments(GLAZER_ASSESSMENT)) {
        if (s.kind === SegmentKind.Work && s.block === Block.Holds) {
            if (holds === holdNumber) return t + s.durationMs / 2
            holds++
        }
        t += s.durationMs
    }
    throw new RangeError(`the Glazer assessment has no hold #${holdNumber}`)
}

const TYPICAL: PatientProfile = {
    name: "typical",
    description: "healthy pelvic floor: low steady rest tone, strong quick squeeze, prompt full release",
    restEmgUv: 3,
    restEmgSdUv: 0.5,
    restEmgTauMs: 5000,
    mvcEmgUv: 40,
    mvcPressureCmH2O: 30,
    toneCmH2OPerUv: 0.75,
    reactionMs: 300,
    reactionJitterMs: 60,
    riseMs: 300,
    fallMs: 400,
    trackingErrorPct: 5,
    fatiguePerRepPct: 1,
    enduranceFatiguePct: 20,
    breathingCmH2O: 1,
    breathingPeriodMs: 4000,
    valsalvaEveryMs: 0,
    valsalvaCmH2O: 20,
    valsalvaMs: 2500,
    emgNoiseFraction: 0.05,
    emgNoiseFloorUv: 0.3,
    emgNoiseTauMs: 25,
    emgSpikeRatePerS: 0,
    emgSpikeUv: 30,
    emgSpikeMs: 50,
    pressureNoiseCmH2O: 0.2,
    packetLossProbability: 0.002,
    balloonCmH2O: 15,
    insertAtMs: 0,
    insertRampMs: 0,
    removeAtMs: -1,
    spasmProbability: 0,
    spasmRestThresholdUv: 10,
    spasmToneUv: 8,
    spasmDelayMs: 500,
    spasmRiseMs: 800,
    spasmDecayMs: 0,
    spasmMaxCount: 1,
    leadOffAtMs: -1,
    leadOffAfterFirstCueMs: -1,
    leadOffUv: 2000,
    leadOffJitterUv: 20,
}

const HYPERTONIC: PatientProfile = {
    ...TYPICAL,
    name: "hypertonic",
    description: "overactive floor (vulvodynia/vaginismus picture): high unstable rest tone, weaker squeeze above rest, slow incomplete release",
    restEmgUv: 12,
    restEmgSdUv: 2.5,
    restEmgTauMs: 3000,
    mvcEmgUv: 25,
    mvcPressureCmH2O: 20,
    toneCmH2OPerUv: 0.4,
    reactionMs: 400,
    reactionJitterMs: 100,
    riseMs: 400,
    fallMs: 1600,
    trackingErrorPct: 8,
    fatiguePerRepPct: 2,
    enduranceFatiguePct: 35,
    balloonCmH2O: 20,
}

export const PROFILES: Record<ProfileName, PatientProfile> = {
    typical: TYPICAL,
    weak: {
        ...TYPICAL,
        name: "weak",
        description: "weak floor: low squeeze (12 uV, 10 cmH2O), slow recruitment, fast fatigue, bears down now and then",
        restEmgUv: 2.5,
        restEmgSdUv: 0.4,
        mvcEmgUv: 12,
        mvcPressureCmH2O: 10,
        toneCmH2OPerUv: 0.8,
        reactionMs: 450,
        reactionJitterMs: 100,
        riseMs: 600,
        fallMs: 500,
        trackingErrorPct: 12,
        fatiguePerRepPct: 4,
        enduranceFatiguePct: 50,
        valsalvaEveryMs: 45000,
        valsalvaCmH2O: 15,
        valsalvaMs: 2500,
    },
    hypertonic: HYPERTONIC,
    spasm: {
        ...HYPERTONIC,
        name: "spasm",
        description: "overactive floor that spasms when toned: a contraction started while rest tone is above 10 uV sets off a lasting +8 uV rise in tone (35% of such contractions, once per session)",
        spasmProbability: 0.35,
    },
    noisy_electrode: {
        ...TYPICAL,
        name: "noisy_electrode",
        description: "typical patient, poor electrode contact: EMG noise 25% of level + 1 uV floor, movement spikes, more lost batches",
        emgNoiseFraction: 0.25,
        emgNoiseFloorUv: 1,
        emgSpikeRatePerS: 0.05,
        emgSpikeUv: 30,
        emgSpikeMs: 50,
        packetLossProbability: 0.01,
    },
    lead_off: {
        ...TYPICAL,
        name: "lead_off",
        description: "typical patient whose EMG electrode loses contact in the middle of the second hold: the envelope rails at 2000 uV from then on",
        leadOffAfterFirstCueMs: glazerMidHoldMs(1),
    },
}

/** A copy of a named profile with some parameters changed (`name` stays the profile's). */
export function makeProfile(name: ProfileName, overrides: Partial<PatientProfile> = {}): PatientProfile {
    const base = PROFILES[name]
    if (!base) throw new RangeError(`unknown patient profile "${name}" (one of ${PROFILE_NAMES.join(", ")})`)
    return { ...base, ...overrides, name }
}
