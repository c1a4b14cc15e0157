// Session runner, relaxation gate, rest window and LED bar: the same cases
// run under vitest (tests/core/runner/shared-cases.test.ts) and in the
// DeviceScript VM (tests/vm/all-runner.vm.ts). Samples every 100 ms and a
// 0.5 s rest window (5 buckets) keep each case to a few hundred samples
// (the VM stops a synchronous stretch after 128 K steps).
import { Blink, ledFrame, ledFrameKey, LedColour } from "../../src/core/feedback/led-bar"
import { RestWindow } from "../../src/core/runner/rest-window"
import { planPhases, planSegmentOffsetMs, stimSettingsOf } from "../../src/core/runner/phase-plan"
import { emptyView } from "../../src/core/runner/session-runner"
import { BandKind, ButtonKind, Guide, RunnerEventKind as K, RunnerReason, RunnerState } from "../../src/core/runner/types"
import type { Program } from "../../src/core/program/types"
import {
    flicksPhase,
    holdsPhase,
    makeOptions,
    makeProgram,
    relaxPhase,
    relaxStimPhase,
    RunnerRig,
    stimPhase,
} from "./runner-fixtures"
import type { NumericCase } from "./types"

/** hold 1 s, timeout 3 s; with 100 ms samples the window is full from t = 500, so the gate is met at 1500 */
function vmProgram(over?: { phases?: Program["phases"]; relaxation?: Record<string, unknown>; flags?: string[]; usesDilators?: boolean }): Program {
    const relaxation: Record<string, unknown> = { holdS: 1, timeoutS: 3 }
    if (over && over.relaxation) for (const k of Object.keys(over.relaxation)) relaxation[k] = over.relaxation[k]
    return makeProgram({
        phases: over && over.phases ? over.phases : [flicksPhase({ reps: 3, onS: 2, offS: 4 })],
        relaxation: relaxation,
        flags: over ? over.flags : undefined,
        usesDilators: over ? over.usesDilators : undefined,
    })
}

function vmRig(program: Program): RunnerRig {
    return new RunnerRig(program, makeOptions({ restWindowMs: 500, restWindowBuckets: 5 }), 100).start()
}

function b(x: boolean): number {
    return x ? 1 : 0
}

/** A rig in the state named: Idle, Ready, Running, Paused, Rating, Fault. */
function rigIn(state: RunnerState): RunnerRig {
    const rig = new RunnerRig(vmProgram({ phases: [relaxPhase({ durationS: 1 })] }), makeOptions({ restWindowMs: 500, restWindowBuckets: 5 }), 100)
    if (state === RunnerState.Idle) return rig
    rig.runner.probeReady(0, true)
    if (state === RunnerState.Ready) return rig
    rig.press(ButtonKind.StartPause)
    if (state === RunnerState.Paused) rig.at(500).press(ButtonKind.StartPause)
    if (state === RunnerState.Rating) rig.feed(1100, 3)
    if (state === RunnerState.Fault) rig.runner.fault(rig.t, 2)
    return rig
}

function stopFrom(state: RunnerState): number {
    const rig = rigIn(state)
    if (rig.runner.state() !== state) return -1
    rig.press(ButtonKind.Stop)
    return rig.runner.state()
}

/** Gate met at 1500, then 3 flicks (2 s on, 4 s off): rep 0 1500-3500, rest 3500-7500 (judged from 4500). */
function spasmRig(restUv: number): RunnerRig {
    const rig = vmRig(vmProgram({ phases: [flicksPhase({ reps: 3, onS: 2, offS: 4 })] }))
    rig.feedTo(1500, 3)
    rig.feedTo(3500, 20)
    rig.feedTo(7500, restUv)
    return rig
}

function gateWorkStarts(rig: RunnerRig): number {
    let n = 0
    for (const e of rig.events) if (e.kind === K.PhaseStarted && e.gateWork) n++
    return n
}

function ratingRig(usesDilators: boolean): RunnerRig {
    const rig = vmRig(vmProgram({ phases: [relaxPhase({ durationS: 1 })], usesDilators: usesDilators }))
    rig.feed(1100, 3)
    return rig
}

function relaxFrameGreens(level: number): number {
    const v = emptyView()
    v.state = RunnerState.Running
    v.guide = Guide.Rest
    v.bandKind = BandKind.AtOrBelow
    v.bandHigh = 4
    v.scaleMax = 8
    v.level = level
    let n = 0
    for (const p of ledFrame(v).pixels) if (p === LedColour.OnTarget) n++
    return n
}

function faultKeysDistinct(): number {
    const keys: number[] = []
    for (let cause = 1; cause <= 8; cause++) {
        const v = emptyView()
        v.state = RunnerState.Fault
        v.faultCause = cause
        const k = ledFrameKey(ledFrame(v))
        if (keys.indexOf(k) < 0) keys.push(k)
    }
    return keys.length
}

export const runnerCases: NumericCase[] = [
    // --- the relaxation gate, at its boundaries
    {
        name: "gate met on the sample where the hold reaches holdS",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(1500, 3)
            return b(rig.runner.view().gateMet)
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "gate not met one sample short of holdS",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(1400, 3)
            return b(rig.runner.view().gateMet)
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "gate never met with the SD just above the criterion",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedWobble(2900, 3, 1.05)
            return rig.count(K.GateMet)
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "gate met with the SD just below the criterion",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedWobble(2900, 3, 0.85)
            return rig.count(K.GateMet)
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "rest tone exactly at the level counts as relaxed",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(1500, 4)
            return b(rig.runner.view().gateMet)
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "rest tone just above the level does not",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(2900, 4.1)
            return b(rig.runner.view().gateMet)
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "toning starts on the gate-met sample",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(1600, 3)
            for (const e of rig.events) if (e.kind === K.PhaseStarted && !e.gateWork) return e.atMs
            return -1
        },
        expected: 1500,
        tolerance: 0,
    },
    {
        name: "gate not met at the timeout: GateNotMet at timeoutS of gate work",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(3100, 6)
            const e = rig.first(K.GateNotMet)
            return e !== null ? e.atMs : -1
        },
        expected: 3000,
        tolerance: 0,
    },
    {
        name: "gate not met: the toning phase is skipped (GateAbandoned)",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(3100, 6)
            const e = rig.first(K.PhaseSkipped)
            return e !== null && e.reason === RunnerReason.GateAbandoned ? e.phaseIndex : -1
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "gate not met: the session still runs its relaxation phases",
        actual: () => {
            const rig = vmRig(vmProgram({ phases: [flicksPhase(), relaxPhase({ durationS: 2 })] }))
            rig.feedTo(4000, 6)
            return rig.runner.view().phaseIndex
        },
        expected: 1,
        tolerance: 0,
    },
    // --- spasm signs
    {
        name: "spasm sign: rest tone between reps above the level",
        actual: () => spasmRig(6).count(K.SpasmSign),
        expected: 1,
        tolerance: 0,
    },
    {
        name: "no spasm sign with the rest tone at the level",
        actual: () => spasmRig(4).count(K.SpasmSign),
        expected: 0,
        tolerance: 0,
    },
    {
        name: "a spasm sign sends the session back to gate work",
        actual: () => {
            const rig = spasmRig(6)
            return gateWorkStarts(rig) * 10 + b(rig.runner.view().gateWork)
        },
        expected: 21,
        tolerance: 0,
    },
    // --- stop wins from every state
    { name: "stop from idle: done", actual: () => stopFrom(RunnerState.Idle), expected: RunnerState.Done, tolerance: 0 },
    { name: "stop from ready: done", actual: () => stopFrom(RunnerState.Ready), expected: RunnerState.Done, tolerance: 0 },
    { name: "stop from running: done", actual: () => stopFrom(RunnerState.Running), expected: RunnerState.Done, tolerance: 0 },
    { name: "stop from paused: done", actual: () => stopFrom(RunnerState.Paused), expected: RunnerState.Done, tolerance: 0 },
    { name: "stop from rating: done", actual: () => stopFrom(RunnerState.Rating), expected: RunnerState.Done, tolerance: 0 },
    { name: "stop in fault: stays fault", actual: () => stopFrom(RunnerState.Fault), expected: RunnerState.Fault, tolerance: 0 },
    // --- pause, battery, contraindications
    {
        name: "pause keeps phase time",
        actual: () => {
            const rig = vmRig(vmProgram({ phases: [relaxPhase({ durationS: 10 })] }))
            rig.feedTo(2000, 3)
            rig.press(ButtonKind.StartPause)
            rig.runner.tick(7000)
            rig.at(7000).press(ButtonKind.StartPause)
            rig.feedTo(12000, 3)
            return rig.runner.view().phaseRemainingMs
        },
        expected: 3000,
        tolerance: 0,
    },
    {
        name: "battery low in a contraction: ends after the rep and its release",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(2000, 3)
            rig.runner.batteryLow(2000)
            rig.feedTo(6000, 3)
            const e = rig.first(K.SessionEnded)
            return e !== null ? e.atMs : -1
        },
        expected: 5500,
        tolerance: 0,
    },
    {
        name: "battery low outside a contraction: ends at once",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.feedTo(1000, 6)
            rig.runner.batteryLow(1000)
            rig.drain()
            const e = rig.first(K.SessionEnded)
            return e !== null ? e.atMs : -1
        },
        expected: 1000,
        tolerance: 0,
    },
    {
        name: "pregnant: every phase locked, nothing runs",
        actual: () => {
            const rig = vmRig(vmProgram({ phases: [relaxPhase(), flicksPhase()], flags: ["pregnant"] }))
            return rig.count(K.ContraindicationLock) * 10 + rig.runner.state()
        },
        expected: 24,
        tolerance: 0,
    },
    {
        name: "pacemaker: stim phases locked, relax runs",
        actual: () => {
            const rig = vmRig(vmProgram({ phases: [relaxStimPhase(), relaxPhase()], flags: ["pacemakerOrImplant"] }))
            return rig.count(K.ContraindicationLock) * 10 + rig.runner.view().phaseIndex
        },
        expected: 11,
        tolerance: 0,
    },
    // --- rating
    {
        name: "rating stops at 10",
        actual: () => {
            const rig = ratingRig(false)
            for (let i = 0; i < 12; i++) rig.press(ButtonKind.Up)
            return rig.runner.view().ratingValue
        },
        expected: 10,
        tolerance: 0,
    },
    {
        name: "rating stops at 0",
        actual: () => {
            const rig = ratingRig(false)
            rig.press(ButtonKind.Up)
            rig.press(ButtonKind.Down)
            rig.press(ButtonKind.Down)
            return rig.runner.view().ratingValue
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "rate(11) is refused",
        actual: () => b(ratingRig(false).runner.rate(1100, 11)),
        expected: 0,
        tolerance: 0,
    },
    {
        name: "start confirms the rating shown; done without dilators",
        actual: () => {
            const rig = ratingRig(false)
            rig.press(ButtonKind.Up)
            rig.press(ButtonKind.Up)
            rig.press(ButtonKind.StartPause)
            const e = rig.first(K.RatingRecorded)
            return (e !== null ? e.value : -1) * 10 + rig.runner.state()
        },
        expected: 24,
        tolerance: 0,
    },
    {
        name: "the dilator size is asked when the program uses dilators",
        actual: () => {
            const rig = ratingRig(true)
            rig.runner.rate(1100, 3)
            return rig.runner.view().ratingStep
        },
        expected: 2,
        tolerance: 0,
    },
    {
        name: "fault keeps its first cause",
        actual: () => {
            const rig = vmRig(vmProgram())
            rig.runner.fault(100, 3)
            rig.runner.fault(200, 5)
            return rig.runner.view().faultCause * 10 + rig.runner.state()
        },
        expected: 35,
        tolerance: 0,
    },
    {
        name: "time in phases adds up to the running time",
        actual: () => {
            const rig = vmRig(vmProgram({ phases: [relaxPhase({ durationS: 2 }), flicksPhase({ reps: 2, onS: 1, offS: 1 }), relaxPhase({ durationS: 1 })] }))
            rig.feedTo(9000, 3)
            let sum = 0
            for (const e of rig.events) if (e.kind === K.PhaseEnded) sum += e.value
            if (rig.runner.state() !== RunnerState.Rating) return -1
            return sum - rig.runner.view().runningMs
        },
        expected: 0,
        tolerance: 0,
    },
    // --- phases, rest window, LED bar
    {
        name: "holds target after 5 sessions of a 30 %+2 % ramp",
        actual: () => {
            const p = vmProgram({ phases: [holdsPhase({ targetPctMvc: undefined, targetRamp: { startPctMvc: 30, stepPctPerSession: 2, maxPctMvc: 60 } })] })
            return planPhases(p, 5)[0].targetPctMvc
        },
        expected: 40,
        tolerance: 0,
    },
    {
        name: "segment offsets of flicks (rep 2's rest)",
        actual: () => planSegmentOffsetMs(planPhases(vmProgram({ phases: [flicksPhase({ onS: 2, offS: 4 })] }), 0)[0], 5),
        expected: 14000,
        tolerance: 0,
    },
    {
        name: "stim settings: work and rest in ms",
        actual: () => {
            const s = stimSettingsOf(stimPhase({ workS: 5, restS: 10 }))
            return s.workMs + s.restMs
        },
        expected: 15000,
        tolerance: 0,
    },
    {
        name: "rest window SD of alternating +-1 over a full window",
        actual: () => {
            const w = new RestWindow(1000, 10)
            for (let t = 0; t < 1000; t += 10) w.push(t, 5 + (Math.floor(t / 10) - 2 * Math.floor(t / 20) === 0 ? 1 : -1))
            return w.sd()
        },
        expected: 1.005,
        tolerance: 0.001,
    },
    {
        name: "led: a relax level at the target lights half the bar green",
        actual: () => relaxFrameGreens(4),
        expected: 4,
        tolerance: 0,
    },
    {
        name: "led: a relax level just above the target lights none green",
        actual: () => relaxFrameGreens(4.01),
        expected: 0,
        tolerance: 0,
    },
    {
        name: "led: fault causes 1..8 give 8 distinct frames",
        actual: () => faultKeysDistinct(),
        expected: 8,
        tolerance: 0,
    },
    {
        name: "led: paused blinks slowly",
        actual: () => {
            const v = emptyView()
            v.state = RunnerState.Paused
            v.guide = Guide.Rest
            return ledFrame(v).blink
        },
        expected: Blink.Slow,
        tolerance: 0,
    },
]
