/**
 * The on-device measurement pipeline, per probe sample: sensing (pressure
 * auto-zero, probe removal, EMG contact), smoothing, the assessment's cues
 * and the contraction metrics on both channels. Pure: the firmware feeds it
 * samples and publishes what it says; the host can run the very same code
 * over a recording.
 *
 * Time is *sample time*: (seq - seq at session start) x sample interval, so
 * lost samples leave gaps (never filled in) and a simulation may run faster
 * than real time.
 *
 * No imports outside src/core: shared by the firmware and the host.
 */
import {
    ChannelAnalyzer,
    DEFAULT_EMG_ANALYZER,
    DEFAULT_PRESSURE_ANALYZER,
    PEAK_WINDOW_MS,
    type ChannelAnalyzerOptions,
} from "../metrics/channel-analyzer"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../metrics/types"
import { assessmentSegments, Cue, GLAZER_ASSESSMENT, plannedReps, SegmentKind, type AssessmentOptions, type Segment } from "../protocol/assessment"
import { DEFAULT_EMG_CONTACT, EmgContact, EmgContactMonitor, type EmgContactOptions } from "../sensing/emg-contact"
import { DEFAULT_PRESSURE_CONDITIONER, PressureConditioner, ProbeState, type PressureConditionerOptions } from "../sensing/pressure-conditioner"
import { DEFAULT_SIGNAL_CHAIN, SignalChain, type SignalChainOptions } from "../signal-chain"
import { hpaToCmH2O, mvToUv, windowSamples } from "../units"
import type { Program } from "../program/types"
import { ButtonKind, RunnerChannel, RunnerEventKind, RunnerState, type RunnerEvent } from "../runner/types"
import type { SessionRunner } from "../runner/session-runner"

/**
 * Makes the runner for a program's session, with the caller's options (the
 * firmware passes the sessions done with the program, for the holds' target
 * ramp; host runs pass DEFAULT_RUNNER).
 */
export type RunnerFactory = (program: Program) => SessionRunner

/** Same values as the trainer spec's SessionState. */
export enum SessionState {
    Idle = 0,
    Ready = 1,
    Running = 2,
    Paused = 3,
    Done = 4,
    Fault = 5,
    /** a program's session is over: the patient rates pain (and dilator size) */
    Rating = 6,
}

/** Same values as the trainer spec's Channel. */
export enum Channel {
    Emg = 0,
    Pressure = 1,
}

export interface MeasurementOptions {
    chain: SignalChainOptions
    pressure: PressureConditionerOptions
    emgContact: EmgContactOptions
    emgAnalyzer: ChannelAnalyzerOptions
    pressureAnalyzer: ChannelAnalyzerOptions
    assessment: AssessmentOptions
    /**
     * Runner events kept in runnerEvents until the host empties it (0: none). Each
     * costs ~200 bytes of the device's ~64 KB heap, and the firmware has no
     * reader for them until the session log is wired in; host runs keep them.
     */
    runnerEventsKept: number
}

export const DEFAULT_MEASUREMENT: MeasurementOptions = {
    chain: DEFAULT_SIGNAL_CHAIN,
    pressure: DEFAULT_PRESSURE_CONDITIONER,
    emgContact: DEFAULT_EMG_CONTACT,
    emgAnalyzer: DEFAULT_EMG_ANALYZER,
    pressureAnalyzer: DEFAULT_PRESSURE_ANALYZER,
    assessment: GLAZER_ASSESSMENT,
    runnerEventsKept: 0,
}

/**
 * [ms] Onsets backtrack to the level of the last 300 ms before the cue: the
 * resting tone of these patients wanders (Glazer et al., J Reprod Med 1995;
 * 40:283-290), so the pre-baseline's mean is not the level a contraction
 * leaves from.
 */
export const PRE_CUE_MS = 300

/** [ms] samples each analyzer keeps: the pre-cue window plus the slowest rise to the onset threshold. */
export const HISTORY_MS = 2500


/** [ms] group delay of a causal moving average of `windowMs` at `rateHz`: (N - 1) / 2 samples. */
export function movingAverageDelayMs(windowMs: number, rateHz: number): number {
    return ((windowSamples(windowMs, rateHz) - 1) / 2) * (1000 / rateHz)
}

export interface CueState {
    cue: Cue
    block: number
    repIndex: number
    segmentIndex: number
    /** [ms] session sample time the cue began */
    startedAtMs: number
}

export class MeasurementSession {
    private readonly chain: SignalChain
    private readonly pressure: PressureConditioner
    private readonly contact: EmgContactMonitor
    /** the built-in assessment's segments, built when it starts: a program's session does not need their ~5 KB of device heap */
    private segments: Segment[] = []
    private repsPlanned: number
    /** a therapist program's runner; null: the built-in Glazer assessment */
    private runner: SessionRunner | null = null
    /** the kind of the runner's current segment (rest statistics and pressure drift only at rest) */
    private runnerSegKind = SegmentKind.Rest
    // set by start() before a session reads them, no initializers: 8 bytes of the board's image each
    private runnerSegCount!: number
    private runnerProbeReady!: boolean
    /**
     * runner events (for the host: it reads and empties the list), at most
     * options.runnerEventsKept (0 on the device); a field, not a method: a
     * method costs the device's image bytecode even when only the host calls it
     */
    runnerEvents: RunnerEvent[] = []
    private emg: ChannelAnalyzer
    private pressureMetrics: ChannelAnalyzer
    private state = SessionState.Idle
    private intervalMs: number
    /** set at the session's first sample */
    private startSeq!: number
    /** the next sample is the session's first */
    private startPending = false
    private timeMs = 0
    private segmentIndex = -1
    /** set by start() */
    private segmentEndMs!: number
    private cueState: CueState = { cue: Cue.Idle, block: 0, repIndex: -1, segmentIndex: -1, startedAtMs: 0 }
    private cueChanged = false
    private sessionFinished = false
    /**
     * The battery monitor said low (batteryLow) and not yet fine again: no
     * session starts. Cleared by the caller when the battery is fine (the
     * charger); a field, not a getter and a method: they cost device bytecode.
     */
    batteryIsLow = false
    /** per rep: bit 1 = EMG finished, bit 2 = pressure finished, 4 = announced */
    private repDone: number[] = []
    private finishedReps: number[] = []
    private sessionLost = 0
    private lastPressureCmH2O = 0
    private lastEmgUv = 0

    constructor(private readonly options: MeasurementOptions) {
        this.chain = new SignalChain(options.chain)
        this.pressure = new PressureConditioner(options.pressure)
        this.contact = new EmgContactMonitor(options.emgContact)
        this.repsPlanned = plannedReps(options.assessment)
        this.intervalMs = 1000 / options.chain.sampleRateHz
        this.emg = this.newAnalyzer(Channel.Emg)
        this.pressureMetrics = this.newAnalyzer(Channel.Pressure)
    }

    private newAnalyzer(channel: Channel): ChannelAnalyzer {
        const o = this.options
        const base = channel === Channel.Emg ? o.emgAnalyzer : o.pressureAnalyzer
        const windowMs = channel === Channel.Emg ? o.chain.emgWindowMs : o.chain.pressureWindowMs
        const tuned: ChannelAnalyzerOptions = {
            ...base,
            inputDelayMs: movingAverageDelayMs(windowMs, o.chain.sampleRateHz),
            peakWindowMs: PEAK_WINDOW_MS,
            preCueMs: PRE_CUE_MS,
            historyMs: HISTORY_MS,
            shapeFit: true,
        }
        return new ChannelAnalyzer(tuned, this.repsPlanned)
    }

    /** [ms] spacing of the samples as the probe reports it. */
    setSampleInterval(intervalMs: number): void {
        if (intervalMs > 0) this.intervalMs = intervalMs
    }

    /**
     * One probe sample in wire units. `lostBefore` samples went missing just
     * before it (from the sequence tracker).
     */
    push(seq: number, pressureHpa: number, emgMv: number, lostBefore: number): void {
        const rawCmH2O = hpaToCmH2O(pressureHpa)
        const rawUv = mvToUv(emgMv)
        this.pressure.push(rawCmH2O)
        this.contact.push(rawUv)
        const smooth = this.chain.push(pressureHpa, emgMv)
        const probe = this.pressure.state()
        this.lastPressureCmH2O = probe === ProbeState.Ready ? smooth.pressureCmH2O - this.pressure.zeroCmH2O() : smooth.pressureCmH2O
        this.lastEmgUv = smooth.emgUv

        if (this.state === SessionState.Idle || this.state === SessionState.Ready || this.state === SessionState.Done) {
            if (this.state !== SessionState.Done)
                this.state = probe === ProbeState.Ready ? SessionState.Ready : SessionState.Idle
            return
        }
        if (this.state !== SessionState.Running) return

        if (this.startPending) {
            this.startPending = false
            this.startSeq = seq
            lostBefore = 0
        }
        this.timeMs = (seq - this.startSeq) * this.intervalMs
        const t = this.timeMs
        if (lostBefore > 0) {
            this.sessionLost += lostBefore
            this.emg.markGap(t, lostBefore)
            this.pressureMetrics.markGap(t, lostBefore)
        }
        if (this.runner !== null) {
            this.driveRunner(t, probe)
            if (this.state !== SessionState.Running) return
            this.feedChannels(t, probe)
            this.collectFinished()
            return
        }
        while (t >= this.segmentEndMs) {
            if (!this.enterSegment(this.segmentIndex + 1, this.segmentEndMs)) {
                this.finish(t)
                return
            }
        }
        this.feedChannels(t, probe)
        this.collectFinished()
    }

    private feedChannels(t: number, probe: ProbeState): void {
        const kind = this.runner !== null ? this.runnerSegKind : this.segments[this.segmentIndex].kind
        this.pressure.setResting(kind !== SegmentKind.Work)
        if (probe === ProbeState.Ready) {
            if (this.pressure.saturated()) this.pressureMetrics.markSample(t, RepFlag.Saturated)
            this.pressureMetrics.push(t, this.lastPressureCmH2O)
        } else {
            // probe out: neither channel measures the muscle
            this.pressureMetrics.markInterrupted(t)
            this.emg.markInterrupted(t)
            return
        }
        if (this.contact.leadOff()) {
            this.emg.markInterrupted(t)
            return
        }
        // FlatLine and Saturated are lead-off (above); Jumpy or Noisy: connected, but the amplitudes carry artefacts
        if (this.contact.contact() >= EmgContact.Jumpy) this.emg.markSample(t, RepFlag.PoorContact)
        this.emg.push(t, this.lastEmgUv)
    }

    private enterSegment(index: number, atMs: number): boolean {
        if (index >= this.segments.length) return false
        const seg = this.segments[index]
        this.segmentIndex = index
        this.segmentEndMs = atMs + seg.durationMs
        this.emg.beginSegment(seg, atMs)
        this.pressureMetrics.beginSegment(seg, atMs)
        this.cueState = { cue: seg.cue, block: seg.block, repIndex: seg.repIndex, segmentIndex: index, startedAtMs: atMs }
        this.cueChanged = true
        return true
    }

    /**
     * Runs one channel's deferred metrics work (shape fits, and the rep they
     * finish). Call it for both channels after
     * each probe report, each in a turn of its own on the device
     * (ChannelAnalyzer.runDeferred): both channels' fits in one turn came
     * near the VM's step limit and the trainer died with InfiniteLoop now
     * and then (session-log e2e, CI).
     */
    runDeferred(channel: Channel): void {
        if (channel === Channel.Emg) this.emg.runDeferred()
        else this.pressureMetrics.runDeferred()
        this.collectFinished()
    }

    private collectFinished(): void {
        const before = this.finishedReps.length
        this.markFinished(this.emg.takeFinishedReps(), 1)
        this.markFinished(this.pressureMetrics.takeFinishedReps(), 2)
        const r = this.runner
        if (r === null) return
        for (let k = before; k < this.finishedReps.length; k++) {
            const rep = this.rep(this.finishedReps[k], Channel.Emg)
            if (rep) r.repFinished(this.timeMs, rep)
        }
        if (this.finishedReps.length > before) {
            r.setMvc(RunnerChannel.Emg, this.emg.session().mvc)
            r.setMvc(RunnerChannel.Pressure, this.pressureMetrics.session().mvc)
        }
    }

    /**
     * Runner mode, per sample: the runner sees the probe and the smoothed
     * levels, its segments go to the analyzers before they get the sample,
     * a pause interrupts the contraction in progress, and the session ends
     * when the runner is done (after the rating) or faulted.
     */
    private driveRunner(t: number, probe: ProbeState): void {
        const r = this.runner as SessionRunner
        const ready = probe === ProbeState.Ready
        if (ready !== this.runnerProbeReady) {
            this.runnerProbeReady = ready
            r.probeReady(t, ready)
        }
        const emgOk = ready && !this.contact.leadOff()
        r.sample(t, { emgUv: emgOk ? this.lastEmgUv : NaN, pressureCmH2O: ready ? this.lastPressureCmH2O : NaN })
        this.handleRunnerEvents(t)
    }

    private handleRunnerEvents(t: number): void {
        const r = this.runner as SessionRunner
        for (const e of r.takeEvents()) {
            if (e.kind === RunnerEventKind.SegmentStarted && e.segment !== null) {
                const seg = e.segment
                this.emg.beginSegment(seg, e.atMs)
                this.pressureMetrics.beginSegment(seg, e.atMs)
                this.runnerSegKind = seg.kind
                this.cueState = { cue: seg.cue, block: seg.block, repIndex: seg.repIndex, segmentIndex: this.runnerSegCount, startedAtMs: e.atMs }
                this.runnerSegCount++
                this.cueChanged = true
                continue
            }
            if (e.kind === RunnerEventKind.Paused) {
                this.emg.markInterrupted(t)
                this.pressureMetrics.markInterrupted(t)
            }
            if (e.kind === RunnerEventKind.SessionEnded || e.kind === RunnerEventKind.Stopped) {
                // the metrics are final here; the rating (if any) follows
                this.emg.finish(t)
                this.pressureMetrics.finish(t)
                this.collectFinished()
                this.cueState = { cue: Cue.Idle, block: 0, repIndex: -1, segmentIndex: -1, startedAtMs: t }
                this.cueChanged = true
            }
            if (this.runnerEvents.length < this.options.runnerEventsKept) this.runnerEvents.push(e)
        }
        const rs = r.state()
        if (rs === RunnerState.Done || rs === RunnerState.Fault) this.finish(t)
    }

    /** A patient button (runner mode; with the built-in assessment, start/pause starts and stop stops). */
    button(kind: ButtonKind): void {
        const r = this.runner
        if (r === null || this.state !== SessionState.Running) {
            if (kind === ButtonKind.Stop) this.stop()
            return
        }
        r.button(this.timeMs, kind)
        this.handleRunnerEvents(this.timeMs)
    }

    /** The battery is low: a program's session finishes its rep and ends cleanly; the assessment stops; no session starts until batteryIsLow is cleared. */
    batteryLow(): void {
        this.batteryIsLow = true
        const r = this.runner
        if (r === null) {
            this.stop()
            return
        }
        if (this.state !== SessionState.Running) return
        r.batteryLow(this.timeMs)
        this.handleRunnerEvents(this.timeMs)
    }

    /** The program's runner while one runs (for the LED bar and status); null with the built-in assessment. */
    programRunner(): SessionRunner | null {
        return this.runner
    }

    private markFinished(reps: RepMetrics[], bit: number): void {
        for (const r of reps) {
            const i = r.repIndex
            while (this.repDone.length <= i) this.repDone.push(0)
            this.repDone[i] = this.repDone[i] | bit
            if (this.repDone[i] === 3) {
                this.repDone[i] = 7
                this.finishedReps.push(i)
            }
        }
    }

    private finish(t: number): void {
        this.emg.finish(t)
        this.pressureMetrics.finish(t)
        this.collectFinished()
        this.state = SessionState.Done
        this.cueState = { cue: Cue.Idle, block: 0, repIndex: -1, segmentIndex: -1, startedAtMs: t }
        this.cueChanged = true
        this.sessionFinished = true
    }

    /**
     * Starts the assessment at the next sample, if the probe is zeroed, no
     * session runs and the battery is not low. Returns whether it started
     * (a repeat does nothing).
     */
    start(program?: Program, makeRunner?: RunnerFactory): boolean {
        // a session does not start on a low battery (the runner's rule, here for the assessment too; the LED bar shows it)
        if (this.batteryIsLow || (this.state !== SessionState.Ready && !(this.state === SessionState.Done && this.pressure.state() === ProbeState.Ready)))
            return false
        // the last session's runner and analyzers go before the new ones are built: both sets at once do not fit the device's heap
        this.runner = null
        this.emg = null as unknown as ChannelAnalyzer
        this.pressureMetrics = null as unknown as ChannelAnalyzer
        this.runnerEvents = []
        this.segments = []
        this.repsPlanned = plannedReps(this.options.assessment)
        if (program && makeRunner) {
            const r = makeRunner(program)
            this.runner = r
            this.repsPlanned = r.plannedReps()
            this.runnerSegCount = 0
            this.runnerSegKind = SegmentKind.Rest
            this.runnerProbeReady = true
            r.probeReady(0, true)
            r.button(0, ButtonKind.StartPause)
        } else this.segments = assessmentSegments(this.options.assessment)
        this.emg = this.newAnalyzer(Channel.Emg)
        this.pressureMetrics = this.newAnalyzer(Channel.Pressure)
        this.repDone = []
        this.finishedReps = []
        this.sessionLost = 0
        this.segmentIndex = -1
        this.segmentEndMs = 0
        this.timeMs = 0
        this.startPending = true
        this.state = SessionState.Running
        return true
    }

    /** Ends a running session now (the stop button always wins); its metrics stay readable. */
    stop(): void {
        const r = this.runner
        if (r !== null && this.state === SessionState.Running) {
            r.button(this.timeMs, ButtonKind.Stop)
            this.handleRunnerEvents(this.timeMs)
        }
        if (this.state === SessionState.Running) this.finish(this.timeMs)
    }

    sessionState(): SessionState {
        const r = this.runner
        if (r !== null && this.state === SessionState.Running) {
            const rs = r.state()
            if (rs === RunnerState.Paused) return SessionState.Paused
            if (rs === RunnerState.Rating) return SessionState.Rating
        }
        return this.state
    }

    cue(): CueState {
        return this.cueState
    }

    /** [ms] session sample time of the last sample (0 before a session). */
    sampleTimeMs(): number {
        return this.timeMs
    }

    /** [cmH2O] smoothed pressure, relative to the zero once the probe is Ready. */
    pressureCmH2O(): number {
        return this.lastPressureCmH2O
    }

    /** [cmH2O] the pressure zero (auto-zero + drift). */
    zeroCmH2O(): number {
        return this.pressure.zeroCmH2O()
    }

    /** [uV] smoothed EMG envelope. */
    emgUv(): number {
        return this.lastEmgUv
    }

    probeState(): ProbeState {
        return this.pressure.state()
    }

    emgContact(): EmgContact {
        return this.contact.contact()
    }

    /** Samples lost during the current (or last) session. */
    lostInSession(): number {
        return this.sessionLost
    }

    /** True once after each cue change. */
    takeCueChange(): boolean {
        const c = this.cueChanged
        this.cueChanged = false
        return c
    }

    /** Reps whose metrics became final on both channels since the last call. */
    takeFinishedReps(): number[] {
        const out = this.finishedReps
        this.finishedReps = []
        return out
    }

    /** True once after the session ends. */
    takeSessionFinished(): boolean {
        const f = this.sessionFinished
        this.sessionFinished = false
        return f
    }

    /** A finished rep's metrics on one channel, or undefined if not finished. */
    rep(index: number, channel: Channel): RepMetrics | undefined {
        if (index >= this.repDone.length || this.repDone[index] !== 7) return undefined
        return channel === Channel.Emg ? this.emg.repByIndex(index) : this.pressureMetrics.repByIndex(index)
    }

    summary(channel: Channel): SessionMetrics {
        return channel === Channel.Emg ? this.emg.session() : this.pressureMetrics.session()
    }

    plannedReps(): number {
        return this.repsPlanned
    }
}
