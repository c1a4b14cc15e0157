// Probe sensing conditioners (src/core/sensing/) on short synthetic signals.
// Run by tests/core/sensing.test.ts (vitest) and tests/vm/sensing.vm.ts
// (DeviceScript VM). DeviceScript subset; every case stays well under the
// VM's InfiniteLoop budget (a few hundred samples, 50 Hz test options).
import { EmgContact, EmgContactMonitor, type EmgContactOptions } from "../../src/core/sensing/emg-contact"
import {
    PressureConditioner,
    ProbeState,
    type PressureConditionerOptions,
} from "../../src/core/sensing/pressure-conditioner"
import type { NumericCase, ThrowCase } from "./types"

// ---- signal helpers -------------------------------------------------------

/** Tiny 16-bit LCG (a = 25173, c = 13849, m = 2^16): deterministic pseudo-noise in both worlds. */
export class Lcg {
    private s: number
    constructor(seed: number) {
        this.s = seed
    }
    /** uniform in [0, 1) */
    next(): number {
        const x = this.s * 25173 + 13849
        // no %: DeviceScript's % is 32-bit; this stays exact in doubles anyway
        this.s = x - Math.floor(x / 65536) * 65536
        return this.s / 65536
    }
}

/** n samples of `level` plus uniform noise in [-amp, amp) (SD amp / sqrt(3)). */
export function noisy(level: number, amp: number, n: number, seed: number): number[] {
    const rng = new Lcg(seed)
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push(level + amp * (2 * rng.next() - 1))
    return out
}

/** n samples of exactly `level`. */
export function flat(level: number, n: number): number[] {
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push(level)
    return out
}

/**
 * An insertion transient: a jump to `peak`, settling exponentially to
 * `rest` with a time constant of `tauSamples`, plus noise.
 */
export function insertion(peak: number, rest: number, tauSamples: number, amp: number, n: number, seed: number): number[] {
    const rng = new Lcg(seed)
    const out: number[] = []
    for (let i = 0; i < n; i++) out.push(rest + (peak - rest) * Math.exp(-i / tauSamples) + amp * (2 * rng.next() - 1))
    return out
}

/** a then b (DeviceScript has no Array.concat). */
export function join(a: number[], b: number[]): number[] {
    const out: number[] = []
    for (const v of a) out.push(v)
    for (const v of b) out.push(v)
    return out
}

/** Pushes every value; returns the last output. */
function feed(p: PressureConditioner, values: number[]): number {
    let out = 0
    for (const v of values) out = p.push(v)
    return out
}

/** Pushes every value; returns the 0-based index of the first push after which state() is `state`, or -1. */
function indexOfState(p: PressureConditioner, values: number[], state: ProbeState): number {
    let at = -1
    for (let i = 0; i < values.length; i++) {
        p.push(values[i])
        if (at < 0 && p.state() === state) at = i
    }
    return at
}

function feedEmg(m: EmgContactMonitor, values: number[]): EmgContact {
    let out = EmgContact.Unknown
    for (const v of values) out = m.push(v)
    return out
}

function b(x: boolean): number {
    return x ? 1 : 0
}

// ---- pressure -------------------------------------------------------------

/**
 * 50 Hz and short windows so cases stay small: a 1 s stability window is
 * 50 samples, the removal hold 25 samples, the drift time constant 100
 * samples. Thresholds as the defaults.
 */
export const TEST_PRESSURE: PressureConditionerOptions = {
    sampleRateHz: 50,
    insertionThresholdCmH2O: 3,
    stabilityWindowMs: 1000,
    stabilitySdCmH2O: 0.75,
    removalThresholdCmH2O: 1.5,
    removalHoldMs: 500,
    fullScaleCmH2O: 300,
    driftTimeConstantMs: 2000,
    maxDriftCmH2O: 2,
}

function pressureWith(maxDrift: number): PressureConditioner {
    return new PressureConditioner({
        sampleRateHz: TEST_PRESSURE.sampleRateHz,
        insertionThresholdCmH2O: TEST_PRESSURE.insertionThresholdCmH2O,
        stabilityWindowMs: TEST_PRESSURE.stabilityWindowMs,
        stabilitySdCmH2O: TEST_PRESSURE.stabilitySdCmH2O,
        removalThresholdCmH2O: TEST_PRESSURE.removalThresholdCmH2O,
        removalHoldMs: TEST_PRESSURE.removalHoldMs,
        fullScaleCmH2O: TEST_PRESSURE.fullScaleCmH2O,
        driftTimeConstantMs: TEST_PRESSURE.driftTimeConstantMs,
        maxDriftCmH2O: maxDrift,
    })
}

/** Inserted at a noiseless 12 cmH2O and zeroed (50 samples). */
function readyAt12(maxDrift: number): PressureConditioner {
    const p = pressureWith(maxDrift)
    feed(p, flat(12, 50))
    return p
}

/** Inserted at 12 +- 0.5 cmH2O (noise SD 0.29) and zeroed. */
function readyNoisy(): PressureConditioner {
    const p = new PressureConditioner(TEST_PRESSURE)
    feed(p, noisy(12, 0.5, 50, 7))
    return p
}

/** Drift tracking per sample at 50 Hz with tau 2000 ms. */
const TEST_ALPHA = 1 - Math.exp(-1 / 100)

export const pressureCases: NumericCase[] = [
    {
        name: "not inserted while the pressure stays under the insertion threshold",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, noisy(1, 1, 100, 1))
            return p.state()
        },
        expected: ProbeState.NotInserted,
        tolerance: 0,
    },
    {
        name: "the first sample over the insertion threshold starts zeroing",
        actual: () => indexOfState(new PressureConditioner(TEST_PRESSURE), [0, 1, 2.9, 3, 3.5, 8], ProbeState.Zeroing),
        expected: 4,
        tolerance: 0,
    },
    {
        name: "a stable rest zeroes after exactly one stability window",
        actual: () =>
            indexOfState(new PressureConditioner(TEST_PRESSURE), join(flat(0, 5), noisy(12, 0.5, 80, 2)), ProbeState.Ready),
        // 5 samples at 0, then the 50th sample at rest (index 5 + 49)
        expected: 54,
        tolerance: 0,
    },
    {
        name: "no zeroing while the insertion transient is still in the window",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            // 30 -> 12 cmH2O, tau 10 samples (0.2 s): the window is full at sample 50
            // but still holds the tail of the transient
            feed(p, insertion(30, 12, 10, 0.3, 55, 3))
            return p.state()
        },
        expected: ProbeState.Zeroing,
        tolerance: 0,
    },
    {
        name: "zeroing after the insertion transient has settled",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            const at = indexOfState(p, insertion(30, 12, 10, 0.3, 200, 3), ProbeState.Ready)
            // the tail 18 exp(-i/10) over a 50-sample window has SD ~0.26 x its
            // first value: under 0.75 once the window starts past sample ~19,
            // so Ready at about sample 68 (window full at 49 at the earliest)
            return at >= 60 && at <= 80 ? 1 : 0
        },
        expected: 1,
        tolerance: 0,
    },
    {
        // the SD test accepts a window that still holds the end of the tail:
        // its mean sits ~0.5 cmH2O above the rest (18 e^-1.9 x 0.21); the
        // whole first window would have averaged ~15.6
        name: "zero after a transient is within 1 cmH2O of the rest level",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, insertion(30, 12, 10, 0.3, 200, 3))
            return p.zeroCmH2O()
        },
        expected: 12.5,
        tolerance: 0.5,
    },
    {
        name: "the zero is the mean of the stable window",
        actual: () => {
            const rest = noisy(12, 0.5, 50, 7)
            let sum = 0
            for (const v of rest) sum += v
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, rest)
            return p.zeroCmH2O() - sum / 50
        },
        expected: 0,
        tolerance: 1e-9,
    },
    {
        name: "the zero of a 12 +- 0.5 cmH2O rest is 12",
        actual: () => readyNoisy().zeroCmH2O(),
        expected: 12,
        tolerance: 0.15,
    },
    {
        name: "output is 0 while zeroing",
        actual: () => feed(new PressureConditioner(TEST_PRESSURE), noisy(12, 0.5, 49, 7)),
        expected: 0,
        tolerance: 0,
    },
    {
        name: "once ready the output is raw - zero",
        actual: () => {
            const p = readyNoisy()
            const out = p.push(32.5)
            return out - (32.5 - p.zeroCmH2O())
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "a 20 cmH2O squeeze over a 12 cmH2O rest reads 20",
        actual: () => feed(readyAt12(2), flat(32, 10)),
        expected: 20,
        tolerance: 1e-9,
    },
    {
        name: "a rest that breathes +-1 cmH2O still zeroes",
        actual: () => {
            // triangle ripple, +-1 cmH2O, period 40 samples (0.8 s): SD 0.58
            const ripple: number[] = []
            for (let i = 0; i < 120; i++) {
                const ph = i - Math.floor(i / 40) * 40
                ripple.push(12 + (ph < 20 ? -1 + ph / 10 : 3 - ph / 10))
            }
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, ripple)
            return p.state()
        },
        expected: ProbeState.Ready,
        tolerance: 0,
    },
    {
        name: "removal is not declared before the hold time",
        actual: () => {
            const p = readyAt12(2)
            feed(p, noisy(0.5, 0.3, 24, 4))
            return p.state()
        },
        expected: ProbeState.Ready,
        tolerance: 0,
    },
    {
        name: "removal is declared after the hold time (25 samples = 500 ms)",
        actual: () => indexOfState(readyAt12(2), noisy(0.5, 0.3, 40, 4), ProbeState.Removed),
        expected: 24,
        tolerance: 0,
    },
    {
        name: "removal is counted once and the output falls to 0",
        actual: () => {
            const p = readyAt12(2)
            const out = feed(p, flat(0, 60))
            return p.removals * 10 + (out === 0 ? 1 : 0)
        },
        expected: 11,
        tolerance: 0,
    },
    {
        name: "a dip shorter than the hold time is not a removal",
        actual: () => {
            const p = readyAt12(2)
            feed(p, flat(0.5, 20))
            feed(p, flat(12, 10))
            feed(p, flat(0.5, 20))
            return p.removals * 10 + p.state()
        },
        expected: ProbeState.Ready,
        tolerance: 0,
    },
    {
        name: "removal during zeroing",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, insertion(30, 12, 10, 0.3, 20, 5))
            feed(p, flat(0, 25))
            return p.state() * 10 + p.removals
        },
        expected: ProbeState.Removed * 10 + 1,
        tolerance: 0,
    },
    {
        name: "re-insertion zeroes again",
        actual: () => {
            const p = readyAt12(2)
            feed(p, flat(0, 30))
            const at = indexOfState(p, flat(20, 60), ProbeState.Ready)
            return at * 1000 + p.zeroCmH2O()
        },
        // Zeroing from the first sample back in, Ready on its 50th; new zero 20
        expected: 49 * 1000 + 20,
        tolerance: 1e-9,
    },
    {
        name: "re-insertion goes through zeroing (output 0 until re-zeroed)",
        actual: () => {
            const p = readyAt12(2)
            feed(p, flat(0, 30))
            const out = feed(p, flat(20, 10))
            return p.state() * 10 + out
        },
        expected: ProbeState.Zeroing * 10,
        tolerance: 0,
    },
    {
        name: "a sample at full scale is saturated",
        actual: () => {
            const p = readyAt12(2)
            p.push(300)
            return b(p.saturated())
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "a sample just under full scale is not saturated",
        actual: () => {
            const p = readyAt12(2)
            p.push(299.9)
            return b(p.saturated())
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "saturated samples are counted and the flag clears",
        actual: () => {
            const p = readyAt12(2)
            feed(p, [100, 305, 310, 320, 301, 300, 250, 40])
            return p.saturatedSamples * 10 + b(p.saturated())
        },
        expected: 50,
        tolerance: 0,
    },
    {
        name: "a clipping plateau under full scale is saturated from its 3rd sample",
        actual: () => {
            const p = readyAt12(2)
            feed(p, [200, 287.5, 287.5])
            const before = b(p.saturated())
            feed(p, [287.5, 287.5, 287.5])
            return before * 100 + b(p.saturated()) * 10 + p.saturatedSamples
        },
        expected: 13,
        tolerance: 0,
    },
    {
        name: "a noiseless rest far under full scale is not a clipping plateau",
        actual: () => {
            const p = readyAt12(2)
            feed(p, flat(40, 30))
            return p.saturatedSamples
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "no zeroing on a clipped plateau, zeroing once a clean window follows",
        actual: () => {
            const p = new PressureConditioner(TEST_PRESSURE)
            feed(p, flat(300, 60))
            const clipped = p.state()
            const at = indexOfState(p, flat(15, 80), ProbeState.Ready)
            return clipped * 1000 + at
        },
        expected: ProbeState.Zeroing * 1000 + 49,
        tolerance: 0,
    },
    {
        name: "drift tracking: the zero does not move when not resting",
        actual: () => {
            const p = readyAt12(2)
            feed(p, flat(12.8, 200))
            return p.zeroCmH2O() - p.autoZeroCmH2O
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "drift tracking: while resting the zero follows exponentially (tau 100 samples)",
        actual: () => {
            const p = readyAt12(2)
            p.setResting(true)
            feed(p, flat(12.8, 200))
            return p.zeroCmH2O()
        },
        expected: 12 + 0.8 * (1 - Math.pow(1 - TEST_ALPHA, 200)),
        tolerance: 1e-9,
    },
    {
        name: "drift tracking: the zeroed output shrinks as the zero follows",
        actual: () => {
            const p = readyAt12(2)
            p.setResting(true)
            return feed(p, flat(12.8, 200))
        },
        expected: 0.8 * Math.pow(1 - TEST_ALPHA, 200),
        tolerance: 1e-9,
    },
    {
        name: "drift tracking: stops when resting ends",
        actual: () => {
            const p = readyAt12(2)
            p.setResting(true)
            feed(p, flat(12.8, 100))
            const z = p.zeroCmH2O()
            p.setResting(false)
            feed(p, flat(12.8, 100))
            return p.zeroCmH2O() - z
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "drift tracking: clamped to maxDrift from the auto-zero",
        actual: () => {
            const p = readyAt12(0.5)
            p.setResting(true)
            feed(p, flat(13.4, 150))
            return p.zeroCmH2O() - p.autoZeroCmH2O
        },
        expected: 0.5,
        tolerance: 1e-12,
    },
    {
        name: "drift tracking: clamped below the auto-zero too",
        actual: () => {
            const p = readyAt12(0.5)
            p.setResting(true)
            feed(p, flat(10.8, 150))
            return p.zeroCmH2O() - p.autoZeroCmH2O
        },
        expected: -0.5,
        tolerance: 1e-12,
    },
    {
        name: "drift tracking: a real change far from zero (a squeeze while resting) is not tracked",
        actual: () => {
            const p = readyAt12(2)
            p.setResting(true)
            feed(p, flat(22, 200))
            return p.zeroCmH2O() - p.autoZeroCmH2O
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "an unusable sample changes nothing and is counted",
        actual: () => {
            const p = readyAt12(2)
            const out = p.push(20)
            const again = p.push(NaN)
            p.push(Infinity)
            return p.invalidSamples * 100 + (again === out ? 10 : 0) + p.state()
        },
        expected: 200 + 10 + ProbeState.Ready,
        tolerance: 0,
    },
]

export const pressureThrowCases: ThrowCase[] = [
    {
        name: "a removal threshold at the insertion threshold is refused",
        run: () =>
            new PressureConditioner({
                sampleRateHz: 50,
                insertionThresholdCmH2O: 3,
                stabilityWindowMs: 1000,
                stabilitySdCmH2O: 0.75,
                removalThresholdCmH2O: 3,
                removalHoldMs: 500,
                fullScaleCmH2O: 300,
                driftTimeConstantMs: 2000,
                maxDriftCmH2O: 2,
            }),
    },
    {
        name: "a sample rate of 0 is refused",
        run: () =>
            new PressureConditioner({
                sampleRateHz: 0,
                insertionThresholdCmH2O: 3,
                stabilityWindowMs: 1000,
                stabilitySdCmH2O: 0.75,
                removalThresholdCmH2O: 1.5,
                removalHoldMs: 500,
                fullScaleCmH2O: 300,
                driftTimeConstantMs: 2000,
                maxDriftCmH2O: 2,
            }),
    },
    {
        name: "a stability window of one sample is refused",
        run: () =>
            new PressureConditioner({
                sampleRateHz: 50,
                insertionThresholdCmH2O: 3,
                stabilityWindowMs: 20,
                stabilitySdCmH2O: 0.75,
                removalThresholdCmH2O: 1.5,
                removalHoldMs: 500,
                fullScaleCmH2O: 300,
                driftTimeConstantMs: 2000,
                maxDriftCmH2O: 2,
            }),
    },
    {
        name: "a full scale under the insertion threshold is refused",
        run: () =>
            new PressureConditioner({
                sampleRateHz: 50,
                insertionThresholdCmH2O: 3,
                stabilityWindowMs: 1000,
                stabilitySdCmH2O: 0.75,
                removalThresholdCmH2O: 1.5,
                removalHoldMs: 500,
                fullScaleCmH2O: 2,
                driftTimeConstantMs: 2000,
                maxDriftCmH2O: 2,
            }),
    },
    {
        name: "a NaN drift time constant is refused",
        run: () =>
            new PressureConditioner({
                sampleRateHz: 50,
                insertionThresholdCmH2O: 3,
                stabilityWindowMs: 1000,
                stabilitySdCmH2O: 0.75,
                removalThresholdCmH2O: 1.5,
                removalHoldMs: 500,
                fullScaleCmH2O: 300,
                driftTimeConstantMs: NaN,
                maxDriftCmH2O: 2,
            }),
    },
]

// ---- EMG contact ----------------------------------------------------------

/**
 * 50 Hz: the flat window (1 s) is 50 samples, the saturation hold (200 ms)
 * 10 samples, the jump window (2 s) 100 samples. Thresholds as the defaults.
 */
export const TEST_EMG: EmgContactOptions = {
    sampleRateHz: 50,
    flatWindowMs: 1000,
    flatSdUv: 0.05,
    saturationUv: 1500,
    saturationHoldMs: 200,
    jumpUv: 150,
    jumpWindowMs: 2000,
    jumpCountLimit: 4,
    noisyStepRatio: 0.15,
    noisyFloorUv: 1,
}

/** A live electrode at rest: 5 +- 1 uV envelope (SD 0.58 uV). */
function live(n: number, seed: number): number[] {
    return noisy(5, 1, n, seed)
}

/** A monitor that has seen one flat window of live signal (Good). */
function goodMonitor(): EmgContactMonitor {
    const m = new EmgContactMonitor(TEST_EMG)
    feedEmg(m, live(50, 11))
    return m
}

/** A 5 uV rest with a spike to `height` uV for `width` samples at each of `at`. */
function spikes(n: number, at: number[], width: number, height: number): number[] {
    const out = live(n, 13)
    for (const s of at) for (let i = s; i < s + width && i < n; i++) out[i] = height
    return out
}

export const emgCases: NumericCase[] = [
    {
        name: "unknown until one flat window of samples",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), live(49, 11)),
        expected: EmgContact.Unknown,
        tolerance: 0,
    },
    {
        name: "good once the window is full of live signal",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), live(50, 11)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "a quiet but live electrode (+-0.2 uV, SD 0.12) is not a flat line",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), noisy(2, 0.2, 200, 17)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "flat line: not while one live sample is left in the window",
        actual: () => feedEmg(goodMonitor(), flat(3, 49)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "flat line once a whole window is flat",
        actual: () => feedEmg(goodMonitor(), flat(3, 50)),
        expected: EmgContact.FlatLine,
        tolerance: 0,
    },
    {
        name: "a flat line is lead-off, one event",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, flat(0, 80))
            return b(m.leadOff()) * 10 + m.leadOffEvents
        },
        expected: 11,
        tolerance: 0,
    },
    {
        name: "a flat line recovers to good on the first live sample",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, flat(3, 60))
            return m.push(5)
        },
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "saturation is not lead-off before the hold time",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, flat(1800, 9))
            return b(m.leadOff()) * 10 + m.contact()
        },
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "saturation held 200 ms (10 samples) is lead-off",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, flat(1800, 10))
            return b(m.leadOff()) * 10 + m.contact()
        },
        expected: 10 + EmgContact.Saturated,
        tolerance: 0,
    },
    {
        name: "a railed envelope stays saturated, not flat",
        actual: () => feedEmg(goodMonitor(), flat(1800, 120)),
        expected: EmgContact.Saturated,
        tolerance: 0,
    },
    {
        name: "saturation clears only after the hold time below the level",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, flat(1800, 30))
            const still = feedEmg(m, live(9, 19))
            const cleared = feedEmg(m, live(1, 23))
            return still * 10 + cleared
        },
        expected: EmgContact.Saturated * 10 + EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "a short saturation (a pop) is not lead-off",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, spikes(60, [10], 5, 1800))
            return m.leadOffEvents * 10 + m.contact()
        },
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "a single step is counted as a jump but is not jumpy",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, join(flat(200, 1), noisy(200, 1, 40, 29)))
            return m.jumps * 10 + m.contact()
        },
        expected: 10 + EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "one pop is two jumps and not jumpy",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, spikes(30, [10], 2, 400))
            return m.jumps * 10 + m.contact()
        },
        expected: 20 + EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "steps of exactly jumpUv are not jumps",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, [100, 250, 100, 250, 100, 250])
            return m.jumps
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "three pops within 2 s are jumpy",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, spikes(50, [5, 20, 35], 2, 400))
            return m.jumps * 10 + m.contact()
        },
        expected: 60 + EmgContact.Jumpy,
        tolerance: 0,
    },
    {
        name: "two pops further apart than the jump window are not jumpy",
        actual: () => {
            const m = goodMonitor()
            // jumps at samples 5, 7 and 109, 111 of the train: never 4 within 100 samples
            return feedEmg(m, spikes(150, [5, 109], 2, 400))
        },
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "jumpy recovers to good once the jumps leave the window",
        actual: () => {
            const m = goodMonitor()
            feedEmg(m, spikes(40, [5, 20, 35], 2, 400))
            const jumpy = m.contact()
            // the 4th-last jump was at sample 20 of the spike train; 100 samples later it has left
            const quiet = feedEmg(m, live(100, 31))
            return jumpy * 10 + quiet
        },
        expected: EmgContact.Jumpy * 10 + EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "noisy: a 5 uV envelope moving +-3 uV sample to sample (mean step 2 uV, over 15 % of 5 + 1 uV)",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), noisy(5, 3, 50, 41)),
        expected: EmgContact.Noisy,
        tolerance: 0,
    },
    {
        name: "noisy is relative to the level: the same +-3 uV on a 40 uV contraction is good",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), noisy(40, 3, 50, 41)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "a quiet rest (1 +- 0.3 uV) is good: the 1 uV floor (without it, a mean step of 0.2 uV would be 20 % of the level)",
        actual: () => feedEmg(new EmgContactMonitor(TEST_EMG), noisy(1, 0.3, 50, 43)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "a contraction's rise (5 -> 45 uV in 300 ms) then its hold is good",
        actual: () => {
            const m = goodMonitor()
            const rise: number[] = []
            for (let i = 1; i <= 15; i++) rise.push(5 + (40 * i) / 15)
            feedEmg(m, rise)
            return feedEmg(m, noisy(45, 1, 35, 47))
        },
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "one pop is not noise: its two jumps are left out of the steps",
        actual: () => feedEmg(goodMonitor(), spikes(30, [10], 2, 400)),
        expected: EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "noisy recovers to good once a window of quiet signal has passed",
        actual: () => {
            const m = new EmgContactMonitor(TEST_EMG)
            const was = feedEmg(m, noisy(5, 3, 60, 41))
            return was * 10 + feedEmg(m, live(50, 53))
        },
        expected: EmgContact.Noisy * 10 + EmgContact.Good,
        tolerance: 0,
    },
    {
        name: "lead-off events are counted per event, not per sample",
        actual: () => {
            // few samples: the VM kills a long synchronous run (InfiniteLoop)
            const m = goodMonitor()
            feedEmg(m, flat(3, 52))
            feedEmg(m, live(5, 37))
            feedEmg(m, flat(1800, 12))
            feedEmg(m, live(12, 41))
            return m.leadOffEvents
        },
        expected: 2,
        tolerance: 0,
    },
    {
        name: "an unusable sample changes nothing and is counted",
        actual: () => {
            const m = goodMonitor()
            const st = m.push(NaN)
            m.push(-Infinity)
            return m.invalidSamples * 10 + st
        },
        expected: 20 + EmgContact.Good,
        tolerance: 0,
    },
]

export const emgThrowCases: ThrowCase[] = [
    {
        name: "a jump count limit of 0 is refused",
        run: () =>
            new EmgContactMonitor({
                sampleRateHz: 50,
                flatWindowMs: 1000,
                flatSdUv: 0.05,
                saturationUv: 1500,
                saturationHoldMs: 200,
                jumpUv: 150,
                jumpWindowMs: 2000,
                jumpCountLimit: 0,
                noisyStepRatio: 0.15,
                noisyFloorUv: 1,
            }),
    },
    {
        name: "a flat SD of 0 is refused (a flat line could never be seen)",
        run: () =>
            new EmgContactMonitor({
                sampleRateHz: 50,
                flatWindowMs: 1000,
                flatSdUv: 0,
                saturationUv: 1500,
                saturationHoldMs: 200,
                jumpUv: 150,
                jumpWindowMs: 2000,
                jumpCountLimit: 4,
                noisyStepRatio: 0.15,
                noisyFloorUv: 1,
            }),
    },
    {
        name: "a flat window of one sample is refused",
        run: () =>
            new EmgContactMonitor({
                sampleRateHz: 50,
                flatWindowMs: 10,
                flatSdUv: 0.05,
                saturationUv: 1500,
                saturationHoldMs: 200,
                jumpUv: 150,
                jumpWindowMs: 2000,
                jumpCountLimit: 4,
                noisyStepRatio: 0.15,
                noisyFloorUv: 1,
            }),
    },
]
