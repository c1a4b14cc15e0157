/**
 * Contraction metrics (src/core/metrics/channel-analyzer.ts) on synthetic
 * signals with known answers, shared by vitest (tests/core/metrics.test.ts)
 * and the DeviceScript VM (tests/vm/metrics.vm.ts). DeviceScript subset.
 *
 * Each scenario is a short session: segments laid end to end from t = 0, a
 * rest level with deterministic pseudo-noise (Park-Miller LCG) where no
 * contraction is under way, and trapezoid contractions (linear rise, plateau,
 * linear fall) whose true onset (start of the rise), offset (end of the
 * fall) and peak are known. Values that depend on the exact noise (rest
 * statistics, window means, time at target, plateau CV, endurance means)
 * are checked against references computed independently (plain sums) over
 * the very samples pushed.
 *
 * The VM kills long synchronous runs and has a ~64 KB heap, so a scenario
 * runs incrementally (`ScenarioRun.step`, the VM test yields between steps),
 * keeps running references instead of its samples, drops its analyzer once
 * finished, and the cases are grouped by scenario (`metricsGroups`) so the
 * VM can run one scenario, its cases, and free it (`release`) before the
 * next. Each scenario stays under ~1000 samples.
 */
import {
    ChannelAnalyzer,
    DEFAULT_EMG_ANALYZER,
    type ChannelAnalyzerOptions,
} from "../../src/core/metrics/channel-analyzer"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../../src/core/metrics/types"
import { Block, Cue, SegmentKind, type Segment } from "../../src/core/protocol/assessment"
import { isClose, type NumericCase, type ThrowCase } from "./types"
import { InspectableAnalyzer } from "./inspectable-analyzer"

// ---- synthetic signals ----

/** A contraction above the rest level: linear rise, plateau, linear fall. */
export interface Squeeze {
    /** [ms] true onset: the signal leaves rest */
    startMs: number
    riseMs: number
    /** [ms] plateau length */
    holdMs: number
    /** [ms] true offset = start + rise + hold + fall */
    fallMs: number
    /** height of the plateau above rest at its start */
    amp: number
    /** +-tremor on alternate samples of the plateau */
    tremor?: number
    /** [units/s] change of the plateau level over time (negative: fatigue) */
    slopePerS?: number
    /** half-cosine rise and fall (smooth at both ends, as the patient model) instead of linear */
    cosine?: boolean
}

/** cos(x) for x in [0, pi] by its Taylor series to x^18 (error < 1e-8; DeviceScript has no Math.cos). */
export function cosTaylor(x: number): number {
    let term = 1
    let sum = 1
    for (let k = 1; k <= 9; k++) {
        term = (-term * x * x) / ((2 * k - 1) * (2 * k))
        sum += term
    }
    return sum
}

/** (1 - cos(pi u)) / 2: 0 at u = 0, 1 at u = 1, zero slope at both ends */
function halfCosine(u: number): number {
    return (1 - cosTaylor(Math.PI * u)) / 2
}

export interface Scenario {
    rateHz: number
    rest: number
    /** pseudo-noise amplitude (uniform +-noise) at rest */
    noise: number
    /** rest level from restLaterFromMs on */
    restLater?: number
    restLaterFromMs?: number
    segments: Segment[]
    squeezes: Squeeze[]
    repsPlanned?: number
    options?: ChannelAnalyzerOptions
    /** [tMs, lostSamples]: the lostSamples samples before tMs are not pushed, markGap at tMs */
    gap?: number[]
    interruptAtMs?: number
    /** value after the interruption (probe out) */
    afterInterrupt?: number
    /** the sensor's top: values are clipped here and markSample(t, Saturated) is called */
    clipAt?: number
    /** takeFinishedReps() before the sample at these times, and twice after finish() */
    takeAtMs?: number[]
    // references, computed while the samples are pushed (the VM has no room to keep them)
    /** [from, to): sample mean and SD of the values pushed in the window */
    windows?: number[][]
    /** [from, to, target]: [ms] time at or above target in the window */
    targets?: number[][]
    /** [from, to, level]: CV from the first sample >= level to the end of the window */
    plateaus?: number[][]
    /** [from, to): the running sum before each sample in these ranges, for means between times known only later */
    sumRanges?: number[][]
}

function segment(kind: SegmentKind, block: Block, durationMs: number, repIndex: number): Segment {
    const cue = kind === SegmentKind.Work ? Cue.Contract : kind === SegmentKind.Rest ? Cue.Release : Cue.Rest
    return { kind: kind, cue: cue, block: block, durationMs: durationMs, repIndex: repIndex }
}
export function preBaseline(ms: number): Segment {
    return segment(SegmentKind.Baseline, Block.PreBaseline, ms, -1)
}
export function postBaseline(ms: number): Segment {
    return segment(SegmentKind.Baseline, Block.PostBaseline, ms, -1)
}
export function work(block: Block, ms: number, repIndex: number): Segment {
    return segment(SegmentKind.Work, block, ms, repIndex)
}
export function rest(block: Block, ms: number): Segment {
    return segment(SegmentKind.Rest, block, ms, -1)
}

/** Height above rest of one squeeze at tMs (sample index i for the tremor). */
export function squeezeAt(q: Squeeze, tMs: number, i: number): number {
    const t = tMs - q.startMs
    if (t <= 0) return 0
    if (t < q.riseMs) return q.cosine === true ? q.amp * halfCosine(t / q.riseMs) : (q.amp * t) / q.riseMs
    const slope = q.slopePerS === undefined ? 0 : q.slopePerS
    const tremor = q.tremor === undefined ? 0 : q.tremor
    if (t <= q.riseMs + q.holdMs) {
        const level = q.amp + (slope * (t - q.riseMs)) / 1000
        return level + (Math.floor(i / 2) * 2 === i ? tremor : -tremor)
    }
    const top = q.amp + (slope * q.holdMs) / 1000
    const f = t - q.riseMs - q.holdMs
    if (f < q.fallMs) return q.cosine === true ? top * (1 - halfCosine(f / q.fallMs)) : top * (1 - f / q.fallMs)
    return 0
}

const LCG_M = 2147483647

/** Park-Miller minimal standard generator: exact in doubles in both worlds. */
class Lcg {
    private x: number
    constructor(seed: number) {
        this.x = seed
    }
    /** uniform in (0, 1) */
    next(): number {
        const y = this.x * 16807
        this.x = y - Math.floor(y / LCG_M) * LCG_M
        return this.x / LCG_M
    }
}

/** Sums with a shift (the first value) against cancellation. */
class Sums {
    n = 0
    k = 0
    s1 = 0
    s2 = 0
    add(v: number): void {
        if (this.n === 0) this.k = v
        const d = v - this.k
        this.n++
        this.s1 += d
        this.s2 += d * d
    }
    mean(): number {
        return this.n > 0 ? this.k + this.s1 / this.n : NaN
    }
    sd(): number {
        if (this.n < 2) return NaN
        const v = (this.s2 - (this.s1 * this.s1) / this.n) / (this.n - 1)
        return Math.sqrt(v > 0 ? v : 0)
    }
}

/** What the cases read: the analyzer's outputs and the references. */
export interface Outcome {
    reps: RepMetrics[]
    /** null until the run is complete */
    session: SessionMetrics | null
    restBand: number
    /** reps from the takeFinishedReps() calls, in order */
    taken: RepMetrics[]
    /** how many reps each takeFinishedReps() call returned */
    takeCounts: number[]
    windows: Sums[]
    targetMs: number[]
    plateaus: Sums[]
    /** sample time, sum and count of the values before it, for the samples in sumRanges */
    sumT: number[]
    sumS: number[]
    sumN: number[]
    totalS: number
    totalN: number
}

/** A scenario while it runs. */
class RunState {
    readonly s: Scenario
    readonly a: InspectableAnalyzer
    readonly o: Outcome
    readonly starts: number[] = []
    readonly endMs: number
    readonly sampleMs: number
    readonly lcg = new Lcg(12345)
    readonly plateauOn: boolean[] = []
    i = 0
    segIdx = 0
    takeIdx = 0
    interrupted = false

    constructor(s: Scenario) {
        this.s = s
        let t = 0
        for (const g of s.segments) {
            this.starts.push(t)
            t += g.durationMs
        }
        this.endMs = t
        this.sampleMs = 1000 / s.rateHz
        this.o = {
            reps: [],
            session: null,
            restBand: 0,
            taken: [],
            takeCounts: [],
            windows: [],
            targetMs: [],
            plateaus: [],
            sumT: [],
            sumS: [],
            sumN: [],
            totalS: 0,
            totalN: 0,
        }
        const o = this.o
        if (s.windows !== undefined) for (const w of s.windows) o.windows.push(new Sums())
        if (s.targets !== undefined) for (const w of s.targets) o.targetMs.push(0)
        if (s.plateaus !== undefined)
            for (const w of s.plateaus) {
                o.plateaus.push(new Sums())
                this.plateauOn.push(false)
            }
        const base = s.options === undefined ? DEFAULT_EMG_ANALYZER : s.options
        const options: ChannelAnalyzerOptions = { ...base, sampleRateHz: s.rateHz }
        this.a = new InspectableAnalyzer(options, s.repsPlanned === undefined ? countReps(s.segments) : s.repsPlanned)
    }

    /** Pushes up to maxSamples samples; true when the run is complete. */
    step(maxSamples: number): boolean {
        const s = this.s
        const a = this.a
        const o = this.o
        for (let k = 0; k < maxSamples; k++) {
            const i = this.i++
            const t = i * this.sampleMs
            if (t >= this.endMs) {
                a.finish(this.endMs)
                take(a, o)
                take(a, o)
                o.reps = a.reps()
                o.session = a.session()
                o.restBand = a.restBand()
                return true
            }
            while (this.segIdx < s.segments.length && this.starts[this.segIdx] <= t) {
                a.beginSegment(s.segments[this.segIdx], this.starts[this.segIdx])
                this.segIdx++
            }
            const takes = s.takeAtMs
            while (takes !== undefined && this.takeIdx < takes.length && takes[this.takeIdx] <= t) {
                take(a, o)
                this.takeIdx++
            }
            if (s.interruptAtMs !== undefined && !this.interrupted && t >= s.interruptAtMs) {
                this.interrupted = true
                a.markInterrupted(t)
            }
            const noise = s.noise * (2 * this.lcg.next() - 1)
            const gap = s.gap
            if (gap !== undefined) {
                if (t < gap[0] && t >= gap[0] - gap[1] * this.sampleMs) continue
                if (t === gap[0]) a.markGap(t, gap[1])
            }
            let v = valueAt(s, t, i, noise)
            if (this.interrupted && s.afterInterrupt !== undefined) v = s.afterInterrupt
            if (s.clipAt !== undefined && v >= s.clipAt) {
                v = s.clipAt
                a.markSample(t, RepFlag.Saturated)
            }
            a.push(t, v)
            this.reference(t, v)
        }
        // as the firmware, after each batch of samples
        a.runDeferred()
        return false
    }

    private reference(t: number, v: number): void {
        const s = this.s
        const o = this.o
        if (s.windows !== undefined)
            for (let k = 0; k < s.windows.length; k++) if (t >= s.windows[k][0] && t < s.windows[k][1]) o.windows[k].add(v)
        if (s.targets !== undefined)
            for (let k = 0; k < s.targets.length; k++) {
                const w = s.targets[k]
                if (t >= w[0] && t < w[1] && v >= w[2]) o.targetMs[k] += this.sampleMs
            }
        if (s.plateaus !== undefined)
            for (let k = 0; k < s.plateaus.length; k++) {
                const w = s.plateaus[k]
                if (t >= w[0] && t < w[1] && v >= w[2]) this.plateauOn[k] = true
                if (t >= w[0] && t < w[1] && this.plateauOn[k]) o.plateaus[k].add(v)
            }
        if (s.sumRanges !== undefined)
            for (const w of s.sumRanges)
                if (t >= w[0] && t < w[1]) {
                    o.sumT.push(t)
                    o.sumS.push(o.totalS)
                    o.sumN.push(o.totalN)
                }
        o.totalS += v
        o.totalN++
    }
}

function take(a: ChannelAnalyzer, o: Outcome): void {
    const got = a.takeFinishedReps()
    o.takeCounts.push(got.length)
    for (const r of got) o.taken.push(r)
}

function valueAt(s: Scenario, t: number, i: number, noise: number): number {
    let level = s.rest
    if (s.restLater !== undefined && s.restLaterFromMs !== undefined && t >= s.restLaterFromMs) level = s.restLater
    let above = 0
    for (const q of s.squeezes) above += squeezeAt(q, t, i)
    return above === 0 ? level + noise : level + above
}

/**
 * One scenario, run incrementally: the scenario, its analyzer and its
 * references exist only while it runs (the VM's heap is ~64 KB); the
 * outcome is kept until release().
 */
export class ScenarioRun {
    private readonly make: () => Scenario
    private running: RunState | null = null
    private out: Outcome | null = null

    constructor(make: () => Scenario) {
        this.make = make
    }

    isDone(): boolean {
        return this.out !== null
    }

    /** Pushes up to maxSamples samples; true when the run is complete. */
    step(maxSamples: number): boolean {
        if (this.out !== null) return true
        let r = this.running
        if (r === null) {
            r = new RunState(this.make())
            this.running = r
        }
        if (!r.step(maxSamples)) return false
        this.out = r.o
        this.running = null
        return true
    }

    /** The finished run (runs it to the end if needed, `stepSamples` at a time; default 20, as the firmware's probe reports). */
    get(stepSamples?: number): Outcome {
        const n = stepSamples === undefined ? 20 : stepSamples
        while (!this.step(n)) {}
        const o = this.out
        if (o === null) throw new Error("no outcome")
        return o
    }

    /** Forgets the outcome (a later get() runs the scenario again). */
    release(): void {
        this.running = null
        this.out = null
    }
}

function countReps(segments: Segment[]): number {
    let n = 0
    for (const g of segments) if (g.repIndex >= 0) n++
    return n
}

function scenario(make: () => Scenario): ScenarioRun {
    return new ScenarioRun(make)
}

// ---- reading the outcome ----

const MISSING: RepMetrics = {
    repIndex: -999,
    block: -999,
    cueOnMs: -999,
    cueOffMs: -999,
    onsetMs: -999,
    offsetMs: -999,
    onsetLatencyMs: -999,
    peak: -999,
    peakPctMvc: -999,
    timeToPeakMs: -999,
    meanWork: -999,
    holdAtTargetMs: -999,
    holdCv: -999,
    releaseLatencyMs: -999,
    enduranceDeclinePct: -999,
    flags: -999,
}

function repOf(run: ScenarioRun, i: number): RepMetrics {
    const reps = run.get().reps
    return i < reps.length ? reps[i] : MISSING
}

function flagOf(run: ScenarioRun, i: number, flag: number): number {
    return (repOf(run, i).flags & flag) === flag ? 1 : 0
}

function sessionOf(run: ScenarioRun): SessionMetrics {
    const s = run.get().session
    if (s === null) throw new Error("no session")
    return s
}

/** sum and count of the values pushed before the first sample at or after tMs (NaN if not recorded) */
function sumBefore(run: ScenarioRun, tMs: number): number[] {
    const o = run.get()
    for (let k = 0; k < o.sumT.length; k++) if (o.sumT[k] >= tMs) return [o.sumS[k], o.sumN[k]]
    return [NaN, NaN]
}

/** mean of the values pushed in [from, to) */
function meanBetween(run: ScenarioRun, fromMs: number, toMs: number): number {
    const a = sumBefore(run, fromMs)
    const b = sumBefore(run, toMs)
    return (b[0] - a[0]) / (b[1] - a[1])
}

/** [%] decline of the mean of [b0, b1) vs [a0, a1) */
function declinePct(run: ScenarioRun, a0: number, a1: number, b0: number, b1: number): number {
    const first = meanBetween(run, a0, a1)
    const last = meanBetween(run, b0, b1)
    return (100 * (first - last)) / first
}

/** [%] rep 0's endurance decline minus that of the last third vs the first third of [its onset, cueOffMs) */
function thirdsDeclineError(run: ScenarioRun, cueOffMs: number): number {
    const onset = repOf(run, 0).onsetMs
    const third = (cueOffMs - onset) / 3
    return repOf(run, 0).enduranceDeclinePct - declinePct(run, onset, onset + third, cueOffMs - third, cueOffMs)
}

/** pre-baseline mean + kLow * max(sd, minThreshold / kHigh) for the EMG defaults */
function emgRestBand(w: Sums): number {
    const sd = w.sd()
    const floor = DEFAULT_EMG_ANALYZER.minThreshold / DEFAULT_EMG_ANALYZER.kHigh
    return w.mean() + DEFAULT_EMG_ANALYZER.kLow * (sd > floor ? sd : floor)
}

/** least-squares fitted first vs last, as % of fitted first */
function fittedDeclinePct(ys: number[]): number {
    const n = ys.length
    let sx = 0
    let sy = 0
    let sxy = 0
    let sxx = 0
    for (let x = 0; x < n; x++) {
        sx += x
        sy += ys[x]
        sxy += x * ys[x]
        sxx += x * x
    }
    const b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
    const a = (sy - b * sx) / n
    return (100 * (a - (a + b * (n - 1)))) / a
}

// ---- scenarios ----

/** A quick flick at 100 Hz between a 3 s pre-baseline and a 3 s post-baseline whose rest is higher. */
const flick = scenario(() => ({
    rateHz: 100,
    rest: 4,
    noise: 0.5,
    restLater: 5,
    restLaterFromMs: 7000,
    segments: [preBaseline(3000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 2000), postBaseline(3000)],
    squeezes: [{ startMs: 3250, riseMs: 200, holdMs: 1450, fallMs: 300, amp: 40 }],
    windows: [
        [1000, 2700],
        [8000, 9700],
        [3000, 5000],
    ],
    targets: [[3000, 5000, 22]],
    plateaus: [[3000, 5000, 0.9 * 44]],
}))

/** A strong flick (the MVC), then a hold with a +-1 tremor, at 50 Hz. */
const hold = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [
        preBaseline(2000),
        work(Block.Flicks, 2000, 0),
        rest(Block.Flicks, 1000),
        work(Block.Holds, 4000, 1),
        rest(Block.Holds, 2000),
    ],
    squeezes: [
        { startMs: 2200, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 50 },
        { startMs: 5300, riseMs: 300, holdMs: 3400, fallMs: 300, amp: 30, tremor: 1 },
    ],
    targets: [[5000, 9000, 27]],
    plateaus: [[5000, 9000, 0.9 * 35]],
}))

/** The same hold with a 500 ms peak window (PEAK_WINDOW_MS): the tremor averages out of the peak. */
const windowedHold = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Holds, 4000, 0), rest(Block.Holds, 2000)],
    squeezes: [{ startMs: 2300, riseMs: 300, holdMs: 3400, fallMs: 300, amp: 30, tremor: 1 }],
    options: { ...DEFAULT_EMG_ANALYZER, peakWindowMs: 500 },
}))

/**
 * The rest tone wanders down from 4 to 3 before a slow, small flick (600 ms
 * linear rise to +8). The onset found is late by the time the signal takes
 * to climb to the backtrack level: to the pre-baseline band (4 + 0.67:
 * 1.67 / 8 of the rise, 125 ms) or to the pre-cue level + 0.67 (0.67 / 8,
 * 50 ms); uniform noise moves the crossing by a sample or two.
 */
function wanderScenario(preCueMs: number): Scenario {
    return {
        rateHz: 100,
        rest: 4,
        noise: 0.5,
        restLater: 3,
        restLaterFromMs: 2000,
        segments: [preBaseline(2000), rest(Block.Flicks, 1000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1000)],
        squeezes: [{ startMs: 3350, riseMs: 600, holdMs: 800, fallMs: 300, amp: 8 }],
        options: { ...DEFAULT_EMG_ANALYZER, preCueMs: preCueMs, historyMs: 1200 },
    }
}
const wanderBand = scenario(() => wanderScenario(0))

const SHAPE_FIT: ChannelAnalyzerOptions = { ...DEFAULT_EMG_ANALYZER, preCueMs: 300, historyMs: 2500, shapeFit: true }

/**
 * A weak patient's flick with smooth (half-cosine) ramps: 12 uV over a
 * 2.5 uV rest, 600 ms rise. A band crossing would put the onset ~90 ms
 * late; the shape fit finds the start of the rise. The offset is where
 * the 500 ms fall is down to 5 %: 0.8564 of the way through it.
 */
function weakFlickScenario(shapeFit: boolean): Scenario {
    return {
        rateHz: 100,
        rest: 2.5,
        noise: 0.3,
        segments: [preBaseline(2000), rest(Block.Flicks, 1000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 2000)],
        squeezes: [{ startMs: 3400, riseMs: 600, holdMs: 1100, fallMs: 500, amp: 12, cosine: true }],
        options: shapeFit ? SHAPE_FIT : { ...DEFAULT_EMG_ANALYZER, preCueMs: 300, historyMs: 2500 },
    }
}
const weakFlickFit = scenario(() => weakFlickScenario(true))
/**
 * The same flick on a noisy electrode: the plateau still climbs (its top
 * comes late) and dips to half its height 50 ms after reaching it, so the
 * rise crosses 60 % again after the dip. The onset is located from the
 * first crossing of 60 %: the last one put it 370 ms early.
 */
const noisyTopFit = scenario(() => {
    const s = weakFlickScenario(true)
    s.squeezes = [
        { startMs: 3400, riseMs: 600, holdMs: 1100, fallMs: 500, amp: 12, cosine: true, slopePerS: 4 },
        { startMs: 4050, riseMs: 60, holdMs: 80, fallMs: 60, amp: -7, cosine: true },
    ]
    return s
})
/**
 * The same flick with a 20 ms movement spike of +6 uV on its plateau just
 * after the rise: the highest samples are half as high again as the
 * plateau. The rise's top is the mean around its highest sample
 * (TOP_HALF_SPAN_MS), so the spike barely moves the 60 % level; with the
 * highest sample as the top, the onset came out 44 ms early.
 */
const spikedTopFit = scenario(() => {
    const s = weakFlickScenario(true)
    s.squeezes = [
        { startMs: 3400, riseMs: 600, holdMs: 1100, fallMs: 500, amp: 12, cosine: true },
        { startMs: 4100, riseMs: 10, holdMs: 10, fallMs: 10, amp: 6 },
    ]
    return s
})
const weakFlickBand = scenario(() => weakFlickScenario(false))
/**
 * A movement spike (30 uV, back to rest in 150 ms) 50 ms after the cue,
 * then the patient's flick 700 ms after the cue. The spike passes the
 * onset rule (above high for minOnMs) and was fitted as the rise, the
 * onset 650 ms early; a burst back at rest within MIN_BURST_MS followed
 * by a renewed contraction is not the rep's contraction.
 */
const spikeBeforeLateRise = scenario(() => {
    const s = weakFlickScenario(true)
    s.squeezes = [
        { startMs: 3050, riseMs: 10, holdMs: 0, fallMs: 150, amp: 30 },
        { startMs: 3700, riseMs: 400, holdMs: 700, fallMs: 500, amp: 20, cosine: true },
    ]
    return s
})

/**
 * A hold that sags from 20 to 8 uV above rest before its 800 ms release: the
 * offset is where the fall is down to 5 % of the rep's height (1 uV), as
 * the simulator's truth, not 5 % of the fall's own 8 uV (69 ms later): a
 * half-cosine fall from 8 reaches 1 at acos(2 / 8 - 1) / pi = 0.76995 of it.
 */
const saggedRelease = scenario(() => ({
    rateHz: 100,
    rest: 2.5,
    noise: 0.3,
    segments: [preBaseline(2000), rest(Block.Holds, 1000), work(Block.Holds, 4000, 0), rest(Block.Holds, 2000)],
    squeezes: [{ startMs: 3200, riseMs: 400, holdMs: 3600, fallMs: 800, amp: 20, slopePerS: -12 / 3.6, cosine: true }],
    options: SHAPE_FIT,
}))

/**
 * A hold released over 800 ms (down to 5 % of its 20 uV at 7200 + 0.8564 x
 * 800 ms), then a movement spike at 8180 ms (a 30 uV bump as the 100 ms
 * envelope window shows it: up 15 uV in 50 ms, back over 250 ms), after the
 * first settle fit and before the fit that checks it once the rest after the
 * fall is measured. That re-fit read the spike's decay as the fall (600 ms
 * late here; the noisy electrode's offsets 455-704 ms late): a step up of
 * more than SPIKE_STEP of the height from below the fall's low level keeps
 * the first fit.
 */
const spikeAfterRelease = scenario(() => ({
    rateHz: 100,
    rest: 2.5,
    noise: 0.3,
    segments: [preBaseline(2000), rest(Block.Holds, 1000), work(Block.Holds, 4000, 0), rest(Block.Holds, 3000)],
    squeezes: [
        { startMs: 3200, riseMs: 400, holdMs: 3600, fallMs: 800, amp: 20, cosine: true },
        { startMs: 8180, riseMs: 50, holdMs: 0, fallMs: 250, amp: 15 },
    ],
    options: SHAPE_FIT,
}))

/**
 * A hypertonic release: the rest tone rises from 8 to 11 uV during the
 * hold, then a 25 uV contraction falls over 1.2 s. The offset is located
 * against the rest the fall went to (11), not the pre-cue level (8), which
 * the signal never gets back to.
 */
const toneRise = scenario(() => ({
    rateHz: 100,
    rest: 8,
    noise: 0.3,
    restLater: 11,
    restLaterFromMs: 4000,
    segments: [preBaseline(2000), rest(Block.Holds, 1000), work(Block.Holds, 3000, 0), rest(Block.Holds, 3000)],
    squeezes: [{ startMs: 3400, riseMs: 400, holdMs: 2000, fallMs: 1200, amp: 25, cosine: true }],
    options: SHAPE_FIT,
}))
const wanderPreCue = scenario(() => wanderScenario(300))

/**
 * A flick after the rest tone stepped from 8 uV to `toneUv` at `toneFromMs`
 * (the cue comes at 3000), fitted by shape: the two cases below differ in
 * where the step lands and when the rise comes.
 */
function flickOnToneStep(noise: number, toneUv: number, toneFromMs: number, squeeze: Squeeze): Scenario {
    return {
        rateHz: 100,
        rest: 8,
        noise: noise,
        restLater: toneUv,
        restLaterFromMs: toneFromMs,
        segments: [preBaseline(2000), rest(Block.Flicks, 1000), work(Block.Flicks, 3000, 0), rest(Block.Flicks, 2500)],
        squeezes: [squeeze],
        options: SHAPE_FIT,
    }
}

/**
 * Started high, then a rise: the tone jumped from 8 to 13 uV (above the
 * onset band of the pre-baseline) before the cue at 3000, as after a spasm,
 * and the patient contracts at 3400 on top of it. The rep is flagged
 * StartedHigh; its onset is the start of the rise from the raised tone,
 * where it used to be the cue (400 ms early).
 */
const startedHighRise = scenario(() => flickOnToneStep(0.3, 13, 2500, { startMs: 3400, riseMs: 400, holdMs: 1200, fallMs: 500, amp: 20, cosine: true }))

/**
 * A late reaction on a wandering tone: the cue comes at 3000, the tone
 * steps from 8 to 9.5 uV at 3300 (inside the rest band of a 1.5 uV rest
 * noise), and the patient starts a weak 8 uV, 600 ms rise only at 4300.
 * The rise leaves from 9.5: measured from the pre-cue level (8) its 15 %
 * and 60 % crossings move and the onset came out 370 ms early; the
 * level before the rough onset puts it at the start of the rise.
 */
const lateOnMovedTone = scenario(() => flickOnToneStep(1.5, 9.5, 3300, { startMs: 4300, riseMs: 600, holdMs: 800, fallMs: 500, amp: 8, cosine: true }))

/**
 * A late rise on a tone raised to the onset band, as after a spasm: the
 * tone steps from 8 to 10.2 uV at 2900 (the onset band the pre-baseline
 * set is 10 uV; it was not above it before the anticipation window, so
 * the rep is not StartedHigh), its noise crosses the band at once, and the
 * patient starts a 20 uV, 400 ms rise only at 4000. The rise fit 800 ms
 * after the noise's crossing finds no rise and, the cue still lasting,
 * fits again later: the onset is the rise's start. It used to keep the
 * noise's crossing, 1.1 s early (the spasm patient's worst onsets, 300-770
 * ms early in the core).
 */
const lateRiseOnRaisedTone = scenario(() => flickOnToneStep(0.3, 10.2, 2500, { startMs: 4000, riseMs: 400, holdMs: 800, fallMs: 500, amp: 20, cosine: true }))

/**
 * The end of a fatigued endurance hold on a high, noisy tone: 30 uV over
 * 12 uV that sags to 3 uV above it by the let-go cue at 13000, then a 1 s
 * fall from 13800; 3.5 s after the cue the tone steps up to 17 uV, above
 * the onset band, and stays. The fall is smaller than the band (noise
 * +-2 uV) and than FALL_MIN_FRACTION of the rep's height, so no fall is
 * fitted: SETTLE_GIVE_UP_MS (3 s) after the cue the band's re-entry is
 * taken. Before, it was taken only at the session's end, by then reset by
 * the tone's step: the rep read NoRelease (and on the simulated hypertonic
 * patient, releases 5-55 s late).
 */
const fatiguedEnd = scenario(() => ({
    rateHz: 100,
    rest: 12,
    noise: 2,
    restLater: 17,
    restLaterFromMs: 16500,
    segments: [preBaseline(2000), rest(Block.Endurance, 1000), work(Block.Endurance, 10000, 0), postBaseline(20000)],
    squeezes: [{ startMs: 3400, riseMs: 400, holdMs: 10000, fallMs: 1000, amp: 30, cosine: true, slopePerS: -2.7 }],
    options: SHAPE_FIT,
}))

const noContraction = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1000)],
    squeezes: [],
}))

/** Already squeezing 700 ms before the cue (at 3500); lets go before the let-go cue (5500). */
const startedHigh = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), rest(Block.Flicks, 1500), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1500)],
    squeezes: [{ startMs: 2800, riseMs: 200, holdMs: 2200, fallMs: 200, amp: 40 }],
}))

/** Starts squeezing 150 ms before the cue (at 2000). */
const anticipation = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1500)],
    squeezes: [{ startMs: 1850, riseMs: 200, holdMs: 1500, fallMs: 200, amp: 40 }],
}))

/** No baseline: the data start with the contract cue; rest stats from the first 500 ms. */
const atStart = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1500)],
    squeezes: [{ startMs: 500, riseMs: 200, holdMs: 1000, fallMs: 200, amp: 40 }],
}))

/** No baseline, a Rest segment first (noisier rest: the SD, not the floor, sets the thresholds). */
const restFirst = scenario(() => ({
    rateHz: 50,
    rest: 10,
    noise: 1.5,
    segments: [rest(Block.Flicks, 2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1500)],
    squeezes: [{ startMs: 2400, riseMs: 100, holdMs: 1300, fallMs: 200, amp: 60 }],
}))

const saturated = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1000)],
    squeezes: [{ startMs: 2200, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 50 }],
    clipAt: 40,
}))

/** 5 samples lost on the plateau. */
const dropout = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1000)],
    squeezes: [{ startMs: 2200, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 40 }],
    gap: [3000, 5],
}))

/** The second, stronger flick is cut by probe removal at 6000 (the signal drops to 0). */
const interrupted = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [
        preBaseline(2000),
        work(Block.Flicks, 2000, 0),
        rest(Block.Flicks, 1000),
        work(Block.Flicks, 2000, 1),
        rest(Block.Flicks, 1000),
    ],
    squeezes: [
        { startMs: 2200, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 30 },
        { startMs: 5200, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 60 },
    ],
    interruptAtMs: 6000,
    afterInterrupt: 0,
}))

/** Lets go 100 ms after the cue (4000) but takes 1.5 s to get back to rest. */
const slowRelease = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 3000)],
    squeezes: [{ startMs: 2200, riseMs: 200, holdMs: 1700, fallMs: 1500, amp: 40 }],
}))

/** Never lets go: the next cue (5000) and finish() end the reps. */
const noRelease = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [
        preBaseline(2000),
        work(Block.Flicks, 2000, 0),
        rest(Block.Flicks, 1000),
        work(Block.Flicks, 2000, 1),
        rest(Block.Flicks, 1000),
    ],
    squeezes: [{ startMs: 2200, riseMs: 200, holdMs: 10000, fallMs: 200, amp: 40 }],
}))

/** Let go early (3000-3400) and squeezed again: the offset is the final release. */
const reSqueeze = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Holds, 3000, 0), rest(Block.Holds, 1500)],
    squeezes: [
        { startMs: 2200, riseMs: 200, holdMs: 400, fallMs: 200, amp: 40 },
        { startMs: 3400, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 40 },
    ],
}))

const HOLD_AMPS = [40, 38, 36, 34, 32]

function fatigueSegments(): Segment[] {
    const out: Segment[] = [preBaseline(2000)]
    for (let i = 0; i < HOLD_AMPS.length; i++) {
        out.push(work(Block.Holds, 2000, i))
        out.push(rest(Block.Holds, 1000))
    }
    return out
}

function fatigueSqueezes(): Squeeze[] {
    const out: Squeeze[] = []
    for (let i = 0; i < HOLD_AMPS.length; i++)
        out.push({ startMs: 2000 + i * 3000 + 250, riseMs: 200, holdMs: 1400, fallMs: 200, amp: HOLD_AMPS[i] })
    return out
}

/** Five holds whose peaks fall by 2 each. */
const fatigue = scenario(() => ({ rateHz: 50, rest: 4, noise: 0.5, segments: fatigueSegments(), squeezes: fatigueSqueezes() }))

/** A 30 s endurance contraction at 25 Hz, plateau falling 0.5/s: 10 s windows. */
const endurance = scenario(() => ({
    rateHz: 25,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Endurance, 30000, 0), postBaseline(2000)],
    squeezes: [{ startMs: 2300, riseMs: 200, holdMs: 29400, fallMs: 300, amp: 40, slopePerS: -0.5 }],
    sumRanges: [
        [2100, 2500],
        [12100, 12500],
        [22000, 22040],
        [32000, 32040],
    ],
}))

/** A 9 s endurance contraction at 50 Hz, plateau falling 1/s: thirds. */
const shortEndurance = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Endurance, 9000, 0), postBaseline(1000)],
    squeezes: [{ startMs: 2200, riseMs: 200, holdMs: 8500, fallMs: 200, amp: 40, slopePerS: -1 }],
    sumRanges: [
        [2000, 2400],
        [5000, 5300],
        [7900, 8200],
        [11000, 11020],
    ],
}))

/**
 * The 9 s endurance contraction started 500 ms late, after a movement
 * spike: the first and last thirds are those of the contraction, not of
 * the spike's onset, and the spike's samples are not in the first.
 */
const spikedEndurance = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    segments: [preBaseline(2000), work(Block.Endurance, 9000, 0), postBaseline(1000)],
    squeezes: [
        { startMs: 2100, riseMs: 20, holdMs: 0, fallMs: 150, amp: 30 },
        { startMs: 2700, riseMs: 200, holdMs: 8000, fallMs: 200, amp: 40, slopePerS: -1 },
    ],
    sumRanges: [
        [2600, 2800],
        [5300, 5600],
        [8100, 8400],
        [11000, 11020],
    ],
}))

/** 11 planned (Glazer) but cut after 3 flicks, the second without a contraction; takeFinishedReps along the way. */
const cutShort = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    repsPlanned: 11,
    segments: [
        preBaseline(2000),
        work(Block.Flicks, 2000, 0),
        rest(Block.Flicks, 1000),
        work(Block.Flicks, 2000, 1),
        rest(Block.Flicks, 1000),
        work(Block.Flicks, 2000, 2),
        rest(Block.Flicks, 1000),
    ],
    squeezes: [
        { startMs: 2200, riseMs: 200, holdMs: 1400, fallMs: 200, amp: 40 },
        { startMs: 8200, riseMs: 200, holdMs: 1400, fallMs: 200, amp: 40 },
    ],
    takeAtMs: [4800, 4820, 7000, 9000],
}))

/** The input lags 40 ms (smoothing): inputDelayMs 40 takes it back out. */
const delayed = scenario(() => ({
    rateHz: 50,
    rest: 4,
    noise: 0.5,
    options: { ...DEFAULT_EMG_ANALYZER, inputDelayMs: 40 },
    segments: [preBaseline(2000), work(Block.Flicks, 2000, 0), rest(Block.Flicks, 1500)],
    squeezes: [{ startMs: 2340, riseMs: 200, holdMs: 1300, fallMs: 200, amp: 40 }],
}))

// ---- cases ----

const MS20 = 20
const MS30 = 30

export interface MetricsGroup {
    name: string
    run: ScenarioRun
    /** built on demand: the VM holds one group's table at a time */
    cases: () => NumericCase[]
}

/** The cases by scenario: the VM runs one scenario, its cases, then frees it. */
export const metricsGroups: MetricsGroup[] = [
    {
        name: "a clean flick at 100 Hz, rest statistics",
        run: flick,
        cases: () => [
            { name: "flick: onset within 20 ms of the truth", actual: () => repOf(flick, 0).onsetMs, expected: 3250, tolerance: MS20 },
            { name: "flick: onset latency", actual: () => repOf(flick, 0).onsetLatencyMs, expected: 250, tolerance: MS20 },
            { name: "flick: offset within 30 ms of the truth", actual: () => repOf(flick, 0).offsetMs, expected: 5200, tolerance: MS30 },
            { name: "flick: release latency", actual: () => repOf(flick, 0).releaseLatencyMs, expected: 200, tolerance: MS30 },
            { name: "flick: cueOn", actual: () => repOf(flick, 0).cueOnMs, expected: 3000, tolerance: 0 },
            { name: "flick: cueOff", actual: () => repOf(flick, 0).cueOffMs, expected: 5000, tolerance: 0 },
            { name: "flick: peak is exact", actual: () => repOf(flick, 0).peak, expected: 44, tolerance: 1e-9 },
            { name: "flick: time to peak = rise time", actual: () => repOf(flick, 0).timeToPeakMs, expected: 200, tolerance: MS20 },
            { name: "flick: no flags", actual: () => repOf(flick, 0).flags, expected: 0, tolerance: 0 },
            { name: "flick: repIndex", actual: () => repOf(flick, 0).repIndex, expected: 0, tolerance: 0 },
            { name: "flick: block", actual: () => repOf(flick, 0).block, expected: Block.Flicks, tolerance: 0 },
            {
                name: "flick: meanWork over [cueOn, cueOff)",
                actual: () => repOf(flick, 0).meanWork - flick.get().windows[2].mean(),
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "flick: holdAtTarget (50% of its own peak) within a sample",
                actual: () => repOf(flick, 0).holdAtTargetMs - flick.get().targetMs[0],
                expected: 0,
                tolerance: 10,
            },
            {
                name: "flick: holdCv over the plateau",
                actual: () => repOf(flick, 0).holdCv - flick.get().plateaus[0].sd() / flick.get().plateaus[0].mean(),
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "flick: peak is 100% of the MVC so far", actual: () => repOf(flick, 0).peakPctMvc, expected: 100, tolerance: 1e-9 },
            { name: "flick: endurance decline is 0", actual: () => repOf(flick, 0).enduranceDeclinePct, expected: 0, tolerance: 0 },
            {
                name: "pre-baseline mean (settle 1 s, last 300 ms out)",
                actual: () => sessionOf(flick).preBaseline.mean - flick.get().windows[0].mean(),
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "pre-baseline SD",
                actual: () => sessionOf(flick).preBaseline.sd - flick.get().windows[0].sd(),
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "pre-baseline CV",
                actual: () => {
                    const w = flick.get().windows[0]
                    return sessionOf(flick).preBaseline.cv - w.sd() / w.mean()
                },
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "pre-baseline duration", actual: () => sessionOf(flick).preBaseline.durationMs, expected: 1700, tolerance: 1e-9 },
            {
                name: "post-baseline mean follows the higher rest",
                actual: () => sessionOf(flick).postBaseline.mean - flick.get().windows[1].mean(),
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "post-baseline SD",
                actual: () => sessionOf(flick).postBaseline.sd - flick.get().windows[1].sd(),
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "post-baseline mean is about 5", actual: () => sessionOf(flick).postBaseline.mean, expected: 5, tolerance: 0.1 },
            {
                name: "restBand = pre mean + 1 x max(SD, minThreshold/3)",
                actual: () => flick.get().restBand - emgRestBand(flick.get().windows[0]),
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "flick session: MVC", actual: () => sessionOf(flick).mvc, expected: 44, tolerance: 1e-9 },
            { name: "flick session: reps done", actual: () => sessionOf(flick).repsDone, expected: 1, tolerance: 0 },
            { name: "flick session: reps planned", actual: () => sessionOf(flick).repsPlanned, expected: 1, tolerance: 0 },
            { name: "flick session: time on task", actual: () => sessionOf(flick).timeOnTaskMs, expected: 2000, tolerance: 0 },
            { name: "flick session: no holds, no fatigue", actual: () => sessionOf(flick).holdFatiguePct, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "onset after the rest tone wandered up",
        run: wanderBand,
        cases: () => [
            { name: "wander: backtracking to the pre-baseline band is 125 ms late", actual: () => repOf(wanderBand, 0).onsetMs, expected: 3350 + 125, tolerance: 25 },
        ],
    },
    {
        name: "onset after the rest tone wandered up, pre-cue level",
        run: wanderPreCue,
        cases: () => [
            { name: "wander: backtracking to the pre-cue level is 50 ms late", actual: () => repOf(wanderPreCue, 0).onsetMs, expected: 3350 + 50, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: started high, then a rise on top of the raised tone",
        run: startedHighRise,
        cases: () => [
            { name: "started high, then a rise: flagged StartedHigh", actual: () => flagOf(startedHighRise, 0, RepFlag.StartedHigh), expected: 1, tolerance: 0 },
            { name: "started high, then a rise: onset within 30 ms of the rise's start, not the cue", actual: () => repOf(startedHighRise, 0).onsetMs, expected: 3400, tolerance: 30 },
        ],
    },
    {
        name: "shape fit: a late rise from a tone that moved after the cue",
        run: lateOnMovedTone,
        cases: () => [
            { name: "late reaction: onset within 30 ms of the rise's start, its foot the level before it", actual: () => repOf(lateOnMovedTone, 0).onsetMs, expected: 4300, tolerance: 30 },
        ],
    },
    {
        name: "shape fit: a late rise on a tone raised to the onset band",
        run: lateRiseOnRaisedTone,
        cases: () => [
            { name: "late rise on a raised tone: onset within 30 ms of the rise's start, not the noise's crossing", actual: () => repOf(lateRiseOnRaisedTone, 0).onsetMs, expected: 4000, tolerance: 30 },
            { name: "late rise on a raised tone: not flagged StartedHigh", actual: () => flagOf(lateRiseOnRaisedTone, 0, RepFlag.StartedHigh), expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "shape fit: a fatigued end too small to fit",
        run: fatiguedEnd,
        cases: () => [
            { name: "fatigued end: the offset after the fall's start, within 3 s of the let-go cue", actual: () => (repOf(fatiguedEnd, 0).offsetMs >= 13800 && repOf(fatiguedEnd, 0).offsetMs <= 16000 ? 1 : 0), expected: 1, tolerance: 0 },
            { name: "fatigued end: not flagged NoRelease", actual: () => repOf(fatiguedEnd, 0).flags & RepFlag.NoRelease, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "shape fit: a weak patient's smooth flick",
        run: weakFlickFit,
        cases: () => [
            { name: "shape fit: onset within 20 ms of the start of a smooth rise", actual: () => repOf(weakFlickFit, 0).onsetMs, expected: 3400, tolerance: 20 },
            { name: "shape fit: offset within 25 ms of 95 % relaxation", actual: () => repOf(weakFlickFit, 0).offsetMs, expected: 3400 + 600 + 1100 + 0.8564 * 500, tolerance: 25 },
            { name: "shape fit: no flags", actual: () => repOf(weakFlickFit, 0).flags, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "shape fit: a noisy top that dips below 60 % and climbs again",
        run: noisyTopFit,
        cases: () => [
            { name: "shape fit: a dip in the top does not move the onset (first crossing of 60 %)", actual: () => repOf(noisyTopFit, 0).onsetMs, expected: 3400, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: a spike on the top",
        run: spikedTopFit,
        cases: () => [
            { name: "shape fit: a spike on the top does not move the onset (the top is a mean around its highest sample)", actual: () => repOf(spikedTopFit, 0).onsetMs, expected: 3400, tolerance: 20 },
            { name: "shape fit: a spike on the top leaves the offset within 25 ms of 95 % relaxation", actual: () => repOf(spikedTopFit, 0).offsetMs, expected: 3400 + 600 + 1100 + 0.8564 * 500, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: a movement spike, then a late flick",
        run: spikeBeforeLateRise,
        cases: () => [
            { name: "spike then a late flick: one rep", actual: () => spikeBeforeLateRise.get().reps.length, expected: 1, tolerance: 0 },
            { name: "spike then a late flick: onset within 25 ms of the flick's start, not the spike's", actual: () => repOf(spikeBeforeLateRise, 0).onsetMs, expected: 3700, tolerance: 25 },
            { name: "spike then a late flick: offset within 25 ms of 95 % relaxation", actual: () => repOf(spikeBeforeLateRise, 0).offsetMs, expected: 3700 + 400 + 700 + 0.8564 * 500, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: a sagged hold's release",
        run: saggedRelease,
        cases: () => [
            { name: "sagged hold: offset within 25 ms of the fall down to 5 % of the rep's height", actual: () => repOf(saggedRelease, 0).offsetMs, expected: 7200 + 0.76995 * 800, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: a movement spike after the release",
        run: spikeAfterRelease,
        cases: () => [
            { name: "spike after the release: offset within 25 ms of the fall down to 5 %", actual: () => repOf(spikeAfterRelease, 0).offsetMs, expected: 7200 + 0.8564 * 800, tolerance: 25 },
        ],
    },
    {
        name: "band crossing on the same smooth flick",
        run: weakFlickBand,
        cases: () => [
            // 2.5 + 0.67 of 12 on a 600 ms half-cosine: acos(1 - 2 * 0.67 / 12) / pi * 600 = 91 ms
            { name: "band: onset of a smooth rise is ~90 ms late", actual: () => repOf(weakFlickBand, 0).onsetMs, expected: 3400 + 91, tolerance: 25 },
        ],
    },
    {
        name: "shape fit: tone rises during a hold",
        run: toneRise,
        cases: () => [
            { name: "tone rise: onset within 20 ms", actual: () => repOf(toneRise, 0).onsetMs, expected: 3400, tolerance: 20 },
            { name: "tone rise: offset against the new rest, within 40 ms", actual: () => repOf(toneRise, 0).offsetMs, expected: 3400 + 400 + 2000 + 0.8564 * 1200, tolerance: 40 },
            { name: "tone rise: released (no NoRelease flag)", actual: () => repOf(toneRise, 0).flags & RepFlag.NoRelease, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "a hold with a 500 ms peak window",
        run: windowedHold,
        cases: () => [
            // 25 samples: 12 at +1, 13 at -1 or the other way: 34 +- 0.04
            { name: "windowed peak: the tremor averages out", actual: () => repOf(windowedHold, 0).peak, expected: 34, tolerance: 0.05 },
        ],
    },
    {
        name: "a hold after a stronger flick",
        run: hold,
        cases: () => [
            { name: "hold: onset within 20 ms", actual: () => repOf(hold, 1).onsetMs, expected: 5300, tolerance: MS20 },
            { name: "hold: offset within 30 ms", actual: () => repOf(hold, 1).offsetMs, expected: 9300, tolerance: MS30 },
            { name: "hold: release latency", actual: () => repOf(hold, 1).releaseLatencyMs, expected: 300, tolerance: MS30 },
            { name: "hold: peak with tremor is exact", actual: () => repOf(hold, 1).peak, expected: 35, tolerance: 1e-9 },
            { name: "hold: time to peak", actual: () => repOf(hold, 1).timeToPeakMs, expected: 300, tolerance: MS20 },
            { name: "hold: peak as % of the flick's MVC", actual: () => repOf(hold, 1).peakPctMvc, expected: (100 * 35) / 54, tolerance: 1e-9 },
            {
                name: "hold: holdAtTarget at 50% of the MVC is exact",
                actual: () => repOf(hold, 1).holdAtTargetMs - hold.get().targetMs[0],
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "hold: holdAtTarget from 77% of the rise to the let-go cue", actual: () => repOf(hold, 1).holdAtTargetMs, expected: 3460, tolerance: 20 },
            {
                name: "hold: holdCv over the plateau",
                actual: () => repOf(hold, 1).holdCv - hold.get().plateaus[0].sd() / hold.get().plateaus[0].mean(),
                expected: 0,
                tolerance: 1e-9,
            },
            { name: "hold: holdCv is about tremor / level", actual: () => repOf(hold, 1).holdCv, expected: 1 / 34, tolerance: 0.002 },
            { name: "hold: flick's peak", actual: () => repOf(hold, 0).peak, expected: 54, tolerance: 1e-9 },
            { name: "hold session: MVC is the flick's", actual: () => sessionOf(hold).mvc, expected: 54, tolerance: 1e-9 },
            { name: "hold session: time on task", actual: () => sessionOf(hold).timeOnTaskMs, expected: 6000, tolerance: 0 },
            { name: "hold session: one hold, no fatigue fit", actual: () => sessionOf(hold).holdFatiguePct, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "no contraction",
        run: noContraction,
        cases: () => [
            { name: "no contraction: flagged NoContraction", actual: () => repOf(noContraction, 0).flags, expected: RepFlag.NoContraction, tolerance: 0 },
            { name: "no contraction: onset -1", actual: () => repOf(noContraction, 0).onsetMs, expected: -1, tolerance: 0 },
            { name: "no contraction: offset -1", actual: () => repOf(noContraction, 0).offsetMs, expected: -1, tolerance: 0 },
            { name: "no contraction: release latency -1", actual: () => repOf(noContraction, 0).releaseLatencyMs, expected: -1, tolerance: 0 },
            { name: "no contraction: time to peak -1", actual: () => repOf(noContraction, 0).timeToPeakMs, expected: -1, tolerance: 0 },
            { name: "no contraction: not done", actual: () => sessionOf(noContraction).repsDone, expected: 0, tolerance: 0 },
            { name: "no contraction: no MVC", actual: () => sessionOf(noContraction).mvc, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "already squeezing at the cue",
        run: startedHigh,
        cases: () => [
            { name: "started high: flagged StartedHigh", actual: () => flagOf(startedHigh, 0, RepFlag.StartedHigh), expected: 1, tolerance: 0 },
            { name: "started high: onset is the cue", actual: () => repOf(startedHigh, 0).onsetMs, expected: 3500, tolerance: 0 },
            { name: "started high: latency 0", actual: () => repOf(startedHigh, 0).onsetLatencyMs, expected: 0, tolerance: 0 },
            { name: "started high: early release offset", actual: () => repOf(startedHigh, 0).offsetMs, expected: 5400, tolerance: MS30 },
            { name: "started high: negative release latency", actual: () => repOf(startedHigh, 0).releaseLatencyMs, expected: -100, tolerance: MS30 },
            { name: "started high: counted", actual: () => sessionOf(startedHigh).repsDone, expected: 1, tolerance: 0 },
        ],
    },
    {
        name: "squeezing just before the cue",
        run: anticipation,
        cases: () => [
            { name: "anticipation: onset before the cue", actual: () => repOf(anticipation, 0).onsetMs, expected: 1850, tolerance: MS20 },
            { name: "anticipation: negative latency", actual: () => repOf(anticipation, 0).onsetLatencyMs, expected: -150, tolerance: MS20 },
            { name: "anticipation: not StartedHigh", actual: () => repOf(anticipation, 0).flags, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "no baseline: the data start with the cue",
        run: atStart,
        cases: () => [
            { name: "data start with the cue: onset", actual: () => repOf(atStart, 0).onsetMs, expected: 500, tolerance: MS20 },
            { name: "data start with the cue: offset", actual: () => repOf(atStart, 0).offsetMs, expected: 1900, tolerance: MS30 },
            { name: "data start with the cue: no flags", actual: () => repOf(atStart, 0).flags, expected: 0, tolerance: 0 },
            { name: "data start with the cue: no pre-baseline", actual: () => sessionOf(atStart).preBaseline.durationMs, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "no baseline: a rest segment first",
        run: restFirst,
        cases: () => [
            { name: "rest segment first: onset", actual: () => repOf(restFirst, 0).onsetMs, expected: 2400, tolerance: MS20 },
            { name: "rest segment first: offset", actual: () => repOf(restFirst, 0).offsetMs, expected: 4000, tolerance: MS30 },
            { name: "rest segment first: no flags", actual: () => repOf(restFirst, 0).flags, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "saturation",
        run: saturated,
        cases: () => [
            { name: "saturation: flagged Saturated", actual: () => flagOf(saturated, 0, RepFlag.Saturated), expected: 1, tolerance: 0 },
            { name: "saturation: peak is the clip level", actual: () => repOf(saturated, 0).peak, expected: 40, tolerance: 0 },
            { name: "saturation: still counted", actual: () => sessionOf(saturated).repsDone, expected: 1, tolerance: 0 },
        ],
    },
    {
        name: "dropout",
        run: dropout,
        cases: () => [
            { name: "dropout: flagged Dropout", actual: () => flagOf(dropout, 0, RepFlag.Dropout), expected: 1, tolerance: 0 },
            { name: "dropout: only Dropout", actual: () => repOf(dropout, 0).flags, expected: RepFlag.Dropout, tolerance: 0 },
            { name: "dropout: onset still found", actual: () => repOf(dropout, 0).onsetMs, expected: 2200, tolerance: MS20 },
            { name: "dropout: still counted", actual: () => sessionOf(dropout).repsDone, expected: 1, tolerance: 0 },
        ],
    },
    {
        name: "interruption",
        run: interrupted,
        cases: () => [
            { name: "interrupted: flagged Interrupted", actual: () => flagOf(interrupted, 1, RepFlag.Interrupted), expected: 1, tolerance: 0 },
            { name: "interrupted: its window ends at the interruption", actual: () => repOf(interrupted, 1).cueOffMs, expected: 6000, tolerance: 0 },
            { name: "interrupted: both reps listed", actual: () => interrupted.get().reps.length, expected: 2, tolerance: 0 },
            { name: "interrupted: not counted as done", actual: () => sessionOf(interrupted).repsDone, expected: 1, tolerance: 0 },
            { name: "interrupted: its peak is not the MVC", actual: () => sessionOf(interrupted).mvc, expected: 34, tolerance: 1e-9 },
            { name: "interrupted: first rep untouched", actual: () => repOf(interrupted, 0).flags, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "slow release",
        run: slowRelease,
        cases: () => [
            { name: "slow release: offset when back at rest", actual: () => repOf(slowRelease, 0).offsetMs, expected: 5600, tolerance: 40 },
            { name: "slow release: release latency 1.6 s", actual: () => repOf(slowRelease, 0).releaseLatencyMs, expected: 1600, tolerance: 40 },
            { name: "slow release: no flags", actual: () => repOf(slowRelease, 0).flags, expected: 0, tolerance: 0 },
        ],
    },
    {
        name: "no release",
        run: noRelease,
        cases: () => [
            { name: "no release: flagged NoRelease at the next cue", actual: () => flagOf(noRelease, 0, RepFlag.NoRelease), expected: 1, tolerance: 0 },
            { name: "no release: offset -1", actual: () => repOf(noRelease, 0).offsetMs, expected: -1, tolerance: 0 },
            { name: "no release: release latency -1", actual: () => repOf(noRelease, 0).releaseLatencyMs, expected: -1, tolerance: 0 },
            {
                name: "no release: next rep StartedHigh and NoRelease at finish",
                actual: () => repOf(noRelease, 1).flags,
                expected: RepFlag.StartedHigh | RepFlag.NoRelease,
                tolerance: 0,
            },
            { name: "no release: both counted as done", actual: () => sessionOf(noRelease).repsDone, expected: 2, tolerance: 0 },
        ],
    },
    {
        name: "early let-go and a new squeeze",
        run: reSqueeze,
        cases: () => [
            { name: "squeezed again after an early let-go: one rep", actual: () => reSqueeze.get().reps.length, expected: 1, tolerance: 0 },
            { name: "squeezed again after an early let-go: offset is the last", actual: () => repOf(reSqueeze, 0).offsetMs, expected: 5100, tolerance: MS30 },
            { name: "squeezed again after an early let-go: onset is the first", actual: () => repOf(reSqueeze, 0).onsetMs, expected: 2200, tolerance: MS20 },
        ],
    },
    {
        name: "fatigue across holds",
        run: fatigue,
        cases: () => [
            {
                name: "hold fatigue from the least-squares line of hold peaks",
                actual: () => sessionOf(fatigue).holdFatiguePct,
                expected: fittedDeclinePct([44, 42, 40, 38, 36]),
                tolerance: 1e-9,
            },
            { name: "hold fatigue is 8/44", actual: () => sessionOf(fatigue).holdFatiguePct, expected: (100 * 8) / 44, tolerance: 1e-9 },
            { name: "hold fatigue: 5 holds done", actual: () => sessionOf(fatigue).repsDone, expected: 5, tolerance: 0 },
            {
                name: "hold fatigue: last hold's peak vs MVC",
                actual: () => repOf(fatigue, 4).peakPctMvc,
                expected: (100 * 36) / 44,
                tolerance: 1e-9,
            },
        ],
    },
    {
        name: "endurance 30 s",
        run: endurance,
        cases: () => [
            {
                name: "endurance 30 s: decline of the last 10 s vs the first 10 s",
                actual: () => {
                    const onset = repOf(endurance, 0).onsetMs
                    return repOf(endurance, 0).enduranceDeclinePct - declinePct(endurance, onset, onset + 10000, 22000, 32000)
                },
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "endurance 30 s: decline near the truth's",
                actual: () => repOf(endurance, 0).enduranceDeclinePct - declinePct(endurance, 2300, 12300, 22000, 32000),
                expected: 0,
                tolerance: 0.5,
            },
            {
                name: "endurance 30 s: session reports the rep's decline",
                actual: () => sessionOf(endurance).enduranceDeclinePct - repOf(endurance, 0).enduranceDeclinePct,
                expected: 0,
                tolerance: 0,
            },
        ],
    },
    {
        name: "endurance 9 s",
        run: shortEndurance,
        cases: () => [
            {
                name: "endurance 9 s: decline of the last third vs the first third",
                actual: () => thirdsDeclineError(shortEndurance, 11000),
                expected: 0,
                tolerance: 1e-9,
            },
            {
                name: "endurance 9 s: decline near the truth's",
                actual: () => repOf(shortEndurance, 0).enduranceDeclinePct - declinePct(shortEndurance, 2200, 2200 + 8800 / 3, 11000 - 8800 / 3, 11000),
                expected: 0,
                tolerance: 0.5,
            },
        ],
    },
    {
        name: "endurance after a movement spike",
        run: spikedEndurance,
        cases: () => [
            { name: "spiked endurance: onset is the contraction's, not the spike's", actual: () => repOf(spikedEndurance, 0).onsetMs, expected: 2700, tolerance: MS30 },
            {
                name: "spiked endurance: decline of the last third vs the first third of the contraction",
                actual: () => thirdsDeclineError(spikedEndurance, 11000),
                expected: 0,
                tolerance: 1e-9,
            },
        ],
    },
    {
        name: "reps done vs planned, takeFinishedReps",
        run: cutShort,
        cases: () => [
            { name: "cut short: reps planned", actual: () => sessionOf(cutShort).repsPlanned, expected: 11, tolerance: 0 },
            { name: "cut short: reps done", actual: () => sessionOf(cutShort).repsDone, expected: 2, tolerance: 0 },
            { name: "cut short: reps listed", actual: () => cutShort.get().reps.length, expected: 3, tolerance: 0 },
            { name: "cut short: the middle one had no contraction", actual: () => flagOf(cutShort, 1, RepFlag.NoContraction), expected: 1, tolerance: 0 },
            { name: "cut short: time on task", actual: () => sessionOf(cutShort).timeOnTaskMs, expected: 6000, tolerance: 0 },
            { name: "takeFinishedReps: every rep once", actual: () => cutShort.get().taken.length, expected: 3, tolerance: 0 },
            {
                name: "takeFinishedReps: in order",
                actual: () => {
                    const t = cutShort.get().taken
                    return t.length === 3 ? t[0].repIndex * 100 + t[1].repIndex * 10 + t[2].repIndex : -1
                },
                expected: 12,
                tolerance: 0,
            },
            {
                name: "takeFinishedReps: counts per call",
                actual: () => {
                    let code = 0
                    for (const n of cutShort.get().takeCounts) code = code * 10 + n
                    return code
                },
                expected: 101010,
                tolerance: 0,
            },
        ],
    },
    {
        name: "input delay",
        run: delayed,
        cases: () => [
            { name: "inputDelayMs: onset corrected", actual: () => repOf(delayed, 0).onsetMs, expected: 2300, tolerance: MS20 },
            { name: "inputDelayMs: offset corrected", actual: () => repOf(delayed, 0).offsetMs, expected: 4000, tolerance: MS30 },
        ],
    },
]

/** All the cases in one table. */
export function metricsCases(): NumericCase[] {
    const out: NumericCase[] = []
    for (const g of metricsGroups) for (const c of g.cases()) out.push(c)
    return out
}

/**
 * One case per group: how many of the group's cases fail (expected 0), each
 * failure logged with its name. The VM runs these: ~110 cases registered one
 * test each take ~40 KB of its ~56 KB of free heap.
 */
export function metricsGroupSummary(g: MetricsGroup): NumericCase {
    return {
        name: g.name + ": all cases",
        actual: () => {
            let failed = 0
            for (const c of g.cases()) {
                const actual = c.actual()
                if (!isClose(actual, c.expected, c.tolerance)) {
                    failed++
                    console.log("FAIL " + c.name + ": expected " + c.expected + " +- " + c.tolerance + ", got " + actual)
                }
            }
            return failed
        },
        expected: 0,
        tolerance: 0,
    }
}


function newAnalyzer(patch: (o: ChannelAnalyzerOptions) => void): ChannelAnalyzer {
    const o: ChannelAnalyzerOptions = { ...DEFAULT_EMG_ANALYZER }
    patch(o)
    return new ChannelAnalyzer(o, 1)
}

export const metricsThrowCases: ThrowCase[] = [
    { name: "a sample rate of 0 is refused", run: () => newAnalyzer(o => (o.sampleRateHz = 0)) },
    { name: "kLow above kHigh is refused", run: () => newAnalyzer(o => (o.kLow = 4)) },
    { name: "a negative minThreshold is refused", run: () => newAnalyzer(o => (o.minThreshold = -1)) },
]
