// One named test per rule of the session runner
// (src/core/runner/session-runner.ts), at its boundary. Samples every
// 10 ms; the test options use a 1 s rest window (10 buckets of 100 ms), so
// with relaxed samples from t = 10 the window is full at t = 900 and a
// 5 s hold is met at t = 5900.
import { describe, expect, test } from "vitest"
import { RepFlag } from "../../../src/core/metrics/types"
import { CONTRAINDICATION_RULES, lockingFlags } from "../../../src/core/program/phases"
import { Block, Cue, SegmentKind } from "../../../src/core/protocol/assessment"
import { BLOCK_RELAX, BLOCK_STIM, planPhases, stimSettingsOf } from "../../../src/core/runner/phase-plan"
import { emptyView, EVENT_QUEUE_MAX, INHALE_FRACTION } from "../../../src/core/runner/session-runner"
import { StimMode } from "../../../src/core/stim/plan"
import {
    BandKind,
    ButtonKind,
    Guide,
    PhaseOutcome,
    RatingStep,
    RunnerChannel,
    RunnerEventKind as K,
    RunnerReason as R,
    Notice,
    RunnerState,
    type RunnerEvent,
} from "../../../src/core/runner/types"
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
    RunnerRig,
    stimPhase,
    type ProgramOverrides,
} from "../../cases/runner-fixtures"

/** Met at 5900 when relaxed from the start (window full at 900, hold 5 s). */
const MET_AT = 5900

function rig(o?: ProgramOverrides, options?: Record<string, unknown>): RunnerRig {
    return new RunnerRig(makeProgram(o), makeOptions(options)).start()
}

/** Only a toning phase: gate work from t = 0. */
function gateRig(o?: ProgramOverrides, options?: Record<string, unknown>): RunnerRig {
    return rig({ phases: [flicksPhase()], ...o }, options)
}

function kinds(events: RunnerEvent[], k: K): RunnerEvent[] {
    return events.filter(e => e.kind === k)
}

function phaseStarts(r: RunnerRig, gateWork: boolean): RunnerEvent[] {
    return r.events.filter(e => e.kind === K.PhaseStarted && e.gateWork === gateWork)
}

describe("the idle view", () => {
    test("emptyView (JSON text) has each enum at Idle / None and equals an idle runner's view", () => {
        const v = emptyView()
        expect(v.state).toBe(RunnerState.Idle)
        expect(v.cue).toBe(Cue.Idle)
        expect(v.guide).toBe(Guide.None)
        expect(v.levelChannel).toBe(RunnerChannel.None)
        expect(v.bandKind).toBe(BandKind.None)
        expect(v.ratingStep).toBe(RatingStep.None)
        expect(v.notice).toBe(Notice.None)
        expect(v.level).toBeNaN()
        expect(v.levelPctOfTarget).toBeNaN()
        const idle = new RunnerRig(makeProgram(), makeOptions()).runner.view()
        for (const key of Object.keys(idle)) if (key !== "level" && key !== "levelChannel" && key !== "scaleMax") expect((v as any)[key], key).toEqual((idle as any)[key])
        expect(Object.keys(v).sort()).toEqual(Object.keys(idle).sort())
    })
})

describe("relaxation gate", () => {
    test("is met on the sample where the hold reaches holdS", () => {
        const r = gateRig()
        r.feedTo(MET_AT, 3)
        expect(r.runner.view().gateMet).toBe(true)
        const met = r.first(K.GateMet)!
        expect(met.atMs).toBe(MET_AT)
        expect(met.extra).toBe(5000)
        expect(met.value).toBe(3)
        expect(met.limit).toBe(4)
        expect(met.channel).toBe(RunnerChannel.Emg)
    })

    test("is not met one sample short of holdS", () => {
        const r = gateRig()
        r.feedTo(MET_AT - 10, 3)
        expect(r.runner.view().gateMet).toBe(false)
        expect(r.runner.gateProgress()).toBeCloseTo(4990 / 5000, 9)
        expect(r.runner.view().gateWork).toBe(true)
    })

    test("an SD just above the criterion never meets it", () => {
        const r = gateRig()
        r.feedWobble(29_000, 3, 1.02)
        expect(r.count(K.GateMet)).toBe(0)
    })

    test("an SD just below the criterion meets it", () => {
        const r = gateRig()
        r.feedWobble(29_000, 3, 0.98)
        expect(r.count(K.GateMet)).toBe(1)
    })

    test("a rest tone exactly at the level counts as relaxed", () => {
        const r = gateRig()
        r.feedTo(MET_AT, 4)
        expect(r.runner.view().gateMet).toBe(true)
    })

    test("a rest tone just above the level does not", () => {
        const r = gateRig()
        r.feedTo(29_000, 4.01)
        expect(r.runner.view().gateMet).toBe(false)
        expect(r.runner.gateProgress()).toBe(0)
    })

    test("tension in between starts the hold again", () => {
        const r = gateRig()
        r.feedTo(3000, 3)
        r.feedTo(4000, 8)
        r.feedTo(MET_AT, 3)
        expect(r.runner.view().gateMet).toBe(false)
        r.feedTo(15_000, 3)
        const met = r.first(K.GateMet)!
        expect(met.atMs).toBeGreaterThan(9000)
        expect(met.extra).toBe(5000)
    })

    test("both channels must hold when the criterion has both levels", () => {
        const r = gateRig({ channels: "both", relaxation: { restToneMaxCmH2O: 5, restToneSdMaxCmH2O: 1 } })
        r.feedTo(10_000, 3, 7)
        expect(r.runner.view().gateMet).toBe(false)
        r.feedTo(20_000, 3, 2)
        expect(r.runner.view().gateMet).toBe(true)
    })

    test("an unknown level (NaN) breaks the hold", () => {
        const r = gateRig()
        r.feedTo(5000, 3)
        r.feedTo(5010, NaN)
        r.feedTo(MET_AT, 3)
        expect(r.runner.view().gateMet).toBe(false)
    })

    test("a toning phase waits in gate work until the gate is met, then starts at once", () => {
        const r = gateRig()
        r.feedTo(MET_AT + 100, 3)
        const gate = phaseStarts(r, true)
        expect(gate.length).toBe(1)
        expect(gate[0].atMs).toBe(0)
        expect(gate[0].reason).toBe(R.GateRequired)
        const ended = r.first(K.PhaseEnded)!
        expect(ended.gateWork).toBe(true)
        expect(ended.limit).toBe(PhaseOutcome.GateMet)
        expect(ended.value).toBe(MET_AT)
        const toning = phaseStarts(r, false)
        expect(toning.length).toBe(1)
        expect(toning[0].atMs).toBe(MET_AT)
        expect(r.runner.view().toning).toBe(true)
    })

    test("gate work lasts at most timeoutS: gate not met, toning skipped, relaxation phases still run", () => {
        const r = gateRig({ phases: [flicksPhase(), relaxPhase({ durationS: 10 })] })
        r.feedTo(30_100, 6)
        const nm = r.first(K.GateNotMet)!
        expect(nm.atMs).toBe(30_000)
        expect(nm.reason).toBe(R.GateTimeout)
        expect(nm.value).toBe(6)
        expect(nm.limit).toBe(4)
        expect(nm.extra).toBe(30_000)
        const skipped = r.first(K.PhaseSkipped)!
        expect(skipped.phaseIndex).toBe(0)
        expect(skipped.reason).toBe(R.GateAbandoned)
        expect(r.runner.view().phaseIndex).toBe(1)
        expect(r.runner.view().gateWork).toBe(false)
        r.feedTo(40_100, 6)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        expect(phaseStarts(r, false).map(e => e.phaseIndex)).toEqual([1])
    })

    test("a sample exactly at the timeout is still judged", () => {
        const r = gateRig({ relaxation: { timeoutS: 5.9 } })
        r.feedTo(MET_AT + 10, 3)
        expect(r.count(K.GateMet)).toBe(1)
        expect(r.count(K.GateNotMet)).toBe(0)
    })

    test("after a timeout the session waits no more: every later toning phase is skipped", () => {
        const r = gateRig({ phases: [flicksPhase(), holdsPhase()] })
        r.feedTo(30_100, 6)
        expect(kinds(r.events, K.PhaseSkipped).map(e => e.phaseIndex)).toEqual([0, 1])
        expect(phaseStarts(r, true).length).toBe(1)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("the gate met in an earlier relax phase lets toning start without gate work", () => {
        const r = rig()
        r.feedTo(31_000, 3)
        expect(r.first(K.GateMet)!.atMs).toBe(MET_AT)
        expect(r.first(K.GateMet)!.gateWork).toBe(false)
        expect(phaseStarts(r, true).length).toBe(0)
        expect(phaseStarts(r, false).map(e => [e.phaseIndex, e.atMs])).toEqual([
            [0, 0],
            [1, 30_000],
        ])
    })

    test("after a timeout, the gate met in a later relax phase lets the later toning run", () => {
        const r = gateRig({ phases: [flicksPhase(), relaxPhase({ durationS: 10 }), holdsPhase()] })
        r.feedTo(30_000, 6)
        r.feedTo(40_100, 3)
        expect(r.first(K.GateMet)!.phaseIndex).toBe(1)
        expect(phaseStarts(r, false).map(e => e.phaseIndex)).toEqual([1, 2])
        expect(r.runner.view().phaseIndex).toBe(2)
    })

    test("a toning phase in a program without a criterion is skipped (fail-safe)", () => {
        const r = rig({ relaxation: null, phases: [relaxPhase({ durationS: 5 }), flicksPhase()] })
        r.feedTo(5100, 3)
        const s = r.first(K.PhaseSkipped)!
        expect(s.phaseIndex).toBe(1)
        expect(s.reason).toBe(R.NoCriterion)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("a contraction breaks the hold: it does not carry over from a pre-baseline to a post-baseline", () => {
        // assessment: pre-baseline 0-4000, flick 4000-6000, rest 6000-8000, post-baseline 8000-18000
        const r = rig({ phases: [assessmentPhase({ preBaselineS: 4, flickReps: 1, holdReps: 0, enduranceS: 0, postBaselineS: 10 })] })
        r.feedTo(18_000, 3)
        expect(r.first(K.GateMet)!.atMs).toBe(8900 + 5000)
    })

    test("gate work is not tracked under stimulation: the hold starts again after it", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 3 }), relaxStimPhase({ durationS: 3 }), relaxPhase({ durationS: 10 })] })
        r.feedTo(16_000, 3)
        expect(r.first(K.GateMet)!.atMs).toBe(6900 + 5000)
    })
})

describe("spasm signs", () => {
    /** gate met at 5900; flicks 2 s on / 4 s off: rep 0 5900-7900, rest 7900-11900 (judged from 8900) */
    function toningRig(restUv: number, phases = [flicksPhase(), relaxPhase({ durationS: 10 })]): RunnerRig {
        const r = gateRig({ phases })
        r.feedTo(MET_AT, 3)
        r.feedTo(7900, 20)
        r.feedTo(11_900, restUv)
        return r
    }

    test("a rest tone between reps above the level is a spasm sign: back to relaxation", () => {
        const r = toningRig(4.5)
        const s = r.first(K.SpasmSign)!
        expect(s.atMs).toBe(11_900)
        expect(s.reason).toBe(R.SpasmRestTone)
        expect(s.value).toBeCloseTo(4.5, 9)
        expect(s.limit).toBe(4)
        expect(s.channel).toBe(RunnerChannel.Emg)
        const ended = r.last(K.PhaseEnded)!
        expect(ended.limit).toBe(PhaseOutcome.SpasmSign)
        expect(ended.phaseIndex).toBe(0)
        expect(r.runner.view().gateWork).toBe(true)
        expect(r.runner.view().gateMet).toBe(false)
        expect(r.last(K.PhaseStarted)!.reason).toBe(R.SpasmRestTone)
    })

    test("a rest tone at the level is no spasm sign", () => {
        const r = toningRig(4)
        expect(r.count(K.SpasmSign)).toBe(0)
        expect(r.runner.view().guide).toBe(Guide.Contract)
    })

    test("the first spasmSettleMs of a rest is not judged", () => {
        const r = gateRig()
        r.feedTo(MET_AT, 3)
        r.feedTo(7900, 20)
        r.feedTo(8890, 15)
        r.feedTo(11_900, 3)
        expect(r.count(K.SpasmSign)).toBe(0)
    })

    test("once the gate is met again, the toning phase goes on at its next rep", () => {
        const r = toningRig(4.5)
        r.feedTo(30_000, 3)
        const resumed = r.events.find(e => e.kind === K.PhaseStarted && e.reason === R.ResumeAfterRelaxation)!
        expect(resumed.phaseIndex).toBe(0)
        const i = r.events.indexOf(resumed)
        const seg = r.events[i + 1]
        expect(seg.kind).toBe(K.SegmentStarted)
        expect(seg.segment!.repIndex).toBe(1)
        expect(seg.segment!.cue).toBe(Cue.Contract)
    })

    test("after spasmSignsMax spasm signs toning is over for the session", () => {
        const r = toningRig(4.5, [flicksPhase(), holdsPhase(), relaxPhase({ durationS: 10 })])
        r.feedTo(17_800, 3) // the windows start again at the spasm sign: full at 12800, met 5 s later
        const resumedAt = r.events.find(e => e.reason === R.ResumeAfterRelaxation)!.atMs
        expect(resumedAt).toBe(17_800)
        r.feedTo(resumedAt + 2000, 20)
        r.feedTo(resumedAt + 6000, 4.5)
        expect(r.count(K.SpasmSign)).toBe(2)
        const skipped = r.first(K.PhaseSkipped)!
        expect(skipped.phaseIndex).toBe(1)
        expect(skipped.reason).toBe(R.SpasmLimit)
        expect(r.runner.view().phaseIndex).toBe(2)
        expect(r.runner.view().gateWork).toBe(false)
    })

    test("two reps in a row that do not let go are a spasm sign", () => {
        const r = gateRig()
        r.feedTo(MET_AT + 500, 3)
        r.runner.repFinished(r.t, makeRep(0, RepFlag.NoRelease))
        r.runner.repFinished(r.t, makeRep(1, RepFlag.NoRelease))
        r.drain()
        const s = r.first(K.SpasmSign)!
        expect(s.reason).toBe(R.SpasmNoRelease)
        expect(s.value).toBe(2)
        expect(r.runner.view().gateWork).toBe(true)
    })

    test("one rep that does not let go is not", () => {
        const r = gateRig()
        r.feedTo(MET_AT + 500, 3)
        r.runner.repFinished(r.t, makeRep(0, RepFlag.NoRelease))
        r.runner.repFinished(r.t, makeRep(1, 0))
        r.runner.repFinished(r.t, makeRep(2, RepFlag.NoRelease))
        r.drain()
        expect(r.count(K.SpasmSign)).toBe(0)
    })

    test("a rep reported twice counts once", () => {
        const r = gateRig()
        r.feedTo(MET_AT + 500, 3)
        r.runner.repFinished(r.t, makeRep(0, 0))
        r.runner.repFinished(r.t, makeRep(0, 0))
        r.runner.repFinished(r.t, makeRep(1, RepFlag.NoContraction))
        // the phase's end event carries its reps done
        r.runner.button(r.t, ButtonKind.Stop)
        r.drain()
        expect(kinds(r.events, K.PhaseEnded).pop()!.extra).toBe(1)
    })
})

describe("states and buttons", () => {
    test("the probe moves idle to ready and back", () => {
        const r = new RunnerRig(makeProgram(), makeOptions())
        expect(r.runner.state()).toBe(RunnerState.Idle)
        r.runner.probeReady(0, true)
        r.runner.probeReady(5, true)
        expect(r.runner.state()).toBe(RunnerState.Ready)
        r.runner.probeReady(10, false)
        r.drain()
        expect(r.runner.state()).toBe(RunnerState.Idle)
        expect(r.count(K.Ready)).toBe(1)
        expect(r.count(K.NotReady)).toBe(1)
    })

    test("start is refused without the probe", () => {
        const r = new RunnerRig(makeProgram(), makeOptions())
        r.press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Idle)
        expect(r.first(K.Refused)!.reason).toBe(R.ProbeNotReady)
    })

    const stopStates: [string, (r: RunnerRig) => void][] = [
        ["idle", () => {}],
        ["ready", r => r.runner.probeReady(0, true)],
        ["running", r => r.start()],
        ["paused", r => { r.start(); r.at(1000).press(ButtonKind.StartPause) }],
        ["gate work", r => { r.start(); r.feed(1000, 6) }],
        ["rating", r => { r.start(); r.feed(30_100, 6) }],
        ["done", r => { r.start(); r.press(ButtonKind.Stop) }],
    ]
    test.each(stopStates)("stop wins from %s: done", (_name, reach) => {
        const r = new RunnerRig(makeProgram({ phases: [flicksPhase()] }), makeOptions())
        reach(r)
        r.press(ButtonKind.Stop)
        expect(r.runner.state()).toBe(RunnerState.Done)
        expect(r.runner.cue()).toBe(Cue.Idle)
        expect(r.count(K.Stopped)).toBe(1)
    })

    test("stop in fault stays fault", () => {
        const r = rig()
        r.runner.fault(100, 2)
        r.press(ButtonKind.Stop)
        expect(r.runner.state()).toBe(RunnerState.Fault)
    })

    test("a stopped session ends its phase as stopped and asks no rating", () => {
        const r = rig()
        r.feedTo(1000, 3)
        r.press(ButtonKind.Stop)
        r.press(ButtonKind.Stop)
        expect(r.last(K.PhaseEnded)!.limit).toBe(PhaseOutcome.Stopped)
        expect(r.count(K.Stopped)).toBe(1)
        expect(r.count(K.SessionEnded)).toBe(0)
        expect(r.last(K.Done)!.reason).toBe(R.StopButton)
    })

    test("a second start/pause within buttonRepeatMs is ignored", () => {
        const r = rig()
        r.at(299).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Running)
        expect(r.last(K.Refused)!.reason).toBe(R.ButtonRepeat)
        r.at(700).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Paused)
    })

    test("pause keeps phase time", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 10 })] })
        r.feedTo(2000, 3)
        r.press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Paused)
        expect(r.runner.cue()).toBe(Cue.Rest)
        r.feedTo(7000, 3)
        expect(r.runner.view().phaseRemainingMs).toBe(8000)
        r.press(ButtonKind.StartPause)
        r.feedTo(16_000, 3)
        const ended = r.first(K.PhaseEnded)!
        expect(ended.atMs).toBe(15_000)
        expect(ended.value).toBe(10_000)
        expect(r.runner.view().runningMs).toBe(10_000)
        expect(r.first(K.Paused)!.reason).toBe(R.PauseButton)
        expect(r.count(K.Resumed)).toBe(1)
    })

    test("pulling the probe out pauses; resuming waits for the probe", () => {
        const r = rig()
        r.feedTo(1000, 3)
        r.runner.probeReady(1000, false)
        r.drain()
        expect(r.runner.state()).toBe(RunnerState.Paused)
        expect(r.last(K.Paused)!.reason).toBe(R.ProbeRemoved)
        r.at(2000).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Paused)
        expect(r.last(K.Refused)!.reason).toBe(R.ProbeNotReady)
        r.runner.probeReady(3000, true)
        r.at(3000).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Running)
    })

    test("paused longer than pauseTimeoutMs ends the session cleanly", () => {
        const r = rig({}, { pauseTimeoutMs: 60_000 })
        r.feedTo(2000, 3)
        r.press(ButtonKind.StartPause)
        r.runner.tick(61_990)
        r.drain()
        expect(r.runner.state()).toBe(RunnerState.Paused)
        r.runner.tick(62_000)
        r.drain()
        const end = r.first(K.SessionEnded)!
        expect(end.atMs).toBe(62_000)
        expect(end.reason).toBe(R.PauseTimeout)
        expect(r.last(K.PhaseEnded)!.limit).toBe(PhaseOutcome.PauseTimeout)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("battery low in a contraction finishes the rep and its let-go, then ends cleanly", () => {
        const r = gateRig()
        r.feedTo(6500, 3) // rep 0: 5900-7900
        r.runner.batteryLow(6500)
        r.runner.batteryLow(6600)
        r.feedTo(12_000, 3)
        expect(r.count(K.BatteryLow)).toBe(1)
        expect(r.first(K.BatteryLow)!.value).toBe(1)
        const end = r.first(K.SessionEnded)!
        expect(end.atMs).toBe(7900 + 2000)
        expect(end.reason).toBe(R.BatteryLow)
        expect(r.last(K.PhaseEnded)!.limit).toBe(PhaseOutcome.BatteryLow)
        const segs = kinds(r.events, K.SegmentStarted).map(e => e.segment!.cue)
        expect(segs.slice(-2)).toEqual([Cue.Contract, Cue.Release])
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("battery low waiting for the rep still ends the session when a spasm sign comes first", () => {
        const r = gateRig()
        r.feedTo(6500, 3)
        r.runner.batteryLow(6500)
        r.runner.repFinished(6600, makeRep(0, RepFlag.NoRelease))
        r.runner.repFinished(6600, makeRep(1, RepFlag.NoRelease))
        r.drain()
        expect(r.count(K.SpasmSign)).toBe(1)
        expect(r.first(K.SessionEnded)!.reason).toBe(R.BatteryLow)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        expect(r.runner.view().gateWork).toBe(false)
    })

    test("battery low outside a contraction ends at once", () => {
        const r = rig()
        r.feedTo(1000, 3)
        r.runner.batteryLow(1000)
        r.drain()
        expect(r.first(K.SessionEnded)!.atMs).toBe(1000)
        expect(r.first(K.BatteryLow)!.value).toBe(0)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("battery low before a session: start is refused until the battery is fine", () => {
        const r = new RunnerRig(makeProgram(), makeOptions())
        r.runner.probeReady(0, true)
        r.runner.batteryLow(0)
        r.press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Ready)
        expect(r.last(K.Refused)!.reason).toBe(R.BatteryIsLow)
        r.runner.batteryOk(1000)
        r.at(1000).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Running)
    })

    const faultStates: [string, (r: RunnerRig) => void][] = [
        ["idle", () => {}],
        ["ready", r => r.runner.probeReady(0, true)],
        ["running", r => r.start()],
        ["paused", r => { r.start(); r.at(1000).press(ButtonKind.StartPause) }],
        ["rating", r => { r.start(); r.feed(30_100, 6) }],
        ["done", r => { r.start(); r.press(ButtonKind.Stop) }],
    ]
    test.each(faultStates)("a fault from %s ends in fault, its first cause kept", (_name, reach) => {
        const r = new RunnerRig(makeProgram({ phases: [flicksPhase()] }), makeOptions())
        reach(r)
        r.runner.fault(r.t + 10, 4)
        r.runner.fault(r.t + 20, 6)
        r.drain()
        expect(r.runner.state()).toBe(RunnerState.Fault)
        expect(r.runner.view().faultCause).toBe(4)
        expect(r.count(K.Fault)).toBe(1)
        expect(r.runner.segment()).toBe(null)
    })

    test("intensity up/down pass through only in a stim phase", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 2 }), relaxStimPhase({ durationS: 10 })] })
        r.press(ButtonKind.Up)
        expect(r.last(K.Refused)!.reason).toBe(R.NoStimNow)
        r.feedTo(3000, 3)
        r.press(ButtonKind.Up)
        r.press(ButtonKind.Down)
        expect(kinds(r.events, K.Intensity).map(e => e.value)).toEqual([1, -1])
    })

    test("a zero-length phase (not a valid program) ends at once instead of hanging", () => {
        const r = rig({ phases: [baselinePhase(0), relaxPhase({ durationS: 1 })] })
        r.feedTo(1100, 3)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        expect(kinds(r.events, K.PhaseEnded).map(e => e.value)).toEqual([0, 1000])
    })

    test("a clock going backwards is ignored", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 10 })] })
        r.feedTo(5000, 3)
        r.runner.sample(4000, { emgUv: 50, pressureCmH2O: 0 })
        r.runner.sample(NaN, { emgUv: 50, pressureCmH2O: 0 })
        expect(r.runner.view().runningMs).toBe(5000)
        expect(r.runner.view().level).toBe(3)
    })

    test("one call crosses a bounded number of segments; the rest follows at the next call", () => {
        const r = rig({ phases: [flicksPhase({ reps: 50, onS: 0.5, offS: 1 })] }, { restWindowMs: 500 })
        r.feedTo(MET_AT, 3)
        r.runner.tick(MET_AT + 100_000)
        expect(r.runner.view().runningMs).toBeLessThan(MET_AT + 100_000)
        r.runner.tick(MET_AT + 100_000)
        r.runner.tick(MET_AT + 100_000)
        r.runner.tick(MET_AT + 100_000)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test("events beyond the queue's size drop the oldest, and are counted", () => {
        const r = new RunnerRig(makeProgram(), makeOptions())
        for (let i = 0; i < EVENT_QUEUE_MAX + 5; i++) r.runner.button(i, ButtonKind.Up)
        expect(r.runner.droppedEvents).toBe(5)
        expect(r.runner.takeEvents().length).toBe(EVENT_QUEUE_MAX)
    })
})

describe("contraindications", () => {
    test("pregnant locks every phase: nothing runs, no rating", () => {
        const r = rig({ flags: ["pregnant"], phases: [relaxPhase(), stimPhase(), flicksPhase()] })
        expect(kinds(r.events, K.ContraindicationLock).map(e => [e.phaseIndex, e.reason])).toEqual([
            [0, R.ContraindicationProbe],
            [1, R.ContraindicationProbe],
            [2, R.ContraindicationProbe],
        ])
        expect(r.runner.state()).toBe(RunnerState.Done)
        expect(r.last(K.Done)!.reason).toBe(R.NothingToRun)
    })

    test("a pacemaker locks the stim phases only", () => {
        const r = rig({ flags: ["pacemakerOrImplant"], phases: [relaxStimPhase(), relaxPhase({ durationS: 5 }), relaxStimPhase()] })
        r.feedTo(6000, 3)
        expect(kinds(r.events, K.ContraindicationLock).map(e => [e.phaseIndex, e.reason])).toEqual([
            [0, R.ContraindicationStim],
            [2, R.ContraindicationStim],
        ])
        expect(phaseStarts(r, false).map(e => e.phaseIndex)).toEqual([1])
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test.each(CONTRAINDICATION_RULES.map(rule => [rule.flag, rule.locks.join("+")]))("%s locks %s", flag => {
        const r = rig({ flags: [flag], phases: [relaxPhase({ durationS: 5 }), relaxStimPhase({ durationS: 5 })] })
        r.feedTo(11_000, 3)
        const probe = lockingFlags(makeProgram({ flags: [flag] }).contraindications, "probe").length > 0
        const locked = kinds(r.events, K.ContraindicationLock).map(e => e.phaseIndex)
        expect(locked).toEqual(probe ? [0, 1] : [1])
        expect(kinds(r.events, K.ContraindicationLock)[0].value).toBe(1)
    })

    test("plannedReps leaves the locked phases out", () => {
        const r = rig({ flags: ["pregnant"], phases: [flicksPhase({ reps: 4 })] })
        expect(r.runner.plannedReps()).toBe(0)
        expect(rig({ phases: [flicksPhase({ reps: 4 }), holdsPhase({ reps: 2 })] }).runner.plannedReps()).toBe(6)
    })
})

describe("rating", () => {
    function ratingRig(usesDilators = false, options?: Record<string, unknown>): RunnerRig {
        const r = rig({ phases: [relaxPhase({ durationS: 1 })], usesDilators }, options)
        r.feedTo(1000, 3)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        expect(r.first(K.SessionEnded)!.reason).toBe(R.SessionComplete)
        return r
    }

    test("the pain rating starts at 0 and stays within 0..10 with the buttons", () => {
        const r = ratingRig()
        expect(r.runner.view().ratingStep).toBe(RatingStep.Pain)
        expect(r.runner.view().ratingValue).toBe(0)
        r.press(ButtonKind.Down)
        expect(r.runner.view().ratingValue).toBe(0)
        for (let i = 0; i < 11; i++) r.press(ButtonKind.Up)
        expect(r.runner.view().ratingValue).toBe(10)
        expect(r.runner.view().ratingMax).toBe(10)
    })

    test.each([-1, 11, 2.5, NaN])("rate(%s) is refused", score => {
        const r = ratingRig()
        expect(r.runner.rate(1000, score)).toBe(false)
        r.drain()
        expect(r.last(K.Refused)!.reason).toBe(R.OutOfRange)
        expect(r.runner.state()).toBe(RunnerState.Rating)
    })

    test.each([0, 10])("rate(%s) is recorded", score => {
        const r = ratingRig()
        expect(r.runner.rate(1000, score)).toBe(true)
        r.drain()
        expect(r.first(K.RatingRecorded)!.value).toBe(score)
        expect(r.runner.state()).toBe(RunnerState.Done)
    })

    test("rate() outside the rating step is refused", () => {
        const r = rig()
        expect(r.runner.rate(0, 3)).toBe(false)
    })

    test("start confirms the value shown", () => {
        const r = ratingRig()
        r.press(ButtonKind.Up)
        r.press(ButtonKind.Up)
        r.press(ButtonKind.Up)
        r.press(ButtonKind.StartPause)
        expect(r.first(K.RatingRecorded)!.value).toBe(3)
        expect(r.last(K.Done)!.reason).toBe(R.RatingConfirmed)
    })

    test("the dilator size is asked after the pain rating when the program uses dilators, 0..dilatorSizeMax", () => {
        const r = ratingRig(true)
        r.press(ButtonKind.StartPause)
        expect(r.runner.view().ratingStep).toBe(RatingStep.Dilator)
        expect(r.runner.view().ratingValue).toBe(1)
        expect(r.runner.dilator(1000, 9)).toBe(false)
        expect(r.runner.dilator(1000, -1)).toBe(false)
        for (let i = 0; i < 10; i++) r.press(ButtonKind.Up)
        expect(r.runner.view().ratingValue).toBe(8)
        r.at(1500).press(ButtonKind.StartPause)
        expect(r.first(K.DilatorRecorded)!.value).toBe(8)
        expect(r.runner.state()).toBe(RunnerState.Done)
    })

    test("a bounce of the confirming press does not confirm the dilator too", () => {
        const r = ratingRig(true)
        r.press(ButtonKind.StartPause)
        r.at(1100).press(ButtonKind.StartPause)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        expect(r.count(K.DilatorRecorded)).toBe(0)
    })

    test("no rating within ratingTimeoutMs: done without one", () => {
        const r = ratingRig(false, { ratingTimeoutMs: 60_000 })
        r.runner.tick(60_990)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        r.runner.tick(61_000)
        r.drain()
        expect(r.runner.state()).toBe(RunnerState.Done)
        expect(r.last(K.Done)!.reason).toBe(R.RatingTimeout)
        expect(r.count(K.RatingRecorded)).toBe(0)
    })
})

describe("phases, segments and targets", () => {
    test("flicks give Contract and Release segments with the program's rep numbers", () => {
        const r = rig({ phases: [holdsPhase({ reps: 2 }), flicksPhase({ reps: 2, onS: 1, offS: 2 })] })
        r.feedTo(40_000, 3)
        const segs = kinds(r.events, K.SegmentStarted).map(e => [e.atMs, e.segment!.kind, e.segment!.cue, e.segment!.block, e.segment!.repIndex])
        // gate work, then 2 holds (6 s / 6 s) from 5900, then 2 flicks from 29900
        expect(segs).toEqual([
            [0, SegmentKind.Rest, Cue.Rest, BLOCK_RELAX, -1],
            [5900, SegmentKind.Work, Cue.Contract, Block.Holds, 0],
            [11_900, SegmentKind.Rest, Cue.Release, Block.Holds, -1],
            [17_900, SegmentKind.Work, Cue.Contract, Block.Holds, 1],
            [23_900, SegmentKind.Rest, Cue.Release, Block.Holds, -1],
            [29_900, SegmentKind.Work, Cue.Contract, Block.Flicks, 2],
            [30_900, SegmentKind.Rest, Cue.Release, Block.Flicks, -1],
            [32_900, SegmentKind.Work, Cue.Contract, Block.Flicks, 3],
            [33_900, SegmentKind.Rest, Cue.Release, Block.Flicks, -1],
        ])
    })

    test("a baseline before any contraction is a pre-baseline, after one a post-baseline", () => {
        const r = rig({ phases: [baselinePhase(10), relaxPhase({ durationS: 10 }), flicksPhase({ reps: 1 }), baselinePhase(10)] })
        r.feedTo(40_000, 3)
        const blocks = kinds(r.events, K.SegmentStarted).map(e => e.segment!.block)
        expect(blocks).toEqual([Block.PreBaseline, BLOCK_RELAX, Block.Flicks, Block.Flicks, Block.PostBaseline])
    })

    test("the assessment runs the protocol's segments, reps numbered from the phase's first rep", () => {
        const r = rig({ phases: [flicksPhase({ reps: 2 }), assessmentPhase()] })
        r.feedTo(80_000, 3)
        const segs = kinds(r.events, K.SegmentStarted).filter(e => e.phaseIndex === 1 && !e.gateWork).map(e => [e.segment!.block, e.segment!.repIndex])
        expect(segs).toEqual([
            [Block.PreBaseline, -1],
            [Block.Flicks, 2],
            [Block.Flicks, -1],
            [Block.Flicks, 3],
            [Block.Flicks, -1],
            [Block.Holds, 4],
            [Block.Holds, -1],
            [Block.PostBaseline, -1],
        ])
    })

    test("a stim phase is one Work segment with no rep; its settings in the supervisor's terms", () => {
        const phase = stimPhase({ workS: 5, restS: 10 })
        const r = rig({ phases: [relaxPhase({ durationS: 10 }), phase] })
        r.feedTo(10_100, 3)
        const seg = r.runner.segment()!
        expect([seg.kind, seg.cue, seg.block, seg.repIndex]).toEqual([SegmentKind.Work, Cue.Rest, BLOCK_STIM, -1])
        expect(stimSettingsOf(phase)).toEqual({ mode: StimMode.Strengthen, frequencyHz: 50, pulseWidthUs: 300, workMs: 5000, restMs: 10_000, rampUpMs: 1000, rampDownMs: 1000, triggerPct: 0 })
        expect(r.runner.view().guide).toBe(Guide.Stim)
    })

    test("Up and Down in a stim phase count as intensity steps, modulo 256; outside one they do not", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 10 }), relaxStimPhase({ durationS: 600 })] })
        r.feedTo(1000, 3)
        r.press(ButtonKind.Up)
        expect(r.runner.view().intensitySteps).toBe(0)
        r.feedTo(10_100, 3)
        for (let i = 0; i < 3; i++) r.press(ButtonKind.Up)
        r.press(ButtonKind.Down)
        expect(r.runner.view().intensitySteps).toBe(2)
        for (let i = 0; i < 5; i++) r.press(ButtonKind.Down)
        expect(r.runner.view().intensitySteps).toBe(253)
        for (let i = 0; i < 300; i++) r.press(ButtonKind.Up)
        expect(r.runner.view().intensitySteps).toBe((253 + 300) % 256)
    })

    test("a relax phase paces breathing: in for 40 % of the period, then out", () => {
        const r = rig({ phases: [relaxPhase({ durationS: 30, breathPeriodS: 10 })] })
        r.feedTo(2000, 3)
        let v = r.runner.view()
        expect(v.guide).toBe(Guide.BreatheIn)
        expect(v.breath).toBeCloseTo(2000 / (10_000 * INHALE_FRACTION), 9)
        r.feedTo(4000, 3)
        v = r.runner.view()
        expect(v.guide).toBe(Guide.BreatheOut)
        expect(v.breath).toBe(1)
        r.feedTo(7000, 3)
        expect(r.runner.view().breath).toBeCloseTo(0.5, 9)
        r.feedTo(12_000, 3)
        expect(r.runner.view().guide).toBe(Guide.BreatheIn)
    })

    test("gate work breathes at the nearest relax phase's period", () => {
        const r = gateRig({ phases: [relaxPhase({ durationS: 1, breathPeriodS: 6 }), flicksPhase()] })
        r.feedTo(1000 + 2500, 6)
        expect(r.runner.view().gateWork).toBe(true)
        expect(r.runner.view().guide).toBe(Guide.BreatheOut) // 2.5 s into a 6 s breath: past 2.4 s
    })

    test("the relax band is the phase's level; the bar's scale is twice it", () => {
        const r = rig({ phases: [relaxPhase({ restToneMaxUv: 5 })] })
        r.feedTo(100, 3)
        const v = r.runner.view()
        expect([v.bandKind, v.bandHigh, v.scaleMax, v.level]).toEqual([BandKind.AtOrBelow, 5, 10, 3])
    })

    test("the toning band is the target to 20 % MVC above it, from the MVC; none without one", () => {
        const r = gateRig()
        r.feedTo(MET_AT + 100, 3)
        let v = r.runner.view()
        expect([v.guide, v.bandKind, v.scaleMax]).toEqual([Guide.Contract, BandKind.None, 40])
        r.runner.setMvc(RunnerChannel.Emg, 30)
        v = r.runner.view()
        expect(v.bandKind).toBe(BandKind.Between)
        expect(v.bandLow).toBeCloseTo(18, 9)
        expect(v.bandHigh).toBeCloseTo(24, 9)
        expect(v.scaleMax).toBe(30)
    })

    test("the holds target follows its ramp by sessions done", () => {
        const ramp = holdsPhase({ targetPctMvc: undefined, targetRamp: { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 } })
        const at = (n: number) => planPhases(makeProgram({ phases: [ramp] }), n)[0].targetPctMvc
        expect([at(0), at(5), at(15), at(40)]).toEqual([30, 40, 60, 60])
    })

    test("ets: the level against the phase's target, for the supervisor's trigger", () => {
        const r = gateRig({ phases: [etsPhase({ targetPctMvc: 50 })] }, { mvcUv: 40 })
        r.feedTo(MET_AT + 100, 3)
        r.feedTo(MET_AT + 200, 15)
        const v = r.runner.view()
        expect(v.guide).toBe(Guide.Stim)
        expect(v.levelPctOfTarget).toBeCloseTo(75, 9)
        expect(stimSettingsOf(etsPhase({ targetPctMvc: 50 })).triggerPct).toBe(80)
    })

    test("time in phases adds up to the running time", () => {
        const r = gateRig({ phases: [relaxPhase({ durationS: 3 }), flicksPhase({ reps: 2 }), relaxPhase({ durationS: 3 })] })
        r.feedTo(3000, 6)
        r.feedTo(10_000, 3)
        r.press(ButtonKind.StartPause)
        r.feedTo(20_000, 3)
        r.press(ButtonKind.StartPause)
        r.feedTo(60_000, 3)
        expect(r.runner.state()).toBe(RunnerState.Rating)
        const total = kinds(r.events, K.PhaseEnded).reduce((s, e) => s + e.value, 0)
        expect(total).toBe(r.runner.view().runningMs)
        expect(r.runner.view().runningMs).toBe(r.first(K.SessionEnded)!.atMs - 10_000)
    })
})
