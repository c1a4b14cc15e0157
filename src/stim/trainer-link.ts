import * as ds from "@devicescript/core"
import { TrainerFollower, type FollowEvent } from "../core/stim/trainer-follow"
import { StimEventKind } from "../core/stim/supervisor"
import { hpaToCmH2O, mvToUv } from "../core/units"
import { request } from "../platform/request"
import { readTrainerProgram } from "../platform/trainer-program"
import type { StimOutputDriver } from "./stim-output"

/** RunnerState.Running and Paused (src/core/runner/types.ts) */
const STATE_RUNNING = 2
const STATE_PAUSED = 3

/**
 * The stim module follows the trainer (src/core/stim/trainer-follow.ts):
 * it reads the program in force when a session starts, hears the runner's
 * status and live reports, and steps the supervisor with what they mean.
 * While it delivers a stim phase every trainer report counts as the
 * trainer's keep-alive (`alive`): the live report comes 10 times a second,
 * so a hung trainer is silent within STIM_STATUS_TIMEOUT_MS.
 * Any exception here stops the output (StimEventKind.Exception).
 */
export class TrainerLink {
    private readonly trainer = new ds.PftTrainer()
    private readonly follower: TrainerFollower
    private reading = false

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
                const p = pkt.payload
                if (pkt.serviceCommand === ds.PftTrainerCodes.RegLive && p.length >= 30)
                    self.apply(self.follower.live(p.getAt(28, "u8"), mvToUv(p.getAt(16, "f32")), hpaToCmH2O(p.getAt(12, "f32"))))
                else if (pkt.serviceCommand === ds.PftTrainerCodes.RegRunner && p.length >= 21) await self.runner(p)
            } catch (e) {
                console.log("stim: trainer link: " + e)
                self.out.signal(StimEventKind.Exception)
            }
        })
    }

    private async runner(p: Buffer) {
        const state = p.getAt(0, "u8")
        if ((state === STATE_RUNNING || state === STATE_PAUSED) && !this.follower.sessionOn()) await this.sessionStarts()
        this.apply(
            this.follower.runner(
                { state: state, phaseIndex: p.getAt(1, "i8"), phaseKind: p.getAt(2, "u8"), flags: p.getAt(3, "u8"), bandLow: p.getAt(12, "f32"), intensitySteps: p.getAt(20, "u8") },
                ds.millis()
            )
        )
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
            else this.out.signal(e.kind, e.value)
        }
    }
}
