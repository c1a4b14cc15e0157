// The real firmware in the VM runs the Glazer assessment against every
// simulated patient profile; what it reports is scored against the patient
// model's ground truth.
import { afterEach, describe, expect, test } from "vitest"
import { RepFlag } from "../../src/core/metrics/types"
import { PROFILE_NAMES } from "../../host/sim/patient"
import { runPatient } from "../../host/sim/patient-run"
import { percentile } from "../../host/sim/scoring"
import { startSimulation, type Simulation } from "../../host/sim/simulation"

/** x real time: the 5-minute assessment runs in about 30 s */
const SPEED = 10
const SEED = 1

describe.each(PROFILE_NAMES.map(p => [p]))("patient profile %s", name => {
    let sim: Simulation | undefined
    afterEach(async () => {
        await sim?.stop()
        sim = undefined
    })

    test("the firmware's metrics match the ground truth", async () => {
        sim = await startSimulation()
        const { run, truth, score } = await runPatient({ sim, profile: name, seed: SEED, speed: SPEED })
        const emg = score.emg
        const onset = emg.reps.map(r => Math.abs(r.onsetErrorMs))
        const offset = emg.reps.map(r => Math.abs(r.offsetErrorMs)).filter(Number.isFinite)
        const peak = emg.reps.map(r => r.peakErrorPct)
        const info = JSON.stringify({ onset, offset, peak, restToneError: emg.restToneError, repsDone: emg.repsDone, repsExpected: emg.repsExpected })

        // every contraction the patient really did is counted, nothing more
        expect(emg.repsDone, info).toBe(emg.repsExpected)
        expect(run.summary.emg.repsPlanned).toBe(truth.reps.length)
        if (name === "lead_off") {
            // the rep in progress at lead-off, and every later one, is flagged, not counted
            expect(emg.interruptedExpected, "lead-off lands during the assessment").toBeGreaterThan(0)
            expect(emg.interruptedFlagged, info).toBe(emg.interruptedExpected)
            expect(run.reps.emg.filter(r => r.flags & RepFlag.Interrupted).length).toBe(emg.interruptedExpected)
        }
        // timing and amplitude: the metrics issue's targets
        expect(percentile(onset, 50), info).toBeLessThanOrEqual(50)
        expect(percentile(onset, 95), info).toBeLessThanOrEqual(100)
        expect(percentile(offset, 50), info).toBeLessThanOrEqual(50)
        expect(percentile(offset, 95), info).toBeLessThanOrEqual(100)
        expect(Math.max(...peak), info).toBeLessThanOrEqual(3)
        // lost samples are counted, and only those the profile's packet loss dropped
        expect(run.summary.emg.samplesLost).toBeLessThanOrEqual(run.droppedSamples)
    })
})
