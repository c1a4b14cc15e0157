// The scorer judges a StartedHigh flag by what the patient did: still
// contracting when the device's onset window opened (a late release), or
// at rest (a flag her activation does not explain).
import { expect, test } from "vitest"
import { RepFlag } from "../../src/core/metrics/types"
import { runOffline } from "../../host/sim/offline-run"
import { scoreSession } from "../../host/sim/scoring"

test("a patient who saw each cue 1.5 s late was still letting go of the last flick at the next cue: the device's StartedHigh flags are hers", () => {
    const r = runOffline({ profile: "typical", seed: 1, cueDelaySamples: 150 })
    // the flicks' 2 s rests are shorter than her delay and fall: the device flags the next flick's start
    expect(r.score.emg.startedHigh).toBeGreaterThan(0)
    expect(r.score.emg.startedHighAtRest).toBe(0)
})

test("a StartedHigh flag on a rep that began from rest counts as one the patient does not explain", () => {
    const r = runOffline({ profile: "typical", seed: 1 })
    expect(r.score.emg.startedHigh).toBe(0)
    // the device says the third flick (rest before it: 2 s, the patient let go in time) started high
    const flagged = { ...r.run, reps: { ...r.run.reps, emg: r.run.reps.emg.map(d => (d.repIndex === 2 ? { ...d, flags: d.flags | RepFlag.StartedHigh } : d)) } }
    // (without releaseMs the truth's release is the activation back at 0: later still, and before the window)
    const score = scoreSession(flagged, r.truth, { trace: r.trace })
    expect(score.emg.startedHigh).toBe(1)
    expect(score.emg.startedHighAtRest).toBe(1)
})

