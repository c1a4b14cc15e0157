// The stim module following the trainer, end to end in Node: a real
// SessionRunner runs the program, the firmware's own RunnerStatus encodes
// what the trainer reports (services/trainer.md `runner`), TrainerFollower
// turns it into supervisor events, and a real StimSupervisor decides the
// output. What reaches the output is checked against what the session did.
import { describe, expect, test } from "vitest"
import { RunnerStatus } from "../../../src/feedback/runner-status"
import { PHASE_KINDS, type Program } from "../../../src/core/program/types"
import { ButtonKind, RunnerState } from "../../../src/core/runner/types"
import { AMPLITUDE_STEP_MA, SESSION_REST_MIN_MS } from "../../../src/core/limits"
import { StimEventKind, StimSupervisor, type StimStep } from "../../../src/core/stim/supervisor"
import { StimAction, StimReason } from "../../../src/core/stim/reasons"
import { STIM_PHASE_KIND, TrainerFollower, type FollowEvent, type FollowedRunner } from "../../../src/core/stim/trainer-follow"
import { etsPhase, flicksPhase, makeOptions, makeProgram, relaxPhase, relaxStimPhase, RunnerRig, stimPhase, type ProgramOverrides } from "../../cases/runner-fixtures"

const K = StimEventKind
const PROBE_READY = 2
const AREA_CM2 = 10

function followed(n: number[]): FollowedRunner {
    return { state: n[0], phaseIndex: n[1], phaseKind: n[2], flags: n[3], bandLow: n[9], intensitySteps: n[11] }
}

/** Runner -> RunnerStatus -> TrainerFollower -> StimSupervisor, on one clock (the runner's sample time). */
class Chain {
    readonly rig: RunnerRig
    readonly status = new RunnerStatus()
    readonly follower = new TrainerFollower(AREA_CM2)
    readonly sup = new StimSupervisor()
    readonly events: FollowEvent[] = []
    readonly steps: StimStep[] = []
    /** report runner statuses to the follower (false: they are lost on the bus) */
    heard = true
    /** [mA] highest amplitude commanded */
    maxAmplitudeMa = 0

    constructor(
        readonly program: Program,
        emgUv = 3
    ) {
        this.rig = new RunnerRig(program, makeOptions())
        this.apply(this.follower.setProgram(program))
        this.apply(this.follower.live(PROBE_READY, emgUv, 0))
        this.rig.start()
        this.report()
    }

    apply(events: FollowEvent[]): void {
        for (const e of events) {
            this.events.push(e)
            const s = this.sup.step({ kind: e.kind, now: this.rig.t, value: e.value, phase: e.phase, session: e.session })
            this.noteStep(s)
        }
        this.follower.outputOn(this.sup.status().running)
    }

    private noteStep(s: StimStep): void {
        this.steps.push(s)
        const a = s.command.enabled ? s.command.amplitudeMa : 0
        if (a > this.maxAmplitudeMa) this.maxAmplitudeMa = a
    }

    report(): void {
        this.status.update(this.rig.runner, this.rig.t, false)
        if (this.heard) this.apply(this.follower.runner(followed(this.status.runner()), this.rig.t))
    }

    /** Runs `ms` of session at `emgUv`, 10 ms a sample; the module reports and the runner status go out every 50 ms. */
    run(ms: number, emgUv = 3): void {
        const until = this.rig.t + ms
        while (this.rig.t < until) {
            this.rig.feed(50, emgUv)
            this.noteStep(this.sup.step({ kind: K.ModuleStatus, now: this.rig.t }))
            this.apply(this.follower.live(PROBE_READY, emgUv, 0))
            this.report()
        }
    }

    press(kind: ButtonKind): void {
        this.rig.press(kind)
        this.report()
    }

    kinds(): StimEventKind[] {
        return this.events.map(e => e.kind)
    }

    running(): boolean {
        return this.sup.status().running
    }
}

const relaxThenStim = (o: ProgramOverrides = {}) => makeProgram({ phases: [relaxPhase({ durationS: 10 }), relaxStimPhase({ durationS: 30 }), relaxPhase({ durationS: 10 })], ...o })

describe("the stim module follows the trainer's session", () => {
    test("the stim phase index is the program format's", () => {
        expect(PHASE_KINDS.indexOf("stim")).toBe(STIM_PHASE_KIND)
    })

    test("nothing reaches the output before the stim phase; in it the output starts from zero and the patient's presses set the level", () => {
        const c = new Chain(relaxThenStim())
        c.run(9000)
        expect(c.running()).toBe(false)
        expect(c.maxAmplitudeMa).toBe(0)
        expect(c.kinds()).toEqual([K.ProbeInserted, K.BatteryOk])
        c.run(1500)
        expect(c.kinds().slice(2)).toEqual([K.SessionBegin, K.Phase, K.Start])
        expect(c.running()).toBe(true)
        const session = c.events.find(e => e.kind === K.SessionBegin)!.session!
        expect(session.therapistCaps).toEqual({ amplitudeMaxMa: 40, pulseWidthMaxUs: 300, frequencyMaxHz: 50, sessionStimMaxMs: 20 * 60000 })
        expect(session.electrodeAreaCm2).toBe(AREA_CM2)
        expect(session.contraindications).toEqual({ pregnant: false, implantedDevice: false, other: false })
        expect(session.restSinceLastSessionMs).toBe(Infinity)
        for (let i = 0; i < 8; i++) {
            c.press(ButtonKind.Up)
            c.run(100)
        }
        c.press(ButtonKind.Down)
        c.run(3000)
        expect(c.kinds().filter(k => k === K.IntensityUp).length).toBe(8)
        expect(c.kinds().filter(k => k === K.IntensityDown).length).toBe(1)
        expect(c.sup.status().levelMa).toBe(7 * AMPLITUDE_STEP_MA)
        expect(c.maxAmplitudeMa).toBeGreaterThan(0)
        expect(c.maxAmplitudeMa).toBeLessThanOrEqual(8 * AMPLITUDE_STEP_MA)
    })

    test("the phase's end stops the output with its own cause (PhaseEnded), not the stop button's", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        c.press(ButtonKind.Up)
        c.run(30_000)
        expect(c.rig.runner.view().phaseIndex).toBe(2)
        expect(c.running()).toBe(false)
        expect(c.sup.status().lastStop).toBe(StimReason.PhaseEnded)
        expect(c.kinds().filter(k => k === K.PhaseEnded).length).toBe(1)
        expect(c.kinds()).not.toContain(K.StopButton)
    })

    test("two stim phases back to back: the first one's end stops the output; the next starts at the next status, not in the same step", () => {
        const program = makeProgram({ phases: [relaxPhase({ durationS: 10 }), relaxStimPhase({ durationS: 30 }), relaxStimPhase({ durationS: 30, frequencyHz: 5 })] })
        const f = new TrainerFollower(AREA_CM2)
        f.setProgram(program)
        const r = (phaseIndex: number): FollowedRunner => ({ state: RunnerState.Running, phaseIndex, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 })
        expect(f.runner(r(1), 0).map(e => e.kind)).toEqual([K.BatteryOk, K.SessionBegin, K.Phase, K.Start])
        expect(f.runner(r(2), 30_000).map(e => e.kind)).toEqual([K.PhaseEnded])
        expect(f.delivering()).toBe(-1)
        const next = f.runner(r(2), 30_500)
        expect(next.map(e => e.kind)).toEqual([K.Phase, K.Start])
        expect(next[0].phase!.frequencyHz).toBe(5)
        expect(f.delivering()).toBe(2)
    })

    test("pause stops the output at once; resuming is a deliberate start from zero", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        for (let i = 0; i < 4; i++) {
            c.press(ButtonKind.Up)
            c.run(100)
        }
        expect(c.sup.status().levelMa).toBe(4 * AMPLITUDE_STEP_MA)
        c.run(400) // past the start/pause debounce
        c.press(ButtonKind.StartPause)
        expect(c.rig.runner.state()).toBe(RunnerState.Paused)
        const stop = c.steps[c.steps.length - 1]
        expect([stop.action, stop.reason, stop.command.enabled, stop.command.amplitudeMa]).toEqual([StimAction.Stopped, StimReason.StopButton, false, 0])
        c.run(400)
        c.press(ButtonKind.StartPause)
        expect(c.running()).toBe(true)
        expect(c.sup.status().levelMa).toBe(0)
        expect(c.kinds().filter(k => k === K.Start).length).toBe(2)
        // the phase was set once; the caps once
        expect(c.kinds().filter(k => k === K.Phase).length).toBe(1)
        expect(c.kinds().filter(k => k === K.SessionBegin).length).toBe(1)
    })

    test("the stop button ends the session and the output, and the next session waits out the rest between sessions", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        c.press(ButtonKind.Up)
        c.run(1000)
        c.press(ButtonKind.Stop)
        expect(c.rig.runner.state()).toBe(RunnerState.Done)
        expect(c.running()).toBe(false)
        expect(c.sup.status().lastStop).toBe(StimReason.StopButton)
        // a new session an hour later: the follower tells the supervisor how long the rest was
        const next = new RunnerRig(c.program, makeOptions())
        next.t = c.rig.t + 3_600_000
        const f = c.follower
        const events: FollowEvent[] = []
        next.start()
        const st = new RunnerStatus()
        for (let t = 0; t < 11_000; t += 50) {
            next.feed(50, 3)
            st.update(next.runner, next.t, false)
            events.push(...f.runner(followed(st.runner()), next.t))
        }
        const begin = events.find(e => e.kind === K.SessionBegin)!
        expect(begin.session!.restSinceLastSessionMs).toBeGreaterThanOrEqual(3_600_000)
        expect(begin.session!.restSinceLastSessionMs).toBeLessThan(SESSION_REST_MIN_MS)
        const s = new StimSupervisor()
        for (const k of [K.ModuleStatus, K.BatteryOk, K.ProbeInserted]) s.step({ kind: k, now: 0 })
        s.step({ kind: K.SessionBegin, now: 0, session: begin.session })
        s.step({ kind: K.Phase, now: 0, phase: events.find(e => e.kind === K.Phase)!.phase })
        const start = s.step({ kind: K.Start, now: 0 })
        expect([start.action, start.reason]).toEqual([StimAction.Refused, StimReason.SessionRestTooShort])
    })

    test("a contraindication in the program locks the output even when the trainer reports a stim phase", () => {
        const program = relaxThenStim({ flags: ["pregnant", "epilepsy"] })
        const f = new TrainerFollower(AREA_CM2)
        f.setProgram(program)
        f.live(PROBE_READY, 3, 0)
        const events = f.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, 1000)
        const begin = events.find(e => e.kind === K.SessionBegin)!
        expect(begin.session!.contraindications).toEqual({ pregnant: true, implantedDevice: false, other: true })
        const s = new StimSupervisor()
        for (const k of [K.ModuleStatus, K.BatteryOk, K.ProbeInserted]) s.step({ kind: k, now: 1000 })
        let last: StimStep | undefined
        for (const e of events) last = s.step({ kind: e.kind, now: 1000, session: e.session, phase: e.phase })
        expect(last!.action).toBe(StimAction.Refused)
        expect(s.status().running).toBe(false)
        // and the runner itself never enters the locked phase
        const c = new Chain(program)
        c.run(25_000)
        expect(c.maxAmplitudeMa).toBe(0)
        expect(c.kinds()).not.toContain(K.Start)
    })

    test("a strengthening phase is not delivered during its relaxation gate work, only once the gate is met", () => {
        const program = makeProgram({ phases: [stimPhase({ durationS: 30 })] })
        const c = new Chain(program, 8)
        c.run(4000, 8) // tone above the criterion: gate work
        expect(c.rig.runner.view().gateWork).toBe(true)
        expect(c.kinds()).not.toContain(K.Start)
        c.run(8000, 3) // relaxed: the gate is met, the phase starts
        expect(c.rig.runner.view().gateWork).toBe(false)
        expect(c.kinds()).toContain(K.Start)
        expect(c.running()).toBe(true)
    })

    test("lost runner reports lose no intensity press, and repeats repeat none", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        c.heard = false
        for (let i = 0; i < 5; i++) {
            c.press(ButtonKind.Up)
            c.run(100)
        }
        c.heard = true
        c.report()
        c.report()
        c.run(500)
        expect(c.sup.status().levelMa).toBe(5 * AMPLITUDE_STEP_MA)
        expect(c.kinds().filter(k => k === K.IntensityUp).length).toBe(5)
    })

    test("intensity steps wrap at 256: the change is read modulo 256, more than 127 up reads as down (the safe way)", () => {
        const f = new TrainerFollower(AREA_CM2)
        f.setProgram(relaxThenStim())
        const r = (steps: number): FollowedRunner => ({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: steps })
        f.runner(r(250), 0)
        const count = (ev: FollowEvent[], k: StimEventKind) => ev.filter(e => e.kind === k).length
        const wrapped = f.runner(r(3), 50)
        expect([count(wrapped, K.IntensityUp), count(wrapped, K.IntensityDown)]).toEqual([9, 0])
        const down = f.runner(r(0), 100)
        expect([count(down, K.IntensityUp), count(down, K.IntensityDown)]).toEqual([0, 3])
        const far = f.runner(r(200), 150)
        expect([count(far, K.IntensityUp), count(far, K.IntensityDown)]).toEqual([0, 56])
    })

    test("battery low and the probe coming out go to the supervisor as stop causes", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        c.press(ButtonKind.Up)
        c.run(200)
        expect(c.running()).toBe(true)
        c.rig.runner.batteryLow(c.rig.t)
        c.report()
        expect(c.running()).toBe(false)
        expect(c.sup.status().lastStop).toBe(StimReason.BatteryLow)

        const d = new Chain(relaxThenStim())
        d.run(10_500)
        d.apply(d.follower.live(3, 3, 0)) // ProbeState.Removed
        expect(d.running()).toBe(false)
        expect(d.sup.status().lastStop).toBe(StimReason.ProbeRemoved)
    })

    test("a different program mid-session stops the output (ProgramChanged); the same one again changes nothing", () => {
        const c = new Chain(relaxThenStim())
        c.run(10_500)
        expect(c.follower.setProgram(relaxThenStim())).toEqual([])
        const next = { ...relaxThenStim(), programVersion: 2 }
        c.apply(c.follower.setProgram(next))
        expect(c.running()).toBe(false)
        expect(c.sup.status().lastStop).toBe(StimReason.ProgramChanged)
    })

    test("ets: every live report gives the trigger channel's level in % of the runner's target", () => {
        const program = makeProgram({ phases: [etsPhase({ durationS: 30, triggerChannel: "pressure" })] })
        const f = new TrainerFollower(AREA_CM2)
        f.setProgram(program)
        f.runner({ state: RunnerState.Running, phaseIndex: 0, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: 20, intensitySteps: 0 }, 0)
        expect(f.live(PROBE_READY, 7, 15)).toEqual([{ kind: K.ProbeInserted }, { kind: K.MeasuredLevel, value: 75 }])
        expect(f.live(PROBE_READY, 7, 25)).toEqual([{ kind: K.MeasuredLevel, value: 125 }])
        const notEts = new TrainerFollower(AREA_CM2)
        notEts.setProgram(relaxThenStim())
        notEts.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: 20, intensitySteps: 0 }, 0)
        expect(notEts.live(PROBE_READY, 7, 15)).toEqual([{ kind: K.ProbeInserted }])
    })

    test("no program (or an unreadable one): nothing is delivered whatever the trainer reports", () => {
        const f = new TrainerFollower(AREA_CM2)
        const ev = f.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, 0)
        expect(ev.map(e => e.kind)).toEqual([K.BatteryOk])
        // a phase index that is not a stim phase of the program in force
        f.setProgram(makeProgram({ phases: [relaxPhase(), flicksPhase()] }))
        expect(f.runner({ state: RunnerState.Running, phaseIndex: 1, phaseKind: STIM_PHASE_KIND, flags: 0, bandLow: NaN, intensitySteps: 0 }, 50)).toEqual([])
    })
})
