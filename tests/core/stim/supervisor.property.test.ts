// Property tests of the stim supervisor: fast-check drives it with random
// sequences of events (starts, buttons, phase settings in and out of range,
// sessions with random and invalid caps, impedances, faults, battery,
// probe, contraindications, exceptions, time jumps and a clock going
// backwards) and the independent checker (src/core/stim/invariants.ts)
// judges EVERY step. Sequences alternate calm stretches (a session going
// well, so intensity builds up to the caps) with bursts of chaos. A failure
// shrinks to a short sequence. At least 100,000 steps per run.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { AMPLITUDE_MAX_MA, AMPLITUDE_START_MA } from "../../../src/core/limits"
import { StimInvariantChecker, type StimCoverage } from "../../../src/core/stim/invariants"
import { StimMode, type StimPhaseSettings } from "../../../src/core/stim/plan"
import { StimAction, StimReason, isStopCause, stimReasonName } from "../../../src/core/stim/reasons"
import {
    StimEventKind as K,
    StimSupervisor,
    type ContraindicationFlags,
    type StimEvent,
    type StimSessionConfig,
} from "../../../src/core/stim/supervisor"
import { StimEventSource } from "../../cases/stim-random"

/** An event without its absolute time: `dt` [ms] since the previous one. */
interface Spec {
    kind: K
    dt: number
    value?: number
    phase?: StimPhaseSettings
    session?: StimSessionConfig
    contraindications?: ContraindicationFlags
}

const MIN_STEPS_PER_RUN = 100_000

// --- payloads -------------------------------------------------------------

const flagsArb: fc.Arbitrary<ContraindicationFlags | undefined> = fc.oneof(
    { weight: 10, arbitrary: fc.record({ pregnant: fc.boolean(), implantedDevice: fc.boolean(), other: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant(undefined) }
)

const oddNumber = fc.constantFrom(NaN, Infinity, -Infinity, 0, -1)

/** Caps that reach the corners (charge, average current, density bind) or ordinary ones. */
const goodSessionArb: fc.Arbitrary<StimSessionConfig> = fc.oneof(
    { weight: 3, arbitrary: fc.record({
        therapistCaps: fc.record({
            amplitudeMaxMa: fc.double({ min: 90, max: 120, noNaN: true }),
            pulseWidthMaxUs: fc.double({ min: 450, max: 600, noNaN: true }),
            frequencyMaxHz: fc.double({ min: 100, max: 150, noNaN: true }),
            sessionStimMaxMs: fc.double({ min: 60_000, max: 3_600_000, noNaN: true }),
        }),
        electrodeAreaCm2: fc.double({ min: 5, max: 30, noNaN: true }),
        contraindications: fc.constant({ pregnant: false, implantedDevice: false, other: false }),
        restSinceLastSessionMs: fc.constant(Infinity),
    }) },
    { weight: 1, arbitrary: fc.record({
        therapistCaps: fc.record({
            amplitudeMaxMa: fc.double({ min: 1, max: 130, noNaN: true }),
            pulseWidthMaxUs: fc.double({ min: 50, max: 700, noNaN: true }),
            frequencyMaxHz: fc.double({ min: 1, max: 200, noNaN: true }),
            sessionStimMaxMs: fc.double({ min: 2_000, max: 7_200_000, noNaN: true }),
        }),
        electrodeAreaCm2: fc.double({ min: 0.5, max: 30, noNaN: true }),
        contraindications: fc.constant({ pregnant: false, implantedDevice: false, other: false }),
        restSinceLastSessionMs: fc.oneof(fc.constant(Infinity), fc.double({ min: 3 * 3_600_000, max: 5 * 3_600_000, noNaN: true })),
    }) }
)

/** Any session: good ones, invalid caps, missing parts, contraindications. */
const sessionArb: fc.Arbitrary<StimSessionConfig> = fc.oneof(
    { weight: 4, arbitrary: goodSessionArb },
    {
        weight: 1,
        arbitrary: fc.record({
            therapistCaps: fc.option(
                fc.record({
                    amplitudeMaxMa: fc.oneof(fc.double({ min: -10, max: 200 }), oddNumber),
                    pulseWidthMaxUs: fc.oneof(fc.double({ min: -10, max: 1000 }), oddNumber),
                    frequencyMaxHz: fc.oneof(fc.double({ min: -1, max: 300 }), oddNumber),
                    sessionStimMaxMs: fc.oneof(fc.double({ min: -1, max: 1e7 }), oddNumber),
                }),
                { nil: undefined }
            ),
            electrodeAreaCm2: fc.oneof(fc.double({ min: -1, max: 50 }), oddNumber, fc.constant(undefined)),
            contraindications: flagsArb,
            restSinceLastSessionMs: fc.oneof(fc.double({ min: 0, max: 6 * 3_600_000 }), oddNumber),
        }),
    }
)

/** Phases in range (often at the corners) and out of range, sometimes invalid. */
const phaseArb: fc.Arbitrary<StimPhaseSettings> = fc.record({
    mode: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(StimMode.Strengthen, StimMode.Relax, StimMode.Ets) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, -1).map(m => m as unknown as StimMode) }),
    frequencyHz: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 100 }) }, { weight: 2, arbitrary: fc.constantFrom(1, 2, 50, 100) }, { weight: 1, arbitrary: fc.oneof(fc.double({ min: -10, max: 400 }), oddNumber) }),
    pulseWidthUs: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 50, max: 450 }) }, { weight: 3, arbitrary: fc.integer({ min: 440, max: 450 }) }, { weight: 1, arbitrary: fc.oneof(fc.double({ min: -10, max: 2000 }), oddNumber) }),
    workMs: fc.oneof({ weight: 10, arbitrary: fc.double({ min: 500, max: 10_000, noNaN: true }) }, { weight: 1, arbitrary: fc.oneof(fc.double({ min: -100, max: 500 }), oddNumber) }),
    restMs: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 12_000, noNaN: true }), fc.constantFrom(-1, NaN)),
    rampUpMs: fc.oneof(fc.double({ min: 0, max: 12_000, noNaN: true }), fc.constantFrom(NaN, -5)),
    rampDownMs: fc.double({ min: 0, max: 12_000, noNaN: true }),
    triggerPct: fc.oneof(fc.double({ min: 5, max: 100, noNaN: true }), fc.double({ min: -50, max: 200 })),
})

/** Valid phases for the setup: ordinary, or at the corners (450 us; 1-100 Hz) where the derived caps bind. */
const goodPhaseArb: fc.Arbitrary<StimPhaseSettings> = fc.record({
    mode: fc.constantFrom(StimMode.Strengthen, StimMode.Relax, StimMode.Ets),
    frequencyHz: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1, 2, 10, 50, 100)),
    pulseWidthUs: fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 50, max: 450 }) }, { weight: 3, arbitrary: fc.integer({ min: 440, max: 450 }) }),
    workMs: fc.double({ min: 1000, max: 8000, noNaN: true }),
    restMs: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 8000, noNaN: true })),
    rampUpMs: fc.double({ min: 500, max: 3000, noNaN: true }),
    rampDownMs: fc.double({ min: 500, max: 3000, noNaN: true }),
    triggerPct: fc.double({ min: 20, max: 90, noNaN: true }),
})

const impedanceArb = fc.oneof(
    { weight: 8, arbitrary: fc.double({ min: 100, max: 2500, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(0, 100, 99.999, 2500, 2500.001, NaN, -1) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 10_000 }) }
)

// --- time steps --------------------------------------------------------------

const calmDt = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 9, arbitrary: fc.double({ min: 0, max: 40, noNaN: true }) })

const chaosDt = fc.oneof(
    { weight: 4, arbitrary: fc.double({ min: 0, max: 60, noNaN: true }) },
    { weight: 3, arbitrary: fc.double({ min: 60, max: 300, noNaN: true }) }, // around the 250 ms keep-alive gap
    { weight: 2, arbitrary: fc.double({ min: 300, max: 1000, noNaN: true }) }, // around the 500 ms status timeout
    { weight: 1, arbitrary: fc.constantFrom(250, 251, 500, 501) },
    { weight: 1, arbitrary: fc.double({ min: 1000, max: 4_000_000, noNaN: true }) }, // long jumps
    { weight: 1, arbitrary: fc.oneof(fc.double({ min: -1000, max: -0.001, noNaN: true }), fc.constant(NaN)) } // the clock goes wrong
)

function spec(kind: K, dt: fc.Arbitrary<number>): fc.Arbitrary<Spec> {
    return dt.map(d => ({ kind, dt: d }))
}

function specWith(kind: K, dt: fc.Arbitrary<number>, value: fc.Arbitrary<number | undefined>): fc.Arbitrary<Spec> {
    return fc.tuple(dt, value).map(([d, v]) => ({ kind, dt: d, value: v }))
}

const calmEvent: fc.Arbitrary<Spec> = fc.oneof(
    { weight: 20, arbitrary: spec(K.Tick, calmDt) },
    { weight: 22, arbitrary: spec(K.ModuleStatus, calmDt) },
    { weight: 10, arbitrary: specWith(K.Impedance, calmDt, fc.double({ min: 100, max: 2500, noNaN: true })) },
    { weight: 30, arbitrary: spec(K.IntensityUp, calmDt) },
    { weight: 3, arbitrary: spec(K.IntensityDown, calmDt) },
    { weight: 4, arbitrary: spec(K.Start, calmDt) },
    { weight: 12, arbitrary: specWith(K.MeasuredLevel, calmDt, fc.double({ min: 0, max: 150, noNaN: true })) },
    { weight: 1, arbitrary: spec(K.BatteryOk, calmDt) },
    { weight: 1, arbitrary: spec(K.ProbeInserted, calmDt) }
)

const chaosEvent: fc.Arbitrary<Spec> = fc.oneof(
    { weight: 10, arbitrary: spec(K.Tick, chaosDt) },
    { weight: 8, arbitrary: spec(K.ModuleStatus, chaosDt) },
    { weight: 10, arbitrary: specWith(K.Impedance, chaosDt, impedanceArb) },
    { weight: 8, arbitrary: spec(K.IntensityUp, chaosDt) },
    { weight: 4, arbitrary: spec(K.IntensityDown, chaosDt) },
    { weight: 8, arbitrary: spec(K.Start, chaosDt) },
    { weight: 3, arbitrary: spec(K.StopButton, chaosDt) },
    { weight: 6, arbitrary: fc.tuple(chaosDt, phaseArb).map(([dt, phase]) => ({ kind: K.Phase, dt, phase })) },
    { weight: 3, arbitrary: fc.tuple(chaosDt, sessionArb).map(([dt, session]) => ({ kind: K.SessionBegin, dt, session })) },
    { weight: 2, arbitrary: spec(K.LeadOff, chaosDt) },
    { weight: 3, arbitrary: specWith(K.ModuleFault, chaosDt, fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(undefined))) },
    { weight: 2, arbitrary: spec(K.BatteryLow, chaosDt) },
    { weight: 3, arbitrary: spec(K.BatteryOk, chaosDt) },
    { weight: 2, arbitrary: spec(K.ProbeRemoved, chaosDt) },
    { weight: 3, arbitrary: spec(K.ProbeInserted, chaosDt) },
    { weight: 2, arbitrary: fc.tuple(chaosDt, flagsArb).map(([dt, f]) => ({ kind: K.Contraindication, dt, contraindications: f })) },
    { weight: 1, arbitrary: spec(K.Exception, chaosDt) },
    { weight: 1, arbitrary: spec(K.ProgramChanged, chaosDt) },
    { weight: 1, arbitrary: spec(K.PhaseEnded, chaosDt) },
    { weight: 6, arbitrary: specWith(K.MeasuredLevel, chaosDt, fc.oneof(fc.double({ min: -10, max: 200 }), fc.constant(NaN))) }
)

/** A new session that can start: valid caps and phase, battery and probe OK, module heard, start. */
function setup(session: StimSessionConfig, phase: StimPhaseSettings): Spec[] {
    return [
        { kind: K.SessionBegin, dt: 0, session },
        { kind: K.Phase, dt: 0, phase },
        { kind: K.BatteryOk, dt: 0 },
        { kind: K.ProbeInserted, dt: 0 },
        { kind: K.ModuleStatus, dt: 0 },
        { kind: K.Start, dt: 0 },
    ]
}

/** A session going well; a third of them begin as a new session (after chaos may have cleared or locked it). */
const calmSegment: fc.Arbitrary<Spec[]> = fc
    .tuple(fc.integer({ min: 0, max: 2 }), goodSessionArb, goodPhaseArb, fc.array(calmEvent, { minLength: 100, maxLength: 700, size: "max" }))
    .map(([fresh, session, phase, events]) => (fresh === 0 ? [...setup(session, phase), ...events] : events))

/** A valid setup and a start, then calm stretches and bursts of chaos. */
const sequenceArb: fc.Arbitrary<Spec[]> = fc
    .tuple(
        goodSessionArb,
        goodPhaseArb,
        fc.array(
            fc.oneof(
                { weight: 1, arbitrary: calmSegment },
                { weight: 1, arbitrary: fc.array(chaosEvent, { minLength: 1, maxLength: 40, size: "max" }) }
            ),
            { minLength: 4, maxLength: 10, size: "max" }
        )
    )
    .map(([session, phase, segments]) => {
        const out = setup(session, phase)
        for (const seg of segments) for (const s of seg) out.push(s)
        return out
    })

function toEvents(specs: Spec[]): StimEvent[] {
    let now = 1000
    return specs.map(s => {
        // a NaN clock is one bad reading; the clock itself goes on
        const at = Number.isNaN(s.dt) ? NaN : (now += s.dt)
        return { kind: s.kind, now: at, value: s.value, phase: s.phase, session: s.session, contraindications: s.contraindications }
    })
}

function addCoverage(total: StimCoverage, c: StimCoverage): void {
    total.steps += c.steps
    total.stepsOn += c.stepsOn
    total.starts += c.starts
    total.stops += c.stops
    total.maxAmplitudeMa = Math.max(total.maxAmplitudeMa, c.maxAmplitudeMa)
    total.clampReasons |= c.clampReasons
    total.stopCauses |= c.stopCauses
    total.atAmplitudeCap += c.atAmplitudeCap
    total.atChargeCap += c.atChargeCap
    total.atAverageCurrentCap += c.atAverageCurrentCap
    total.atDensityCap += c.atDensityCap
}

describe("stim supervisor under random event sequences", () => {
    test(`every invariant holds after every step (>= ${MIN_STEPS_PER_RUN} steps)`, () => {
        const total: StimCoverage = { steps: 0, stepsOn: 0, starts: 0, stops: 0, maxAmplitudeMa: 0, clampReasons: 0, stopCauses: 0, atAmplitudeCap: 0, atChargeCap: 0, atAverageCurrentCap: 0, atDensityCap: 0 }
        let stopRecords = 0
        const started = Date.now()
        fc.assert(
            fc.property(sequenceArb, specs => {
                const sup = new StimSupervisor()
                const checker = new StimInvariantChecker()
                let prevOn = false
                for (const ev of toEvents(specs)) {
                    const step = sup.step(ev)
                    const msg = checker.check(ev, step)
                    if (msg !== "") throw new Error(msg)
                    // every stop carries its cause, and is logged
                    if (prevOn && !step.command.enabled && !(step.action === StimAction.Stopped && isStopCause(step.reason)))
                        throw new Error(`turned off without a stop cause: action ${step.action}, reason ${stimReasonName(step.reason)}`)
                    if (!prevOn && step.command.enabled && !(step.action === StimAction.Started && step.command.amplitudeMa === AMPLITUDE_START_MA))
                        throw new Error(`turned on without a start: action ${step.action}`)
                    prevOn = step.command.enabled
                    stopRecords += sup.drainStops().length
                }
                addCoverage(total, checker.coverage)
            }),
            { numRuns: 100 }
        )
        const ms = Date.now() - started
        console.log(
            `stim property: ${total.steps} steps in ${ms} ms, ${total.stepsOn} on, ${total.starts} starts, ${total.stops} stops, ` +
                `max ${total.maxAmplitudeMa} mA, at caps: amplitude ${total.atAmplitudeCap}, charge ${total.atChargeCap}, ` +
                `average current ${total.atAverageCurrentCap}, density ${total.atDensityCap}`
        )
        expect(total.steps).toBeGreaterThanOrEqual(MIN_STEPS_PER_RUN)
        // loose checks that the random walk exercises what it claims to check (random seeds;
        // the seeded walk below must reach every cap and every stop cause)
        expect(total.stepsOn / total.steps).toBeGreaterThan(0.2)
        expect(stopRecords).toBeGreaterThanOrEqual(total.stops)
        expect(total.maxAmplitudeMa).toBeGreaterThan(30)
        let causes = 0
        for (let cause = StimReason.StopButton; cause <= StimReason.PhaseEnded; cause++) if (total.stopCauses & (1 << cause)) causes++
        expect(causes).toBeGreaterThanOrEqual(10)
    })

    test("seeded walks (300,000 steps) reach every cap and every stop cause, with no violation", () => {
        const total: StimCoverage = { steps: 0, stepsOn: 0, starts: 0, stops: 0, maxAmplitudeMa: 0, clampReasons: 0, stopCauses: 0, atAmplitudeCap: 0, atChargeCap: 0, atAverageCurrentCap: 0, atDensityCap: 0 }
        for (let seed = 1; seed <= 60; seed++) {
            const src = new StimEventSource(seed)
            const sup = new StimSupervisor()
            const checker = new StimInvariantChecker()
            for (const ev of src.setup(seed % 4 === 0)) checker.check(ev, sup.step(ev))
            for (let i = 0; i < 5000; i++) {
                const ev = src.next()
                const msg = checker.check(ev, sup.step(ev))
                if (msg !== "") throw new Error(`seed ${seed}: ${checker.firstViolation}`)
            }
            addCoverage(total, checker.coverage)
        }
        expect(total.steps).toBeGreaterThanOrEqual(300_000)
        expect(total.maxAmplitudeMa).toBe(AMPLITUDE_MAX_MA)
        expect(total.atAmplitudeCap).toBeGreaterThan(0)
        expect(total.atChargeCap).toBeGreaterThan(0)
        expect(total.atAverageCurrentCap).toBeGreaterThan(0)
        expect(total.atDensityCap).toBeGreaterThan(0)
        for (let cause = StimReason.StopButton; cause <= StimReason.PhaseEnded; cause++)
            expect(total.stopCauses & (1 << cause), `stop cause ${stimReasonName(cause)} never seen`).not.toBe(0)
    })

    test("the supervisor is deterministic: the same events give the same commands", () => {
        fc.assert(
            fc.property(sequenceArb, specs => {
                const events = toEvents(specs)
                const a = new StimSupervisor()
                const b = new StimSupervisor()
                for (const ev of events) expect(b.step(ev)).toEqual(a.step(ev))
            }),
            { numRuns: 10 }
        )
    })
})
