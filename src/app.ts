import * as ds from "@devicescript/core"
import { Channel, DEFAULT_MEASUREMENT, MeasurementSession, SessionState } from "./core/session/measurement-session"
import { startProbeInput } from "./sensing/probe-input"
import { startTrainerServer } from "./trainer/trainer-server"
import { faultCauseOfStimStop } from "./core/runner/stim-fault"
import { ProgramStore } from "./program/program-store"
import { BufferStore } from "./platform/buffer-store"
import { setNumberStoreFactory } from "./core/number-store"
import { ButtonKind, DEFAULT_RUNNER, SessionRunner } from "./core/runner"
import { RunnerStatus } from "./feedback/runner-status"
import type { LedBarOutput } from "./feedback/led-bar-output"

/** The board's own patient interface (none in the simulator: the trainer service carries both). */
export interface BoardIo {
    ledBar?: LedBarOutput
    /** start/pause, up, down, stop: ButtonKind 1..4 in this order */
    buttons?: ds.Button[]
}

/** [ms] period of the live report to the host (10 Hz is enough to watch). */
const LIVE_REPORT_INTERVAL_MS = 100
/** live report periods between repeats of the LED frame and the runner status (500 ms) */
const FRAME_REPEAT_TICKS = 5

/** Calls `press(kind)` on each press of `button`. */
function onPress(button: ds.Button, kind: number, press: (kind: number) => Promise<void>) {
    button.down.subscribe(async () => await press(kind))
}

/**
 * Wires the firmware: probe samples -> measurement session (sensing, the
 * program runner or the built-in assessment, metrics) -> LED frame and
 * trainer service. The same wiring runs in the simulator and on the board.
 */
export async function startApp(io: BoardIo = {}) {
    // sample rings and windows as 4-byte floats: the VM heap is ~64 KB
    setNumberStoreFactory(n => new BufferStore(n))
    const programs = new ProgramStore()
    await programs.load()
    const session = new MeasurementSession(DEFAULT_MEASUREMENT)
    const status = new RunnerStatus()
    let cueDirty = false
    const startSession = async () => {
        const program = programs.program()
        if (program === undefined) {
            // no program installed: the built-in Glazer assessment
            session.start()
            return
        }
        const options = Object.assign({}, DEFAULT_RUNNER)
        options.sessionsDone = programs.sessionsDone()
        if (session.start(program, p => new SessionRunner(p, options))) await programs.countSession()
    }
    // a button press, on the board or from the trainer's press_button: start/pause starts a session when none runs
    const press = async (kind: number) => {
        const state = session.sessionState()
        if (kind === ButtonKind.StartPause && (state === SessionState.Ready || state === SessionState.Done)) await startSession()
        else session.button(kind)
        // at once, not at the next probe batch: the stim module stops on it (a pause, a stop) and counts intensity steps
        await publish()
    }
    if (io.buttons) for (let i = 0; i < io.buttons.length; i++) onPress(io.buttons[i], i + 1, press)
    const showLed = async () => {
        if (io.ledBar) await io.ledBar.show(status.frame)
    }
    const publish = async () => {
        // the patient's LED bar: a new frame goes out at once (feedback latency, docs/feedback.md)
        if (status.update(session.programRunner(), session.sampleTimeMs(), session.batteryIsLow)) {
            await showLed()
            await trainer.push("led")
        }
        // the runner's status at once when it changes (state, phase, gate, notice, rating, fault, intensity steps), not with each frame
        if (status.statusChanged()) await trainer.push("runner")
    }
    const input = startProbeInput(
        (seq, pressureHpa, emgMv, lostBefore) => {
            session.push(seq, pressureHpa, emgMv, lostBefore)
            trainer.lastSeq = seq
            trainer.taken++
            trainer.lost += lostBefore
            // a cue change is a new segment: its report and its fits go out at once, not at the report's end
            if (session.takeCueChange()) return (cueDirty = true)
            return false
        },
        intervalMs => session.setSampleInterval(intervalMs)
    )
    // (samples reach the session from the input's own fiber, once this one waits: trainer is set by then)
    const trainer = startTrainerServer({
        session: session,
        programs: programs,
        status: status,
        startSession: startSession,
        pressButton: press,
    })
    input.onBatchDone(async () => {
        // the metrics' shape fits, each channel's in a turn of its own: the VM kills long synchronous stretches
        await ds.sleep(0)
        session.runDeferred(Channel.Emg)
        await ds.sleep(0)
        session.runDeferred(Channel.Pressure)
        // publish after the batch, not per sample: one report per change is enough
        if (cueDirty) {
            cueDirty = false
            await trainer.push("cue")
        }
        await publish()
        for (const rep of session.takeFinishedReps()) await trainer.announceRep(rep)
        if (session.takeSessionFinished()) await trainer.announceSessionEnd()
    })
    // a stim stop that is a fault (electrodes, the stimulator: faultCauseOfStimStop) ends the session with its
    // fault on the bar; only on the edge from running, so a status read again later raises nothing
    let stimRunning = false
    new ds.PftStimControl().report().subscribe(pkt => {
        const p = pkt.payload
        if (pkt.serviceCommand !== ds.PftStimControlCodes.RegStatus || p.length < 15) return
        const cause = stimRunning ? faultCauseOfStimStop(p.getAt(14, "u8")) : 0
        stimRunning = p.getAt(12, "u8") !== 0
        const runner = session.programRunner()
        if (!stimRunning && cause > 0 && runner !== null) runner.fault(session.sampleTimeMs(), cause)
    })
    let ticks = 0
    setInterval(async () => {
        await trainer.push("live")
        await trainer.push("cue")
        // the frame and the runner's status again every FRAME_REPEAT_TICKS while a program runs (a lost report is
        // not a lost frame), and the idle frame after one; not at every tick: each report costs the VM so much that
        // 10 Hz repeats held the LED frames back by up to 120 ms (p95, bench/feedback-latency-device.ts)
        const changed = status.update(session.programRunner(), session.sampleTimeMs(), session.batteryIsLow)
        if (changed || (session.programRunner() !== null && ++ticks % FRAME_REPEAT_TICKS === 0)) {
            await trainer.push("led")
            await trainer.push("runner")
        }
        // the board's bar blinks by itself
        await showLed()
    }, LIVE_REPORT_INTERVAL_MS)
}
