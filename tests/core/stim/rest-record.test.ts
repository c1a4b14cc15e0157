// The rest between stim sessions across the stim module's power cycles
// (src/core/stim/rest-record.ts) and how the follower uses it: the record
// only ever under-states the rest, whatever the clocks did, and only a
// session whose output ran counts as a stim session.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { restBeforeBootMs, restRecordOf, restRecordOfText, restRecordText, storedRestRecord, wallAtS, type StimRestRecord } from "../../../src/core/stim/rest-record"
import { SESSION_REST_MIN_MS } from "../../../src/core/limits"
import { RunnerState } from "../../../src/core/runner/types"
import { StimEventKind, StimSupervisor } from "../../../src/core/stim/supervisor"
import { StimAction, StimReason } from "../../../src/core/stim/reasons"
import { STIM_PHASE_KIND, TrainerFollower } from "../../../src/core/stim/trainer-follow"
import { makeProgram, relaxPhase, relaxStimPhase } from "../../cases/runner-fixtures"

const K = StimEventKind
const HOUR_MS = 3_600_000
const PROBE_READY = 2

describe("the rest record", () => {
    test("round-trips through its settings value; a value that does not read is an open record with no time", () => {
        for (const r of [
            { open: false, wallS: 1_790_000_000 },
            { open: true, wallS: 0 },
        ] as StimRestRecord[])
            expect(restRecordOf(JSON.parse(JSON.stringify(storedRestRecord(r))))).toEqual(r)
        expect(restRecordOf(null)).toBe(null)
        for (const bad of ["x", 3, {}, { o: 0 }, { o: 0, w: -5 }, { o: "0", w: 5 }, { o: 0, w: NaN }]) expect(restRecordOf(bad)).toEqual({ open: true, wallS: 0 })
    })

    test("from the setting's raw text: nothing stored is no record; any text that is not a whole record is an open record with no time", () => {
        fc.assert(
            fc.property(fc.boolean(), fc.integer({ min: 0, max: 4_000_000_000 }), (open, wallS) => {
                const r = { open, wallS }
                expect(restRecordOfText(restRecordText(r))).toEqual(r)
                // a write a power cut stopped part way: every prefix short of the whole reads as open, no time
                const text = restRecordText(r)
                for (let n = 1; n < text.length; n++) expect(restRecordOfText(text.slice(0, n))).toEqual({ open: true, wallS: 0 })
            })
        )
        expect(restRecordOfText("")).toBe(null)
        for (const bad of ["null", "x", "3", "{}", '"o"', "\u0000\u0000"]) expect(restRecordOfText(bad)).toEqual({ open: true, wallS: 0 })
    })

    test("nothing on record: no stim session before, any rest", () => {
        expect(restBeforeBootMs(null, 5, 0)).toBe(Infinity)
    })

    test("the end on record and the clock set now: the wall time since, at least the uptime", () => {
        const end = 1_790_000_000
        expect(restBeforeBootMs({ open: false, wallS: end }, 60_000, end + 5 * 3600)).toBe(5 * HOUR_MS)
        expect(restBeforeBootMs({ open: false, wallS: end }, 2 * HOUR_MS, end + 60)).toBe(2 * HOUR_MS)
    })

    test("anything not known counts only the uptime: the clock not set now or then, the clock gone back, a session a power cut ended", () => {
        const end = 1_790_000_000
        const up = 90_000
        expect(restBeforeBootMs({ open: false, wallS: end }, up, 0)).toBe(up)
        expect(restBeforeBootMs({ open: false, wallS: 0 }, up, end)).toBe(up)
        expect(restBeforeBootMs({ open: false, wallS: end }, up, end - 7200)).toBe(up)
        expect(restBeforeBootMs({ open: true, wallS: end - 10 * 3600 }, up, end)).toBe(up)
        expect(restBeforeBootMs({ open: true, wallS: 0 }, -5, 0)).toBe(0)
    })

    test("property: with the clock right or not set, the rest on record never exceeds the real rest", () => {
        fc.assert(
            fc.property(
                fc.record({
                    endWallS: fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
                    // [s] from the session's end to the boot, and the module's uptime since
                    offS: fc.integer({ min: 0, max: 3 * 86400 }),
                    uptimeMs: fc.integer({ min: 0, max: 86_400_000 }),
                    clockThen: fc.boolean(),
                    clockNow: fc.boolean(),
                    open: fc.boolean(),
                    // an open record holds the session's start, up to the hard stim-time cap (60 min) before its end
                    startBeforeEndS: fc.integer({ min: 0, max: 3600 }),
                }),
                c => {
                    const realRestMs = c.offS * 1000 + c.uptimeMs
                    const rec: StimRestRecord = { open: c.open, wallS: c.clockThen ? (c.open ? c.endWallS - c.startBeforeEndS : c.endWallS) : 0 }
                    const nowWallS = c.clockNow ? c.endWallS + Math.floor(realRestMs / 1000) : 0
                    const got = restBeforeBootMs(rec, c.uptimeMs, nowWallS)
                    expect(got).toBeLessThanOrEqual(realRestMs)
                    expect(got).toBeGreaterThanOrEqual(c.uptimeMs)
                }
            ),
            { numRuns: 2000 }
        )
    })

    test("the wall clock at a moment of the module's clock, from one reading", () => {
        expect(wallAtS(1000, 5000, 65_000)).toBe(1060)
        expect(wallAtS(0, 5000, 65_000)).toBe(0)
    })
})

/** One trainer session with a stim phase, as the follower hears it, each event stepped through a supervisor; returns its SessionBegin's rest and the Start's outcome. */
function session(f: TrainerFollower, sup: StimSupervisor, startMs: number, lengthMs: number): { restMs: number; started: boolean } {
    let restMs = NaN
    let started = false
    const apply = (events: ReturnType<TrainerFollower["runner"]>, now: number) => {
        for (const e of events) {
            if (e.kind === K.SessionBegin) restMs = e.session!.restSinceLastSessionMs
            const s = sup.step({ kind: e.kind, now, value: e.value, phase: e.phase, session: e.session })
            if (e.kind === K.Start) started = s.action === StimAction.Started
        }
        f.outputOn(sup.status().running)
    }
    for (const k of [K.ModuleStatus, K.BatteryOk]) sup.step({ kind: k, now: startMs })
    apply(f.live(PROBE_READY, 3, 0), startMs)
    apply(f.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, startMs), startMs)
    sup.step({ kind: K.ModuleStatus, now: startMs + lengthMs })
    apply(f.runner({ state: RunnerState.Done, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, startMs + lengthMs), startMs + lengthMs)
    return { restMs, started }
}

describe("the follower's rest between stim sessions", () => {
    const program = () => makeProgram({ phases: [relaxPhase({ durationS: 10 }), relaxStimPhase({ durationS: 30 })] })

    test("after a boot the record's rest stands in: under 4 h the start is refused, over it the output runs", () => {
        for (const [restMs, runs] of [
            [HOUR_MS, false],
            [SESSION_REST_MIN_MS + 1000, true],
            [Infinity, true],
        ] as const) {
            const f = new TrainerFollower(10)
            f.setProgram(program())
            f.restBeforeBoot(restMs, 1000)
            const sup = new StimSupervisor()
            const s = session(f, sup, 1000, 20_000)
            expect(s.restMs).toBe(restMs)
            expect(s.started).toBe(runs)
            // the status says why (services/stimcontrol.md last_refusal; pft monitor shows it)
            expect(sup.status().lastRefusal).toBe(runs ? StimReason.None : StimReason.SessionRestTooShort)
        }
    })

    test("a refused start is no stim session: the next one still counts from the last session whose output ran", () => {
        const f = new TrainerFollower(10)
        f.setProgram(program())
        const sup = new StimSupervisor()
        const first = session(f, sup, 0, 20_000)
        expect(first.started).toBe(true)
        expect(f.stimSessionsEnded()).toBe(1)
        expect(f.lastStimSessionEnd()).toBe(20_000)
        // an hour later: refused, and it does not move the last stim session's end
        const refused = session(f, sup, 20_000 + HOUR_MS, 20_000)
        expect([refused.restMs, refused.started]).toEqual([HOUR_MS, false])
        expect(f.stimSessionsEnded()).toBe(1)
        expect(f.lastStimSessionEnd()).toBe(20_000)
        // 4 h after the first one's end: runs
        const later = session(f, sup, 20_000 + SESSION_REST_MIN_MS, 20_000)
        expect(later.started).toBe(true)
        expect(f.stimSessionsEnded()).toBe(2)
    })

    test("once a session with stimulation ended in this boot, the record no longer counts", () => {
        const f = new TrainerFollower(10)
        f.setProgram(program())
        const sup = new StimSupervisor()
        session(f, sup, 0, 20_000)
        f.restBeforeBoot(Infinity, 30_000)
        const next = session(f, sup, 30_000, 20_000)
        expect(next.restMs).toBe(10_000)
        expect(next.started).toBe(false)
    })

    test("a session is a stim session from the moment its output runs, before it ends (the record is written open then)", () => {
        const f = new TrainerFollower(10)
        f.setProgram(program())
        const sup = new StimSupervisor()
        for (const k of [K.ModuleStatus, K.BatteryOk]) sup.step({ kind: k, now: 0 })
        for (const e of f.live(PROBE_READY, 3, 0)) sup.step({ kind: e.kind, now: 0 })
        for (const e of f.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, 0))
            sup.step({ kind: e.kind, now: 0, phase: e.phase, session: e.session })
        expect(f.stimulatedThisSession()).toBe(false)
        f.outputOn(sup.status().running)
        expect(f.stimulatedThisSession()).toBe(true)
        expect(sup.status().lastStop).toBe(StimReason.None)
    })
})
