/**
 * One assessment of a simulated patient on the simulated device, scored
 * against the patient model's ground truth. Used by the e2e tests, the
 * accuracy benchmark and `pft sim`.
 */
import { runAssessment, type AssessmentRunOptions, type AssessmentRunResult } from "./assessment-run"
import { makeProfile, PatientModel, patientSource, type GroundTruth, type PatientProfile, type ProfileName } from "./patient"
import { RELEASE_FRACTION, scoreSession, type NoiseFreeTrace, type SessionScore } from "./scoring"
import type { Simulation } from "./simulation"

export interface PatientRunOptions {
    sim: Simulation
    profile: ProfileName
    seed: number
    /** x real time */
    speed: number
    stopSignal?: AssessmentRunOptions["stopSignal"]
    onCue?: AssessmentRunOptions["onCue"]
    /** the patient's parameters changed from the profile's */
    overrides?: Partial<PatientProfile>
    endWhen?: AssessmentRunOptions["endWhen"]
    maxSessionMs?: AssessmentRunOptions["maxSessionMs"]
    onFeed?: AssessmentRunOptions["onFeed"]
    /** the patient (default: a new one of `profile` and `seed`), for a test that also acts for her (seeCue) */
    model?: PatientModel
}

export interface PatientRunResult {
    run: AssessmentRunResult
    truth: GroundTruth
    score: SessionScore
    /** the patient's noise-free signals, by feed sample */
    trace: NoiseFreeTrace
}

const RATE_HZ = 100

export async function runPatient(o: PatientRunOptions): Promise<PatientRunResult> {
    const model = o.model ?? new PatientModel(makeProfile(o.profile, o.overrides ?? {}), o.seed)
    const source = patientSource(model, RATE_HZ)
    // the noise-free signals, sample by sample, to apply the device's metric definitions to the truth
    const trace: NoiseFreeTrace = { intervalMs: 1000 / RATE_HZ, emgUv: [], pressureCmH2O: [] }
    const run = await runAssessment({
        sim: o.sim,
        sampleRateHz: RATE_HZ,
        speed: o.speed,
        source: (seq, timeMs) => {
            const s = source(seq, timeMs)
            const state = model.state()
            trace.emgUv[seq] = state.emgUv
            trace.pressureCmH2O[seq] = state.pressureAboveRestCmH2O
            return s
        },
        dropBatch: seq => model.dropsBatch(seq),
        onCue: (c, t, cueAtMs) => {
            // the patient sees the cue when the device showed it; the samples sent since came before her
            // reaction, unless the report was later than that (then she reacts from the newest sample on)
            model.seeCue(c.cue, cueAtMs, c.repIndex, t)
            o.onCue?.(c, t, cueAtMs)
        },
        stopSignal: o.stopSignal,
        endWhen: o.endWhen,
        maxSessionMs: o.maxSessionMs,
        onFeed: o.onFeed,
    })
    const truth = model.truth()
    const releaseMs: Record<number, number> = {}
    for (const r of truth.reps) releaseMs[r.repIndex] = model.crossingMs(r.repIndex, RELEASE_FRACTION * r.repPeakActivation, "fall")
    return { run, truth, trace, score: scoreSession(run, truth, { trace, releaseMs }) }
}
