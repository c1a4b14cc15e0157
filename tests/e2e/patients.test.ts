// The real firmware in the VM runs the Glazer assessment against every
// simulated patient profile; what it reports is scored against the patient
// model's ground truth.
//
// Counting is exact on every profile. Timing and peaks are held to the
// metrics issue's targets (onset/offset median <= 50 ms, p95 <= 100 ms, peak
// within 3 %) where the firmware meets them, and elsewhere to about 1.5x
// what the same core code gives for this seed (host/sim/offline-run.ts), so a
// regression fails; docs/engineering.md lists the gaps and why.
// e2e-one-link: what is scored runs on the device and the patient's probe is on the simulator bus; the host link only
// carries the cue reports and the reps read at the end, and probe-roundtrip, serial and session-log test the USB link
// (this file took ~200 s of CI per link)
import { afterEach, describe, expect, test } from "vitest"
import { RepFlag } from "../../src/core/metrics/types"
import { PROFILE_NAMES, type ProfileName } from "../../host/sim/patient"
import { runPatient } from "../../host/sim/patient-run"
import { peakErrorsPct, percentile } from "../../host/sim/scoring"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/**
 * x real time, at most: the 5-minute assessment runs in about 30 s. A VM that falls behind holds the feed back
 * (host/sim/feed-flow.ts): ~2.5 s of a session's ~32 s here, 6 s with two cores busy besides
 */
const SPEED = 12
const SEED = 1

interface Limits {
    /** [ms] */
    onsetMedian: number
    onsetP95: number
    /** [ms]; Infinity: not scored (a spasm keeps the tone up: there is no return to rest, and few reps to time) */
    offsetMedian: number
    offsetP95: number
    /** [%] worst rep (of those not flagged PoorContact; of the flagged ones on the noisy electrode) */
    peak: number
}

const LIMITS: Record<ProfileName, Limits> = {
    // the metrics issue's timing targets: onset/offset median <= 50 ms, p95 <= 100 ms. Peaks: the
    // target is 3 %; the core's p95 over 16 seeds is 2.4-2.9 %, but the worst of 11 reps in one VM
    // run has reached 4.9 % (weak), so the worst rep is held to 6 %
    typical: { onsetMedian: 50, onsetP95: 100, offsetMedian: 50, offsetP95: 100, peak: 6 },
    lead_off: { onsetMedian: 50, onsetP95: 100, offsetMedian: 50, offsetP95: 100, peak: 6 },
    // timing medians at target; p95s of 11 reps land at 80-117 ms (onset) and up to ~180 ms (one slow,
    // wobbly release) from run to run with seed 1, the core's p95 over 16 seeds being 80 / 76 ms
    weak: { onsetMedian: 50, onsetP95: 150, offsetMedian: 50, offsetP95: 270, peak: 6 },
    // the tone wanders by uV during a 1.6 s release, which one channel cannot tell from the release:
    // offsets ~1.5x what the core gives for seed 1 over cue delays of 1-6 samples (host/sim/offline-run.ts).
    // Onsets: core p95 64 ms over 16 seeds, 100 ms with every cue seen 1 s late (a VM behind its feed at
    // 12x); since the rise is measured from the level just before it, not before the cue (one rep of 11
    // came 280 ms off before)
    hypertonic: { onsetMedian: 50, onsetP95: 150, offsetMedian: 300, offsetP95: 800, peak: 6 },
    // after the spasm most reps start high and are not timed: the few left make p95 the worst single rep.
    // A rep the patient starts late on a tone the spasm raised to the onset band is fitted again once it
    // rises (docs/engineering.md, "fitting a late rise again"); over 15 runs the median of 7-10 timed reps
    // was 13-56 ms and the worst rep 43-320 ms, so the median is held to 100
    spasm: { onsetMedian: 100, onsetP95: Infinity, offsetMedian: Infinity, offsetP95: Infinity, peak: 6 },
    // envelope noise of 25 % and movement spikes: onsets ride on the noise (the median of 11 reps ranged
    // 45-240 ms between runs of seed 1 while the rise's top was its highest sample; 14-39 ms, p95 53-114 ms,
    // in 9 runs since it is the mean around it) and peaks on the spikes (18 % worst rep); offsets are
    // mostly under 60 ms, but one rep's release can be lost in the noise: 280 ms in one run, 806 ms in
    // another (its p95 of 11 reps, about the worst rep, then 432 ms). The patient sees the cues at the
    // device's times, but a report later than her reaction delays her, so the VM's load still changes
    // what she does from run to run (onset p95 124-145 ms in 3 runs under load since). The device flags
    // every rep PoorContact (the envelope's steps are over 15 % of its level): its peaks are read 7 %
    // high at the median (the noise's highest 1 s window), which it says. The worst flagged rep of a run
    // is 10-19 % in the core (16 seeds x 2 cue delays) and reached 28 % in one VM run under CI load
    // (11.5 % over the other link): held to 40 %, a bound on what a flagged amplitude can be off. Onset p95
    // 400 ms in CI on 63a0fad: a movement spike just before a cue the patient saw 700 ms late was taken as
    // the onset, 710 ms early; a burst back at rest within 500 ms is no longer one (MIN_BURST_MS; core,
    // 24 seeds with the cue seen 0.3 and 0.7 s late: reps over 200 ms off 12 -> 3 of 528, the worst 1215 -> 370 ms)
    noisy_electrode: { onsetMedian: 100, onsetP95: 300, offsetMedian: 80, offsetP95: 900, peak: 40 },
}

describe.each(PROFILE_NAMES.map(p => [p]))("patient profile %s", name => {
    let sim: Simulation | undefined
    afterEach(async () => {
        await sim?.stop()
        sim = undefined
    })

    test("the firmware's metrics match the ground truth", async () => {
        sim = await startSimulation({ hostLink: E2E_HOST_LINK })
        const { run, truth, score } = await runPatient({ sim, profile: name, seed: SEED, speed: SPEED })
        const emg = score.emg
        const onset = emg.reps.map(r => Math.abs(r.onsetErrorMs))
        const offset = emg.reps.map(r => Math.abs(r.offsetErrorMs)).filter(Number.isFinite)
        const poorContact = run.reps.emg.filter(r => r.flags & RepFlag.PoorContact).length
        const peak = name === "noisy_electrode" ? emg.reps.map(r => r.peakErrorPct) : peakErrorsPct(emg.reps)
        // the reps the patient did that the device did not time, to trace a miscount (session times, ms)
        const untimed = truth.reps
            .filter(t => !t.interrupted && !emg.reps.some(r => r.repIndex === t.repIndex))
            .map(t => {
                const d = run.reps.emg.find(r => r.repIndex === t.repIndex)
                const at = (ms: number) => (ms < 0 ? -1 : Math.round(ms - run.sessionStartMs))
                const truthRep = { cueOn: at(t.cueOnMs), cueOff: at(t.cueOffMs), onset: at(t.onsetMs), offset: at(t.offsetMs), peakUv: t.peakEmgUv }
                const device = d && { cueOn: d.cueOnMs, cueOff: d.cueOffMs, onset: d.onsetMs, offset: d.offsetMs, peakUv: d.peak, flags: d.flags }
                return { repIndex: t.repIndex, truth: truthRep, device: device ?? "not reported" }
            })
        // the reps timed worst (over 100 ms) with the device's flags (Dropout: samples lost in them), and the samples
        // the session counted lost beyond those the feed dropped on purpose (the VM's queue overflowed; negative when
        // some dropped batches fell outside the session): to tell a firmware miss from a VM that fell behind
        const worst = emg.reps
            .filter(r => Math.abs(r.onsetErrorMs) > 100 || Math.abs(r.offsetErrorMs) > 100)
            .map(r => ({ repIndex: r.repIndex, onset: Math.round(r.onsetErrorMs), offset: Math.round(r.offsetErrorMs), flags: run.reps.emg.find(d => d.repIndex === r.repIndex)?.flags }))
        const lostBeyondDropped = run.summary.emg.samplesLost - run.droppedSamples
        // every Contract cue the patient saw (repIndex, session ms): a cue seen twice shows here
        const cuesSeen = truth.reps.map(t => [t.repIndex, Math.round(t.cueOnMs - run.sessionStartMs)])
        // [s] wall time the feed waited for the VM (flow control: a VM behind its feed slows the patient, it loses nothing)
        const feedHeldSeconds = Math.round(run.feedHeldSeconds * 10) / 10
        const info = JSON.stringify({ onset, offset, peak, restToneError: emg.restToneError, startedHigh: emg.startedHigh, startedHighAtRest: emg.startedHighAtRest, repsDone: emg.repsDone, repsExpected: emg.repsExpected, poorContact, untimed, worst, lostBeyondDropped, feedHeldSeconds, cuesSeen })
        const limits = LIMITS[name]
        // in every run's output, to watch the margins from run to run (the VM's load changes what the patient does)
        console.info(`patients e2e ${name}: onset p95 ${percentile(onset, 95).toFixed(0)} ms, offset p95 ${percentile(offset, 95).toFixed(0)} ms, worst peak ${Math.max(...peak).toFixed(1)} %; ${info}`)

        // every contraction the patient really did is counted, nothing more
        expect(emg.repsDone, info).toBe(emg.repsExpected)
        expect(run.summary.emg.repsPlanned).toBe(truth.reps.length)
        if (name === "lead_off") {
            // the rep in progress at lead-off, and every later one, is flagged, not counted
            expect(emg.interruptedExpected, "lead-off lands during the assessment").toBeGreaterThan(0)
            expect(emg.interruptedFlagged, info).toBe(emg.interruptedExpected)
            expect(run.reps.emg.filter(r => r.flags & RepFlag.Interrupted).length).toBe(emg.interruptedExpected)
        }
        if (name === "spasm") {
            // the spasm's lasting rise in tone shows: rest after the work above rest before, reps start high
            expect(truth.spasmMs.length).toBeGreaterThan(0)
            expect(run.summary.emg.postBaseline.mean - run.summary.emg.preBaseline.mean, info).toBeGreaterThan(4)
            expect(emg.startedHigh).toBeGreaterThan(0)
        } else if (name === "hypertonic") {
            // the tone wanders (SD 2.5 uV) and can sit above the onset band at a cue: the core flags 2 of 176
            // reps so over 16 seeds, 5 of 171 with every cue seen 300 ms late; the VM's cue timing varies
            // from run to run (1 of 11 seen in two runs)
            expect(emg.startedHighAtRest, info).toBeLessThanOrEqual(2)
        } else {
            // no rep flagged StartedHigh that began from rest. A patient still letting go of the last flick when
            // the next one's window opens did start high: CI on 9c55104 saw one (typical, flick 3) when the VM
            // ran behind its feed and she got the rest cue's report late
            expect(emg.startedHighAtRest, info).toBe(0)
        }
        // the electrode check: every rep of the noisy electrode is flagged poor contact, no rep of the others
        if (name === "noisy_electrode") expect(poorContact, info).toBe(run.reps.emg.length)
        else expect(poorContact, info).toBe(0)

        // rest tone (the first goal for these patients) within 0.8 uV, or the tone's own wander for the overactive ones
        expect(emg.restToneError, info).toBeLessThanOrEqual(name === "hypertonic" || name === "spasm" ? 3 : 0.8)
        expect(percentile(onset, 50), info).toBeLessThanOrEqual(limits.onsetMedian)
        if (Number.isFinite(limits.onsetP95)) expect(percentile(onset, 95), info).toBeLessThanOrEqual(limits.onsetP95)
        if (Number.isFinite(limits.offsetMedian)) {
            expect(percentile(offset, 50), info).toBeLessThanOrEqual(limits.offsetMedian)
            expect(percentile(offset, 95), info).toBeLessThanOrEqual(limits.offsetP95)
        }
        expect(Math.max(...peak), info).toBeLessThanOrEqual(limits.peak)
        // lost samples are counted, and only those the profile's packet loss dropped, give or take 1 %: before the
        // feed waited for the VM, a VM starved on a loaded machine overflowed its queue (2-52 samples of a session's
        // ~32,000 with three simulations on two cores, 136 with both cores busy besides); a VM silent for over 1 s
        // still can (probe-roundtrip.test.ts checks the count batch by batch at 1x)
        expect(run.summary.emg.samplesLost).toBeLessThanOrEqual(run.droppedSamples + 0.01 * run.sentSamples)
        expectHostLinkClean(sim)
    })
})
