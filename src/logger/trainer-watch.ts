import * as ds from "@devicescript/core"
import { LogChannel, type LogRecord } from "../core/log/records"
import { SessionRecorder, type LiveObservation, type RunnerObservation } from "../core/log/recorder"
import type { RepMetrics, SessionMetrics } from "../core/metrics/types"
import { FIRMWARE_VERSION } from "../core/version"
import { request } from "../platform/request"
import { readTrainerProgram } from "../platform/trainer-program"
import { liveReportOf, runnerReportOf } from "../platform/trainer-reports"

/** SessionState.Rating (services/trainer.md): the summary waits until the rating is done */
const STATE_RATING = 6
/** SessionState.Done and Fault (services/trainer.md): the session is over, its sample time stopped */
const STATE_DONE = 4
const STATE_FAULT = 5
/** read_rep's index is a u8 (services/trainer.md) */
const MAX_REPS = 256

export interface WatchOutput {
    /** records to append, in order */
    add(records: LogRecord[]): void
    bootCount(): number
    /** the store's newest session: NEWEST_CUT (no summary), NEWEST_DONE (complete, or none), NO_STORE; waits while the store is read */
    newestSession(): Promise<number>
    /** the fingerprint of the last session whose summary was recorded (summaryFingerprint), "" if none */
    lastSummary(): Promise<string>
    /** a session's summary was recorded: keep its fingerprint */
    summaryRecorded(fingerprint: string): void
}

export const NEWEST_CUT = 1
export const NEWEST_DONE = 0
export const NO_STORE = -1

/**
 * A session's identity from the trainer's EMG summary (read_summary from
 * reps_planned to time_on_task: its counts, rest tones, MVC, fatigue and
 * time on task, as the trainer holds them from the session's end on). The
 * trainer numbers no sessions; two sessions that measured anything do not
 * share every one of these, f32 for f32 (the rest tones alone are noisy
 * means). Two stopped before their rest was measured may, and then hold
 * nothing to lose.
 */
function summaryFingerprint(r: Buffer): string {
    return r.slice(2, 44).toString("hex")
}

function repFromReport(r: Buffer): RepMetrics {
    return {
        repIndex: r.getAt(0, "u8"),
        block: r.getAt(2, "u8"),
        cueOnMs: r.getAt(4, "u32"),
        cueOffMs: r.getAt(8, "u32"),
        onsetMs: r.getAt(12, "i32"),
        offsetMs: r.getAt(16, "i32"),
        onsetLatencyMs: r.getAt(20, "i32"),
        timeToPeakMs: r.getAt(24, "i32"),
        releaseLatencyMs: r.getAt(28, "i32"),
        holdAtTargetMs: r.getAt(32, "u32"),
        peak: r.getAt(36, "f32"),
        peakPctMvc: r.getAt(40, "f32"),
        meanWork: r.getAt(44, "f32"),
        holdCv: r.getAt(48, "f32"),
        enduranceDeclinePct: r.getAt(52, "f32"),
        flags: r.getAt(56, "u16"),
    }
}

function summaryFromReport(r: Buffer): SessionMetrics {
    // read_summary does not carry the baselines' durations: 0 (unknown)
    return {
        preBaseline: { mean: r.getAt(4, "f32"), sd: r.getAt(8, "f32"), cv: r.getAt(12, "f32"), durationMs: 0 },
        postBaseline: { mean: r.getAt(16, "f32"), sd: r.getAt(20, "f32"), cv: r.getAt(24, "f32"), durationMs: 0 },
        mvc: r.getAt(28, "f32"),
        repsPlanned: r.getAt(2, "u8"),
        repsDone: r.getAt(3, "u8"),
        holdFatiguePct: r.getAt(32, "f32"),
        enduranceDeclinePct: r.getAt(36, "f32"),
        timeOnTaskMs: r.getAt(40, "u32"),
    }
}

/**
 * Listens to the trainer (services/trainer.md) and the stim supervisor
 * (services/stimcontrol.md) and turns what they report into log records
 * (src/core/log/recorder.ts). It only listens and reads: nothing here can
 * hold the trainer back.
 *
 * A session starts when the trainer's `live.sample_time` starts counting
 * again (a value below the last one seen, or the first one after 0). One
 * already running when the module boots (sample time counting since before
 * it) is joined: recorded from then on, opening with a JoinedLate event,
 * and the reps that had finished are read back from the trainer, so a
 * module that restarts mid-session loses only the trace and events of the
 * time it was down. One that ended while the module was off (after part of
 * it was recorded, or none of it: joinEnded) gets its reps and summary read
 * back the same way. It ends with `session_finished`: both channels'
 * summaries are read at once, and the summary record is written when the
 * runner has left the end-of-session rating.
 */
export class TrainerWatch {
    private readonly trainer = new ds.PftTrainer()
    private readonly stim = new ds.PftStimControl()
    private readonly recorder = new SessionRecorder()
    private lastSampleMs = -1
    private trainerId = ""
    private runnerState = 0
    private pendingSummary: { channel: LogChannel; metrics: SessionMetrics }[] = undefined
    /** the pending summary's fingerprint (summaryFingerprint), kept once it is recorded */
    private pendingFingerprint = ""
    /** index x 2 + channel of the reps logged this session */
    private repsRead: number[] = []
    /** a session was seen start (or joined) since this boot */
    private sessionSeen = false
    /** a sample time that stood still was looked at once since this boot */
    private endChecked = false
    private programVersion = -1
    private programId = ""
    /** report handlers may run concurrently: reads of the trainer go one at a time */
    private reading = false

    constructor(private readonly out: WatchOutput) {}

    start() {
        const self = this
        this.trainer.report().subscribe(async pkt => {
            if (pkt.serviceCommand === ds.PftTrainerCodes.RegLive) {
                const l = liveReportOf(pkt.payload)
                if (l === null) return
                self.trainerId = pkt.deviceIdentifier
                await self.live(l)
            } else if (pkt.serviceCommand === ds.PftTrainerCodes.RegRunner) {
                const r = runnerReportOf(pkt.payload)
                if (r !== null) self.runner(r)
            }
        })
        this.trainer.repFinished.subscribe(async (index: number) => await self.repFinished(index))
        this.trainer.sessionFinished.subscribe(async () => await self.sessionFinished())
        this.stim.report().subscribe(pkt => {
            if (pkt.serviceCommand === ds.PftStimControlCodes.RegStatus && pkt.payload.length >= 15) self.stimStatus(pkt.payload)
        })
    }

    private stimStatus(p: Buffer) {
        this.out.add(
            this.recorder.stim(
                {
                    levelMa: p.getAt(0, "f32"),
                    peakLevelMa: p.getAt(4, "f32"),
                    running: p.getAt(12, "u8") !== 0,
                    lastStop: p.getAt(14, "u8"),
                    lastRefusal: p.length >= 17 ? p.getAt(15, "u8") : 0,
                    refusedStarts: p.length >= 17 ? p.getAt(16, "u8") : 0,
                },
                Math.max(0, this.lastSampleMs)
            )
        )
    }

    recording(): boolean {
        return this.recorder.recording()
    }

    private async live(l: LiveObservation) {
        const t = l.sampleTimeMs
        const first = this.lastSampleMs < 0
        const last = this.lastSampleMs
        this.lastSampleMs = t
        if (first || t <= 0) return
        if (t < last || last === 0) await this.startSession(t, false, false)
        else if (!this.sessionSeen && t > last) {
            // counting since before this boot: a session the module did not see start (it booted, or came
            // back from a power cut, while it ran); recorded from here, with the reps that had finished
            await this.startSession(t, true, false)
            await this.readFinishedReps()
        } else if (!this.sessionSeen && !this.endChecked && t === last) {
            this.endChecked = true
            await this.joinEnded(t)
        }
        if (!this.recorder.recording()) return
        this.out.add(this.recorder.live(l))
    }

    /**
     * The sample time stands still at boot: the trainer's last session is
     * over. It ended while the module was off if the store's newest session
     * was cut (no summary), or if its summary is not the last one the
     * module recorded (the module was off for all of it); then its reps and
     * summary, which the trainer still holds, are read back into a session
     * joined after its end. Otherwise the module recorded it whole, and
     * nothing is added; so is nothing without a summary recorded to compare.
     */
    private async joinEnded(t: number) {
        const newest = await this.out.newestSession()
        if (newest === NO_STORE) return
        const state = await this.trainer.sessionState.read()
        if (state !== STATE_DONE && state !== STATE_FAULT) return
        if (newest === NEWEST_DONE) {
            const kept = await this.out.lastSummary()
            const r = await this.readSummary(0)
            if (kept.length === 0 || r === undefined || summaryFingerprint(r) === kept) {
                console.log("log: the trainer's last session is " + (kept.length === 0 ? "not known to be recorded: left" : "recorded"))
                return
            }
        }
        await this.startSession(t, true, true)
        await this.readFinishedReps()
        await this.sessionFinished()
    }

    private async startSession(sampleTimeMs: number, joined: boolean, afterEnd: boolean) {
        this.sessionSeen = true
        // a summary still waiting for the rating: the trainer moved on
        this.flushSummary()
        console.log("log: session " + (afterEnd ? "joined after its end" : joined ? "joined" : "starts") + " (trainer sample time " + sampleTimeMs + " ms)")
        this.repsRead = []
        const nowMs = ds.millis()
        const wallS = await this.trainer.wallClock.read()
        const version = await this.trainer.programVersion.read()
        if (version !== this.programVersion) await this.readProgramId(version)
        this.out.add(
            this.recorder.start({
                deviceId: this.trainerId,
                firmwareVersion: FIRMWARE_VERSION,
                programId: this.programId,
                programVersion: version,
                bootCount: this.out.bootCount(),
                startMonoMs: Math.max(0, nowMs - sampleTimeMs),
                startWallMs: wallS > 0 ? wallS * 1000 - sampleTimeMs : 0,
                joinedAtMs: joined ? sampleTimeMs : 0,
                joinedAfterEnd: afterEnd,
            })
        )
    }

    /** The program's id from its signed envelope (version 0: the built-in assessment). */
    private async readProgramId(version: number) {
        this.programVersion = version
        this.programId = version === 0 ? "builtin-assessment" : ""
        const self = this
        const p = await readTrainerProgram(async (code, cmd, match) => await self.readFromTrainer(code, cmd, match), version)
        if (p !== null) this.programId = p.programId
    }

    private async readRep(index: number, ch: number): Promise<Buffer> {
        const cmd = Buffer.alloc(2)
        cmd.setAt(0, "u8", index)
        cmd.setAt(1, "u8", ch)
        return await this.readFromTrainer(ds.PftTrainerCodes.CmdReadRep, cmd, a => a.getAt(0, "u8") === index && a.getAt(1, "u8") === ch)
    }

    private async readSummary(ch: number): Promise<Buffer> {
        const cmd = Buffer.alloc(1)
        cmd.setAt(0, "u8", ch)
        return await this.readFromTrainer(ds.PftTrainerCodes.CmdReadSummary, cmd, a => a.getAt(0, "u8") === ch)
    }

    private runner(r: RunnerObservation) {
        this.runnerState = r.state
        this.out.add(this.recorder.runner(r, Math.max(0, this.lastSampleMs)))
        if (this.runnerState !== STATE_RATING) this.flushSummary()
    }

    private async readFromTrainer(code: number, cmd: Buffer, match: (a: Buffer) => boolean): Promise<Buffer> {
        while (this.reading) await ds.sleep(5)
        this.reading = true
        try {
            return await request(this.trainer, code, cmd, match)
        } finally {
            this.reading = false
        }
    }

    private async repFinished(index: number) {
        if (this.recorder.recording()) await this.readRepOnce(index)
    }

    /**
     * Reads rep `index` on each channel not read yet; returns how many
     * channels had it finished, -1 if the trainer did not answer. Each
     * (rep, channel) is logged once: a rep_finished repeated, or one that
     * comes while the reps are read back.
     */
    private async readRepOnce(index: number): Promise<number> {
        let finished = 0
        for (let ch = 0; ch < 2; ch++) {
            const key = index * 2 + ch
            if (this.repsRead.indexOf(key) >= 0) {
                finished++
                continue
            }
            const r = await this.readRep(index, ch)
            if (r === undefined) return -1
            if (r.getAt(3, "u8") !== 1 || this.repsRead.indexOf(key) >= 0) continue
            this.repsRead.push(key)
            finished++
            this.out.add(this.recorder.rep(ch === 0 ? LogChannel.Emg : LogChannel.Pressure, repFromReport(r)))
        }
        return finished
    }

    /** A session joined late: the reps finished before it, read back in order up to the first one finished on neither channel. */
    private async readFinishedReps() {
        let index = 0
        let got = 1
        while (index < MAX_REPS && this.recorder.recording()) {
            got = await this.readRepOnce(index)
            if (got <= 0) break
            index++
        }
        if (got < 0) console.log("log: the trainer did not answer read_rep " + index + ": reps from " + index + " on not read back")
        console.log("log: " + index + " finished reps read back")
    }

    private async sessionFinished() {
        if (!this.recorder.recording() || this.pendingSummary !== undefined) return
        const channels: { channel: LogChannel; metrics: SessionMetrics }[] = []
        for (let ch = 0; ch < 2; ch++) {
            const r = await this.readSummary(ch)
            if (r === undefined) continue
            channels.push({ channel: ch === 0 ? LogChannel.Emg : LogChannel.Pressure, metrics: summaryFromReport(r) })
            if (ch === 0) this.pendingFingerprint = summaryFingerprint(r)
        }
        this.pendingSummary = channels
        if (this.runnerState !== STATE_RATING) this.flushSummary()
    }

    private flushSummary() {
        if (this.pendingSummary === undefined) return
        const channels = this.pendingSummary
        this.pendingSummary = undefined
        this.out.add(this.recorder.finish(Math.max(0, this.lastSampleMs), channels))
        if (this.pendingFingerprint.length > 0) this.out.summaryRecorded(this.pendingFingerprint)
        this.pendingFingerprint = ""
    }
}
