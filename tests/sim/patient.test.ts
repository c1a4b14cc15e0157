// The simulated patient (host/sim/patient): driven through the Glazer
// assessment in sample time at 100 Hz, the way the simulator drives it (a
// seeCue at each segment start, a sample every 10 ms), for every profile.
// Pure Node: no simulator, no ports.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    assessmentSegments,
    Block,
    Cue,
    GLAZER_ASSESSMENT,
    plannedReps,
    SegmentKind,
    type Segment,
} from "../../src/core/protocol/assessment"
import {
    glazerMidHoldMs,
    makeProfile,
    PatientModel,
    patientSource,
    PROFILE_NAMES,
    PROFILES,
    reactionBoundsMs,
    type GroundTruth,
    type PatientProfile,
    type ProfileName,
} from "../../host/sim/patient"

const RATE_HZ = 100
const DT_MS = 1000 / RATE_HZ

interface Run {
    profile: PatientProfile
    model: PatientModel
    segments: { segment: Segment; startMs: number; endMs: number }[]
    pressure: Float64Array
    emg: Float64Array
    activation: Float64Array
    cleanEmg: Float64Array
    cleanPressure: Float64Array
    tone: Float64Array
    truth: GroundTruth
}

/** The assessment's first cue comes at `startMs` (the probe feeds samples from 0, as while the firmware zeroes). */
function runGlazer(profile: PatientProfile, seed: number, startMs = 0): Run {
    const model = new PatientModel(profile, seed)
    const segments: Run["segments"] = []
    let t = startMs
    for (const segment of assessmentSegments(GLAZER_ASSESSMENT)) {
        segments.push({ segment, startMs: t, endMs: t + segment.durationMs })
        t += segment.durationMs
    }
    const n = Math.round(t / DT_MS)
    const run: Run = {
        profile,
        model,
        segments,
        pressure: new Float64Array(n),
        emg: new Float64Array(n),
        activation: new Float64Array(n),
        cleanEmg: new Float64Array(n),
        cleanPressure: new Float64Array(n),
        tone: new Float64Array(n),
        truth: undefined as unknown as GroundTruth,
    }
    let next = 0
    for (let i = 0; i < n; i++) {
        const tMs = i * DT_MS
        while (next < segments.length && segments[next].startMs <= tMs) {
            model.seeCue(segments[next].segment.cue, segments[next].startMs, segments[next].segment.repIndex)
            next++
        }
        const s = model.sample(tMs)
        const st = model.state()
        run.pressure[i] = s.pressureCmH2O
        run.emg[i] = s.emgUv
        run.activation[i] = model.activation()
        run.cleanEmg[i] = st.emgUv
        run.cleanPressure[i] = st.pressureAboveRestCmH2O
        run.tone[i] = st.restToneUv
    }
    run.truth = model.truth()
    return run
}

const cache = new Map<string, Run>()
function glazer(name: ProfileName, seed: number): Run {
    const key = `${name}:${seed}`
    let run = cache.get(key)
    if (!run) {
        run = runGlazer(makeProfile(name), seed)
        cache.set(key, run)
    }
    return run
}

/** Sample indices with time in [fromMs, toMs]. */
function indices(fromMs: number, toMs: number, n: number): [number, number] {
    return [Math.max(0, Math.ceil(fromMs / DT_MS - 1e-9)), Math.min(n - 1, Math.floor(toMs / DT_MS + 1e-9))]
}

function maxOf(a: Float64Array, [i0, i1]: [number, number]): number {
    let m = -Infinity
    for (let i = i0; i <= i1; i++) if (a[i] > m) m = a[i]
    return m
}

/** Index of the first difference, -1 if the arrays are identical (toEqual is slow on 30000 samples). */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
    if (a.length !== b.length) return Math.min(a.length, b.length)
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
    return -1
}

function minOf(a: Float64Array, [i0, i1]: [number, number]): number {
    let m = Infinity
    for (let i = i0; i <= i1; i++) if (a[i] < m) m = a[i]
    return m
}

function meanOf(a: Float64Array, [i0, i1]: [number, number]): number {
    let s = 0
    for (let i = i0; i <= i1; i++) s += a[i]
    return s / (i1 - i0 + 1)
}

function sdOf(a: Float64Array, range: [number, number]): number {
    const m = meanOf(a, range)
    let s = 0
    for (let i = range[0]; i <= range[1]; i++) s += (a[i] - m) ** 2
    return Math.sqrt(s / (range[1] - range[0] + 1))
}

const workSegments = (run: Run) => run.segments.filter(s => s.segment.kind === SegmentKind.Work)

describe("profiles", () => {
    test("every named profile exists, is named after its key and has finite parameters", () => {
        expect(Object.keys(PROFILES).sort()).toEqual([...PROFILE_NAMES].sort())
        for (const name of PROFILE_NAMES) {
            const p = PROFILES[name]
            expect(p.name).toBe(name)
            expect(p.description.length).toBeGreaterThan(10)
            for (const [k, v] of Object.entries(p)) if (typeof v === "number") expect(Number.isFinite(v), k).toBe(true)
            expect(p.packetLossProbability).toBe(name === "noisy_electrode" ? 0.01 : 0.002)
        }
    })

    test("the clinical pictures are ordered as the literature says", () => {
        const { typical, weak, hypertonic, spasm } = PROFILES
        expect(typical.restEmgUv).toBeGreaterThanOrEqual(2)
        expect(typical.restEmgUv).toBeLessThanOrEqual(5)
        expect(typical.mvcPressureCmH2O).toBeGreaterThanOrEqual(20)
        expect(typical.mvcPressureCmH2O).toBeLessThanOrEqual(50)
        expect(weak.mvcEmgUv).toBeLessThan(typical.mvcEmgUv / 2)
        expect(weak.fatiguePerRepPct).toBeGreaterThan(typical.fatiguePerRepPct)
        expect(hypertonic.restEmgUv).toBeGreaterThan(2 * typical.restEmgUv)
        expect(hypertonic.restEmgSdUv).toBeGreaterThan(2 * typical.restEmgSdUv)
        expect(hypertonic.fallMs).toBeGreaterThanOrEqual(1500)
        expect(spasm.spasmProbability).toBeGreaterThan(0)
        expect(hypertonic.spasmProbability).toBe(0)
    })

    test("makeProfile copies with overrides and keeps the table intact", () => {
        const p = makeProfile("weak", { riseMs: 123 })
        expect(p.riseMs).toBe(123)
        expect(p.name).toBe("weak")
        expect(PROFILES.weak.riseMs).not.toBe(123)
        expect(makeProfile("typical")).toEqual(PROFILES.typical)
        expect(() => makeProfile("nobody" as ProfileName)).toThrow(/unknown patient profile/)
    })

    test("lead_off loses the electrode in the middle of a hold of the Glazer assessment", () => {
        const at = PROFILES.lead_off.leadOffAfterFirstCueMs
        expect(at).toBe(glazerMidHoldMs(1))
        expect(PROFILES.lead_off.leadOffAtMs).toBe(-1)
        const run = glazer("typical", 1)
        const seg = run.segments.find(s => s.startMs <= at && at < s.endMs)!
        expect(seg.segment.block).toBe(Block.Holds)
        expect(seg.segment.kind).toBe(SegmentKind.Work)
        expect(at - seg.startMs).toBeGreaterThanOrEqual(4000)
        expect(seg.endMs - at).toBeGreaterThanOrEqual(4000)
    })
})

describe.each(PROFILE_NAMES.map(name => [name]))("Glazer assessment, profile %s", name => {
    test("the same seed gives the same samples and truth, another seed differs", () => {
        const a = runGlazer(makeProfile(name), 7)
        const b = runGlazer(makeProfile(name), 7)
        const c = runGlazer(makeProfile(name), 8)
        expect(firstDifference(b.emg, a.emg)).toBe(-1)
        expect(firstDifference(b.pressure, a.pressure)).toBe(-1)
        expect(b.truth).toEqual(a.truth)
        let differ = 0
        for (let i = 0; i < a.emg.length; i++) if (a.emg[i] !== c.emg[i] || a.pressure[i] !== c.pressure[i]) differ++
        expect(differ / a.emg.length).toBeGreaterThan(0.9)
        expect(c.truth.reps.map(r => r.onsetMs)).not.toEqual(a.truth.reps.map(r => r.onsetMs))
    })

    test("one true rep per work segment: onset after the cue by a reaction time, offset after the let-go cue", () => {
        for (const seed of [1, 2, 3]) {
            const run = glazer(name, seed)
            const work = workSegments(run)
            const { reps } = run.truth
            expect(reps).toHaveLength(plannedReps(GLAZER_ASSESSMENT))
            expect(reps).toHaveLength(work.length)
            const [lo, hi] = reactionBoundsMs(run.profile)
            reps.forEach((r, k) => {
                expect(r.repIndex).toBe(work[k].segment.repIndex)
                expect(r.cueOnMs).toBe(work[k].startMs)
                expect(r.cueOffMs).toBe(work[k].endMs)
                expect(r.onsetMs - r.cueOnMs).toBeGreaterThanOrEqual(lo)
                expect(r.onsetMs - r.cueOnMs).toBeLessThanOrEqual(hi)
                // the default profiles all let go fully between contractions
                expect(r.released).toBe(true)
                expect(r.offsetMs).toBeGreaterThan(r.cueOffMs + lo)
                expect(r.fallStartMs - r.cueOffMs).toBeGreaterThanOrEqual(lo)
                expect(r.fallStartMs - r.cueOffMs).toBeLessThanOrEqual(hi)
                expect(r.offsetMs - r.fallStartMs).toBeLessThanOrEqual(run.profile.fallMs + 1e-9)
                expect(r.residualActivation).toBe(0)
                expect(r.peakActivation).toBeGreaterThan(0.5)
                if (k + 1 < reps.length) expect(r.offsetMs).toBeLessThan(reps[k + 1].onsetMs)
            })
        }
    })

    test("the activation is 0 outside the true reps and positive inside them", () => {
        const run = glazer(name, 1)
        const n = run.activation.length
        const inRep = new Uint8Array(n)
        const bad: string[] = []
        for (const r of run.truth.reps) {
            const [i0, i1] = indices(r.onsetMs, r.offsetMs, n)
            for (let i = i0; i <= i1; i++) inRep[i] = 1
            // strictly inside the ramps the activation is > 0
            const [j0, j1] = indices(r.onsetMs + 1e-6, r.offsetMs - 1e-6, n)
            for (let i = j0; i <= j1; i++) if (!(run.activation[i] > 0)) bad.push(`0 in rep ${r.repIndex} at ${i * DT_MS} ms`)
            expect(maxOf(run.activation, [i0, i1])).toBe(r.repPeakActivation)
        }
        for (let i = 0; i < n; i++) {
            const a = run.activation[i]
            if (!inRep[i] && a !== 0) bad.push(`${a} outside the reps at ${i * DT_MS} ms`)
            if (!(a >= 0 && a <= 1)) bad.push(`${a} out of [0, 1] at ${i * DT_MS} ms`)
        }
        expect(bad.slice(0, 5)).toEqual([])
    })

    test("true peaks are the noise-free maxima over the work window (and the rep), and the measured signals agree within noise", () => {
        for (const seed of [1, 2]) {
            const run = glazer(name, seed)
            const p = run.profile
            const n = run.emg.length
            const bumps = run.truth.valsalvaMs
            for (const r of run.truth.reps) {
                const repRange = indices(r.onsetMs, r.offsetMs, n)
                expect(maxOf(run.cleanEmg, repRange)).toBe(r.repPeakEmgUv)
                expect(maxOf(run.cleanPressure, repRange)).toBe(r.repPeakPressureCmH2O)
                const range = indices(r.cueOnMs, r.cueOffMs - DT_MS, n)
                expect(maxOf(run.cleanEmg, range)).toBe(r.peakEmgUv)
                expect(maxOf(run.cleanPressure, range)).toBe(r.peakPressureCmH2O)
                expect(maxOf(run.activation, range)).toBe(r.peakActivation)
                expect(r.repPeakEmgUv).toBeGreaterThanOrEqual(r.peakEmgUv)
                expect(r.repPeakEmgUv).toBeLessThanOrEqual(1.15 * r.peakEmgUv)
                expect(r.peakEmgUv).toBeGreaterThan(p.restEmgUv + 0.5 * p.mvcEmgUv * r.peakActivation)

                const nearBump = bumps.some(b => b < r.cueOffMs + 100 && b + p.valsalvaMs > r.cueOnMs - 100)
                if (!nearBump) {
                    const measured = maxOf(run.pressure, range) - p.balloonCmH2O
                    expect(Math.abs(measured - r.peakPressureCmH2O)).toBeLessThanOrEqual(p.breathingCmH2O + 5 * p.pressureNoiseCmH2O)
                }
                if (r.interrupted) continue
                const sigma = p.emgNoiseFraction * r.peakEmgUv + p.emgNoiseFloorUv
                const measured = maxOf(run.emg, range)
                expect(measured).toBeGreaterThanOrEqual(r.peakEmgUv - 5 * sigma)
                expect(measured).toBeLessThanOrEqual(r.peakEmgUv + 5 * sigma + 1.5 * p.emgSpikeUv * (p.emgSpikeRatePerS > 0 ? 1 : 0))
                // the noise is zero-mean around the noise-free envelope
                let resid = 0
                for (let i = range[0]; i <= range[1]; i++) resid += run.emg[i] - run.cleanEmg[i]
                expect(Math.abs(resid / (range[1] - range[0] + 1))).toBeLessThanOrEqual(sigma)
            }
            expect(run.truth.mvcEmgUv).toBe(Math.max(...run.truth.reps.filter(r => !r.interrupted).map(r => r.peakEmgUv)))
            expect(run.truth.mvcPressureCmH2O).toBe(Math.max(...run.truth.reps.filter(r => !r.interrupted).map(r => r.peakPressureCmH2O)))
        }
    })

    test("rest windows: one per Rest/Release cue, the true means match the measured means", () => {
        const run = glazer(name, 1)
        const p = run.profile
        const n = run.emg.length
        const restSegs = run.segments.filter(s => s.segment.cue !== Cue.Contract)
        expect(run.truth.restEmgUv.map(w => [w.startMs, w.endMs, w.cue])).toEqual(restSegs.map(s => [s.startMs, s.endMs, s.segment.cue]))
        expect(run.truth.restPressureCmH2O.map(w => [w.startMs, w.endMs])).toEqual(restSegs.map(s => [s.startMs, s.endMs]))
        run.truth.restEmgUv.forEach((w, k) => {
            const range = indices(w.startMs, w.endMs - DT_MS, n)
            expect(w.meanUv).toBeCloseTo(meanOf(run.tone, range), 9)
            expect(w.meanSignalUv).toBeCloseTo(meanOf(run.cleanEmg, range), 9)
            expect(w.meanSignalUv).toBeGreaterThanOrEqual(w.meanUv - 1e-9)
            const pw = run.truth.restPressureCmH2O[k]
            expect(pw.meanUv).toBeCloseTo((w.meanUv - p.restEmgUv) * p.toneCmH2OPerUv, 6)
            if (!w.contact) return
            const measured = meanOf(run.emg, range)
            expect(Math.abs(measured - w.meanSignalUv)).toBeLessThanOrEqual(0.1 * w.meanSignalUv + 0.5)
        })
        // the pre-baseline: no contraction yet, so tone and signal agree
        const pre = run.truth.restEmgUv[0]
        expect(pre.meanSignalUv).toBeCloseTo(pre.meanUv, 9)
        expect(Math.abs(pre.meanUv - p.restEmgUv)).toBeLessThanOrEqual(3 * p.restEmgSdUv)
    })

    test("the probe is in from the first sample: pressure reads the balloon at rest", () => {
        const run = glazer(name, 1)
        const p = run.profile
        const first = meanOf(run.pressure, [0, 399])
        expect(Math.abs(first - p.balloonCmH2O)).toBeLessThanOrEqual(p.breathingCmH2O + 3 * p.restEmgSdUv * p.toneCmH2OPerUv + 0.5)
    })
})

describe("hypertonic", () => {
    test("releases slower than typical, with a higher, less stable rest tone", () => {
        for (const seed of [1, 2, 3]) {
            const typ = glazer("typical", seed)
            const hyp = glazer("hypertonic", seed)
            const release = (run: Run) => {
                const r = run.truth.reps.filter(x => x.released)
                return r.reduce((s, x) => s + (x.offsetMs - x.cueOffMs), 0) / r.length
            }
            expect(release(hyp)).toBeGreaterThan(release(typ) + 800)
            // one second after each let-go cue the typical patient has let go, the hypertonic one has not
            for (const [run, relaxed] of [
                [typ, true],
                [hyp, false],
            ] as const) {
                for (const r of run.truth.reps) {
                    const a = run.activation[Math.round((r.cueOffMs + 1000) / DT_MS)]
                    if (relaxed) expect(a).toBe(0)
                    else expect(a).toBeGreaterThan(0.05)
                }
            }
            const pre = (run: Run) => indices(0, 59990, run.emg.length)
            expect(meanOf(hyp.emg, pre(hyp))).toBeGreaterThan(2 * meanOf(typ.emg, pre(typ)))
            expect(sdOf(hyp.tone, pre(hyp))).toBeGreaterThan(2 * sdOf(typ.tone, pre(typ)))
        }
    })

    test("a release slower than the flick gap is cut by the next squeeze: not released, offset -1", () => {
        let cut = 0
        for (const seed of [1, 2, 3]) {
            const run = runGlazer(makeProfile("hypertonic", { fallMs: 2600 }), seed)
            for (const [k, r] of run.truth.reps.entries()) {
                if (r.released) continue
                cut++
                expect(r.offsetMs).toBe(-1)
                expect(r.residualActivation).toBeGreaterThan(0)
                const next = run.truth.reps[k + 1]
                // the activation never got back to 0 between the two
                const range = indices(r.cueOffMs, next.onsetMs, run.activation.length)
                for (let i = range[0]; i <= range[1]; i++) expect(run.activation[i]).toBeGreaterThan(0)
                expect(run.model.activation(next.onsetMs)).toBeCloseTo(r.residualActivation, 9)
            }
        }
        expect(cut).toBeGreaterThan(0)
    })
})

describe("spasm", () => {
    test.each([1, 2, 3, 4, 5])("seed %i: a toning contraction sets off a spasm that raises the rest tone", seed => {
        const run = glazer("spasm", seed)
        const p = run.profile
        const { truth } = run
        expect(truth.spasmMs.length).toBeGreaterThanOrEqual(1)
        expect(truth.spasmMs.length).toBeLessThanOrEqual(p.spasmMaxCount)
        const triggered = truth.reps.filter(r => r.spasmTriggered)
        expect(triggered).toHaveLength(truth.spasmMs.length)
        const s = truth.spasmMs[0]
        expect(s - triggered[0].onsetMs).toBeGreaterThanOrEqual(p.spasmDelayMs)
        expect(s - triggered[0].onsetMs).toBeLessThanOrEqual(p.spasmDelayMs + DT_MS)

        const before = truth.restEmgUv.filter(w => w.endMs <= s)
        const after = truth.restEmgUv.filter(w => w.startMs >= s + p.spasmRiseMs)
        expect(before.length).toBeGreaterThan(0)
        expect(after.length).toBeGreaterThan(0)
        const mean = (ws: { meanUv: number }[]) => ws.reduce((a, w) => a + w.meanUv, 0) / ws.length
        expect(mean(after)).toBeGreaterThan(mean(before) + p.spasmToneUv / 2)
        // the pressure rest tone rises with it
        const pBefore = truth.restPressureCmH2O.filter(w => w.endMs <= s)
        const pAfter = truth.restPressureCmH2O.filter(w => w.startMs >= s + p.spasmRiseMs)
        expect(mean(pAfter)).toBeGreaterThan(mean(pBefore) + (p.spasmToneUv * p.toneCmH2OPerUv) / 2)
        // and the probe sees it: post-baseline EMG well above the pre-baseline
        const n = run.emg.length
        const pre = meanOf(run.emg, indices(0, 59990, n))
        const post = meanOf(run.emg, indices(240000, 299990, n))
        expect(post).toBeGreaterThan(pre + p.spasmToneUv / 2)
    })

    test("no spasm without the profile's probability, or with a relaxed floor", () => {
        for (const seed of [1, 2, 3]) {
            expect(glazer("hypertonic", seed).truth.spasmMs).toEqual([])
            // a typical rest tone (3 uV) is under the 10 uV threshold: toning is safe
            const relaxed = runGlazer(makeProfile("typical", { spasmProbability: 1 }), seed)
            expect(relaxed.truth.spasmMs).toEqual([])
            expect(relaxed.truth.reps.some(r => r.spasmTriggered)).toBe(false)
        }
    })
})

describe("lead_off", () => {
    test("the envelope rails from the lead-off, and every rep in progress or later is interrupted", () => {
        for (const seed of [1, 2, 3]) {
            const run = glazer("lead_off", seed)
            const p = run.profile
            // the first cue is at 0 here
            const at = p.leadOffAfterFirstCueMs
            expect(run.truth.leadOffMs).toBe(at)
            const i0 = Math.ceil(at / DT_MS)
            expect(maxOf(run.emg, [0, i0 - 1])).toBeLessThan(200)
            expect(minOf(run.emg, [i0, run.emg.length - 1])).toBeGreaterThan(p.leadOffUv - 6 * p.leadOffJitterUv)
            expect(maxOf(run.emg, [i0, run.emg.length - 1])).toBeLessThan(p.leadOffUv + 6 * p.leadOffJitterUv)
            const interrupted = run.truth.reps.filter(r => r.interrupted)
            expect(interrupted.length).toBeGreaterThan(0)
            for (const r of run.truth.reps) expect(r.interrupted).toBe(r.offsetMs >= at || r.cueOffMs >= at)
            const during = run.truth.reps.find(r => r.cueOnMs <= at && at < r.cueOffMs)!
            expect(during.interrupted).toBe(true)
            // the MVC comes from the reps the probe saw
            expect(run.truth.mvcEmgUv).toBe(Math.max(...run.truth.reps.filter(r => !r.interrupted).map(r => r.peakEmgUv)))
            // rest windows after it have no contact; pressure still follows the squeezes
            for (const w of run.truth.restEmgUv) expect(w.contact).toBe(w.endMs <= at)
            const last = run.truth.reps[run.truth.reps.length - 1]
            const seen = maxOf(run.pressure, indices(last.cueOnMs, last.cueOffMs - DT_MS, run.pressure.length)) - p.balloonCmH2O
            expect(Math.abs(seen - last.peakPressureCmH2O)).toBeLessThanOrEqual(p.breathingCmH2O + 5 * p.pressureNoiseCmH2O)
        }
    })

    test("the lead-off counts from the first cue: mid-hold wherever the session starts in sample time", () => {
        const run = runGlazer(makeProfile("lead_off"), 1, 3730)
        const at = run.truth.leadOffMs
        expect(at).toBe(3730 + glazerMidHoldMs(1))
        const seg = run.segments.find(s => s.startMs <= at && at < s.endMs)!
        expect(seg.segment.block).toBe(Block.Holds)
        expect(seg.segment.kind).toBe(SegmentKind.Work)
        expect(run.truth.reps.find(r => r.cueOnMs === seg.startMs)!.interrupted).toBe(true)
        expect(run.emg[Math.ceil(at / DT_MS)]).toBeGreaterThan(1000)
        expect(run.emg[Math.ceil(at / DT_MS) - 1]).toBeLessThan(200)
        // a fixed sample time works too
        const fixed = runGlazer(makeProfile("typical", { leadOffAtMs: 50000 }), 1, 3730)
        expect(fixed.truth.leadOffMs).toBe(50000)
        expect(fixed.truth.reps.every(r => r.interrupted)).toBe(true)
    })

    test("other profiles never lose the electrode", () => {
        for (const name of PROFILE_NAMES) if (name !== "lead_off") {
            const run = glazer(name, 1)
            expect(run.truth.leadOffMs).toBe(-1)
            expect(run.truth.reps.every(r => !r.interrupted)).toBe(true)
            expect(Math.max(...run.emg)).toBeLessThan(200)
        }
    })
})

describe("a cue reported after the samples passed it", () => {
    /** Rest from 0, samples up to `seenAtMs`, then a Contract cue that began at 1000 ms: its rep's truth and the activation until then. */
    function lateContract(seenAtMs: number, notBefore: boolean) {
        const model = new PatientModel(makeProfile("weak"), 5)
        model.seeCue(Cue.Rest, 0, -1)
        let maxActivation = 0
        for (let t = 0; t <= seenAtMs; t += DT_MS) {
            model.sample(t)
            maxActivation = Math.max(maxActivation, model.activation())
        }
        model.seeCue(Cue.Contract, 1000, 0, notBefore ? seenAtMs : undefined)
        for (let t = seenAtMs + DT_MS; t <= 4000; t += DT_MS) model.sample(t)
        return { rep: model.truth().reps[0], maxActivation }
    }

    test("the reaction counts from the cue; the action never starts before the newest sample already produced", () => {
        // on time: the reference reaction for this seed
        const reaction = lateContract(1000, false).rep.onsetMs - 1000
        const [lo, hi] = reactionBoundsMs(makeProfile("weak"))
        expect(reaction).toBeGreaterThanOrEqual(lo)
        // seen 100 ms late, inside the reaction time: as if seen on time
        const soon = lateContract(1100, true)
        expect(soon.rep.cueOnMs).toBe(1000)
        expect(soon.rep.onsetMs).toBe(1000 + reaction)
        expect(soon.maxActivation).toBe(0)
        // seen after the reaction time would have ended: she starts from the newest sample, not in the past
        const late = lateContract(1000 + hi + 200, true)
        expect(late.rep.onsetMs).toBe(1000 + hi + 200)
        expect(late.maxActivation).toBe(0)
        // without notBeforeMs the truth would put the onset among samples already produced at rest
        expect(lateContract(1000 + hi + 200, false).rep.onsetMs).toBeLessThan(1000 + hi + 200)
    })
})

/** Rest only: a Rest cue at 0, then `durationMs` of samples; optional contractions at `contractAt` (2 s each). */
function runRest(profile: PatientProfile, seed: number, durationMs: number, contractAt: number[] = []) {
    const model = new PatientModel(profile, seed)
    const n = Math.round(durationMs / DT_MS)
    const pressure = new Float64Array(n)
    const emg = new Float64Array(n)
    const activation = new Float64Array(n)
    const cues = [{ t: 0, cue: Cue.Rest, rep: -1 }]
    contractAt.forEach((t, k) => cues.push({ t, cue: Cue.Contract, rep: k }, { t: t + 2000, cue: Cue.Release, rep: -1 }))
    cues.sort((a, b) => a.t - b.t)
    let next = 0
    for (let i = 0; i < n; i++) {
        const t = i * DT_MS
        while (next < cues.length && cues[next].t <= t) {
            model.seeCue(cues[next].cue, cues[next].t, cues[next].rep)
            next++
        }
        const s = model.sample(t)
        pressure[i] = s.pressureCmH2O
        emg[i] = s.emgUv
        activation[i] = model.activation()
    }
    return { model, pressure, emg, activation, truth: model.truth() }
}

describe("pressure artefacts and the probe", () => {
    test("a bear-down (Valsalva) raises pressure with no EMG change", () => {
        const base = makeProfile("typical", { valsalvaEveryMs: 0 })
        const strain = makeProfile("typical", { valsalvaEveryMs: 20000, valsalvaCmH2O: 20, valsalvaMs: 2500 })
        const a = runRest(base, 3, 60000)
        const b = runRest(strain, 3, 60000)
        expect(b.truth.valsalvaMs).toEqual([20000, 40000])
        expect(a.truth.valsalvaMs).toEqual([])
        // the EMG is sample for sample the same: the bump is pressure only
        expect(firstDifference(b.emg, a.emg)).toBe(-1)
        expect(b.activation.every(x => x === 0)).toBe(true)
        let differOutside = 0
        for (let i = 0; i < b.pressure.length; i++) {
            const t = i * DT_MS
            const inBump = b.truth.valsalvaMs.some(v => t >= v && t < v + strain.valsalvaMs)
            if (!inBump && b.pressure[i] !== a.pressure[i]) differOutside++
        }
        expect(differOutside).toBe(0)
        for (const v of b.truth.valsalvaMs) {
            const i = Math.round((v + strain.valsalvaMs / 2) / DT_MS)
            expect(b.pressure[i] - a.pressure[i]).toBeCloseTo(strain.valsalvaCmH2O, 9)
            expect(b.pressure[i] - strain.balloonCmH2O).toBeGreaterThan(strain.valsalvaCmH2O - 3)
        }
    })

    test("the weak patient bears down now and then during the assessment", () => {
        const run = glazer("weak", 1)
        expect(run.truth.valsalvaMs.length).toBeGreaterThanOrEqual(5)
        const v = run.truth.valsalvaMs[0]
        const i = Math.round((v + run.profile.valsalvaMs / 2) / DT_MS)
        expect(run.pressure[i] - run.profile.balloonCmH2O).toBeGreaterThan(run.profile.valsalvaCmH2O - 3)
    })

    test("pressure is exactly 0 before insertion, rises over the insertion ramp, and the EMG has no contact until then", () => {
        const profile = makeProfile("typical", { insertAtMs: 5000, insertRampMs: 1500 })
        const run = runRest(profile, 1, 20000, [2000, 10000])
        for (let i = 0; i < run.pressure.length; i++) {
            const t = i * DT_MS
            if (t < 5000) {
                expect(run.pressure[i]).toBe(0)
                expect(run.emg[i]).toBeGreaterThan(profile.leadOffUv - 6 * profile.leadOffJitterUv)
            } else expect(run.emg[i]).toBeLessThan(200)
            if (t >= 6500 && t < 9500) expect(Math.abs(run.pressure[i] - profile.balloonCmH2O)).toBeLessThan(3)
        }
        const mid = run.pressure[Math.round(5750 / DT_MS)]
        expect(mid).toBeGreaterThan(2)
        expect(mid).toBeLessThan(profile.balloonCmH2O - 2)
        // the squeeze before insertion is interrupted, the one after is not
        expect(run.truth.reps.map(r => r.interrupted)).toEqual([true, false])
        expect(run.truth.restEmgUv[0].contact).toBe(false)
        expect(run.truth.restEmgUv[run.truth.restEmgUv.length - 1].contact).toBe(true)
    })

    test("removing the probe drops pressure to 0, rails the EMG, and interrupts the rep", () => {
        const profile = makeProfile("typical", { removeAtMs: 11000 })
        const run = runRest(profile, 2, 20000, [2000, 10000])
        expect(run.truth.removedMs).toBe(11000)
        for (let i = Math.round(11000 / DT_MS); i < run.pressure.length; i++) {
            expect(run.pressure[i]).toBe(0)
            expect(run.emg[i]).toBeGreaterThan(profile.leadOffUv - 6 * profile.leadOffJitterUv)
        }
        expect(run.truth.reps.map(r => r.interrupted)).toEqual([false, true])
    })
})

describe("noisy electrode", () => {
    test("noisier than typical at rest, with spikes the typical patient never shows", () => {
        const typ = glazer("typical", 4)
        const noisy = glazer("noisy_electrode", 4)
        const pre: [number, number] = [0, 5999]
        const residual = (run: Run) => {
            const r = new Float64Array(pre[1] + 1)
            for (let i = 0; i <= pre[1]; i++) r[i] = run.emg[i] - run.cleanEmg[i]
            return r
        }
        // same seed: same physiology, only the electrode differs
        expect(firstDifference(noisy.cleanEmg, typ.cleanEmg)).toBe(-1)
        expect(sdOf(residual(noisy), pre)).toBeGreaterThan(2 * sdOf(residual(typ), pre))
        const big = (run: Run) => {
            let k = 0
            for (let i = 0; i < run.emg.length; i++) if (run.emg[i] - run.cleanEmg[i] > 15) k++
            return k
        }
        expect(big(typ)).toBe(0)
        expect(big(noisy)).toBeGreaterThan(0)
    })
})

describe("fatigue", () => {
    test("peaks decline rep after rep and the endurance hold sags, more for the weak patient", () => {
        for (const seed of [1, 2]) {
            const weak = glazer("weak", seed)
            const typ = glazer("typical", seed)
            const holds = (run: Run) => run.truth.reps.slice(5, 10).map(r => r.peakActivation)
            expect(holds(weak)[4]).toBeLessThan(holds(weak)[0])
            const sag = (run: Run) => {
                const e = run.truth.reps[10]
                const early = meanOf(run.activation, indices(e.onsetMs + 1000, e.onsetMs + 11000, run.activation.length))
                const late = meanOf(run.activation, indices(e.cueOffMs - 10000, e.cueOffMs, run.activation.length))
                return 1 - late / early
            }
            expect(sag(weak)).toBeGreaterThan(0.3)
            expect(sag(typ)).toBeGreaterThan(0.08)
            expect(sag(weak)).toBeGreaterThan(sag(typ))
        }
    })
})

describe("sample-time contract", () => {
    test("samples must come in order; a repeated time gives the same sample", () => {
        const m = new PatientModel(PROFILES.typical, 1)
        m.seeCue(Cue.Rest, 0, -1)
        m.sample(0)
        const s = m.sample(10)
        expect(m.sample(10)).toEqual(s)
        expect(() => m.sample(5)).toThrow(RangeError)
        expect(() => m.sample(NaN)).toThrow(RangeError)
    })

    test("activation(t) looks ahead from the cues seen; crossingMs brackets the ramps", () => {
        const m = new PatientModel(PROFILES.typical, 1)
        m.seeCue(Cue.Contract, 0, 0)
        expect(m.activation()).toBe(0)
        expect(m.activation(0)).toBe(0)
        expect(m.activation(2000)).toBeGreaterThan(0.8)
        for (let t = 0; t < 2000; t += DT_MS) m.sample(t)
        m.seeCue(Cue.Release, 2000, -1)
        for (let t = 2000; t < 5000; t += DT_MS) m.sample(t)
        const rep = m.truth().reps[0]
        const up = m.crossingMs(0, 0.05, "rise")
        expect(up).toBeGreaterThan(rep.onsetMs)
        expect(up).toBeLessThan(rep.onsetMs + PROFILES.typical.riseMs)
        expect(m.activation(up)).toBeGreaterThanOrEqual(0.05)
        expect(m.activation(up - 1)).toBeLessThan(0.05)
        const down = m.crossingMs(0, 0.05, "fall")
        expect(down).toBeGreaterThan(rep.fallStartMs)
        expect(down).toBeLessThan(rep.offsetMs)
        expect(m.activation(down)).toBeLessThanOrEqual(0.05)
        expect(m.crossingMs(0, 0, "fall")).toBeCloseTo(rep.offsetMs, 0)
        expect(m.crossingMs(9, 0.05, "rise")).toBe(-1)
    })
})

describe("packet loss", () => {
    test.each(PROFILE_NAMES.map(name => [name]))("%s: seeded, per batch, near the profile's probability", name => {
        const p = PROFILES[name].packetLossProbability
        const batches = 200000
        const count = (seed: number) => {
            const m = new PatientModel(PROFILES[name], seed)
            const lost: number[] = []
            for (let b = 0; b < batches; b++) if (m.dropsBatch(b * 2)) lost.push(b * 2)
            return lost
        }
        const a = count(11)
        expect(count(11)).toEqual(a)
        expect(count(12)).not.toEqual(a)
        const sd = Math.sqrt((p * (1 - p)) / batches)
        expect(Math.abs(a.length / batches - p)).toBeLessThanOrEqual(4 * sd)
        // a pure function of (seed, firstSeq): sampling does not change it
        const m = new PatientModel(PROFILES[name], 11)
        m.seeCue(Cue.Rest, 0, -1)
        for (let i = 0; i < 100; i++) m.sample(i * DT_MS)
        expect(a.every(seq => m.dropsBatch(seq))).toBe(true)
    })

    test("probability 0 never drops, 1 always does", () => {
        const never = new PatientModel(makeProfile("typical", { packetLossProbability: 0 }), 1)
        const always = new PatientModel(makeProfile("typical", { packetLossProbability: 1 }), 1)
        for (let s = 0; s < 1000; s += 2) {
            expect(never.dropsBatch(s)).toBe(false)
            expect(always.dropsBatch(s)).toBe(true)
        }
    })
})

describe("probe-feed adapter", () => {
    test("patientSource gives the model's sample for (seq, seq / rate)", () => {
        const a = new PatientModel(PROFILES.typical, 5)
        const b = new PatientModel(PROFILES.typical, 5)
        a.seeCue(Cue.Contract, 0, 0)
        b.seeCue(Cue.Contract, 0, 0)
        const source = patientSource(a, RATE_HZ)
        for (let seq = 0; seq < 300; seq++) expect(source(seq, seq * DT_MS)).toEqual(b.sample(seq * DT_MS))
        expect(() => patientSource(new PatientModel(PROFILES.typical, 5), 200)(10, 100)).toThrow(/another rate/)
    })
})

describe("properties", () => {
    test("for any seed, profile and cue sequence the samples are finite, EMG >= 0, activation in [0, 1]", () => {
        const cue = fc.constantFrom(Cue.Idle, Cue.Rest, Cue.Contract, Cue.Release)
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 2 ** 32 - 1 }),
                fc.constantFrom(...PROFILE_NAMES),
                fc.array(fc.record({ cue, gapMs: fc.integer({ min: 0, max: 4000 }) }), { maxLength: 12 }),
                fc.integer({ min: -1000, max: 3000 }),
                (seed, name, cues, insertAtMs) => {
                    const m = new PatientModel(makeProfile(name, { insertAtMs, insertRampMs: 500 }), seed)
                    let t = 0
                    let rep = 0
                    const at: { t: number; cue: Cue }[] = []
                    for (const c of cues) {
                        t += c.gapMs
                        at.push({ t, cue: c.cue })
                    }
                    let next = 0
                    for (let tMs = 0; tMs <= t + 3000; tMs += DT_MS) {
                        while (next < at.length && at[next].t <= tMs) {
                            m.seeCue(at[next].cue, tMs, at[next].cue === Cue.Contract ? rep++ : -1)
                            next++
                        }
                        const s = m.sample(tMs)
                        if (!Number.isFinite(s.pressureCmH2O) || !Number.isFinite(s.emgUv) || s.emgUv < 0) return false
                        const a = m.activation()
                        if (!(a >= 0 && a <= 1)) return false
                    }
                    const truth = m.truth()
                    for (const r of truth.reps) {
                        if (![r.peakEmgUv, r.peakPressureCmH2O, r.peakActivation, r.repPeakEmgUv, r.onsetMs].every(Number.isFinite)) return false
                        if (r.onsetMs < r.cueOnMs) return false
                        if (r.offsetMs >= 0 && r.offsetMs < r.onsetMs) return false
                    }
                    return truth.restEmgUv.every(w => Number.isFinite(w.meanUv) && w.meanUv >= 0)
                }
            ),
            { numRuns: 60 }
        )
    })
})
