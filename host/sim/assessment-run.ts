/**
 * Runs one assessment session on the simulated device end to end: a sample
 * source feeds the probe, the host starts the session once the probe is
 * zeroed, cues go back to whoever listens (the patient model), and at the end
 * every rep and the session summary are read back from the device. The
 * probe is fed on the simulator bus; the host talks over the simulation's
 * host link (`hostBus`: the bus itself or USB serial).
 */
import { Channel } from "../../src/core/session/measurement-session"
import { assessmentDurationMs, assessmentSegments, GLAZER_ASSESSMENT } from "../../src/core/protocol/assessment"
import { findTrainer, type CueReport, type DeviceRep, type DeviceSummary, type SessionState, type TrainerClient } from "../device/trainer-client"
import { FeedFlowControl } from "./feed-flow"
import { startProbeFeed, type ProbeFeed, type SampleSource } from "./probe-feed"
import { hostProbe } from "./probe-server"
import { firmwareCrash, type Simulation } from "./simulation"

export interface AssessmentRunOptions {
    sim: Simulation
    source: SampleSource
    /** [Hz] per channel (default 100) */
    sampleRateHz?: number
    /** samples per probe report (default 2 at real time; more when faster) */
    batchSize?: number
    /** x real time (default 1) */
    speed?: number
    dropBatch?: (firstSeq: number) => boolean
    /**
     * The cue changed. `feedTimeMs`: the sample time the feed has reached
     * when the report came. `cueAtMs`: the feed sample time the cue began
     * on the device (`feedTimeMs` until the session's first live report
     * ties the two clocks), what a patient watching the LEDs goes by: the
     * VM can run behind its feed, and at 12x a report came up to 1.5 s of
     * sample time late.
     */
    onCue?: (cue: CueReport, feedTimeMs: number, cueAtMs: number) => void
    /** [ms] of sample time to wait for the probe to be zeroed */
    readyTimeoutMs?: number
    /** stop the session once the firmware has processed this probe sample (default: the whole assessment) */
    stopAtSeq?: number
    /** resolves to stop the session early (Ctrl-C, --duration) */
    stopSignal?: Promise<void>
    /** the session is over in these states (default: done; a program's session asks the rating first) */
    endWhen?: (state: SessionState) => boolean
    /** [ms] of sample time the session may take at most (default: the built-in assessment's) */
    maxSessionMs?: number
    /** the feed started: its clock times what the bus shows against the patient (benchmarks) */
    onFeed?: (feed: ProbeFeed) => void
}

export interface AssessmentRunResult {
    /** [ms] feed sample time of the session's first sample: truth times minus this = session times */
    sessionStartMs: number
    reps: { emg: DeviceRep[]; pressure: DeviceRep[] }
    summary: { emg: DeviceSummary; pressure: DeviceSummary }
    /** [cmH2O] the device's pressure zero when the session started (gauge) */
    zeroAtStartCmH2O: number
    /** samples the feed dropped on purpose */
    droppedSamples: number
    /** samples the feed sent (not dropped) */
    sentSamples: number
    /** [s] wall time of the session */
    wallSeconds: number
    /** [s] wall time the feed fell behind its speed by waiting for a firmware behind it (flow control), from the feed's start */
    feedHeldSeconds: number
}

async function readAllReps(trainer: TrainerClient, channel: Channel, planned: number): Promise<DeviceRep[]> {
    const out: DeviceRep[] = []
    for (let i = 0; i < planned; i++) {
        const r = await trainer.readRep(i, channel)
        if (r) out.push(r)
    }
    return out
}

export async function runAssessment(o: AssessmentRunOptions): Promise<AssessmentRunResult> {
    try {
        return await runAssessmentOnce(o)
    } catch (e) {
        const crash = firmwareCrash(o.sim)
        if (crash && e instanceof Error) e.message += `\nthe firmware crashed:\n  ${crash}`
        throw e
    }
}

async function runAssessmentOnce(o: AssessmentRunOptions): Promise<AssessmentRunResult> {
    const sampleRateHz = o.sampleRateHz ?? 100
    const speed = o.speed ?? 1
    // at most 10 samples a report: the VM kills a synchronous stretch after 128 K opcodes
    // (DEVS_MAX_STEPS, InfiniteLoop) and a report's samples are handled in one; two reports
    // queued behind each other can share a stretch, and 2 x 20 samples of the per-sample path
    // have crashed it
    const batchSize = o.batchSize ?? Math.min(10, Math.max(2, Math.ceil(2 * speed)))
    const intervalMs = 1000 / sampleRateHz
    const probe = hostProbe(o.sim.bus, sampleRateHz)
    let dropped = 0
    // a VM behind its feed (a loaded machine at 12x) holds the feed back instead of losing samples from its queue
    const flow = new FeedFlowControl()
    const feed = startProbeFeed({
        server: probe,
        source: o.source,
        sampleRateHz,
        batchSize,
        speed,
        handledSeq: () => flow.handledSeq(),
        dropBatch: o.dropBatch
            ? seq => {
                  const d = o.dropBatch!(seq)
                  if (d) dropped += batchSize
                  return d
              }
            : undefined,
    })
    o.onFeed?.(feed)
    const offs: (() => void)[] = []
    try {
        const trainer = await findTrainer(o.sim.hostBus, 20000)
        // A session's segments come in order (then Idle at its end), so a
        // report of a segment at or before the newest one seen is a repeat or
        // a late copy: the patient must not see it again. Two e2e runs (weak
        // patient, about 1 in 30) showed such a copy of a Contract cue: once
        // 10 s late, and the patient contracted again in the rest after it.
        // A new session counts its segments from 0 again: its end (Idle) or,
        // should that report be missed, its clock starting again (a live
        // report's sample time more than a second before the last one's) says so.
        /** the newest segment the patient saw; -1: the session's end (Idle); -2: nothing yet */
        let newestSegment = -2
        let liveSampleTimeMs = 0
        let sessionClock = 0
        let newestClock = 0
        offs.push(
            trainer.onCue(c => {
                if (c.cue !== 0 && c.segmentIndex <= newestSegment && sessionClock === newestClock) {
                    // stderr: stdout may be a `--json` result
                    if (c.segmentIndex < newestSegment) console.error(`assessment-run: a late cue report ignored (segment ${c.segmentIndex} after ${newestSegment})`)
                    return
                }
                if (c.cue === 0 && newestSegment === -1) return
                newestSegment = c.cue === 0 ? -1 : c.segmentIndex
                newestClock = sessionClock
                const feedTimeMs = feed.lastSampleTimeMs()
                const cueAtMs = sessionStartMs >= 0 ? sessionStartMs + c.startedAtMs : feedTimeMs
                o.onCue?.(c, feedTimeMs, cueAtMs > feedTimeMs ? feedTimeMs : cueAtMs)
            })
        )
        let sessionStartMs = -1
        let zeroAtStartCmH2O = 0
        offs.push(
            trainer.onLive(r => {
                flow.live(r)
                if (r.sampleTimeMs < liveSampleTimeMs - 1000) sessionClock++
                liveSampleTimeMs = r.sampleTimeMs
                if (r.sampleTimeMs > 0 && sessionStartMs < 0) {
                    sessionStartMs = r.lastSeq * intervalMs - r.sampleTimeMs
                    zeroAtStartCmH2O = r.zeroCmH2O
                }
            })
        )
        const wallPerSampleMs = (o.readyTimeoutMs ?? 20000) / speed
        await trainer.waitForState(s => s === "ready", Math.max(10000, wallPerSampleMs))
        const started = Date.now()
        await trainer.startRunning(10000)
        const planned = (await trainer.readSummary(Channel.Emg)).repsPlanned
        let stopRequested = false
        const requestStop = () => {
            if (stopRequested) return
            stopRequested = true
            trainer.stopSession().catch(() => {})
        }
        if (o.stopAtSeq !== undefined) {
            const at = o.stopAtSeq
            offs.push(trainer.onLive(r => r.lastSeq >= at && requestStop()))
        }
        o.stopSignal?.then(requestStop)
        const ended = o.endWhen ?? ((s: SessionState) => s === "done")
        const maxSessionMs = o.maxSessionMs ?? assessmentDurationMs(assessmentSegments(GLAZER_ASSESSMENT))
        await trainer.waitForState(s => {
            if (stopRequested && s !== "done") trainer.stopSession().catch(() => {})
            return ended(s) || (stopRequested && s === "done")
        }, (maxSessionMs / speed) * 2 + 30000)
        const wallSeconds = (Date.now() - started) / 1000
        feed.stop()
        const sentSamples = feed.generated() - dropped
        const reps = { emg: await readAllReps(trainer, Channel.Emg, planned), pressure: await readAllReps(trainer, Channel.Pressure, planned) }
        const summary = { emg: await trainer.readSummary(Channel.Emg), pressure: await trainer.readSummary(Channel.Pressure) }
        return { sessionStartMs, zeroAtStartCmH2O, reps, summary, droppedSamples: dropped, sentSamples, wallSeconds, feedHeldSeconds: feed.heldMs() / 1000 }
    } finally {
        feed.stop()
        for (const off of offs) off()
    }
}
