import * as ds from "@devicescript/core"
import { FREQUENCY_MIN_HZ, PULSE_WIDTH_MIN_US, STIM_STATUS_TIMEOUT_MS, STIM_TICK_MS, STIM_WATCHDOG_TIMEOUT_MS } from "../core/limits"
import { StimAction, StimReason } from "../core/stim/reasons"
import {
    MODULE_RAMP_DOWN_MS,
    MODULE_RAMP_UP_MS,
    StimEventKind,
    StimSupervisor,
    type StimEvent,
    type StimStatus,
    type StimStep,
    type StopRecord,
} from "../core/stim/supervisor"
import { amplitudeToRaw, StimModuleFault, StimStatusFlags, STIM_AMPLITUDE_SCALE, STIM_STATUS } from "../core/stim-module"

/*
 * The firmware's side of the stimulator module (services/stimulator.md):
 * every supervisor step's command goes to the module, and everything the
 * module says goes back into the supervisor as an event.
 *
 *   buttons, phases, sessions --step()--> StimSupervisor --command--> want.* --writer fiber--> module registers
 *   module status / events ---onReport--> supervisor events (heartbeat + impedance, lead-off, fault)
 *   tick fiber (every tickMs while the output is on) --> supervisor tick (ramps, plan, silence, stim time)
 *
 * Rules (docs/safety.md section 4):
 * - A start writes enabled false, then the settings, amplitude and enabled
 *   true: the module clears a latched fault only on that edge, and one that
 *   missed the stop's false (deaf, gone) would otherwise stay faulted.
 * - A stop also writes `enabled` false at once from a fiber of its own
 *   (cutNow), not waiting for a send the writer has in flight.
 * - ONE writer fiber sends everything to the module, in order, reading the
 *   latest wanted state at each send (registers are idempotent, so only the
 *   latest matters). On a stop it sends amplitude 0 then enabled false before
 *   anything else, back to back. Steps never wait for the bus: a send to an
 *   unbound module blocks only the writer (DeviceScript waits for the
 *   binding), while ticks go on and the supervisor stops on the module's
 *   silence; when the module is back, the held send goes out and is
 *   followed at once by the latest state (by then: off). A module that was
 *   gone that long has cut its output on its watchdog and latched the fault,
 *   which only an off-then-on write clears.
 * - keep_alive only while the last command has the output enabled, and only
 *   right after a fresh supervisor step (at most 2 ticks old): if the
 *   supervisor or its tick stalls, keep-alives stop and the module's
 *   watchdog cuts the output STIM_WATCHDOG_TIMEOUT_MS later by itself.
 * - Every entry point catches: an exception becomes the supervisor's
 *   Exception event (output off, latched); if even that fails the wanted
 *   state is forced off.
 * - No allocation per tick or per report in this file: events are reused,
 *   register payloads are preallocated buffers, the status is decoded in
 *   place. (The supervisor's own step still allocates its result and the
 *   choke point's intermediates: a few small objects per step that the GC
 *   takes back at once.) Each synchronous stretch is at most three
 *   supervisor steps (a status report: heartbeat, fault), far below the VM's
 *   128K-instruction limit.
 */

/** [ms] the supervisor tick `tickMs` may ask for (the supervisor wants 20-50 ms; default STIM_TICK_MS) */
const TICK_MS_MIN = 20
const TICK_MS_MAX = 50
/**
 * [ms] Shortest time between two amplitude writes while the output rises
 * (a ramp, the patient's presses). In the simulator each send holds the
 * sending fiber ~20 ms and sends go one at a time, so a write every tick
 * kept the link busy and a stop's own write waited behind one or two of
 * them (30-54 ms during a ramp-in, docs/safety.md section 4). The module
 * limits its rise to the same 30 mA/s by itself (`ramp_up`), so sparser
 * setpoints change the delivered current by at most one interval's rise.
 */
const AMPLITUDE_RISE_WRITE_MS = 100
/** [ms] keep-alive period: watchdog / 5, so four may be lost before the module cuts the output */
const KEEP_ALIVE_INTERVAL_MS = STIM_WATCHDOG_TIMEOUT_MS / 5
/** [ms] a report that disagrees with what was written is answered by re-sending, at most this often */
const RESEND_MIN_MS = 100
/** [ms] repeats of one event (jacdac servers send each event up to 3 times) are ignored within this */
const EVENT_REPEAT_MS = 250
/** [ms] the writer looks at its state at least this often even if nobody wakes it */
const WRITER_IDLE_MS = 1000

const JD_SET_REGISTER = 0x2000
const REG_MASK = 0xfff
const EVENT_CODE_MASK = 0xff
const SET_ENABLED = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegEnabled & REG_MASK)
const SET_AMPLITUDE = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegAmplitude & REG_MASK)
const SET_PULSE_WIDTH = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegPulseWidth & REG_MASK)
const SET_FREQUENCY = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegFrequency & REG_MASK)
const SET_RAMP_UP = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegRampUp & REG_MASK)
const SET_RAMP_DOWN = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegRampDown & REG_MASK)
const SET_WAVEFORM = JD_SET_REGISTER | (ds.PftStimulatorCodes.RegWaveform & REG_MASK)
const CMD_KEEP_ALIVE = ds.PftStimulatorCodes.CmdKeepAlive
const REPORT_STATUS = ds.PftStimulatorCodes.RegStatus
const EVENT_LEAD_OFF = ds.PftStimulatorCodes.EventLeadOff & EVENT_CODE_MASK
const EVENT_FAULT_RAISED = ds.PftStimulatorCodes.EventFaultRaised & EVENT_CODE_MASK
/** a register value not yet written (or to be written again) */
const UNSENT = -1

export interface StimOutputOptions {
    /** the module's client; default `new ds.PftStimulator()` */
    module?: ds.PftStimulator
    /** the supervisor to drive; default a new one (it cannot start until configured: fail safe) */
    supervisor?: StimSupervisor
    /** [ms] supervisor tick while the output is on, clamped into 20-50; default 25 */
    tickMs?: number
    /** pulse shape written to the module (`Waveform`); default SymmetricBiphasic (1) */
    waveform?: number
    /** called after every step whose action or reason differs from the previous step's (for the session log) */
    onDecision?: (step: StimStep) => void
    /** called after a step that stopped the output; drain the records with `drainStops()` */
    onStop?: () => void
}

/** Counters for diagnostics and tests. */
export interface StimOutputStats {
    steps: number
    /** register writes sent */
    writes: number
    keepAlives: number
    statusReports: number
    /** reports too short to be a status */
    malformed: number
    /** exceptions caught in the stim path (each turned into an Exception stop) */
    exceptions: number
    /** full re-sends after the module disagreed with what was written */
    resends: number
}

export interface StimOutputDriver {
    readonly supervisor: StimSupervisor
    readonly module: ds.PftStimulator
    /**
     * Steps the supervisor with `ev` and hands the command to the writer at
     * once; never throws. Sets `ev.now` to `ds.millis()`: the supervisor needs
     * one monotonic clock, and the ticks and module reports use this one.
     */
    step(ev: StimEvent): StimStep
    /** Same, for events that carry at most a number (buttons, battery, probe, level...); no allocation. */
    signal(kind: StimEventKind, value?: number): StimStep
    /** The last step taken. */
    lastStep(): StimStep
    /** The supervisor's stop records since the last drain, oldest first (for the session log). */
    drainStops(): StopRecord[]
    status(): StimStatus
    stats(): StimOutputStats
}

async function writerFiber(d: StimOutputImpl) {
    await d.runWriter()
}

async function cutFiber(d: StimOutputImpl) {
    await d.cutNow()
}

async function tickFiber(d: StimOutputImpl) {
    await d.runTicks()
}

class StimOutputImpl implements StimOutputDriver {
    readonly supervisor: StimSupervisor
    readonly module: ds.PftStimulator
    private readonly tickMs: number
    private readonly waveform: number
    private readonly onDecision: (step: StimStep) => void
    private readonly onStop: () => void

    // reused events: no allocation per tick or per report
    private readonly tickEv: StimEvent = { kind: StimEventKind.Tick, now: 0 }
    private readonly reportEv: StimEvent = { kind: StimEventKind.Impedance, now: 0, value: 0 }
    private readonly signalEv: StimEvent = { kind: StimEventKind.Tick, now: 0, value: 0 }
    private readonly exceptionEv: StimEvent = { kind: StimEventKind.Exception, now: 0 }
    // preallocated register payloads
    private readonly u8 = Buffer.alloc(1)
    private readonly u16 = Buffer.alloc(2)
    /** `enabled` false, for a stop's own write (its own buffer: the writer may be using u8) */
    private readonly offPayload = Buffer.alloc(1)
    private readonly keepAlivePayload = Buffer.alloc(4)

    private last: StimStep = undefined
    private lastAction = StimAction.Off
    private lastReason = StimReason.None

    // what the latest command wants on the module; before the first step, the supervisor's off command
    private wantEnabled = false
    private wantAmpRaw = 0
    private wantPulseWidthUs = PULSE_WIDTH_MIN_US
    private wantFrequencyHz = FREQUENCY_MIN_HZ
    private wantRampUpMs = MODULE_RAMP_UP_MS
    private wantRampDownMs = MODULE_RAMP_DOWN_MS
    /** [ms] the last step whose command had the output on */
    private lastOnStepMs = -Infinity
    /** [ms] the step that turned the output on */
    private enabledAtMs = 0
    /** the module reported `Enabled` since the output was turned on */
    private confirmed = false
    /**
     * a start must write enabled false, then true: only that edge clears a
     * fault the module latched, and a module that missed the stop's false
     * (deaf, or gone) still holds true with the fault latched, so writing
     * true alone would change nothing there and no current would flow
     */
    private restartEdge = false
    /** a stop's own `enabled` false is being sent (cutNow) */
    private cutInFlight = false
    /** [ms] the last amplitude write */
    private lastAmpWriteMs = 0

    // what was sent (UNSENT: unknown, send it)
    private sentEnabled = UNSENT
    private sentAmpRaw = UNSENT
    private sentPulseWidthUs = UNSENT
    private sentFrequencyHz = UNSENT
    private sentRampUpMs = UNSENT
    private sentRampDownMs = UNSENT
    private sentWaveform = UNSENT
    private lastKeepAliveMs = -Infinity
    private lastWriteMs = -Infinity
    private lastResendMs = -Infinity

    private writer: ds.Fiber = undefined
    private pending = true
    private lastEventCmd = -1
    private lastEventMs = -Infinity

    private nSteps = 0
    private nWrites = 0
    private nKeepAlives = 0
    private nReports = 0
    private nMalformed = 0
    private nExceptions = 0
    private nResends = 0

    constructor(options: StimOutputOptions) {
        this.supervisor = options.supervisor ?? new StimSupervisor()
        this.module = options.module ?? new ds.PftStimulator()
        const tick = options.tickMs ?? STIM_TICK_MS
        this.tickMs = tick >= TICK_MS_MIN && tick <= TICK_MS_MAX ? tick : STIM_TICK_MS
        this.waveform = options.waveform === 2 ? 2 : 1
        this.onDecision = options.onDecision
        this.onStop = options.onStop
        const self = this
        this.module.report().subscribe(pkt => {
            self.onReport(pkt)
        })
        this.writer = writerFiber.start(this)
        tickFiber.start(this)
    }

    // ---- stepping

    step(ev: StimEvent): StimStep {
        try {
            // one clock for every event: the ticks and the module's reports are stamped with it too
            ev.now = ds.millis()
            return this.apply(this.supervisor.step(ev), ev.now)
        } catch (e) {
            return this.fail()
        }
    }

    signal(kind: StimEventKind, value?: number): StimStep {
        const ev = this.signalEv
        ev.kind = kind
        ev.value = value
        return this.step(ev)
    }

    lastStep(): StimStep {
        return this.last
    }

    drainStops(): StopRecord[] {
        return this.supervisor.drainStops()
    }

    status(): StimStatus {
        return this.supervisor.status()
    }

    stats(): StimOutputStats {
        return {
            steps: this.nSteps,
            writes: this.nWrites,
            keepAlives: this.nKeepAlives,
            statusReports: this.nReports,
            malformed: this.nMalformed,
            exceptions: this.nExceptions,
            resends: this.nResends,
        }
    }

    /** Takes a step's command as the wanted state, tells the log, wakes the writer. */
    private apply(s: StimStep, now: number): StimStep {
        this.nSteps++
        this.last = s
        const c = s.command
        if (c.enabled) {
            if (!this.wantEnabled) {
                this.enabledAtMs = now
                this.confirmed = false
                this.restartEdge = true
            }
            this.lastOnStepMs = now
        }
        this.wantEnabled = c.enabled
        this.wantAmpRaw = c.enabled ? amplitudeToRaw(c.amplitudeMa) : 0
        this.wantPulseWidthUs = c.pulseWidthUs
        this.wantFrequencyHz = c.frequencyHz
        this.wantRampUpMs = c.rampUpMs
        this.wantRampDownMs = c.rampDownMs
        this.wake()
        if (s.action !== this.lastAction || s.reason !== this.lastReason) {
            this.lastAction = s.action
            this.lastReason = s.reason
            if (this.onDecision) this.onDecision(s)
        }
        if (s.action === StimAction.Stopped) {
            cutFiber.start(this)
            if (this.onStop) this.onStop()
        }
        return s
    }

    /**
     * A stop's own `enabled` false, sent at once from a fiber of its own: the
     * writer may be in the middle of a send (during a ramp it sends a new
     * amplitude every tick), and the stop must not wait for it. Safe in any
     * order with the writer's sends: with `enabled` false the module outputs
     * nothing whatever the amplitude, and the writer follows with amplitude 0
     * and `enabled` false in its own order. A start that came between the
     * stop and this fiber's turn (the stim module following the trainer
     * ends one stim phase and starts the next in one go) wins: its restart
     * edge writes `enabled` off, then on, in the writer's order, and a late
     * off from here would leave the module off under a running supervisor:
     * the cut does not go out once a start came, and the restart edge waits
     * for a cut already on its way (cutInFlight).
     */
    async cutNow() {
        if (this.wantEnabled) return
        this.cutInFlight = true
        try {
            await this.module.sendCommand(SET_ENABLED, this.offPayload)
            this.nWrites++
        } catch (e) {
            // the writer sends it too
        } finally {
            this.cutInFlight = false
        }
    }

    /** An exception in the stim path: the supervisor's Exception stop; if even that fails, force the output off. */
    private fail(): StimStep {
        this.nExceptions++
        try {
            this.exceptionEv.now = ds.millis()
            return this.apply(this.supervisor.step(this.exceptionEv), this.exceptionEv.now)
        } catch (e) {
            this.wantEnabled = false
            this.wantAmpRaw = 0
            this.wake()
            return this.last
        }
    }

    /** The tick fiber: ticks the supervisor every tickMs while the output is on. */
    async runTicks() {
        while (true) {
            await ds.sleep(this.tickMs)
            if (!this.wantEnabled) continue
            try {
                this.tickEv.now = ds.millis()
                this.apply(this.supervisor.step(this.tickEv), this.tickEv.now)
            } catch (e) {
                this.fail()
            }
        }
    }

    // ---- what the module says

    private onReport(pkt: ds.Packet) {
        try {
            if (pkt.isEvent) this.onEvent(pkt)
            else if (pkt.serviceCommand === REPORT_STATUS) this.onStatus(pkt.payload)
        } catch (e) {
            this.fail()
        }
    }

    private onEvent(pkt: ds.Packet) {
        const now = ds.millis()
        // a server sends each event up to three times with the same counter
        if (pkt.serviceCommand === this.lastEventCmd && now - this.lastEventMs < EVENT_REPEAT_MS) return
        this.lastEventCmd = pkt.serviceCommand
        this.lastEventMs = now
        const code = pkt.eventCode
        if (code === EVENT_LEAD_OFF) this.moduleFault(StimModuleFault.LeadOff, now)
        else if (code === EVENT_FAULT_RAISED) {
            const p = pkt.payload
            this.moduleFault(p.length > 0 ? p[0] : StimModuleFault.Internal, now)
        }
    }

    private moduleFault(fault: number, now: number) {
        const ev = this.reportEv
        ev.now = now
        if (fault === StimModuleFault.LeadOff) {
            ev.kind = StimEventKind.LeadOff
            ev.value = 0
        } else {
            ev.kind = StimEventKind.ModuleFault
            ev.value = fault
        }
        this.apply(this.supervisor.step(ev), now)
    }

    /** A status report: heartbeat and load to the supervisor; a fault; and a check that the module does what was written. */
    private onStatus(p: Buffer) {
        if (p.length < STIM_STATUS.bytes) {
            // not a heartbeat: a module that only sends garbage falls silent for the supervisor
            this.nMalformed++
            return
        }
        this.nReports++
        const now = ds.millis()
        const deliveredMa = p.getAt(STIM_STATUS.deliveredOffset, "f32")
        const loadOhm = p.getAt(STIM_STATUS.loadOffset, "u16")
        const fault = p.getAt(STIM_STATUS.faultOffset, "u8")
        const flags = p.getAt(STIM_STATUS.flagsOffset, "u8")
        const moduleEnabled = (flags & StimStatusFlags.Enabled) !== 0

        // every report is a heartbeat; the load counts only while measured (0 = not measured)
        const ev = this.reportEv
        ev.kind = StimEventKind.Impedance
        ev.now = now
        ev.value = loadOhm
        this.apply(this.supervisor.step(ev), now)

        // a fault reported while disabled is from before the last stop (the output is off anyway)
        if (fault !== StimModuleFault.None && moduleEnabled) return this.moduleFault(fault, now)

        if (this.wantEnabled) {
            if (moduleEnabled) this.confirmed = true
            else if (this.confirmed || now - this.enabledAtMs > STIM_STATUS_TIMEOUT_MS) {
                // the module dropped the output it had taken (a reset), or never took it
                return this.moduleFault(StimModuleFault.Internal, now)
            } else this.resend(now)
            // an amplitude write lost on the way: the module delivers more than wanted
            if (deliveredMa * STIM_AMPLITUDE_SCALE > this.wantAmpRaw + 1) this.resend(now)
        } else if (moduleEnabled || deliveredMa > 0) {
            // the stop did not arrive (yet): send it again; the watchdog cuts the output anyway
            this.resend(now)
        }
    }

    /** Everything is written again at the writer's next turn (at most every RESEND_MIN_MS). */
    private resend(now: number) {
        if (now - this.lastWriteMs < RESEND_MIN_MS || now - this.lastResendMs < RESEND_MIN_MS) return
        this.lastResendMs = now
        this.nResends++
        this.forgetSent()
        this.wake()
    }

    private forgetSent() {
        this.sentEnabled = UNSENT
        this.sentAmpRaw = UNSENT
        this.sentPulseWidthUs = UNSENT
        this.sentFrequencyHz = UNSENT
        this.sentRampUpMs = UNSENT
        this.sentRampDownMs = UNSENT
        this.sentWaveform = UNSENT
        this.pending = true
    }

    // ---- the writer

    private wake() {
        this.pending = true
        const w = this.writer
        if (w && w.suspended) w.resume(null)
    }

    /** The writer fiber: sends what changed, latest state first; never dies. */
    async runWriter() {
        while (true) {
            if (!this.pending) await ds.suspend(WRITER_IDLE_MS)
            this.pending = false
            try {
                if (this.wantEnabled) await this.writeOn()
                else await this.writeOff()
            } catch (e) {
                // a send failed: stop (the supervisor latches), then write everything again
                this.fail()
                this.forgetSent()
                await ds.sleep(RESEND_MIN_MS)
            }
        }
    }

    /** Output off: amplitude 0 and enabled false first, back to back; then the settings. */
    private async writeOff() {
        if (this.sentAmpRaw !== 0) {
            await this.send16(SET_AMPLITUDE, 0)
            this.sentAmpRaw = 0
        }
        if (this.sentEnabled !== 0) {
            await this.send8(SET_ENABLED, 0)
            this.sentEnabled = 0
        }
        await this.writeSettings()
    }

    /** Output on: settings, amplitude, then enabled; a keep-alive after a fresh step. Gives way to a stop at every send. */
    private async writeOn() {
        if (this.restartEdge) {
            this.restartEdge = false
            while (this.cutInFlight) await ds.sleep(1)
            await this.send8(SET_ENABLED, 0)
            this.sentEnabled = 0
            if (!this.wantEnabled) return
        }
        await this.writeSettings()
        if (!this.wantEnabled) return
        const amp = this.wantAmpRaw
        // a rise waits up to AMPLITUDE_RISE_WRITE_MS between writes (the module's own slope limit carries it
        // smoothly between them); a fall, the start from zero and a resend go at once
        const rise = amp > this.sentAmpRaw && this.sentAmpRaw !== UNSENT && this.sentAmpRaw > 0
        if (this.sentAmpRaw !== amp && !(rise && ds.millis() - this.lastAmpWriteMs < AMPLITUDE_RISE_WRITE_MS)) {
            await this.send16(SET_AMPLITUDE, amp)
            this.sentAmpRaw = amp
            this.lastAmpWriteMs = ds.millis()
            if (!this.wantEnabled) return
        }
        if (this.sentEnabled !== 1) {
            await this.send8(SET_ENABLED, 1)
            this.sentEnabled = 1
            // the enabling write arms the module's watchdog like a keep-alive
            this.lastKeepAliveMs = ds.millis()
            if (!this.wantEnabled) return
        }
        const now = ds.millis()
        if (now - this.lastKeepAliveMs >= KEEP_ALIVE_INTERVAL_MS && now - this.lastOnStepMs <= 2 * this.tickMs) {
            // numbered: identical frames can be dropped as repeats (services/stimulator.md)
            this.nKeepAlives++
            this.keepAlivePayload.setAt(0, "u32", this.nKeepAlives)
            await this.module.sendCommand(CMD_KEEP_ALIVE, this.keepAlivePayload)
            this.lastKeepAliveMs = now
        }
    }

    private async writeSettings() {
        let v = this.wantPulseWidthUs
        if (this.sentPulseWidthUs !== v) {
            await this.send16(SET_PULSE_WIDTH, v)
            this.sentPulseWidthUs = v
        }
        v = this.wantFrequencyHz
        if (this.sentFrequencyHz !== v) {
            await this.send16(SET_FREQUENCY, v)
            this.sentFrequencyHz = v
        }
        v = this.wantRampUpMs
        if (this.sentRampUpMs !== v) {
            await this.send16(SET_RAMP_UP, v)
            this.sentRampUpMs = v
        }
        v = this.wantRampDownMs
        if (this.sentRampDownMs !== v) {
            await this.send16(SET_RAMP_DOWN, v)
            this.sentRampDownMs = v
        }
        if (this.sentWaveform !== this.waveform) {
            await this.send8(SET_WAVEFORM, this.waveform)
            this.sentWaveform = this.waveform
        }
    }

    private async send8(code: number, v: number) {
        this.u8.setAt(0, "u8", v)
        await this.module.sendCommand(code, this.u8)
        this.nWrites++
        this.lastWriteMs = ds.millis()
    }

    private async send16(code: number, v: number) {
        this.u16.setAt(0, "u16", v)
        await this.module.sendCommand(code, this.u16)
        this.nWrites++
        this.lastWriteMs = ds.millis()
    }
}

/**
 * Starts the stimulator output: the client of the stimulator module that
 * carries out the supervisor's commands, keeps the module alive while (and
 * only while) the output is on, ticks the supervisor while stimulating and
 * feeds the module's reports back to it. At start it writes the module off
 * (amplitude 0, enabled false) as soon as the module is bound.
 */
export function startStimOutput(options?: StimOutputOptions): StimOutputDriver {
    return new StimOutputImpl(options ?? {})
}
