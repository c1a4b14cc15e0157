// The EMG electrode check (src/core/sensing/emg-contact.ts, Noisy) on the
// simulated patients, through the firmware's own core in Node
// (host/sim/offline-run.ts): a noisy electrode gets every rep flagged
// PoorContact, the patient model's clean profiles (their tone's wander, the
// weak patient's wobble and a lead-off included) not one. The same on the
// firmware in the VM: tests/e2e/patients.test.ts.
import { describe, expect, test } from "vitest"
import { RepFlag } from "../../src/core/metrics/types"
import { PROFILE_NAMES } from "../../host/sim/patient"
import { runOffline } from "../../host/sim/offline-run"
import { peakErrorsPct, percentile } from "../../host/sim/scoring"
import { poorContactNotice, repFlagWords } from "../../host/logs/names"
import { formatSessionReport } from "../../host/report/session-text"

const SEEDS = [1, 2, 3, 4]

describe("the EMG electrode check on simulated patients", () => {
    test.each(PROFILE_NAMES.map(p => [p]))("%s", profile => {
        for (const seed of SEEDS) {
            const r = runOffline({ profile, seed })
            const flagged = r.run.reps.emg.filter(x => x.flags & RepFlag.PoorContact).length
            expect(r.run.reps.emg.length).toBeGreaterThan(0)
            if (profile === "noisy_electrode") {
                expect(flagged, `seed ${seed}`).toBe(r.run.reps.emg.length)
                // what the flag warns of: the noise reads the peaks high
                expect(percentile(r.score.emg.reps.map(x => x.peakErrorPct), 50), `seed ${seed}`).toBeGreaterThan(3)
                expect(peakErrorsPct(r.score.emg.reps)).toEqual([])
            } else {
                expect(flagged, `seed ${seed}`).toBe(0)
                expect(peakErrorsPct(r.score.emg.reps).length).toBe(r.score.emg.reps.length)
            }
        }
    })

    test("the therapist reads the flag by name, and a warning under the reps", () => {
        expect(repFlagWords(RepFlag.PoorContact | RepFlag.Dropout)).toContain("poor EMG contact")
        expect(poorContactNotice([RepFlag.PoorContact, 0, RepFlag.PoorContact | RepFlag.Dropout])).toMatch(/^EMG contact was poor in 2 of 3 reps: .*re-seat or moisten the probe/)
        expect(poorContactNotice([0, RepFlag.Dropout])).toBeNull()
        const noisy = formatSessionReport(runOffline({ profile: "noisy_electrode", seed: 1 }).run)
        expect(noisy).toContain("EMG contact was poor in 11 of 11 reps")
        expect(formatSessionReport(runOffline({ profile: "typical", seed: 1 }).run)).not.toContain("EMG contact was poor")
    })
})
