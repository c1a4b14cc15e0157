// Contraction metrics under Node: the shared case tables (tests/vm/metrics.vm.ts
// runs the same ones in the DeviceScript VM) plus Node-only property tests
// and a full Glazer assessment.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    ChannelAnalyzer,
    DEFAULT_EMG_ANALYZER,
    DEFAULT_PRESSURE_ANALYZER,
    smoothingDelayMs,
    type ChannelAnalyzerOptions,
} from "../../src/core/metrics/channel-analyzer"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../../src/core/metrics/types"
import {
    assessmentSegments,
    Block,
    GLAZER_ASSESSMENT,
    plannedReps,
    SegmentKind,
    type AssessmentOptions,
    type Segment,
} from "../../src/core/protocol/assessment"
import { DEFAULT_SIGNAL_CHAIN, SignalChain } from "../../src/core/signal-chain"
import { InspectableAnalyzer } from "../cases/inspectable-analyzer"
import { uvToMv } from "../../src/core/units"
import { metricsCases, metricsGroups, metricsThrowCases } from "../cases/metrics.cases"
import { runCases } from "../helpers/run-cases"

runCases("core/metrics (shared cases)", metricsCases(), metricsThrowCases)

// ---- Node-only ----

/** Half-cosine ramp 0..1 over `ms` (the simulator's contraction shape). */
function halfCosine(t: number, ms: number): number {
    if (t <= 0) return 0
    if (t >= ms) return 1
    return (1 - Math.cos((Math.PI * t) / ms)) / 2
}

interface Contraction {
    /** [ms] true onset (leaves rest) */
    onMs: number
    riseMs: number
    /** [ms] start of the fall */
    fallStartMs: number
    fallMs: number
    amp: number
}

function contractionAt(c: Contraction, t: number): number {
    if (t < c.onMs || t >= c.fallStartMs + c.fallMs) return 0
    if (t < c.fallStartMs) return c.amp * halfCosine(t - c.onMs, c.riseMs)
    return c.amp * (1 - halfCosine(t - c.fallStartMs, c.fallMs)) * halfCosine(c.fallStartMs - c.onMs, c.riseMs)
}

/** Seeded Gaussian noise (Box-Muller over a small LCG). */
function gaussian(seed: number): () => number {
    let x = seed >>> 0 || 1
    const uniform = () => {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0
        return (x + 0.5) / 4294967296
    }
    return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
}

interface SimResult {
    analyzer: ChannelAnalyzer
    segStarts: number[]
    taken: RepMetrics[]
}

/**
 * Runs segments laid end to end with a signal function; takeFinishedReps
 * after every sample.
 */
function simulate(
    options: ChannelAnalyzerOptions,
    segments: Segment[],
    signal: (t: number) => number,
    planned: number
): SimResult {
    const a = new ChannelAnalyzer(options, planned)
    const dt = 1000 / options.sampleRateHz
    const segStarts: number[] = []
    let end = 0
    for (const s of segments) {
        segStarts.push(end)
        end += s.durationMs
    }
    const taken: RepMetrics[] = []
    let k = 0
    for (let i = 0; ; i++) {
        const t = i * dt
        if (t >= end) break
        while (k < segments.length && segStarts[k] <= t) {
            a.beginSegment(segments[k], segStarts[k])
            k++
        }
        a.push(t, signal(t))
        for (const r of a.takeFinishedReps()) taken.push(r)
    }
    a.finish(end)
    for (const r of a.takeFinishedReps()) taken.push(r)
    return { analyzer: a, segStarts, taken }
}

function allFinite(o: object): boolean {
    for (const v of Object.values(o)) {
        if (typeof v === "number" && !Number.isFinite(v)) return false
        if (typeof v === "object" && v !== null && !allFinite(v)) return false
    }
    return true
}

function work(block: Block, ms: number, rep: number): Segment {
    return { kind: SegmentKind.Work, cue: 2, block, durationMs: ms, repIndex: rep }
}
function rest(block: Block, ms: number): Segment {
    return { kind: SegmentKind.Rest, cue: 3, block, durationMs: ms, repIndex: -1 }
}
function baseline(block: Block, ms: number): Segment {
    return { kind: SegmentKind.Baseline, cue: 1, block, durationMs: ms, repIndex: -1 }
}

describe("core/metrics (properties)", () => {
    test("onset and offset errors are bounded for half-cosine contractions in Gaussian rest noise", () => {
        fc.assert(
            fc.property(
                fc.record({
                    seed: fc.integer({ min: 1, max: 1e9 }),
                    restMean: fc.double({ min: 2, max: 10, noNaN: true }),
                    restSd: fc.double({ min: 0.05, max: 1, noNaN: true }),
                    snr: fc.double({ min: 30, max: 200, noNaN: true }),
                    reactionMs: fc.integer({ min: 150, max: 800 }),
                    riseMs: fc.integer({ min: 100, max: 400 }),
                    fallMs: fc.integer({ min: 100, max: 400 }),
                    holdMs: fc.integer({ min: 1200, max: 3000 }),
                }),
                p => {
                    const cueOn = 3000
                    const c: Contraction = {
                        onMs: cueOn + p.reactionMs,
                        riseMs: p.riseMs,
                        fallStartMs: cueOn + p.reactionMs + p.holdMs,
                        fallMs: p.fallMs,
                        // SNR against the floored SD the thresholds use
                        amp: p.snr * Math.max(p.restSd, DEFAULT_EMG_ANALYZER.minThreshold / DEFAULT_EMG_ANALYZER.kHigh),
                    }
                    const noise = gaussian(p.seed)
                    const segs = [baseline(Block.PreBaseline, 3000), work(Block.Holds, 4000, 0), rest(Block.Holds, 3000)]
                    const r = simulate(DEFAULT_EMG_ANALYZER, segs, t => p.restMean + p.restSd * noise() + contractionAt(c, t), 1)
                    const reps = r.analyzer.reps()
                    expect(reps.length).toBe(1)
                    const rep = reps[0]
                    // threshold-crossing bias of a half-cosine ramp: T (2/pi) sqrt(kLow sd / A) with sd the
                    // floored one (minThreshold / kHigh at least); noise 3 SD down crosses at (kLow + 3) sd:
                    // allow that plus a sample. The other way, rest noise above the low threshold can move the
                    // crossing later by a few samples (60 ms: P ~ 0.13^6)
                    const sd = Math.max(p.restSd, DEFAULT_EMG_ANALYZER.minThreshold / DEFAULT_EMG_ANALYZER.kHigh)
                    const bias = (T: number) => T * (2 / Math.PI) * Math.sqrt((4 * sd) / c.amp) + 15
                    expect(rep.flags & RepFlag.NoContraction).toBe(0)
                    expect(rep.onsetMs - c.onMs).toBeGreaterThanOrEqual(-60)
                    expect(rep.onsetMs - c.onMs).toBeLessThanOrEqual(bias(c.riseMs))
                    const trueOffset = c.fallStartMs + c.fallMs
                    expect(trueOffset - rep.offsetMs).toBeGreaterThanOrEqual(-60)
                    expect(trueOffset - rep.offsetMs).toBeLessThanOrEqual(bias(c.fallMs))
                }
            ),
            { numRuns: 200 }
        )
    })

    test("any input: no crash, finite outputs, reps <= planned, each rep taken once", () => {
        const segArb = fc.record({
            kind: fc.constantFrom(SegmentKind.Baseline, SegmentKind.Work, SegmentKind.Rest),
            block: fc.constantFrom(Block.PreBaseline, Block.Flicks, Block.Holds, Block.Endurance, Block.PostBaseline),
            durationMs: fc.integer({ min: 0, max: 3000 }),
        })
        const eventArb = fc.record({
            at: fc.integer({ min: 0, max: 400 }),
            kind: fc.constantFrom("gap", "interrupt", "saturate", "nan"),
        })
        fc.assert(
            fc.property(
                fc.array(segArb, { minLength: 0, maxLength: 12 }),
                fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 0, maxLength: 400 }),
                fc.array(eventArb, { maxLength: 6 }),
                fc.constantFrom(DEFAULT_EMG_ANALYZER, DEFAULT_PRESSURE_ANALYZER, { ...DEFAULT_EMG_ANALYZER, sampleRateHz: 1000, minThreshold: 0 }),
                (rawSegs, values, events, options) => {
                    let rep = 0
                    const segs: Segment[] = rawSegs.map(s => ({
                        kind: s.kind,
                        cue: 1,
                        block: s.block,
                        durationMs: s.durationMs,
                        repIndex: s.kind === SegmentKind.Work ? rep++ : -1,
                    }))
                    const planned = rep
                    const a = new InspectableAnalyzer(options, planned)
                    const dt = 1000 / options.sampleRateHz
                    let t = 0
                    let seg = 0
                    const taken: RepMetrics[] = []
                    // segments begin every (values / segments) samples, whatever their durations say
                    const every = segs.length > 0 ? Math.max(1, Math.floor(values.length / segs.length)) : 1
                    for (let i = 0; i < values.length; i++) {
                        if (seg < segs.length && i % every === 0) a.beginSegment(segs[seg++], t)
                        for (const e of events) {
                            if (e.at !== i) continue
                            if (e.kind === "gap") a.markGap(t, 3)
                            else if (e.kind === "interrupt") a.markInterrupted(t)
                            else if (e.kind === "saturate") a.markSample(t, RepFlag.Saturated)
                            else a.push(t, NaN)
                        }
                        a.push(t, values[i])
                        for (const r of a.takeFinishedReps()) taken.push(r)
                        t += dt
                    }
                    while (seg < segs.length) a.beginSegment(segs[seg++], t)
                    a.finish(t)
                    for (const r of a.takeFinishedReps()) taken.push(r)
                    const reps = a.reps()
                    const session: SessionMetrics = a.session()
                    expect(reps.length).toBeLessThanOrEqual(planned)
                    expect(session.repsDone).toBeLessThanOrEqual(planned)
                    expect(taken.length).toBe(reps.length)
                    expect(new Set(taken).size).toBe(taken.length)
                    expect(new Set(taken.map(r => r.repIndex)).size).toBe(taken.length)
                    for (const r of reps) expect(allFinite(r)).toBe(true)
                    expect(allFinite(session)).toBe(true)
                    expect(Number.isFinite(a.restBand())).toBe(true)
                    expect(a.takeFinishedReps().length).toBe(0)
                }
            ),
            { numRuns: 300 }
        )
    })

    test("takeFinishedReps never repeats a rep across a full session", () => {
        fc.assert(
            fc.property(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 5 }), (seed, every) => {
                const noise = gaussian(seed)
                const segs = assessmentSegments(SHORT_GLAZER)
                const a = new ChannelAnalyzer({ ...DEFAULT_EMG_ANALYZER, sampleRateHz: 50 }, plannedReps(SHORT_GLAZER))
                const starts: number[] = []
                let end = 0
                for (const s of segs) {
                    starts.push(end)
                    end += s.durationMs
                }
                const seen: RepMetrics[] = []
                let k = 0
                for (let i = 0; i * 20 < end; i++) {
                    const t = i * 20
                    while (k < segs.length && starts[k] <= t) a.beginSegment(segs[k], starts[k++])
                    const inWork = k > 0 && segs[k - 1].kind === SegmentKind.Work && t - starts[k - 1] > 300
                    a.push(t, 4 + 0.3 * noise() + (inWork ? 30 : 0))
                    if (i % every === 0) seen.push(...a.takeFinishedReps())
                }
                a.finish(end)
                seen.push(...a.takeFinishedReps())
                expect(new Set(seen).size).toBe(seen.length)
                expect(seen.length).toBe(a.reps().length)
                expect(seen.length).toBe(plannedReps(SHORT_GLAZER))
            }),
            { numRuns: 30 }
        )
    })
})

const SHORT_GLAZER: AssessmentOptions = {
    preBaselineMs: 3000,
    flickCount: 3,
    flickOnMs: 2000,
    flickOffMs: 2000,
    holdCount: 3,
    holdOnMs: 4000,
    holdOffMs: 3000,
    enduranceMs: 8000,
    restBeforeEnduranceMs: 2000,
    postBaselineMs: 3000,
}

describe("core/metrics (full Glazer assessment, Node only)", () => {
    test("a typical patient at 100 Hz: 11 reps found, onsets and offsets near the truth", () => {
        const segs = assessmentSegments(GLAZER_ASSESSMENT)
        const starts: number[] = []
        let end = 0
        for (const s of segs) {
            starts.push(end)
            end += s.durationMs
        }
        const contractions: Contraction[] = []
        segs.forEach((s, i) => {
            if (s.kind !== SegmentKind.Work) return
            const on = starts[i] + 300
            const fallStart = starts[i] + s.durationMs + 150
            // holds fade a little, the endurance contraction fades more
            const amp = s.block === Block.Holds ? 35 - 2 * (s.repIndex - 5) : s.block === Block.Endurance ? 30 : 40
            contractions.push({ onMs: on, riseMs: 250, fallStartMs: fallStart, fallMs: 300, amp })
        })
        const noise = gaussian(7)
        const signal = (t: number) => {
            let v = 0
            for (const c of contractions) v += contractionAt(c, t)
            // endurance fatigue: the plateau falls 25% over the minute
            const e = contractions[contractions.length - 1]
            if (t >= e.onMs && t < e.fallStartMs) v *= 1 - (0.25 * (t - e.onMs)) / 60000
            return 4 + 0.3 * noise() + v
        }
        const r = simulate(DEFAULT_EMG_ANALYZER, segs, signal, plannedReps(GLAZER_ASSESSMENT))
        const reps = r.analyzer.reps()
        const s = r.analyzer.session()
        expect(reps.length).toBe(11)
        expect(r.taken.length).toBe(11)
        expect(s.repsDone).toBe(11)
        expect(s.repsPlanned).toBe(11)
        // 4 + 40 plus the rest noise, which rides on the plateau too
        expect(Math.abs(s.mvc - 44)).toBeLessThan(1.5)
        reps.forEach((rep, i) => {
            const c = contractions[i]
            expect(rep.flags).toBe(0)
            expect(Math.abs(rep.onsetMs - c.onMs)).toBeLessThanOrEqual(30)
            expect(Math.abs(rep.offsetMs - (c.fallStartMs + c.fallMs))).toBeLessThanOrEqual(30)
        })
        // holds: 35, 33, 31, 29, 27 above a rest of 4: fitted first 39, last 31
        expect(s.holdFatiguePct).toBeCloseTo((100 * 8) / 39, 0)
        expect(s.enduranceDeclinePct).toBeGreaterThan(15)
        expect(s.enduranceDeclinePct).toBeLessThan(25)
        expect(s.timeOnTaskMs).toBe(5 * 2000 + 5 * 10000 + 60000)
        expect(s.preBaseline.mean).toBeCloseTo(4, 1)
        expect(s.postBaseline.sd).toBeCloseTo(0.3, 1)
    })

    test("after the SignalChain's smoothing, inputDelayMs = smoothingDelayMs puts onsets and offsets back on the truth", () => {
        const segs = assessmentSegments(SHORT_GLAZER)
        const starts: number[] = []
        let end = 0
        for (const s of segs) {
            starts.push(end)
            end += s.durationMs
        }
        const contractions: Contraction[] = []
        segs.forEach((s, i) => {
            if (s.kind === SegmentKind.Work)
                contractions.push({ onMs: starts[i] + 350, riseMs: 300, fallStartMs: starts[i] + s.durationMs + 100, fallMs: 300, amp: 40 })
        })
        const run = (delayMs: number) => {
            const noise = gaussian(11)
            const chain = new SignalChain(DEFAULT_SIGNAL_CHAIN)
            const emgUv = (t: number) => {
                let v = 4 + 0.3 * noise()
                for (const c of contractions) v += contractionAt(c, t)
                return v
            }
            // the analyzer sees the chain's smoothed output (uV), the truth is the raw envelope's
            return simulate({ ...DEFAULT_EMG_ANALYZER, inputDelayMs: delayMs }, segs, t => chain.push(0, uvToMv(emgUv(t))).emgUv, plannedReps(SHORT_GLAZER))
        }
        const delay = smoothingDelayMs(DEFAULT_SIGNAL_CHAIN.emgWindowMs, DEFAULT_SIGNAL_CHAIN.sampleRateHz)
        const corrected = run(delay).analyzer.reps()
        const raw = run(0).analyzer.reps()
        expect(corrected.length).toBe(contractions.length)
        let rawOnsetError = 0
        corrected.forEach((rep, i) => {
            const c = contractions[i]
            expect(rep.flags).toBe(0)
            expect(Math.abs(rep.onsetMs - c.onMs)).toBeLessThanOrEqual(30)
            expect(Math.abs(rep.offsetMs - (c.fallStartMs + c.fallMs))).toBeLessThanOrEqual(30)
            rawOnsetError += raw[i].onsetMs - c.onMs
        })
        // without the correction the onsets are late by about the delay
        expect(rawOnsetError / raw.length).toBeGreaterThan(delay - 15)
    })

    test("pressure defaults: a Glazer session in zeroed cmH2O", () => {
        const segs = assessmentSegments(SHORT_GLAZER)
        const starts: number[] = []
        let end = 0
        for (const s of segs) {
            starts.push(end)
            end += s.durationMs
        }
        const contractions: Contraction[] = []
        segs.forEach((s, i) => {
            if (s.kind === SegmentKind.Work)
                contractions.push({ onMs: starts[i] + 400, riseMs: 400, fallStartMs: starts[i] + s.durationMs + 100, fallMs: 400, amp: 25 })
        })
        const noise = gaussian(5)
        const r = simulate(
            DEFAULT_PRESSURE_ANALYZER,
            segs,
            t => {
                let v = 0.2 * noise()
                for (const c of contractions) v += contractionAt(c, t)
                return v
            },
            plannedReps(SHORT_GLAZER)
        )
        const reps = r.analyzer.reps()
        expect(reps.length).toBe(contractions.length)
        reps.forEach((rep, i) => {
            expect(rep.flags).toBe(0)
            expect(Math.abs(rep.onsetMs - contractions[i].onMs)).toBeLessThanOrEqual(40)
            expect(Math.abs(rep.offsetMs - (contractions[i].fallStartMs + contractions[i].fallMs))).toBeLessThanOrEqual(40)
        })
        expect(r.analyzer.session().repsDone).toBe(plannedReps(SHORT_GLAZER))
    })

    test("smoothingDelayMs matches the SignalChain defaults", () => {
        expect(smoothingDelayMs(100, 100)).toBe(45)
        expect(smoothingDelayMs(50, 100)).toBe(20)
    })

    test.each(metricsGroups.filter(g => g.name.startsWith("shape fit")).map(g => [g.name, g] as const))(
        "%s: the deferred shape fits give the same reps whatever the report size (times within a sample)",
        (_name, g) => {
            const outcomes = [1, 7, 20, 28].map(n => {
                g.run.release()
                const reps = g.run.get(n).reps
                g.run.release()
                return reps
            })
            // a settle fit that must be retried is retried at the first sample after the report it was asked in
            const TIMES = ["onsetMs", "offsetMs", "onsetLatencyMs", "releaseLatencyMs", "timeToPeakMs"] as const
            const strip = (r: RepMetrics) => ({ ...r, onsetMs: 0, offsetMs: 0, onsetLatencyMs: 0, releaseLatencyMs: 0, timeToPeakMs: 0 })
            expect(outcomes[0].length).toBeGreaterThan(0)
            for (const o of outcomes.slice(1)) {
                expect(o.map(strip)).toEqual(outcomes[0].map(strip))
                o.forEach((r, i) => TIMES.forEach(k => expect(Math.abs(r[k] - outcomes[0][i][k])).toBeLessThanOrEqual(10)))
            }
        }
    )
})
