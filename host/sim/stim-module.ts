/**
 * The simulated stimulator module's behaviour (services/stimulator.md),
 * apart from the bus: a constant-current output that clamps to its own
 * hardware limits, moves no faster than its slopes, measures a load, cuts
 * itself off on lead-off, faults and a watchdog expiry, and latches the fault
 * until `enabled` goes off and on again. Pure in the sense of the style
 * guide: every input carries `now` [ms] and nothing here starts a timer;
 * `SimStimServer` (stim-server.ts) puts it on a Jacdac bus and drives time.
 *
 * The output is piecewise linear, so the module knows it exactly at any
 * time: each change starts a segment (from the amplitude delivered at that
 * moment toward a target at a slope). Every segment start, every ramp end and
 * every cut is recorded in a timeline of (time, delivered amplitude, enabled,
 * cause): tests read when the output reached zero after an injected fault,
 * and how fast it ever rose.
 *
 * The watchdog is modelled as the hardware timer it stands for: the cut is
 * recorded at its deadline (last keep-alive + timeout), even when Node's
 * timer that notices it fires a little later.
 */
import { StimModuleFault, StimStatusFlags, STIM_HARDWARE_LIMITS, STIM_MODULE_WATCHDOG_MS, type StimHardwareLimits } from "../../src/core/stim-module"

/** Why the output changed. */
export const STIM_TIMELINE_CAUSES = [
    /** `enabled` written true while false: restart from 0 mA, fault cleared */
    "enable",
    /** `enabled` written false */
    "disable",
    /** `amplitude` written */
    "amplitude",
    /** pulse width, frequency or a ramp written (the charge limit or a slope may change) */
    "settings",
    /** the output reached the target of its ramp */
    "ramp-end",
    /** no keep-alive for the watchdog timeout: cut by the module itself */
    "watchdog",
    /** the load opened (above the lead-off impedance) */
    "lead-off",
    /** any other fault (injected by a test) */
    "fault",
] as const
export type StimTimelineCause = (typeof STIM_TIMELINE_CAUSES)[number]

/** One change of the output. Between two entries the output moves linearly. */
export interface StimTimelineEntry {
    /** [ms] */
    atMs: number
    /** [mA] delivered right after the change */
    deliveredMa: number
    /** [mA] where the output is heading */
    targetMa: number
    /** [mA/ms] how fast it moves toward the target; 0 when already there */
    slopeMaPerMs: number
    /** the `enabled` register */
    enabled: boolean
    /** enabled and no fault latched */
    outputOn: boolean
    fault: StimModuleFault
    cause: StimTimelineCause
}

/** A setting a hardware limit changed. */
export interface StimClamp {
    /** [ms] */
    atMs: number
    /** register name in the spec */
    register: string
    asked: number
    applied: number
}

/** The `status` report's fields. */
export interface SimStimStatus {
    /** [mA] */
    deliveredMa: number
    /** [Ohm] 0 = not measured */
    loadOhm: number
    fault: StimModuleFault
    /** StimStatusFlags bits */
    flags: number
}

export interface SimStimModuleOptions {
    /** hardware limits; default STIM_HARDWARE_LIMITS (the device's hard limits) */
    limits?: Partial<StimHardwareLimits>
    /** [ms] default STIM_MODULE_WATCHDOG_MS (250) */
    watchdogTimeoutMs?: number
    /** [Ohm] load between the electrodes at the start; default 500 (the rated load) */
    loadOhm?: number
    /** timeline entries kept; the oldest tenth is dropped (and counted) beyond it. Default 500000. */
    timelineMax?: number
}

/** Told by the module; the server turns these into Jacdac events and status reports. */
export interface SimStimListener {
    /** a fault latched (the output is already off) */
    fault(fault: StimModuleFault, atMs: number): void
    /** `enabled`, the output state or the fault changed: push a status report now */
    changed(atMs: number): void
}

/** [mA] value of a segment `dtMs` after its start */
function along(fromMa: number, toMa: number, slopeMaPerMs: number, dtMs: number): number {
    if (!(slopeMaPerMs > 0) || dtMs <= 0) return dtMs <= 0 ? fromMa : toMa
    const moved = slopeMaPerMs * dtMs
    return toMa > fromMa ? Math.min(toMa, fromMa + moved) : Math.max(toMa, fromMa - moved)
}

/** [mA] the output at `atMs` according to `timeline` (0 before the first entry). */
export function amplitudeAt(timeline: readonly StimTimelineEntry[], atMs: number): number {
    let lo = 0
    let hi = timeline.length - 1
    if (hi < 0 || timeline[0].atMs > atMs) return 0
    while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (timeline[mid].atMs <= atMs) lo = mid
        else hi = mid - 1
    }
    const e = timeline[lo]
    return along(e.deliveredMa, e.targetMa, e.slopeMaPerMs, atMs - e.atMs)
}

/**
 * [ms] From `fromMs` until the output is at zero: 0 if it already is, else
 * the first entry after it that delivers 0 mA; undefined if it never does.
 * This is the fault-to-off latency at the module.
 */
export function timeToZeroMs(timeline: readonly StimTimelineEntry[], fromMs: number): number | undefined {
    if (amplitudeAt(timeline, fromMs) === 0) return 0
    for (const e of timeline) if (e.atMs >= fromMs && e.deliveredMa === 0) return e.atMs - fromMs
    return undefined
}

/** [mA/ms] the steepest rise in `timeline` (what the slope limit must bound). */
export function steepestRise(timeline: readonly StimTimelineEntry[]): number {
    let max = 0
    for (let i = 0; i < timeline.length; i++) {
        const e = timeline[i]
        if (e.targetMa > e.deliveredMa && e.slopeMaPerMs > max) max = e.slopeMaPerMs
        // a jump up between two entries would be a rise at infinite slope
        if (i > 0) {
            const p = timeline[i - 1]
            if (e.deliveredMa > along(p.deliveredMa, p.targetMa, p.slopeMaPerMs, e.atMs - p.atMs) + 1e-9) return Infinity
        }
    }
    return max
}

export class SimStimModule {
    readonly limits: StimHardwareLimits
    readonly watchdogTimeoutMs: number
    listener: SimStimListener | undefined = undefined

    // registers (as the module holds them, after clamping)
    private enabled = false
    private setpointMa = 0
    private pulseWidthUs: number
    private frequencyHz: number
    private rampUpMs: number
    private rampDownMs = 0
    private waveform = 1
    private fault = StimModuleFault.None
    private loadOhm: number
    private clampedFlag = false

    // the current segment of the output
    private fromMa = 0
    private fromMs = 0
    private toMa = 0
    private slope = 0
    private nowMs = 0
    private lastKeepAliveMs = 0
    private keepAlives = 0

    private readonly entries: StimTimelineEntry[] = []
    private readonly timelineMax: number
    private droppedEntries = 0
    private readonly clampList: StimClamp[] = []

    constructor(options: SimStimModuleOptions = {}) {
        this.limits = { ...STIM_HARDWARE_LIMITS, ...options.limits }
        this.watchdogTimeoutMs = options.watchdogTimeoutMs ?? STIM_MODULE_WATCHDOG_MS
        this.loadOhm = options.loadOhm ?? 500
        this.timelineMax = options.timelineMax ?? 500000
        this.pulseWidthUs = this.limits.minPulseWidthUs
        this.frequencyHz = this.limits.minFrequencyHz
        this.rampUpMs = Math.max(3000, this.limits.minRampUpMs)
    }

    // ---- register writes (each takes effect at `now`)

    setEnabled(on: boolean, now: number): void {
        const t = this.advance(now)
        if (on === this.enabled) return
        this.enabled = on
        if (on) {
            this.fault = StimModuleFault.None
            this.lastKeepAliveMs = t
            this.clampedFlag = false
            // a restart always begins at 0 mA
            this.fromMa = 0
            this.slope = 0
            this.toMa = 0
            if (this.loadOpen()) return this.latch(StimModuleFault.LeadOff, t, "lead-off")
        }
        this.retarget(t, on ? "enable" : "disable")
        this.listener?.changed(t)
    }

    /** `amplitude` register [mA]; returns the value the register holds afterwards. */
    setAmplitude(ma: number, now: number): number {
        const t = this.advance(now)
        let v = ma > 0 ? Math.floor(ma * 256) / 256 : 0
        if (v > this.limits.maxAmplitudeMa) v = this.limits.maxAmplitudeMa
        // quantizing to the register's 1/256 mA is not a clamp; a limit is
        if (!(ma >= 0 && ma <= this.limits.maxAmplitudeMa)) this.noteClamp("amplitude", ma, v, t)
        if (v !== this.setpointMa) {
            this.setpointMa = v
            this.retarget(t, "amplitude")
        }
        return v
    }

    /** `pulse_width` register [us]; returns the value held. */
    setPulseWidth(us: number, now: number): number {
        const t = this.advance(now)
        const v = this.bound(us, this.limits.minPulseWidthUs, this.limits.maxPulseWidthUs)
        if (v !== us) this.noteClamp("pulse_width", us, v, t)
        if (v !== this.pulseWidthUs) {
            this.pulseWidthUs = v
            this.retarget(t, "settings")
        }
        return v
    }

    /** `frequency` register [Hz]; returns the value held. */
    setFrequency(hz: number, now: number): number {
        const t = this.advance(now)
        const v = this.bound(hz, this.limits.minFrequencyHz, this.limits.maxFrequencyHz)
        if (v !== hz) this.noteClamp("frequency", hz, v, t)
        this.frequencyHz = v
        return v
    }

    /** `ramp_up` register [ms]; returns the value held. */
    setRampUp(ms: number, now: number): number {
        const t = this.advance(now)
        const v = this.bound(ms, this.limits.minRampUpMs, 0xffff)
        if (v !== ms) this.noteClamp("ramp_up", ms, v, t)
        if (v !== this.rampUpMs) {
            this.rampUpMs = v
            this.retarget(t, "settings")
        }
        return v
    }

    /** `ramp_down` register [ms], 0 = falls at once; returns the value held. */
    setRampDown(ms: number, now: number): number {
        const t = this.advance(now)
        const v = this.bound(ms, 0, 0xffff)
        if (v !== ms) this.noteClamp("ramp_down", ms, v, t)
        if (v !== this.rampDownMs) {
            this.rampDownMs = v
            this.retarget(t, "settings")
        }
        return v
    }

    /** `waveform` register; an unknown shape is taken as SymmetricBiphasic (1). */
    setWaveform(w: number, now: number): number {
        const t = this.advance(now)
        const v = w === 1 || w === 2 ? w : 1
        if (v !== w) this.noteClamp("waveform", w, v, t)
        this.waveform = v
        return v
    }

    /** The `keep_alive` command: restarts the watchdog while enabled and without a fault. */
    keepAlive(now: number): void {
        const t = this.advance(now)
        if (!this.outputOn()) return
        this.lastKeepAliveMs = t
        this.keepAlives++
    }

    // ---- the world around the module (test hooks)

    /** The load between the electrodes [Ohm]; at or above `leadOffOhm` (or not a number) it is open: lead-off. */
    setLoad(ohm: number, now: number): void {
        const t = this.advance(now)
        const before = this.loadOhm
        this.loadOhm = ohm
        if (this.outputOn() && this.loadOpen()) return this.latch(StimModuleFault.LeadOff, t, "lead-off")
        // a measured load that moved by 10 % or more is reported at once
        const moved = !(Math.abs(ohm - before) < 0.1 * before)
        if (moved && this.outputOn() && this.deliveredAt(t) > 0) this.listener?.changed(t)
    }

    /** An electrode comes off: the load opens. */
    leadOff(now: number): void {
        this.setLoad(Infinity, now)
    }

    /** A fault inside the module: latches (the first one stays) and cuts the output at once. */
    injectFault(code: StimModuleFault, now: number): void {
        if (code === StimModuleFault.None) throw new RangeError("inject a fault code other than None")
        const t = this.advance(now)
        if (this.fault !== StimModuleFault.None) return
        this.latch(code, t, code === StimModuleFault.LeadOff ? "lead-off" : "fault")
    }

    // ---- time

    /**
     * Brings the module to `now`: ramp ends and a watchdog expiry in between
     * are recorded at the time they happened. Returns the time the module is
     * at (a `now` earlier than a previous one counts as that one).
     */
    advance(now: number): number {
        const t = Math.max(now, this.nowMs)
        for (;;) {
            const rampEnd = this.rampEndMs()
            const deadline = this.watchdogDeadlineMs()
            const next = Math.min(rampEnd ?? Infinity, deadline ?? Infinity)
            if (next > t) break
            if (deadline !== undefined && deadline <= (rampEnd ?? Infinity)) {
                this.latch(StimModuleFault.WatchdogExpired, deadline, "watchdog")
            } else {
                this.fromMa = this.toMa
                this.fromMs = rampEnd as number
                this.slope = 0
                this.record(this.fromMs, "ramp-end")
            }
        }
        this.nowMs = t
        return t
    }

    /** [ms] the next time something happens by itself (ramp end, watchdog), for the server's timer. */
    nextDeadlineMs(): number | undefined {
        const r = this.rampEndMs()
        const w = this.watchdogDeadlineMs()
        if (r === undefined) return w
        if (w === undefined) return r
        return Math.min(r, w)
    }

    // ---- what the module reports

    /** [mA] delivered at `now` (does not advance the module). */
    deliveredAt(now: number): number {
        return along(this.fromMa, this.toMa, this.slope, now - this.fromMs)
    }

    status(now: number): SimStimStatus {
        const t = this.advance(now)
        const delivered = this.deliveredAt(t)
        let flags = 0
        if (this.enabled) flags |= StimStatusFlags.Enabled
        if (this.outputOn()) flags |= StimStatusFlags.OutputOn
        if (this.clampedFlag) flags |= StimStatusFlags.Clamped
        const measured = this.outputOn() && delivered > 0
        const load = !measured ? 0 : !(this.loadOhm < 65535) ? 65535 : Math.max(1, Math.round(this.loadOhm))
        return { deliveredMa: delivered, loadOhm: load, fault: this.fault, flags }
    }

    /** The registers as the module holds them. */
    registers() {
        return {
            enabled: this.enabled,
            amplitudeMa: this.setpointMa,
            pulseWidthUs: this.pulseWidthUs,
            frequencyHz: this.frequencyHz,
            rampUpMs: this.rampUpMs,
            rampDownMs: this.rampDownMs,
            waveform: this.waveform,
        }
    }

    /** [ms] time of the last keep-alive that counted (or of the enabling write). */
    lastKeepAlive(): number {
        return this.lastKeepAliveMs
    }

    keepAliveCount(): number {
        return this.keepAlives
    }

    timeline(): readonly StimTimelineEntry[] {
        return this.entries
    }

    /** Entries dropped from the front of the timeline (beyond `timelineMax`). */
    droppedTimelineEntries(): number {
        return this.droppedEntries
    }

    /** Every setting a hardware limit changed. */
    clamps(): readonly StimClamp[] {
        return this.clampList
    }

    // ---- internals

    private outputOn(): boolean {
        return this.enabled && this.fault === StimModuleFault.None
    }

    private loadOpen(): boolean {
        return !(this.loadOhm < this.limits.leadOffOhm)
    }

    /** [mA] the most the charge limit allows at the current pulse width */
    private chargeLimitMa(): number {
        return this.limits.maxChargePerPhaseNc / this.pulseWidthUs
    }

    private riseSlope(): number {
        return this.limits.maxAmplitudeMa / Math.max(this.rampUpMs, this.limits.minRampUpMs)
    }

    private fallSlope(): number {
        return this.rampDownMs > 0 ? this.limits.maxAmplitudeMa / this.rampDownMs : Infinity
    }

    private rampEndMs(): number | undefined {
        if (this.slope === 0 || this.fromMa === this.toMa) return undefined
        return this.fromMs + Math.abs(this.toMa - this.fromMa) / this.slope
    }

    private watchdogDeadlineMs(): number | undefined {
        return this.outputOn() ? this.lastKeepAliveMs + this.watchdogTimeoutMs : undefined
    }

    /** Starts a new segment at `t` from what is delivered now toward what the registers ask. */
    private retarget(t: number, cause: StimTimelineCause): void {
        const from = this.deliveredAt(t)
        let target = 0
        if (this.outputOn()) {
            target = this.setpointMa
            const chargeMax = this.chargeLimitMa()
            if (target > chargeMax) {
                this.noteClamp("amplitude (charge per phase)", target, chargeMax, t)
                target = Math.floor(chargeMax * 256) / 256
            }
        }
        const slope = target > from ? this.riseSlope() : this.fallSlope()
        this.fromMs = t
        this.toMa = target
        if (target === from || slope === Infinity) {
            this.fromMa = target
            this.slope = 0
        } else {
            this.fromMa = from
            this.slope = slope
        }
        this.record(t, cause)
    }

    /** A fault: latched, output cut at once, told to the listener. */
    private latch(code: StimModuleFault, t: number, cause: StimTimelineCause): void {
        this.fault = code
        this.fromMa = 0
        this.toMa = 0
        this.slope = 0
        this.fromMs = t
        this.record(t, cause)
        this.listener?.fault(code, t)
        this.listener?.changed(t)
    }

    private bound(v: number, lo: number, hi: number): number {
        if (isNaN(v)) return lo
        return Math.min(hi, Math.max(lo, Math.round(v)))
    }

    /** A hardware limit changed a setting: flagged in the status until the next enable. */
    private noteClamp(register: string, asked: number, applied: number, t: number): void {
        this.clampedFlag = true
        this.clampList.push({ atMs: t, register, asked, applied })
    }

    private record(t: number, cause: StimTimelineCause): void {
        if (this.entries.length >= this.timelineMax) {
            const drop = Math.max(1, Math.floor(this.timelineMax / 10))
            this.entries.splice(0, drop)
            this.droppedEntries += drop
        }
        this.entries.push({
            atMs: t,
            deliveredMa: this.fromMa,
            targetMa: this.toMa,
            slopeMaPerMs: this.slope,
            enabled: this.enabled,
            outputOn: this.outputOn(),
            fault: this.fault,
            cause,
        })
    }
}
