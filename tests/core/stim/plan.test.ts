// The per-mode amplitude envelope (src/core/stim/plan.ts): validation,
// cycle boundaries, continuous relaxation, and the ETS trigger as a pure
// function of the measured level and time.
import { describe, expect, test } from "vitest"
import { RAMP_MAX_MS, RAMP_MIN_MS } from "../../../src/core/limits"
import {
    ETS_LEVEL_MAX_AGE_MS,
    EtsStage,
    StimMode,
    StimPlan,
    checkPhase,
    cycleEnvelope,
    etsEnvelope,
    etsNext,
    etsStart,
    samePhase,
    type EtsState,
} from "../../../src/core/stim/plan"
import { StimReason } from "../../../src/core/stim/reasons"
import { makeEtsPhase, makePhase, makeStrengthenPhase } from "../../cases/stim-fixtures"

describe("checkPhase", () => {
    test("valid phases pass, with a copy", () => {
        const p = makeStrengthenPhase()
        const c = checkPhase(p)
        expect(c.reason).toBe(StimReason.None)
        expect(c.phase).toEqual(p)
        expect(c.phase).not.toBe(p)
    })

    test(`ramps are clamped to RAMP_MIN_MS..RAMP_MAX_MS (${RAMP_MIN_MS}..${RAMP_MAX_MS} ms)`, () => {
        const c = checkPhase(makeStrengthenPhase({ rampUpMs: RAMP_MIN_MS - 1, rampDownMs: RAMP_MAX_MS + 1 }))
        expect([c.phase?.rampUpMs, c.phase?.rampDownMs]).toEqual([RAMP_MIN_MS, RAMP_MAX_MS])
    })

    const invalid: [string, object][] = [
        ["unknown mode", { mode: 7 }],
        ["NaN frequency", { frequencyHz: NaN }],
        ["zero frequency", { frequencyHz: 0 }],
        ["NaN pulse width", { pulseWidthUs: NaN }],
        ["negative rest", { restMs: -1 }],
        ["Infinity work", { workMs: Infinity }],
        ["zero work in a cycled phase", { workMs: 0 }],
        ["NaN ramp", { rampUpMs: NaN }],
    ]
    test.each(invalid)("%s is invalid", (_name, o) => {
        expect(checkPhase({ ...makeStrengthenPhase(), ...o }).reason).toBe(StimReason.InvalidPhase)
    })

    test("ETS trigger must be in (0, 100] %", () => {
        expect(checkPhase(makeEtsPhase({ triggerPct: 100 })).phase).toBeDefined()
        expect(checkPhase(makeEtsPhase({ triggerPct: 100.001 })).phase).toBeUndefined()
        expect(checkPhase(makeEtsPhase({ triggerPct: 0 })).phase).toBeUndefined()
        expect(checkPhase(makeEtsPhase({ triggerPct: NaN })).phase).toBeUndefined()
    })

    test("continuous relaxation needs no work time; a missing phase is invalid", () => {
        expect(checkPhase(makePhase({ workMs: 0, restMs: 0 })).phase).toBeDefined()
        expect(checkPhase(undefined).reason).toBe(StimReason.InvalidPhase)
    })

    test("samePhase compares the normalized settings (the ETS trigger only counts in ETS)", () => {
        const a = checkPhase(makePhase({ rampUpMs: 100, triggerPct: 5 })).phase
        const b = checkPhase(makePhase({ rampUpMs: 400, triggerPct: 50 })).phase
        expect(samePhase(a, b)).toBe(true)
        expect(samePhase(a, checkPhase(makePhase({ frequencyHz: 11 })).phase)).toBe(false)
    })
})

describe("cycle envelope (strengthen, cycled relax)", () => {
    const p = makeStrengthenPhase({ rampUpMs: 1000, workMs: 5000, rampDownMs: 2000, restMs: 10000 })
    const cases: [number, number, StimReason][] = [
        [0, 0, StimReason.RampUp],
        [500, 0.5, StimReason.RampUp],
        [1000, 1, StimReason.Work],
        [5999, 1, StimReason.Work],
        [6000, 1, StimReason.RampDown],
        [7000, 0.5, StimReason.RampDown],
        [8000, 0, StimReason.Rest],
        [17999, 0, StimReason.Rest],
        [18000, 0, StimReason.RampUp], // the next cycle
        [18500, 0.5, StimReason.RampUp],
        [18000 * 1000 + 3000, 1, StimReason.Work], // many cycles later: floor-based mod
    ]
    test.each(cases)("t = %d ms: factor %d (%s)", (t, factor, reason) => {
        const e = cycleEnvelope(p, t)
        expect(e.factor).toBeCloseTo(factor, 12)
        expect(e.reason).toBe(reason)
    })

    test("relax with restMs 0 is continuous after one ramp up", () => {
        const r = makePhase({ rampUpMs: 2000 })
        expect(cycleEnvelope(r, 1000)).toEqual({ factor: 0.5, reason: StimReason.RampUp })
        expect(cycleEnvelope(r, 2000)).toEqual({ factor: 1, reason: StimReason.Continuous })
        expect(cycleEnvelope(r, 3600000)).toEqual({ factor: 1, reason: StimReason.Continuous })
    })

    test("relax with a rest is cycled like strengthening", () => {
        const r = makePhase({ restMs: 3000, workMs: 4000, rampUpMs: 500, rampDownMs: 500 })
        expect(cycleEnvelope(r, 6000).reason).toBe(StimReason.Rest)
        expect(cycleEnvelope(r, 8000 + 1000).reason).toBe(StimReason.Work)
    })
})

describe("ETS trigger (pure function of level and time)", () => {
    const p = makeEtsPhase({ triggerPct: 60, workMs: 5000, restMs: 10000, rampUpMs: 1000, rampDownMs: 1000 })
    const at = (s: EtsState, level: number, t: number) => etsNext(s, level, t, p)

    test("arms at exactly the trigger %, not just below", () => {
        expect(at(etsStart(), 59.999, 100).stage).toBe(EtsStage.Waiting)
        expect(at(etsStart(), 60, 100)).toEqual({ stage: EtsStage.Armed, sinceMs: 100 })
    })

    test("assists when the contraction falls back under the trigger before the work time", () => {
        const armed = at(etsStart(), 70, 0)
        expect(at(armed, 60, 4999).stage).toBe(EtsStage.Armed) // still holding
        const assist = at(armed, 59, 4999)
        expect(assist).toEqual({ stage: EtsStage.Assist, sinceMs: 4999 })
    })

    test("no assist when she holds the trigger for the whole work time on her own", () => {
        const armed = at(etsStart(), 70, 0)
        expect(at(armed, 20, 5000).stage).toBe(EtsStage.Rest)
    })

    test("an unknown level (sensor lost) disarms and never fires the assist", () => {
        const armed = at(etsStart(), 70, 0)
        expect(at(armed, NaN, 100).stage).toBe(EtsStage.Waiting)
        expect(at(etsStart(), NaN, 100).stage).toBe(EtsStage.Waiting)
    })

    test("the assist ramps up, works and ramps down, then she takes over and rests", () => {
        const assist: EtsState = { stage: EtsStage.Assist, sinceMs: 1000 }
        expect(etsEnvelope(assist, 1500, p)).toEqual({ factor: 0.5, reason: StimReason.EtsAssist })
        expect(etsEnvelope(assist, 4000, p)).toEqual({ factor: 1, reason: StimReason.EtsAssist })
        expect(etsEnvelope(assist, 7500, p).factor).toBeCloseTo(0.5, 12)
        expect(at(assist, 0, 7999).stage).toBe(EtsStage.Assist)
        const rest = at(assist, 0, 8000)
        expect(rest).toEqual({ stage: EtsStage.Rest, sinceMs: 8000 })
        expect(at(rest, 90, 17999).stage).toBe(EtsStage.Rest) // contractions ignored while resting
        expect(at(rest, 90, 18000).stage).toBe(EtsStage.Waiting)
    })

    test("nothing is delivered outside an assist", () => {
        expect(etsEnvelope(etsStart(), 0, p).factor).toBe(0)
        expect(etsEnvelope({ stage: EtsStage.Armed, sinceMs: 0 }, 10, p).factor).toBe(0)
        expect(etsEnvelope({ stage: EtsStage.Rest, sinceMs: 0 }, 10, p).factor).toBe(0)
    })

    test(`StimPlan: a level older than ETS_LEVEL_MAX_AGE_MS (${ETS_LEVEL_MAX_AGE_MS} ms) is unknown`, () => {
        const plan = new StimPlan(checkPhase(p).phase!)
        plan.restart(0)
        plan.measured(80, 0)
        expect(plan.envelope(10).reason).toBe(StimReason.EtsArmed)
        expect(plan.envelope(ETS_LEVEL_MAX_AGE_MS).reason).toBe(StimReason.EtsArmed)
        expect(plan.envelope(ETS_LEVEL_MAX_AGE_MS + 1).reason).toBe(StimReason.EtsWaiting) // disarmed, no assist
        expect(plan.etsStage()).toBe(EtsStage.Waiting)
    })

    test("StimPlan restarts the cycle and ETS at each (re)start", () => {
        const plan = new StimPlan(checkPhase(makeStrengthenPhase()).phase!)
        plan.restart(100000)
        expect(plan.envelope(100000)).toEqual({ factor: 0, reason: StimReason.RampUp })
        expect(StimMode.Strengthen).toBe(1)
    })
})
