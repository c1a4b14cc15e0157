/**
 * The stim safety supervisor: a deterministic state machine that decides,
 * after every event, what the stimulator module is commanded to do. Pure:
 * events carry `now` [ms, monotonic]; no timers, no I/O. The firmware feeds
 * it button presses, module reports, sensing results and a tick (every
 * 20-50 ms while stimulating) and writes `step().command` to the module.
 *
 * Rules (docs/safety.md lists each with the test that proves it):
 * - Every output goes through `clampOutput` (caps.ts), the one choke point:
 *   hard limits, therapist caps, charge, average current, rms current
 *   density, pulse energy, and a rise of at most AMPLITUDE_RAMP_MAX_MA_PER_S
 *   from the previous output.
 * - A stop cause (stop button, lead-off, impedance out of range, probe
 *   removed, module silent for more than STIM_STATUS_TIMEOUT_MS, the
 *   supervisor itself not stepped for more than the module's watchdog,
 *   module fault, battery low, stim time over, contraindication, an
 *   exception, a program change, invalid phase settings, a clock going
 *   backwards) turns the output off IN THE SAME STEP (enabled false,
 *   amplitude 0), is recorded with its cause, and latches: nothing turns
 *   the output on again but a deliberate start.
 * - A start is refused while a condition persists (contraindication, no
 *   caps, no phase, stim time used up, too soon after the last session,
 *   battery low, probe out, module silent) and always begins at
 *   AMPLITUDE_START_MA with the patient's level reset to it.
 * - Contraindication flags (pregnant, implanted device, other) lock
 *   stimulation until a new session configuration without them.
 * - New phase settings while running go through zero: the output is 0 in
 *   that step, the level is reset and the patient sets it again. The same
 *   settings sent twice (a retried command) change nothing.
 *
 * Intensity buttons, decided like clinic units and the "the patient
 * sets it during the ramp-in": DOWN works any time while running (the
 * patient can always turn it down). UP adds AMPLITUDE_STEP_MA, never above
 * the caps for this phase, and only (a) within STIM_ADJUST_WINDOW_MS of the
 * start or phase change, where the patient finds the sensory threshold and
 * then a comfortable contraction, and (b) while stimulation is being
 * delivered (not in a rest or while ETS waits), so she feels what she sets.
 * Later, she can turn it down, or stop and start again to choose anew.
 *
 * Fail safe: a new supervisor has no caps, no phase, battery and probe not
 * yet reported OK and no module heard from: it cannot start until each has
 * been reported. Any exception inside `step` zeroes the output and latches
 * off with cause Exception.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    AMPLITUDE_START_MA,
    AMPLITUDE_STEP_MA,
    FREQUENCY_MIN_HZ,
    LOAD_IMPEDANCE_MAX_OHM,
    LOAD_IMPEDANCE_MIN_OHM,
    PULSE_WIDTH_MIN_US,
    SESSION_REST_MIN_MS,
    STIM_STATUS_TIMEOUT_MS,
    STIM_WATCHDOG_TIMEOUT_MS,
} from "../limits"
import { ClampReason, clampOutput, effectiveCaps, isFiniteNumber, maxAmplitude, NO_CAPS, type StimCaps, type TherapistCaps } from "./caps"
import { checkPhase, samePhase, StimPlan, type StimPhaseSettings } from "./plan"
import { StimAction, StimReason } from "./reasons"

/**
 * [ms] Intensity up is accepted this long after each start or phase change.
 * Engineering choice: long enough to find the sensory threshold and then a
 * comfortable contraction over several work periods (5 s on / 10 s off
 * gives 12 work periods; 0.5 mA a press), short enough that the level is
 * not pushed up late in a session when sensation has dulled.
 */
export const STIM_ADJUST_WINDOW_MS = 3 * 60 * 1000

/**
 * [ms] The module's own ramp on enable (services/stimulator.md `ramp_up`):
 * 0 to AMPLITUDE_MAX_MA at AMPLITUDE_RAMP_MAX_MA_PER_S, a second, independent
 * rate limit in the module. The supervisor ramps the amplitude itself.
 */
export const MODULE_RAMP_UP_MS = Math.ceil((1000 * AMPLITUDE_MAX_MA) / AMPLITUDE_RAMP_MAX_MA_PER_S)

/** [ms] The module's ramp on disable: none. A stop is immediate; soft ramps down are in the plan's envelope. */
export const MODULE_RAMP_DOWN_MS = 0

/** Stop records kept until drained; older ones are dropped (and counted). */
export const STOP_LOG_MAX = 16

export enum StimEventKind {
    /** time passes (the firmware ticks every 20-50 ms while stimulating) */
    Tick = 0,
    /** deliberate start or restart by the patient */
    Start = 1,
    StopButton = 2,
    IntensityUp = 3,
    IntensityDown = 4,
    /** `phase`: settings of the stim phase to run */
    Phase = 5,
    /** `value`: load impedance [Ohm], 0 = not measured */
    Impedance = 6,
    /** any status report from the module (heartbeat) */
    ModuleStatus = 7,
    LeadOff = 8,
    /** `value`: the module's Fault code (services/stimulator.md), 0 = none */
    ModuleFault = 9,
    BatteryLow = 10,
    BatteryOk = 11,
    ProbeRemoved = 12,
    ProbeInserted = 13,
    /** `contraindications`: flags raised on the device */
    Contraindication = 14,
    /** an exception was caught in the stim code path outside the supervisor */
    Exception = 15,
    /** the program changed mid-session: stop, forget caps and phase */
    ProgramChanged = 16,
    /** `session`: caps, probe, contraindications of a new session */
    SessionBegin = 17,
    /** `value`: the patient's measured level [% of target] (ETS input) */
    MeasuredLevel = 18,
    /**
     * `value`: [ms] the trainer's firmware has been silent this long: the
     * supervisor runs on the stimulator module's own microcontroller
     * (services/stimcontrol.md), and a hung trainer cannot pass on the stop button
     */
    TrainerLost = 19,
    /** the stim phase is over (the session moved on): stop, keep caps and phase for the next start */
    PhaseEnded = 20,
}

/** Contraindications to stimulation; any true (or a missing object) locks stimulation. */
export interface ContraindicationFlags {
    pregnant: boolean
    /** pacemaker or other implanted stimulator/device */
    implantedDevice: boolean
    /** any other stim contraindication the program flags (infection, undiagnosed bleeding...) */
    other: boolean
}

export interface StimSessionConfig {
    therapistCaps: TherapistCaps | undefined
    /** [cm^2] stimulation electrode area of the configured probe */
    electrodeAreaCm2: number | undefined
    contraindications: ContraindicationFlags | undefined
    /** [ms] since the end of the last stim session; Infinity if none on record */
    restSinceLastSessionMs: number
}

export interface StimEvent {
    kind: StimEventKind
    /** [ms] monotonic */
    now: number
    value?: number
    phase?: StimPhaseSettings
    session?: StimSessionConfig
    contraindications?: ContraindicationFlags
}

/** What to write to the stimulator module (services/stimulator.md registers). */
export interface StimCommand {
    enabled: boolean
    /** [mA] u8.8 */
    amplitudeMa: number
    /** [us] */
    pulseWidthUs: number
    /** [Hz] */
    frequencyHz: number
    /** [ms] */
    rampUpMs: number
    /** [ms] */
    rampDownMs: number
}

/** The result of one step: the command, and `{ action, reason }` for the log. */
export interface StimStep {
    command: StimCommand
    action: StimAction
    reason: StimReason
    /** the binding limit of the choke point for this output */
    clamp: ClampReason
    /** [mA] the patient's chosen level (0 when off) */
    levelMa: number
}

/** One stop, for the session log. */
export interface StopRecord {
    /** [ms] */
    atMs: number
    cause: StimReason
    /** cause-specific: impedance [Ohm], fault code, gap [ms], stim time [ms] */
    detail: number
    /** [mA] level when it stopped */
    levelMa: number
    /** [ms] stim time used in the session so far */
    stimUsedMs: number
}

export interface StimStatus {
    running: boolean
    locked: boolean
    levelMa: number
    /** [mA] highest level chosen this session (logged per session) */
    peakLevelMa: number
    stimUsedMs: number
    lastStop: StimReason
    /** why the last deliberate start was refused (the rest between sessions too short, the probe out...); None once a start is taken */
    lastRefusal: StimReason
    /** deliberate starts refused since boot, modulo 256: each one is news even when its reason is the last one's */
    refusedStarts: number
    droppedStops: number
}

export function isStimContraindicated(c: ContraindicationFlags | undefined): boolean {
    if (!c) return true
    return c.pregnant !== false || c.implantedDevice !== false || c.other !== false
}

export function stimEvent(kind: StimEventKind, now: number, value?: number): StimEvent {
    return { kind, now, value }
}

export function phaseEvent(now: number, phase: StimPhaseSettings): StimEvent {
    return { kind: StimEventKind.Phase, now, phase }
}

export function sessionEvent(now: number, session: StimSessionConfig): StimEvent {
    return { kind: StimEventKind.SessionBegin, now, session }
}

export function contraindicationEvent(now: number, flags: ContraindicationFlags): StimEvent {
    return { kind: StimEventKind.Contraindication, now, contraindications: flags }
}

function offCommand(): StimCommand {
    return {
        enabled: false,
        amplitudeMa: 0,
        pulseWidthUs: PULSE_WIDTH_MIN_US,
        frequencyHz: FREQUENCY_MIN_HZ,
        rampUpMs: MODULE_RAMP_UP_MS,
        rampDownMs: MODULE_RAMP_DOWN_MS,
    }
}

export class StimSupervisor {
    private caps: StimCaps = NO_CAPS
    private restOk = false
    private locked = false
    private plan: StimPlan | undefined = undefined
    private running = false
    private levelMa = 0
    private peakLevelMa = 0
    /** [mA] amplitude of the last output (0 when off) */
    private lastAmpMa = 0
    /** envelope factor of the last output: > 0 while stimulation is delivered */
    private lastFactor = 0
    private stepped = false
    private lastAtMs = 0
    private lastStatusAtMs = -Infinity
    private stimUsedMs = 0
    private adjustUntilMs = -Infinity
    private batteryOk = false
    private probeIn = false
    private lastStop = StimReason.None
    private lastRefusal = StimReason.None
    private refusedStarts = 0
    private stops: StopRecord[] = []
    private dropped = 0
    // the step being built
    private action = StimAction.Off
    private reason = StimReason.None
    private zeroNow = false

    /** Takes one event and returns what to command. Never throws. */
    step(ev: StimEvent): StimStep {
        try {
            return this.handle(ev)
        } catch (e) {
            return this.failSafe(ev)
        }
    }

    /** Same as `step({ kind: Tick, now })`. */
    tick(now: number): StimStep {
        return this.step({ kind: StimEventKind.Tick, now })
    }

    /** The stops since the last drain, oldest first (the caller logs them). */
    drainStops(): StopRecord[] {
        const out = this.stops
        this.stops = []
        return out
    }

    status(): StimStatus {
        return {
            running: this.running,
            locked: this.locked,
            levelMa: this.running ? this.levelMa : 0,
            peakLevelMa: this.peakLevelMa,
            stimUsedMs: this.stimUsedMs,
            lastStop: this.lastStop,
            lastRefusal: this.lastRefusal,
            refusedStarts: this.refusedStarts,
            droppedStops: this.dropped,
        }
    }

    private handle(ev: StimEvent): StimStep {
        this.action = this.running ? StimAction.On : StimAction.Off
        this.reason = StimReason.None
        this.zeroNow = false
        const now = ev.now
        if (!isFiniteNumber(now) || (this.stepped && now < this.lastAtMs)) return this.clockFault(now)
        const elapsed = this.stepped ? now - this.lastAtMs : 0
        this.stepped = true
        this.lastAtMs = now
        if (this.running) this.checkTime(now, elapsed)
        this.apply(ev, now)
        return this.output(now, elapsed)
    }

    /** Stop causes that come from time passing, judged before the event's own content. */
    private checkTime(now: number, elapsed: number): void {
        this.stimUsedMs += elapsed
        if (elapsed > STIM_WATCHDOG_TIMEOUT_MS) this.stop(now, StimReason.KeepAliveGap, elapsed)
        else if (now - this.lastStatusAtMs > STIM_STATUS_TIMEOUT_MS) this.stop(now, StimReason.BusLost, now - this.lastStatusAtMs)
        else if (this.stimUsedMs >= this.caps.sessionStimMaxMs) this.stop(now, StimReason.StimTimeOver, this.stimUsedMs)
    }

    private apply(ev: StimEvent, now: number): void {
        switch (ev.kind) {
            case StimEventKind.Tick:
                return
            case StimEventKind.Start:
                return this.start(now)
            case StimEventKind.StopButton:
                return this.halt(now, StimReason.StopButton, 0)
            case StimEventKind.IntensityUp:
                return this.up(now)
            case StimEventKind.IntensityDown:
                return this.down()
            case StimEventKind.Phase:
                return this.setPhase(ev.phase, now)
            case StimEventKind.Impedance:
                return this.impedance(ev.value, now)
            case StimEventKind.ModuleStatus:
                this.lastStatusAtMs = now
                return
            case StimEventKind.LeadOff:
                this.lastStatusAtMs = now
                return this.halt(now, StimReason.LeadOff, 0)
            case StimEventKind.ModuleFault:
                this.lastStatusAtMs = now
                if (ev.value === 0) return
                return this.halt(now, StimReason.ModuleFault, isFiniteNumber(ev.value) ? (ev.value as number) : -1)
            case StimEventKind.BatteryLow:
                this.batteryOk = false
                return this.halt(now, StimReason.BatteryLow, 0)
            case StimEventKind.BatteryOk:
                this.batteryOk = true
                return
            case StimEventKind.ProbeRemoved:
                this.probeIn = false
                return this.halt(now, StimReason.ProbeRemoved, 0)
            case StimEventKind.ProbeInserted:
                this.probeIn = true
                return
            case StimEventKind.Contraindication:
                if (!isStimContraindicated(ev.contraindications)) return
                this.locked = true
                return this.halt(now, StimReason.Contraindication, 0)
            case StimEventKind.Exception:
                return this.halt(now, StimReason.Exception, 0)
            case StimEventKind.ProgramChanged:
                this.halt(now, StimReason.ProgramChanged, 0)
                this.caps = NO_CAPS
                this.restOk = false
                this.plan = undefined
                return
            case StimEventKind.SessionBegin:
                return this.configure(ev.session, now)
            case StimEventKind.MeasuredLevel:
                if (this.plan) this.plan.measured(isFiniteNumber(ev.value) ? (ev.value as number) : NaN, now)
                return
            case StimEventKind.TrainerLost:
                return this.halt(now, StimReason.BusLost, isFiniteNumber(ev.value) ? (ev.value as number) : -1)
            case StimEventKind.PhaseEnded:
                return this.halt(now, StimReason.PhaseEnded, 0)
        }
        // an unknown event is a programming error in the caller: fail safe
        this.halt(now, StimReason.Exception, ev.kind)
    }

    /** Records the step's action and reason; a stop in this step is kept unless a start follows it. */
    private note(action: StimAction, reason: StimReason): void {
        if (this.action === StimAction.Stopped && action !== StimAction.Started) return
        this.action = action
        this.reason = reason
    }

    /** A stop cause: stops if running, otherwise notes why nothing happens. */
    private halt(now: number, cause: StimReason, detail: number): void {
        if (this.running) this.stop(now, cause, detail)
        else this.note(StimAction.Off, cause)
    }

    private stop(now: number, cause: StimReason, detail: number): void {
        if (!this.running) return
        this.running = false
        this.lastAmpMa = 0
        this.lastFactor = 0
        this.lastStop = cause
        this.zeroNow = true
        if (this.stops.length >= STOP_LOG_MAX) {
            this.stops.shift()
            this.dropped++
        }
        this.stops.push({ atMs: now, cause, detail, levelMa: this.levelMa, stimUsedMs: this.stimUsedMs })
        this.action = StimAction.Stopped
        this.reason = cause
    }

    private clockFault(now: number): StimStep {
        const finite = isFiniteNumber(now)
        this.stop(finite ? now : this.lastAtMs, StimReason.ClockFault, finite ? now : -1)
        if (finite) {
            this.lastAtMs = now
            this.stepped = true
        }
        // status times from before the jump mean nothing now
        this.lastStatusAtMs = -Infinity
        this.note(StimAction.Off, StimReason.ClockFault)
        return this.offStep()
    }

    /** Why a start is refused now, or None. */
    private startBlocker(now: number): StimReason {
        if (this.locked) return StimReason.Contraindication
        if (!this.caps.usable) return StimReason.NoStimCaps
        if (!this.restOk) return StimReason.SessionRestTooShort
        if (!this.plan) return StimReason.NoPhase
        if (this.stimUsedMs >= this.caps.sessionStimMaxMs) return StimReason.StimTimeOver
        if (!this.batteryOk) return StimReason.BatteryLow
        if (!this.probeIn) return StimReason.ProbeRemoved
        const silentMs = now - this.lastStatusAtMs
        if (!(silentMs >= 0 && silentMs <= STIM_STATUS_TIMEOUT_MS)) return StimReason.BusLost
        return StimReason.None
    }

    private start(now: number): void {
        if (this.running) return this.note(StimAction.Refused, StimReason.AlreadyRunning)
        const why = this.startBlocker(now)
        this.lastRefusal = why
        if (why !== StimReason.None) {
            this.refusedStarts = (this.refusedStarts + 1) & 255
            return this.note(StimAction.Refused, why)
        }
        this.running = true
        this.beginPhase(now)
        this.note(StimAction.Started, StimReason.None)
    }

    /** Output from zero, level reset, adjust window open, plan from its start. */
    private beginPhase(now: number): void {
        this.levelMa = AMPLITUDE_START_MA
        this.lastAmpMa = 0
        this.zeroNow = true
        this.adjustUntilMs = now + STIM_ADJUST_WINDOW_MS
        if (this.plan) this.plan.restart(now)
    }

    private up(now: number): void {
        if (!this.running || !this.plan) return this.note(StimAction.Refused, StimReason.NotRunning)
        if (now > this.adjustUntilMs) return this.note(StimAction.Refused, StimReason.AdjustWindowClosed)
        if (!(this.lastFactor > 0)) return this.note(StimAction.Refused, StimReason.NoStimNow)
        const p = this.plan.phase
        const max = maxAmplitude(p.pulseWidthUs, p.frequencyHz, this.caps).output.amplitudeMa
        const next = Math.min(this.levelMa + AMPLITUDE_STEP_MA, max)
        if (!(next > this.levelMa)) return this.note(StimAction.Refused, StimReason.AtMaximum)
        this.levelMa = next
        if (next > this.peakLevelMa) this.peakLevelMa = next
        this.note(StimAction.LevelChanged, StimReason.LevelUp)
    }

    private down(): void {
        if (!this.running) return this.note(StimAction.Refused, StimReason.NotRunning)
        if (!(this.levelMa > 0)) return this.note(StimAction.Refused, StimReason.AtZero)
        this.levelMa = Math.max(0, this.levelMa - AMPLITUDE_STEP_MA)
        this.note(StimAction.LevelChanged, StimReason.LevelDown)
    }

    private setPhase(phase: StimPhaseSettings | undefined, now: number): void {
        const c = checkPhase(phase)
        if (!c.phase) {
            this.halt(now, StimReason.InvalidPhase, 0)
            this.plan = undefined
            return this.note(StimAction.PhaseRejected, StimReason.InvalidPhase)
        }
        if (this.plan && samePhase(this.plan.phase, c.phase)) return this.note(StimAction.PhaseSet, StimReason.Unchanged)
        this.plan = new StimPlan(c.phase)
        if (this.running) this.beginPhase(now)
        else this.plan.restart(now)
        this.note(StimAction.PhaseSet, StimReason.NewPhase)
    }

    private impedance(value: number | undefined, now: number): void {
        this.lastStatusAtMs = now
        if (!this.running || value === 0) return
        const ohm = isFiniteNumber(value) ? (value as number) : NaN
        if (!(ohm <= LOAD_IMPEDANCE_MAX_OHM)) this.stop(now, StimReason.ImpedanceHigh, isFiniteNumber(ohm) ? ohm : -1)
        else if (ohm < LOAD_IMPEDANCE_MIN_OHM) this.stop(now, StimReason.ImpedanceLow, ohm)
    }

    private configure(session: StimSessionConfig | undefined, now: number): void {
        this.halt(now, StimReason.ProgramChanged, 0)
        this.plan = undefined
        this.stimUsedMs = 0
        this.peakLevelMa = 0
        this.levelMa = 0
        if (!session) {
            this.caps = NO_CAPS
            this.restOk = false
            this.locked = true
            return this.note(StimAction.Configured, StimReason.NoStimCaps)
        }
        this.caps = effectiveCaps({ therapist: session.therapistCaps, electrodeAreaCm2: session.electrodeAreaCm2 })
        this.locked = isStimContraindicated(session.contraindications)
        const rest = session.restSinceLastSessionMs
        this.restOk = rest === Infinity || (isFiniteNumber(rest) && rest >= SESSION_REST_MIN_MS)
        this.note(StimAction.Configured, StimReason.NewSession)
    }

    private output(now: number, elapsed: number): StimStep {
        if (this.running && !this.plan) this.stop(now, StimReason.InvalidPhase, 0)
        if (!this.running || !this.plan) return this.offStep()
        const p = this.plan.phase
        const env = this.plan.envelope(now)
        const want = this.zeroNow ? 0 : this.levelMa * env.factor
        const res = clampOutput(
            { amplitudeMa: want, pulseWidthUs: p.pulseWidthUs, frequencyHz: p.frequencyHz },
            this.caps,
            { fromMa: this.lastAmpMa, elapsedMs: this.zeroNow ? 0 : elapsed }
        )
        this.lastAmpMa = res.output.amplitudeMa
        this.lastFactor = this.zeroNow ? 0 : env.factor
        if (this.action === StimAction.On && this.reason === StimReason.None) this.reason = env.reason
        return {
            command: {
                enabled: true,
                amplitudeMa: res.output.amplitudeMa,
                pulseWidthUs: res.output.pulseWidthUs,
                frequencyHz: res.output.frequencyHz,
                rampUpMs: MODULE_RAMP_UP_MS,
                rampDownMs: MODULE_RAMP_DOWN_MS,
            },
            action: this.action,
            reason: this.reason,
            clamp: res.reason,
            levelMa: this.levelMa,
        }
    }

    private offStep(): StimStep {
        this.lastAmpMa = 0
        this.lastFactor = 0
        const p = this.plan ? this.plan.phase : undefined
        const res = clampOutput(
            { amplitudeMa: 0, pulseWidthUs: p ? p.pulseWidthUs : PULSE_WIDTH_MIN_US, frequencyHz: p ? p.frequencyHz : FREQUENCY_MIN_HZ },
            this.caps
        )
        const cmd = offCommand()
        cmd.pulseWidthUs = res.output.pulseWidthUs
        cmd.frequencyHz = res.output.frequencyHz
        const reason = this.action === StimAction.Off && this.reason === StimReason.None ? this.lastStop : this.reason
        return { command: cmd, action: this.action, reason, clamp: res.reason, levelMa: 0 }
    }

    /** After an exception inside `step`: off, latched, recorded. Must not throw itself. */
    private failSafe(ev: StimEvent): StimStep {
        try {
            const now = ev && isFiniteNumber(ev.now) ? ev.now : this.lastAtMs
            this.action = StimAction.Off
            this.reason = StimReason.None
            this.halt(now, StimReason.Exception, 0)
            return this.offStep()
        } catch (e) {
            this.running = false
            this.lastAmpMa = 0
            this.lastFactor = 0
            return { command: offCommand(), action: StimAction.Stopped, reason: StimReason.Exception, clamp: ClampReason.None, levelMa: 0 }
        }
    }
}
