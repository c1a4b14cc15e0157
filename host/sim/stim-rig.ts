/**
 * The stim supervisor's firmware (src/main_stim.ts) in its own VM, the
 * simulated stimulator module it drives, and the trainer's side played from
 * Node (services/stimcontrol.md): used by the stim e2e tests and the
 * fault-to-off benchmark. `stopOn` injects a stop cause while stimulating and
 * measures, at the module, the time from the fault to zero output.
 */
import { findStimControl, NO_SESSION_ON_RECORD, type StimControlClient, type StimControlStatus } from "../device/stim-control-client"
import { hostStimulator, type SimStimServer } from "./stim-server"
import { startSimulation, type Simulation } from "./simulation"
import { StimMode } from "../../src/core/stim/plan"
import { StimEventKind } from "../../src/core/stim/supervisor"
import { StimReason } from "../../src/core/stim/reasons"

/** [ms] the trainer's keep-alive period (services/stimcontrol.md: at most STIM_STATUS_TIMEOUT_MS / 4) */
export const TRAINER_KEEP_ALIVE_MS = 100

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

export async function waitFor(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await sleep(5)
    }
}

/** [ms] the phase's ramp-in when a test stops the output inside it */
export const RAMP_IN_TEST_MS = 3000

export interface StimulatingOptions {
    /** stop pressing as soon as some current flows, inside a 3 s phase ramp-in (the stop then comes during the ramp) */
    rampIn?: boolean
    /** [s] the session's stimulation time cap (default 20 min) */
    sessionStimMaxS?: number
}

export class StimRig {
    readonly statuses: StimControlStatus[] = []
    private keepAliveTimer: ReturnType<typeof setInterval> | undefined

    private constructor(
        readonly sim: Simulation,
        readonly module: SimStimServer,
        readonly stim: StimControlClient
    ) {
        stim.onStatus(s => this.statuses.push(s))
        this.trainerAlive(true)
    }

    static async start(): Promise<StimRig> {
        const sim = await startSimulation({ stimFirmware: true })
        try {
            const module = hostStimulator(sim.bus)
            const stim = await findStimControl(sim.bus, 20000)
            return new StimRig(sim, module, stim)
        } catch (e) {
            await sim.stop()
            throw e
        }
    }

    /** The trainer's firmware alive (keep-alives every TRAINER_KEEP_ALIVE_MS) or silent. */
    trainerAlive(on: boolean): void {
        if (on && !this.keepAliveTimer) this.keepAliveTimer = setInterval(() => void this.stim.keepAlive().catch(() => {}), TRAINER_KEEP_ALIVE_MS)
        if (!on && this.keepAliveTimer) {
            clearInterval(this.keepAliveTimer)
            this.keepAliveTimer = undefined
        }
    }

    /** A fresh session (caps 40 mA / 300 us / 50 Hz, 10 cm^2 electrodes), a 50 Hz strengthening phase started and turned up to a few mA. */
    /** starts that delivered no current and were tried again (see stimulating) */
    startRetries = 0

    /**
     * A session, a phase and a start, then intensity up until current flows
     * at the module. About one run in five of the stim e2e used to meet a
     * start that delivered nothing (fail safe); the likely cause, a module
     * left with `enabled` true and a latched fault by a stop it did not hear,
     * is fixed in the driver (every start writes enabled off, then on:
     * docs/safety.md section 3.1). Until runs confirm it, such a start is
     * tried once more from a fresh session, counted in `startRetries` and
     * reported by the test.
     */
    async stimulating(o: StimulatingOptions = {}): Promise<void> {
        try {
            await this.startStimulating(o)
        } catch {
            this.startRetries++
            console.warn(`stim rig: a start delivered no current (${this.startRetries} so far); trying once more`)
            await this.stim.signal(StimEventKind.StopButton)
            await this.startStimulating(o)
        }
    }

    private async startStimulating(o: StimulatingOptions): Promise<void> {
        this.statuses.length = 0
        this.module.setLoad(500)
        await this.stim.signal(StimEventKind.ProgramChanged)
        await this.stim.sessionBegin({
            amplitudeMaxMa: 40,
            pulseWidthMaxUs: 300,
            frequencyMaxHz: 50,
            sessionStimMaxS: o.sessionStimMaxS ?? 20 * 60,
            contraindications: 0,
            electrodeAreaCm2: 10,
            restSinceLastSessionS: NO_SESSION_ON_RECORD,
        })
        const rampUpMs = o.rampIn ? RAMP_IN_TEST_MS : 1000
        await this.stim.phase({ mode: StimMode.Strengthen, frequencyHz: 50, pulseWidthUs: 300, workMs: 60_000, restMs: 5_000, rampUpMs, rampDownMs: 1000, triggerPct: 0 })
        await this.stim.signal(StimEventKind.BatteryOk)
        await this.stim.signal(StimEventKind.ProbeInserted)
        // the first start after boot can come before the supervisor has heard the module (a BusLost refusal): start again
        for (let tries = 0; !this.statuses.some(s => s.running); tries++) {
            if (tries === 5) throw new Error("the supervisor did not start the output after 5 starts")
            this.startSentAtMs = this.module.now()
            await this.stim.signal(StimEventKind.Start)
            await waitFor("the output on", () => this.statuses.some(s => s.running), 1000).catch(() => {})
        }
        const startedAt = this.module.now()
        for (let i = 0; i < 10; i++) {
            await this.stim.signal(StimEventKind.IntensityUp)
            await sleep(o.rampIn ? 30 : 150)
        }
        if (!o.rampIn) {
            await waitFor("current at the module", () => this.module.deliveredNow() > 2)
            return
        }
        // still in the phase's ramp-in: some current, well before the ramp's end
        await waitFor("current at the module in the ramp-in", () => this.module.deliveredNow() > 0.2)
        const inRampMs = this.module.now() - startedAt
        if (inRampMs > RAMP_IN_TEST_MS / 2) throw new Error(`current came ${Math.round(inRampMs)} ms into a ${RAMP_IN_TEST_MS} ms ramp-in: too late to test a stop in it`)
    }

    /**
     * Stimulates, injects a stop cause and waits for the supervisor's stop
     * with `reason` and for zero output; returns the fault-to-off time at the
     * module [ms].
     */
    async stopOn(reason: StimReason, inject: () => Promise<void> | void, o: StimulatingOptions = {}): Promise<number> {
        await this.stimulating(o)
        const at = this.module.now()
        // only statuses that arrive after the injection count: one from before may carry the same cause
        const from = this.statuses.length
        await inject()
        await waitFor(`the stop (${StimReason[reason]}) in the supervisor's status`, () => this.statuses.slice(from).some(s => !s.running && s.lastStop === reason))
        await waitFor("zero output at the module", () => this.module.deliveredNow() === 0)
        const ms = this.module.timeToZeroMs(at)
        if (ms === undefined) throw new Error(`the module's timeline has no zero output after the ${StimReason[reason]} fault`)
        return ms
    }

    /** [ms] module clock when the last Start was sent (the supervisor counts stimulation time from it) */
    private startSentAtMs = 0

    /**
     * Stimulates with a session stim-time cap of `capS` and waits for the
     * supervisor's StimTimeOver stop; returns the time from the cap, counted
     * from when the Start was sent, to zero output at the module [ms] (the
     * Start's own trip to the VM, ~2 ms, is in it).
     */
    async stimTimeOverMs(capS: number): Promise<number> {
        await this.stimulating({ sessionStimMaxS: capS })
        const from = this.statuses.length
        const capAt = this.startSentAtMs + capS * 1000
        await waitFor("zero output at the stim-time cap", () => this.module.deliveredNow() === 0, capS * 1000 + 2000)
        await waitFor("the stop (StimTimeOver) in the supervisor's status", () => this.statuses.slice(from).some(s => !s.running && s.lastStop === StimReason.StimTimeOver))
        const after = this.module.timeline().filter(e => e.atMs > this.startSentAtMs)
        const on = after.findIndex(e => e.deliveredMa > 0)
        const zero = on < 0 ? undefined : after.slice(on).find(e => e.deliveredMa === 0)
        if (!zero) throw new Error("the module's timeline has no zero output after the stim-time cap")
        return zero.atMs - capAt
    }

    async stop(): Promise<void> {
        this.trainerAlive(false)
        this.module.stop()
        await this.sim.stop()
    }
}
