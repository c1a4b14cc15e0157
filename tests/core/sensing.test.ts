// Probe sensing conditioners under Node: the shared case tables (the VM runs
// the very same ones in tests/vm/sensing.vm.ts) plus fast-check properties
// (Node only).
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    DEFAULT_EMG_CONTACT,
    EmgContact,
    EmgContactMonitor,
    type EmgContactOptions,
} from "../../src/core/sensing/emg-contact"
import {
    DEFAULT_PRESSURE_CONDITIONER,
    PressureConditioner,
    ProbeState,
    type PressureConditionerOptions,
} from "../../src/core/sensing/pressure-conditioner"
import { isUsableSample, WindowStats } from "../../src/core/window-stats"
import { windowSamples } from "../../src/core/units"
import { emgCases, emgThrowCases, Lcg, pressureCases, pressureThrowCases, TEST_EMG, TEST_PRESSURE } from "../cases/sensing.cases"
import { runCases } from "../helpers/run-cases"


runCases("core/sensing/pressure", pressureCases, pressureThrowCases)
runCases("core/sensing/emg-contact", emgCases, emgThrowCases)

// ---- random signals ---------------------------------------------------------

/** A piece of signal: `length` samples around `level` with uniform noise +-`noise`. */
interface Segment {
    level: number
    noise: number
    length: number
}

/**
 * Pressure-like segments: out (0-2), rest (3-40), squeezes (40-120),
 * clipping (250-320, sometimes noiseless so plateaus happen), plus the odd
 * unusable sample.
 */
const pressureSegment: fc.Arbitrary<Segment> = fc.record({
    level: fc.oneof(
        fc.double({ min: -1, max: 2, noNaN: true }),
        fc.double({ min: 3, max: 40, noNaN: true }),
        fc.double({ min: 40, max: 120, noNaN: true }),
        fc.double({ min: 250, max: 320, noNaN: true }),
        fc.constantFrom(NaN, Infinity, -Infinity, 1e12)
    ),
    noise: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3, noNaN: true })),
    length: fc.integer({ min: 1, max: 120 }),
})

const emgSegment: fc.Arbitrary<Segment> = fc.record({
    level: fc.oneof(
        fc.double({ min: 0, max: 20, noNaN: true }),
        fc.double({ min: 20, max: 400, noNaN: true }),
        fc.double({ min: 1400, max: 2000, noNaN: true }),
        fc.constantFrom(NaN, Infinity, -Infinity)
    ),
    noise: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.1, noNaN: true }), fc.double({ min: 0, max: 300, noNaN: true })),
    length: fc.integer({ min: 1, max: 120 }),
})

function render(segments: Segment[], seed: number): number[] {
    const rng = new Lcg(seed)
    const out: number[] = []
    for (const s of segments)
        for (let i = 0; i < s.length; i++) out.push(s.noise === 0 ? s.level : s.level + s.noise * (2 * rng.next() - 1))
    return out
}

const seed = fc.integer({ min: 0, max: 65535 })
const pressureSignal = fc.tuple(fc.array(pressureSegment, { minLength: 1, maxLength: 25 }), seed).map(([s, k]) => render(s, k))
const emgSignal = fc.tuple(fc.array(emgSegment, { minLength: 1, maxLength: 25 }), seed).map(([s, k]) => render(s, k))
const resting = fc.array(fc.boolean(), { minLength: 1, maxLength: 8 })

/** The test options and the shipped defaults (whose windows are longer than most random signals). */
const pressureOptions = fc.constantFrom<PressureConditionerOptions>(TEST_PRESSURE, DEFAULT_PRESSURE_CONDITIONER, {
    ...TEST_PRESSURE,
    driftTimeConstantMs: 100,
    maxDriftCmH2O: 0.5,
})
const emgOptions = fc.constantFrom<EmgContactOptions>(TEST_EMG, DEFAULT_EMG_CONTACT)

const ALLOWED_PROBE: Record<string, boolean> = {
    [`${ProbeState.NotInserted}->${ProbeState.Zeroing}`]: true,
    [`${ProbeState.Zeroing}->${ProbeState.Ready}`]: true,
    [`${ProbeState.Zeroing}->${ProbeState.Removed}`]: true,
    [`${ProbeState.Ready}->${ProbeState.Removed}`]: true,
    [`${ProbeState.Removed}->${ProbeState.Zeroing}`]: true,
}

describe("pressure conditioner properties", () => {
    test("outputs are never NaN, zeroed pressure is raw - zero (0 unless Ready)", () => {
        fc.assert(
            fc.property(pressureSignal, pressureOptions, resting, (signal, options, rest) => {
                const p = new PressureConditioner(options)
                let last = 0
                signal.forEach((raw, i) => {
                    p.setResting(rest[i % rest.length])
                    const out = p.push(raw)
                    expect(Number.isNaN(out)).toBe(false)
                    expect(Number.isFinite(p.zeroCmH2O())).toBe(true)
                    if (!isUsableSample(raw)) expect(out).toBe(last)
                    else if (p.state() === ProbeState.Ready) expect(out).toBe(raw - p.zeroCmH2O())
                    else expect(out).toBe(0)
                    last = out
                })
            })
        )
    })

    test("the state machine only takes allowed transitions; removals count Removed entries", () => {
        fc.assert(
            fc.property(pressureSignal, pressureOptions, (signal, options) => {
                const p = new PressureConditioner(options)
                let prev = p.state()
                let entries = 0
                expect(prev).toBe(ProbeState.NotInserted)
                for (const raw of signal) {
                    p.push(raw)
                    const st = p.state()
                    if (st !== prev) {
                        expect(ALLOWED_PROBE[`${prev}->${st}`], `${prev}->${st}`).toBe(true)
                        if (st === ProbeState.Removed) entries++
                    }
                    prev = st
                }
                expect(p.removals).toBe(entries)
            })
        )
    })

    test("the tracked zero stays within maxDrift of the auto-zero", () => {
        fc.assert(
            fc.property(pressureSignal, pressureOptions, (signal, options) => {
                const p = new PressureConditioner(options)
                p.setResting(true)
                for (const raw of signal) {
                    p.push(raw)
                    expect(Math.abs(p.zeroCmH2O() - p.autoZeroCmH2O)).toBeLessThanOrEqual(options.maxDriftCmH2O + 1e-9)
                }
            })
        )
    })

    test("saturatedSamples counts the samples flagged saturated; full scale always is", () => {
        fc.assert(
            fc.property(pressureSignal, pressureOptions, (signal, options) => {
                const p = new PressureConditioner(options)
                let flagged = 0
                for (const raw of signal) {
                    p.push(raw)
                    if (!isUsableSample(raw)) continue
                    if (raw >= options.fullScaleCmH2O) expect(p.saturated()).toBe(true)
                    if (p.saturated()) flagged++
                }
                expect(p.saturatedSamples).toBe(flagged)
            })
        )
    })
})

describe("EMG contact properties", () => {
    test("states are valid, Unknown exactly while no flat window is full (FlatLine and Noisy need one), lead-off events count entries into lead-off", () => {
        fc.assert(
            fc.property(emgSignal, emgOptions, (signal, options) => {
                const m = new EmgContactMonitor(options)
                const window = windowSamples(options.flatWindowMs, options.sampleRateHz)
                let usable = 0
                let prevLeadOff = false
                let entries = 0
                for (const v of signal) {
                    const st = m.push(v)
                    if (isUsableSample(v)) usable++
                    expect(st).toBe(m.contact())
                    expect([EmgContact.Unknown, EmgContact.Good, EmgContact.FlatLine, EmgContact.Saturated, EmgContact.Jumpy, EmgContact.Noisy]).toContain(st)
                    // Saturated/Jumpy can show before the window fills (and end before it does)
                    if (usable >= window) expect(st).not.toBe(EmgContact.Unknown)
                    if (st === EmgContact.FlatLine || st === EmgContact.Noisy) expect(usable).toBeGreaterThanOrEqual(window)
                    const leadOff = m.leadOff()
                    expect(leadOff).toBe(st === EmgContact.FlatLine || st === EmgContact.Saturated)
                    if (leadOff && !prevLeadOff) entries++
                    prevLeadOff = leadOff
                }
                expect(m.leadOffEvents).toBe(entries)
            })
        )
    })

    test("jumps counts steps above jumpUv between usable samples", () => {
        fc.assert(
            fc.property(emgSignal, emgOptions, (signal, options) => {
                const m = new EmgContactMonitor(options)
                let expected = 0
                let prev: number | undefined
                for (const v of signal) {
                    m.push(v)
                    if (!isUsableSample(v)) continue
                    if (prev !== undefined && Math.abs(v - prev) > options.jumpUv) expected++
                    prev = v
                }
                expect(m.jumps).toBe(expected)
            })
        )
    })
})

describe("window statistics", () => {
    test("streaming mean and SD match the direct formula over the last window", () => {
        fc.assert(
            fc.property(
                fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 1500 }),
                fc.integer({ min: 1, max: 300 }),
                fc.double({ min: -1e5, max: 1e5, noNaN: true }),
                (values, n, offset) => {
                    const w = new WindowStats(n)
                    for (const v of values) w.push(v + offset)
                    const last = values.slice(Math.max(0, values.length - n)).map(v => v + offset)
                    const mean = last.reduce((a, c) => a + c, 0) / last.length
                    const sd = Math.sqrt(last.reduce((a, c) => a + (c - mean) * (c - mean), 0) / last.length)
                    // the running sums cancel: after a large step the error floor is
                    // ~sqrt(eps) x the spread of the values seen since the last re-sum
                    // (window-stats.ts), e.g. 1e-4 for [8027, 0, 0, 0, 0, 0] in a 5-window
                    const range = Math.max(...values) - Math.min(...values)
                    expect(Math.abs(w.mean() - mean)).toBeLessThanOrEqual(1e-9 * (1 + Math.abs(mean)) + 1e-9 * range)
                    expect(Math.abs(w.sd() - sd)).toBeLessThanOrEqual(1e-6 * (1 + sd) + 1e-6 * range)
                }
            )
        )
    })

    test("a small SD on a large offset survives a long run (no cancellation)", () => {
        const w = new WindowStats(50)
        const rng = new Lcg(3)
        let last: number[] = []
        for (let i = 0; i < 20000; i++) {
            const v = 1e5 + 0.01 * (2 * rng.next() - 1)
            w.push(v)
            last.push(v)
            if (last.length > 50) last = last.slice(1)
        }
        const mean = last.reduce((a, c) => a + c, 0) / 50
        const sd = Math.sqrt(last.reduce((a, c) => a + (c - mean) * (c - mean), 0) / 50)
        expect(Math.abs(w.sd() - sd)).toBeLessThan(1e-6)
    })
})
