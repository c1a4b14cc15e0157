import * as ds from "@devicescript/core"
import { restBeforeBootMs, restRecordOfText, restRecordText, wallAtS, type StimRestRecord } from "../core/stim/rest-record"
import { TrainerFollower, type FollowEvent, type FollowedRunner } from "../core/stim/trainer-follow"
import { StimEventKind } from "../core/stim/supervisor"
import { StimAction } from "../core/stim/reasons"
import { hpaToCmH2O, mvToUv } from "../core/units"
import { readSettingBytes, writeSettingBytes } from "../platform/own-settings"
import { request } from "../platform/request"
import { readTrainerProgram } from "../platform/trainer-program"
import { liveReportOf, runnerReportOf } from "../platform/trainer-reports"
import type { StimOutputDriver } from "./stim-output"

/** RunnerState.Running and Paused (src/core/runner/types.ts) */
const STATE_RUNNING = 2
const STATE_PAUSED = 3
/** settings key of the last stim session's record (src/core/stim/rest-record.ts) */
const REST_RECORD_KEY = "stimRest"
/** [ms] how often the record is brought up to date */
const PERSIST_MS = 250

/**
 * The stim module follows the trainer (src/core/stim/trainer-follow.ts):
 * it reads the program in force when a session starts, hears the runner's
 * status and live reports, and steps the supervisor with what they mean.
 * While it delivers a stim phase every trainer report counts as the
 * trainer's keep-alive (`alive`): the live report comes 10 times a second,
 * so a hung trainer is silent within STIM_STATUS_TIMEOUT_MS.
 * Any exception here stops the output (StimEventKind.Exception).
 *
 * The rest between stim sessions outlives a power cycle: when a session's
 * output first runs, and when that session ends, the module writes the
 * record (src/core/stim/rest-record.ts) by the trainer's wall clock, read
 * at every session start; after a boot the record gives the follower a
 * lower bound of the rest. The writes run in their own fiber, never in the
 * path of a report. A write counts once it reads back: the settings
 * server does not answer a `set`, and serves commands in order, so the read
 * after it sees the value stored (the simulator's flash file written); a
 * write that does not read back is tried again at the next PERSIST_MS.
 */
export class TrainerLink {
    private readonly trainer = new ds.PftTrainer()
    private readonly follower: TrainerFollower
    private reading = false
    /** the module's record as read at a session start; undefined: not read yet, null: none (read again at the next start) */
    private record: StimRestRecord | null | undefined = undefined
    /** [s] the trainer's wall clock (0 not set) at `wallReadAtMs` of the module's clock */
    private wallS = 0
    private wallReadAtMs = 0
    /** the session whose output ran is on record as open */
    private recordedOpen = false
    /** the follower's ended stim sessions on record */
    private recordedEnds = 0
    private persisting = false

    constructor(
        private readonly out: StimOutputDriver,
        electrodeAreaCm2: number,
        /** called whenever the trainer shows it is alive while this link drives the output */
        private readonly alive: () => void
    ) {
        this.follower = new TrainerFollower(electrodeAreaCm2)
    }

    start() {
        const self = this
        this.trainer.report().subscribe(async pkt => {
            try {
                if (pkt.serviceCommand === ds.PftTrainerCodes.RegLive) {
                    const l = liveReportOf(pkt.payload)
                    if (l !== null) self.apply(self.follower.live(l.probeState, mvToUv(l.emgMv), hpaToCmH2O(l.pressureHpa)))
                } else if (pkt.serviceCommand === ds.PftTrainerCodes.RegRunner) {
                    const r = runnerReportOf(pkt.payload)
                    if (r !== null) await self.runner(r)
                }
            } catch (e) {
                console.log("stim: trainer link: " + e)
                self.out.signal(StimEventKind.Exception)
            }
        })
        setInterval(async () => {
            if (self.persisting) return
            self.persisting = true
            try {
                await self.persistRest()
            } catch (e) {
                console.log("stim: rest record: " + e)
            } finally {
                self.persisting = false
            }
        }, PERSIST_MS)
    }

    /** Brings the record up to date: an ended session first, then one whose output runs now. */
    private async persistRest() {
        const f = this.follower
        const ends = f.stimSessionsEnded()
        if (ends !== this.recordedEnds) {
            if (!(await this.store({ open: false, wallS: wallAtS(this.wallS, this.wallReadAtMs, f.lastStimSessionEnd()) }))) return
            this.recordedEnds = ends
            this.recordedOpen = false
            // on flash once this prints (read back after the write)
            console.log("stim: rest record closed")
        }
        if (f.sessionOn() && f.stimulatedThisSession() && !this.recordedOpen) {
            if (!(await this.store({ open: true, wallS: wallAtS(this.wallS, this.wallReadAtMs, ds.millis()) }))) return
            this.recordedOpen = true
            console.log("stim: rest record open")
        }
    }

    /** Writes the record; true once it reads back as written. */
    private async store(r: StimRestRecord): Promise<boolean> {
        const text = restRecordText(r)
        await writeSettingBytes(REST_RECORD_KEY, Buffer.from(text))
        if ((await this.recordText()) === text) return true
        console.log("stim: rest record did not read back, writing again")
        return false
    }

    /** The record's raw text in the module's settings, "" when none. */
    private async recordText(): Promise<string> {
        return (await readSettingBytes(REST_RECORD_KEY)).toString()
    }

    private async runner(r: FollowedRunner) {
        if ((r.state === STATE_RUNNING || r.state === STATE_PAUSED) && !this.follower.sessionOn()) await this.sessionStarts()
        this.apply(this.follower.runner(r, ds.millis()))
    }

    /**
     * A session starts: read the program in force, every time (one read at
     * a time). Not only when `program_version` looks changed: a register
     * value can be a cached one, and the caps of an older program must never
     * outlive it. The follower keeps its state when it is the same program.
     */
    private async sessionStarts() {
        if (this.reading) return
        this.reading = true
        try {
            // nothing is delivered until this session's program is read
            this.apply(this.follower.setProgram(null))
            this.wallS = await this.trainer.wallClock.read()
            this.wallReadAtMs = ds.millis()
            if (this.record === undefined || this.record === null) {
                const text = await this.recordText()
                this.record = restRecordOfText(text)
                console.log("stim: rest record at session start: " + (text.length > 0 ? text : "none"))
            }
            this.follower.restBeforeBoot(restBeforeBootMs(this.record, ds.millis(), this.wallS), ds.millis())
            const version = await this.trainer.programVersion.read()
            const self = this
            this.apply(this.follower.setProgram(await readTrainerProgram(async (code, cmd, match) => await request(self.trainer, code, cmd, match), version)))
        } finally {
            this.reading = false
        }
    }

    private apply(events: FollowEvent[]) {
        if (this.follower.delivering() >= 0 || events.length > 0) this.alive()
        for (const e of events) {
            if (e.session !== undefined || e.phase !== undefined) this.out.step({ kind: e.kind, now: 0, session: e.session, phase: e.phase })
            else if (this.out.signal(e.kind, e.value).action === StimAction.Refused && e.kind === StimEventKind.Start)
                console.log("stim: start refused, reason " + this.out.lastStep().reason)
        }
        this.follower.outputOn(this.out.status().running)
    }
}
