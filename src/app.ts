import * as ds from "@devicescript/core"
import { cmH2OToHpa, uvToMv } from "./core/units"
import { DEFAULT_MEASUREMENT, MeasurementSession } from "./core/session/measurement-session"
import { startProbeInput } from "./sensing/probe-input"
import { startTrainerServer } from "./trainer/trainer-server"
import { ProgramStore } from "./program/program-store"
import { useBufferStores } from "./platform/buffer-store"

/** [ms] period of the live report to the host (10 Hz is enough to watch). */
const LIVE_REPORT_INTERVAL_MS = 100

/**
 * Wires the firmware: probe samples -> measurement session (sensing,
 * assessment cues, metrics) -> trainer service. The same wiring runs in the
 * simulator and on the board.
 */
export async function startApp() {
    // sample rings and windows as 4-byte floats: the VM heap is ~64 KB
    useBufferStores()
    const programs = new ProgramStore()
    await programs.load()
    const session = new MeasurementSession(DEFAULT_MEASUREMENT)
    let lastSeq = 0
    let cueDirty = false
    const trainer = startTrainerServer({
        sessionState: () => session.sessionState(),
        cue: () => session.cue(),
        startSession: () => {
            // the program runner does not fit the 64 KB bytecode image yet: the built-in assessment runs
            session.start()
        },
        stopSession: () => session.stop(),
        rep: (index, channel) => session.rep(index, channel),
        summary: channel => session.summary(channel),
        repsPlanned: () => session.plannedReps(),
        lostInSession: () => session.lostInSession(),
        sessionTimeMs: () => session.sampleTimeMs(),
        programs: programs,
        pressButton: button => session.button(button),
        setBatteryLow: low => {
            if (low) session.batteryLow()
        },
    })
    const input = startProbeInput(
        (seq, pressureHpa, emgMv, lostBefore) => {
            session.push(seq, pressureHpa, emgMv, lostBefore)
            lastSeq = seq
            if (session.takeCueChange()) cueDirty = true
        },
        intervalMs => session.setSampleInterval(intervalMs)
    )
    input.onBatchDone(async () => {
        // the metrics' shape fits, in a turn of their own: the VM kills long synchronous stretches
        await ds.sleep(0)
        session.runDeferred()
        // publish after the batch, not per sample: one report per change is enough
        if (cueDirty) {
            cueDirty = false
            await trainer.pushCue()
        }
        for (const rep of session.takeFinishedReps()) await trainer.announceRep(rep)
        if (session.takeSessionFinished()) await trainer.announceSessionEnd()
    })
    setInterval(async () => {
        trainer.setLive({
            lastSeq: lastSeq,
            samplesReceived: input.sequence.receivedCount(),
            samplesLost: input.sequence.lostCount(),
            pressureHpa: cmH2OToHpa(session.pressureCmH2O()),
            emgMv: uvToMv(session.emgUv()),
            zeroHpa: cmH2OToHpa(session.zeroCmH2O()),
            sampleTimeMs: Math.round(session.sampleTimeMs()),
            probeState: session.probeState(),
            emgContact: session.emgContact(),
        })
        await trainer.pushLive()
        await trainer.pushCue()
    }, LIVE_REPORT_INTERVAL_MS)
}
