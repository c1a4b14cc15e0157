// Property tests of the session runner: fast-check drives it with random
// programs (every phase kind, criteria on one or both channels or none,
// contraindication flags) and random sequences of samples (relaxed, tense,
// contracting, unknown), time jumps, a clock going backwards, buttons,
// probe in/out, battery, faults, finished reps and ratings. After every
// call a checker judges the rules below on the events and the view; a
// failure shrinks to a short sequence.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { ledFrame, ledFrameKey, ledPalette } from "../../../src/core/feedback/led-bar"
import { isToningPhase, lockingFlags, phaseUsesStim } from "../../../src/core/program/phases"
import { CONTRAINDICATIONS, type Phase, type Program } from "../../../src/core/program/types"
import { SessionRunner } from "../../../src/core/runner/session-runner"
import { Cue } from "../../../src/core/protocol/assessment"
import { ButtonKind, RunnerEventKind as K, RunnerState, type RunnerEvent } from "../../../src/core/runner/types"
import {
    assessmentPhase,
    baselinePhase,
    etsPhase,
    flicksPhase,
    holdsPhase,
    makeOptions,
    makeProgram,
    makeRep,
    relaxPhase,
    relaxStimPhase,
    stimPhase,
} from "../../cases/runner-fixtures"

// --- programs -------------------------------------------------------------

const phaseArb: fc.Arbitrary<Phase> = fc.oneof(
    fc.integer({ min: 1, max: 20 }).map(s => baselinePhase(s)),
    fc.record({ d: fc.integer({ min: 1, max: 30 }), b: fc.integer({ min: 40, max: 120 }) }).map(o => relaxPhase({ durationS: o.d, breathPeriodS: o.b / 10 })),
    fc.record({ reps: fc.integer({ min: 1, max: 6 }), on: fc.integer({ min: 5, max: 30 }), off: fc.integer({ min: 10, max: 40 }) }).map(o =>
        flicksPhase({ reps: o.reps, onS: o.on / 10, offS: o.off / 10 })
    ),
    fc.record({ reps: fc.integer({ min: 1, max: 4 }), w: fc.integer({ min: 2, max: 8 }), r: fc.integer({ min: 2, max: 8 }) }).map(o =>
        holdsPhase({ reps: o.reps, workS: o.w, restS: o.r })
    ),
    fc.constant(assessmentPhase({ preBaselineS: 3, flickReps: 1, holdReps: 1, holdWorkS: 2, holdRestS: 2, enduranceS: 3, postBaselineS: 3 })),
    fc.integer({ min: 2, max: 20 }).map(d => stimPhase({ durationS: d })),
    fc.integer({ min: 2, max: 20 }).map(d => relaxStimPhase({ durationS: d })),
    fc.integer({ min: 2, max: 20 }).map(d => etsPhase({ durationS: d }))
)

const programArb: fc.Arbitrary<Program> = fc
    .record({
        phases: fc.array(phaseArb, { minLength: 1, maxLength: 5 }),
        channels: fc.constantFrom("emg" as const, "pressure" as const, "both" as const),
        criterion: fc.oneof(
            { weight: 6, arbitrary: fc.record({ level: fc.integer({ min: 20, max: 60 }), sd: fc.integer({ min: 3, max: 15 }), hold: fc.integer({ min: 1, max: 6 }), timeout: fc.integer({ min: 6, max: 20 }) }) },
            { weight: 1, arbitrary: fc.constant(null) }
        ),
        pressureToo: fc.boolean(),
        flags: fc.oneof({ weight: 5, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray([...CONTRAINDICATIONS], { maxLength: 2 }) }),
        usesDilators: fc.boolean(),
    })
    .map(o => {
        let relaxation: Record<string, unknown> | null = null
        if (o.criterion !== null) {
            const c = o.criterion
            relaxation = { restToneMaxUv: c.level / 10, restToneSdMaxUv: c.sd / 10, holdS: c.hold, timeoutS: c.timeout }
            if (o.channels === "pressure") relaxation = { restToneMaxUv: undefined, restToneSdMaxUv: undefined, restToneMaxCmH2O: c.level / 10, restToneSdMaxCmH2O: c.sd / 10, holdS: c.hold, timeoutS: c.timeout }
            else if (o.pressureToo && o.channels === "both") relaxation = { ...relaxation, restToneMaxCmH2O: c.level / 10, restToneSdMaxCmH2O: c.sd / 10 }
        }
        return makeProgram({ phases: o.phases, channels: o.channels, relaxation, flags: o.flags, usesDilators: o.usesDilators })
    })

// --- actions --------------------------------------------------------------

type Action =
    | { a: "feed"; n: number; step: number; emg: number; p: number; wobble: number }
    | { a: "tick"; dt: number }
    | { a: "back"; dt: number }
    | { a: "button"; kind: ButtonKind }
    | { a: "probe"; ready: boolean }
    | { a: "battery"; low: boolean }
    | { a: "fault"; cause: number }
    | { a: "rep"; index: number; flags: number }
    | { a: "calm"; n: number }
    | { a: "follow"; n: number; restUv: number; calmFirst: boolean }
    | { a: "repNow"; flags: number }
    | { a: "mvc"; channel: number; value: number }
    | { a: "rate"; value: number }
    | { a: "dilator"; value: number }

const levelArb = fc.oneof(
    { weight: 4, arbitrary: fc.double({ min: 0, max: 5, noNaN: true }) },
    { weight: 2, arbitrary: fc.double({ min: 5, max: 40, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -1) }
)

const actionArb: fc.Arbitrary<Action> = fc.oneof(
    { weight: 12, arbitrary: fc.record({ a: fc.constant("feed" as const), n: fc.integer({ min: 1, max: 400 }), step: fc.constantFrom(10, 10, 10, 20, 50, 100), emg: levelArb, p: levelArb, wobble: fc.double({ min: 0, max: 1.5, noNaN: true }) }) },
    { weight: 2, arbitrary: fc.record({ a: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 120_000 }) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("back" as const), dt: fc.integer({ min: 1, max: 5000 }) }) },
    { weight: 6, arbitrary: fc.record({ a: fc.constant("button" as const), kind: fc.constantFrom(ButtonKind.StartPause, ButtonKind.StartPause, ButtonKind.Up, ButtonKind.Down, ButtonKind.Stop, 9 as ButtonKind) }) },
    { weight: 3, arbitrary: fc.record({ a: fc.constant("probe" as const), ready: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("battery" as const), low: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("fault" as const), cause: fc.integer({ min: -1, max: 9 }) }) },
    { weight: 2, arbitrary: fc.record({ a: fc.constant("rep" as const), index: fc.integer({ min: 0, max: 25 }), flags: fc.integer({ min: 0, max: 63 }) }) },
    // a patient relaxing well: long enough to meet most criteria
    { weight: 4, arbitrary: fc.record({ a: fc.constant("calm" as const), n: fc.integer({ min: 200, max: 1500 }) }) },
    // a patient following the cues: squeezes on Contract, this rest tone otherwise
    { weight: 5, arbitrary: fc.record({ a: fc.constant("follow" as const), n: fc.integer({ min: 100, max: 1500 }), restUv: fc.constantFrom(1, 3, 6, 10), calmFirst: fc.boolean() }) },
    // the rep running now finishes (NoRelease is bit 32)
    { weight: 3, arbitrary: fc.record({ a: fc.constant("repNow" as const), flags: fc.constantFrom(0, 32, 32, 1, 2) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("mvc" as const), channel: fc.integer({ min: -1, max: 2 }), value: fc.oneof(fc.double({ min: -5, max: 80, noNaN: true }), fc.constant(NaN)) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("rate" as const), value: fc.oneof(fc.integer({ min: -2, max: 12 }), fc.constant(2.5)) }) },
    { weight: 1, arbitrary: fc.record({ a: fc.constant("dilator" as const), value: fc.integer({ min: -1, max: 10 }) }) }
)

// --- the checker ----------------------------------------------------------

/** Follows the events of one runner and judges every rule after each call. */
class Checker {
    readonly runner: SessionRunner
    t = 0
    private lastAt = -Infinity
    private gateOk = false
    private openPhase = false
    private started = false
    private phaseTimeMs = 0
    private terminal: RunnerState | null = null
    stopsSeen = 0
    toningStarts = 0
    sessionsEnded = 0
    spasmSigns = 0
    gateTimeouts = 0
    private afterSpasm = false

    constructor(readonly program: Program) {
        this.runner = new SessionRunner(program, makeOptions({ restWindowMs: 500, pauseTimeoutMs: 60_000, ratingTimeoutMs: 60_000 }))
    }

    private locked(index: number): boolean {
        const c = this.program.contraindications
        if (lockingFlags(c, "probe").length > 0) return true
        return phaseUsesStim(this.program.phases[index]) && lockingFlags(c, "stim").length > 0
    }

    private event(e: RunnerEvent): void {
        expect(e.atMs, "event times never go back").toBeGreaterThanOrEqual(this.lastAt)
        this.lastAt = e.atMs
        switch (e.kind) {
            case K.SessionStarted:
                this.started = true
                break
            case K.GateMet:
                this.gateOk = true
                break
            case K.SpasmSign:
                this.gateOk = false
                this.spasmSigns++
                this.afterSpasm = true
                break
            case K.GateNotMet:
                this.gateTimeouts++
                break
            case K.PhaseStarted: {
                expect(this.openPhase, "phase instances never overlap").toBe(false)
                expect(this.terminal, "no phase after done/fault").toBe(null)
                expect(this.locked(e.phaseIndex), "a locked phase never starts").toBe(false)
                this.openPhase = true
                const toning = isToningPhase(this.program.phases[e.phaseIndex])
                if (this.afterSpasm) expect(e.gateWork || !toning, "after a spasm sign: relaxation work, or a phase that is not toning").toBe(true)
                this.afterSpasm = false
                if (toning && !e.gateWork) {
                    expect(this.gateOk, "toning starts only after the gate was met in this session").toBe(true)
                    this.toningStarts++
                }
                break
            }
            case K.PhaseEnded:
                expect(this.openPhase).toBe(true)
                this.openPhase = false
                this.phaseTimeMs += e.value
                break
            case K.SegmentStarted:
                expect(this.openPhase, "segments belong to a phase").toBe(true)
                break
            case K.SessionEnded:
                this.sessionsEnded++
                break
        }
    }

    check(): void {
        for (const e of this.runner.takeEvents()) this.event(e)
        const st = this.runner.state()
        const v = this.runner.view()
        if (this.terminal === RunnerState.Fault) expect(st).toBe(RunnerState.Fault)
        if (this.terminal === RunnerState.Done) expect([RunnerState.Done, RunnerState.Fault]).toContain(st)
        if (st === RunnerState.Done || st === RunnerState.Fault) this.terminal = st
        if (v.toning) expect(this.runner.view().gateMet, "toning runs only with the gate met").toBe(true)
        const running = st === RunnerState.Running || st === RunnerState.Paused
        expect(this.openPhase, "a phase is open exactly while running or paused").toBe(running)
        if (this.started && !running) expect(this.phaseTimeMs, "time in phases adds up to the running time").toBe(this.runner.view().runningMs)
        expect(v.gateProgress).toBeGreaterThanOrEqual(0)
        expect(v.gateProgress).toBeLessThanOrEqual(1)
        expect(v.breath).toBeGreaterThanOrEqual(0)
        expect(v.breath).toBeLessThanOrEqual(1)
        if (st === RunnerState.Rating) {
            expect(v.ratingValue).toBeGreaterThanOrEqual(0)
            expect(v.ratingValue).toBeLessThanOrEqual(v.ratingMax)
        }
        const f = ledFrame(v)
        expect(f.pixels.length).toBe(8)
        for (const px of f.pixels) expect(ledPalette()).toContain(px)
        expect(Number.isFinite(ledFrameKey(f))).toBe(true)
    }

    run(x: Action): void {
        const r = this.runner
        switch (x.a) {
            case "feed":
                for (let i = 0; i < x.n; i++) {
                    this.t += x.step
                    const w = i % 2 === 0 ? x.wobble : -x.wobble
                    r.sample(this.t, { emgUv: x.emg + w, pressureCmH2O: x.p + w })
                }
                break
            case "tick":
                this.t += x.dt
                r.tick(this.t)
                break
            case "back":
                r.sample(this.t - x.dt, { emgUv: 50, pressureCmH2O: 50 })
                break
            case "button":
                this.t += 350
                r.button(this.t, x.kind)
                if (x.kind === ButtonKind.Stop) {
                    this.stopsSeen++
                    expect([RunnerState.Done, RunnerState.Fault], "stop always ends in done (or stays fault)").toContain(r.state())
                }
                break
            case "probe":
                r.probeReady(this.t, x.ready)
                break
            case "battery":
                if (x.low) r.batteryLow(this.t)
                else r.batteryOk(this.t)
                break
            case "fault":
                r.fault(this.t, x.cause)
                expect(r.state()).toBe(RunnerState.Fault)
                break
            case "rep":
                r.repFinished(this.t, makeRep(x.index, x.flags))
                break
            case "calm":
                for (let i = 0; i < x.n; i++) {
                    this.t += 10
                    const w = i % 2 === 0 ? 0.05 : -0.05
                    r.sample(this.t, { emgUv: 1 + w, pressureCmH2O: 1 + w })
                }
                break
            case "follow":
                // relaxed until the gate is met (or 8 s), then following the cues
                for (let i = 0; x.calmFirst && i < 800 && !r.view().gateMet; i++) {
                    this.t += 10
                    r.sample(this.t, { emgUv: 1, pressureCmH2O: 1 })
                }
                for (let i = 0; i < x.n; i++) {
                    this.t += 10
                    const v = r.cue() === Cue.Contract ? 25 : x.restUv + (i % 2 === 0 ? 0.05 : -0.05)
                    r.sample(this.t, { emgUv: v, pressureCmH2O: v })
                }
                break
            case "repNow": {
                const seg = r.segment()
                if (seg !== null && seg.repIndex >= 0) r.repFinished(this.t, makeRep(seg.repIndex, x.flags))
                break
            }
            case "mvc":
                r.setMvc(x.channel, x.value)
                break
            case "rate":
                r.rate(this.t, x.value)
                break
            case "dilator":
                r.dilator(this.t, x.value)
                break
        }
        this.check()
    }
}

/** Starts a session first, most of the time, so the runs reach the phases. */
const scenarioArb = fc.record({
    program: programArb,
    startFirst: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    actions: fc.array(actionArb, { minLength: 1, maxLength: 40 }),
})

describe("session runner under random use", () => {
    test("never throws, and keeps every rule after every call", () => {
        let toningStarts = 0
        let stops = 0
        let ended = 0
        let spasms = 0
        let timeouts = 0
        fc.assert(
            fc.property(scenarioArb, s => {
                const c = new Checker(s.program)
                if (s.startFirst) {
                    c.runner.probeReady(0, true)
                    c.runner.button(0, ButtonKind.StartPause)
                    c.check()
                }
                for (const a of s.actions) c.run(a)
                toningStarts += c.toningStarts
                stops += c.stopsSeen
                ended += c.sessionsEnded
                spasms += c.spasmSigns
                timeouts += c.gateTimeouts
            }),
            { numRuns: 500 }
        )
        // the runs reach what they are meant to judge
        console.log(`runner property runs: ${toningStarts} toning starts, ${spasms} spasm signs, ${timeouts} gate timeouts, ${stops} stops, ${ended} sessions ended`)
        // (500 runs typically give ~120 toning starts, ~15 spasm signs, ~50 timeouts, ~70 stops, ~170 ended sessions)
        expect(toningStarts).toBeGreaterThan(40)
        expect(stops).toBeGreaterThan(25)
        expect(ended).toBeGreaterThan(50)
        expect(timeouts).toBeGreaterThan(15)
    })

    test("a spasm sign always goes back to relaxation; toning resumes only once the gate is met again", () => {
        const toning = fc.constantFrom<Phase>(flicksPhase({ reps: 4, onS: 1, offS: 2 }), holdsPhase({ reps: 3, workS: 3, restS: 3 }))
        const spasmScenario = fc.record({
            phases: fc.array(fc.oneof(toning, fc.constant(relaxPhase({ durationS: 5 }))), { minLength: 1, maxLength: 4 }),
            follows: fc.array(
                fc.record({ n: fc.integer({ min: 100, max: 1200 }), restUv: fc.constantFrom(1, 1, 6), calmFirst: fc.boolean() }),
                { minLength: 1, maxLength: 12 }
            ),
            pauses: fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 3 }),
        })
        let spasms = 0
        fc.assert(
            fc.property(spasmScenario, s => {
                const c = new Checker(makeProgram({ phases: s.phases, relaxation: { holdS: 2, timeoutS: 20 } }))
                c.runner.probeReady(0, true)
                c.runner.button(0, ButtonKind.StartPause)
                c.check()
                s.follows.forEach((f, i) => {
                    c.run({ a: "follow", n: f.n, restUv: f.restUv, calmFirst: f.calmFirst })
                    if (s.pauses.includes(i)) {
                        c.run({ a: "button", kind: ButtonKind.StartPause })
                        c.run({ a: "button", kind: ButtonKind.StartPause })
                    }
                })
                spasms += c.spasmSigns
            }),
            { numRuns: 200 }
        )
        expect(spasms).toBeGreaterThan(50)
    })

    test("a stop ends every session in done, whatever came before", () => {
        fc.assert(
            fc.property(scenarioArb, s => {
                const c = new Checker(s.program)
                c.runner.probeReady(0, true)
                c.runner.button(0, ButtonKind.StartPause)
                for (const a of s.actions) if (a.a !== "fault") c.run(a)
                c.t += 1000
                c.runner.button(c.t, ButtonKind.Stop)
                c.check()
                expect(c.runner.state()).toBe(RunnerState.Done)
            }),
            { numRuns: 150 }
        )
    })
})
