// Pulling the probe out mid-hold: the firmware sees the pressure fall to
// atmospheric, flags the rep in progress Interrupted on both channels and
// does not count it or any later one.
import { afterEach, expect, test } from "vitest"
import { RepFlag } from "../../src/core/metrics/types"
import { Cue } from "../../src/core/protocol/assessment"
import { runAssessment } from "../../host/sim/assessment-run"
import { makeProfile, PatientModel, patientSource } from "../../host/sim/patient"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/** the second hold: contractions 0-4 are flicks, 5-9 holds */
const REMOVED_DURING_REP = 6
/** [ms] of sample time into that hold */
const REMOVE_AFTER_MS = 4000

let sim: Simulation | undefined
afterEach(async () => {
    await sim?.stop()
    sim = undefined
})

test("a probe pulled out mid-hold interrupts that rep and the ones after it", async () => {
    sim = await startSimulation({ hostLink: E2E_HOST_LINK })
    const model = new PatientModel(makeProfile("typical"), 3)
    const patient = patientSource(model, 100)
    let removeAtMs = Infinity
    const run = await runAssessment({
        sim,
        speed: 10,
        // once out, the probe reads atmospheric pressure and the EMG input floats to the rail
        source: (seq, t) => (t >= removeAtMs ? { pressureCmH2O: 0, emgUv: 2000 } : patient(seq, t)),
        // as in patient-run: she sees each cue when the device showed it (a VM behind its feed reports it late),
        // and the probe comes out 4 s into the hold as the device timed it
        onCue: (c, t, cueAtMs) => {
            model.seeCue(c.cue, cueAtMs, c.repIndex, t)
            if (c.cue === Cue.Contract && c.repIndex === REMOVED_DURING_REP) removeAtMs = cueAtMs + REMOVE_AFTER_MS
        },
    })
    expect(removeAtMs).toBeLessThan(Infinity)
    for (const reps of [run.reps.emg, run.reps.pressure]) {
        const cut = reps.find(r => r.repIndex === REMOVED_DURING_REP)
        expect(cut, "the interrupted rep is reported").toBeDefined()
        expect(cut!.flags & RepFlag.Interrupted).toBe(RepFlag.Interrupted)
        // the ones before stand, unflagged
        expect(reps.filter(r => r.repIndex < REMOVED_DURING_REP && !(r.flags & RepFlag.Interrupted)).length).toBe(REMOVED_DURING_REP)
        expect(reps.filter(r => r.repIndex > REMOVED_DURING_REP).every(r => r.flags & RepFlag.Interrupted)).toBe(true)
    }
    expect(run.summary.emg.repsDone).toBe(REMOVED_DURING_REP)
    expect(run.summary.pressure.repsDone).toBe(REMOVED_DURING_REP)
    expectHostLinkClean(sim)
})
