/**
 * An independent checker of the supervisor's safety invariants, judged
 * after EVERY step from the events alone: it keeps its own model of what
 * happened (caps, flags, stim time, last module status, the patient's
 * presses) and never reads the supervisor's state. Used by the property
 * tests (tests/core/stim/), the VM random walk (tests/vm/stim.vm.ts) and
 * the soak benchmark (bench/supervisor-soak.ts). Exact comparisons: the
 * choke point quantizes and re-checks with the same limits.ts functions,
 * so there is no tolerance to hide behind.
 *
 * Invariants (docs/safety.md):
 * 1. never above a hard limit or a therapist cap: amplitude, pulse width,
 *    frequency, charge per phase, average current, rms current density,
 *    pulse energy; off means amplitude 0; every number finite;
 * 2. the amplitude never rises faster than AMPLITUDE_RAMP_MAX_MA_PER_S from
 *    the previous output (0 when it was off);
 * 3. a stop condition in a step means off in that same step, and off only
 *    turns on through a deliberate start, at AMPLITUDE_START_MA;
 * 4. never on with a contraindication, without caps, before the rest
 *    between sessions, with battery low, probe out, the module silent, or
 *    the session's stim time used up;
 * 5. never above the level the patient's presses allow (reset to 0 on
 *    every start and phase change: a mode change goes through zero).
 *
 * It is itself DeviceScript-compatible so the VM can run it too, and small
 * enough to run as a redundant monitor on the device.
 *
 * No imports outside src/core.
 */
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    AMPLITUDE_START_MA,
    AMPLITUDE_STEP_MA,
    AVERAGE_CURRENT_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    CURRENT_DENSITY_MAX_MA_PER_CM2,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    LOAD_IMPEDANCE_MAX_OHM,
    LOAD_IMPEDANCE_MIN_OHM,
    PULSE_ENERGY_MAX_MJ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    RAMP_MAX_MS,
    RAMP_MIN_MS,
    SESSION_REST_MIN_MS,
    SESSION_STIM_MAX_MS,
    STIM_STATUS_TIMEOUT_MS,
    STIM_WATCHDOG_TIMEOUT_MS,
    averageCurrentMa,
    chargePerPhaseUc,
    pulseEnergyMj,
    rmsCurrentDensityMaPerCm2,
    type StimOutput,
} from "../limits"
import { StimMode, type StimPhaseSettings } from "./plan"
import { StimEventKind, type ContraindicationFlags, type StimEvent, type StimSessionConfig, type StimStep } from "./supervisor"

function finite(x: number | undefined): boolean {
    return typeof x === "number" && !isNaN(x) && x !== Infinity && x !== -Infinity
}

function flagged(c: ContraindicationFlags | undefined): boolean {
    return !c || c.pregnant !== false || c.implantedDevice !== false || c.other !== false
}

/** What the checker sees in steps that run: how much was exercised. */
export interface StimCoverage {
    steps: number
    stepsOn: number
    starts: number
    stops: number
    /** [mA] highest amplitude seen */
    maxAmplitudeMa: number
    /** ClampReason bits seen as the binding reason */
    clampReasons: number
    /** StimReason bits of the stop causes seen (a stop is a step that turned the output off) */
    stopCauses: number
    /** steps whose amplitude was within 2 register steps (2/256 mA) of each limit */
    atAmplitudeCap: number
    atChargeCap: number
    atAverageCurrentCap: number
    atDensityCap: number
}

/** [mA] "at a cap" for coverage: within two register steps of it */
const NEAR_MA = 2 / 256

export class StimInvariantChecker {
    violations = 0
    firstViolation = ""
    readonly coverage: StimCoverage = {
        steps: 0,
        stepsOn: 0,
        starts: 0,
        stops: 0,
        maxAmplitudeMa: 0,
        clampReasons: 0,
        stopCauses: 0,
        atAmplitudeCap: 0,
        atChargeCap: 0,
        atAverageCurrentCap: 0,
        atDensityCap: 0,
    }

    private stepped = false
    private prevNow = 0
    private prevOn = false
    private prevAmp = 0
    // what the events said
    private configured = false
    private ampCap = 0
    private pwCap = PULSE_WIDTH_MIN_US
    private fCap = FREQUENCY_MIN_HZ
    private areaCm2 = 0
    private stimLimitMs = 0
    private restOk = false
    private contraindicated = false
    private batteryOk = false
    private probeIn = false
    private lastStatus = -Infinity
    private stimUsed = 0
    private levelBound = 0
    private lastPhase: StimPhaseSettings | undefined = undefined

    /** Checks one step; returns "" or what was violated (also counted). */
    check(ev: StimEvent, step: StimStep): string {
        const msg = this.judge(ev, step)
        this.coverage.steps++
        if (msg !== "") {
            this.violations++
            if (this.firstViolation === "") this.firstViolation = "step " + this.coverage.steps + " (event " + ev.kind + " at " + ev.now + "): " + msg
        }
        return msg
    }

    private judge(ev: StimEvent, step: StimStep): string {
        const c = step.command
        const on = c.enabled
        const amp = c.amplitudeMa
        const now = ev.now
        const clockBad = !finite(now) || (this.stepped && now < this.prevNow)
        const dt = this.stepped && !clockBad ? now - this.prevNow : 0
        const prevOn = this.prevOn
        const prevAmp = this.prevAmp

        // stop conditions from time passing (before the event's content)
        let stopNow = clockBad
        if (prevOn && !clockBad) {
            this.stimUsed += dt
            if (dt > STIM_WATCHDOG_TIMEOUT_MS) stopNow = true
            if (now - this.lastStatus > STIM_STATUS_TIMEOUT_MS) stopNow = true
            if (this.stimUsed >= this.stimLimitMs) stopNow = true
        }
        const statusSilence = now - this.lastStatus
        let mustBeZero = false
        if (!clockBad) {
            const e = this.applyEvent(ev, prevOn, stopNow)
            if (e === 1) stopNow = true
            if (e === 2) mustBeZero = true
        } else this.lastStatus = -Infinity

        // update the model for the next step
        // the supervisor adopts a clock that went backwards (after stopping); a NaN clock changes nothing
        if (finite(now)) {
            this.prevNow = now
            this.stepped = true
        }
        this.prevOn = on
        this.prevAmp = on ? amp : 0
        if (on) this.coverage.stepsOn++
        if (on && !prevOn) this.coverage.starts++
        if (!on && prevOn) {
            this.coverage.stops++
            if (step.reason < 31) this.coverage.stopCauses = this.coverage.stopCauses | (1 << step.reason)
        }
        if (on && amp > 0) this.countNearCaps(step)
        if (amp > this.coverage.maxAmplitudeMa) this.coverage.maxAmplitudeMa = amp
        if (step.clamp > 0) this.coverage.clampReasons = this.coverage.clampReasons | (1 << step.clamp)

        return this.judgeOutput(ev, step, { prevOn, prevAmp, dt, stopNow, mustBeZero, clockBad, statusSilence })
    }

    private countNearCaps(step: StimStep): void {
        const c = step.command
        const o: StimOutput = { amplitudeMa: c.amplitudeMa + NEAR_MA, pulseWidthUs: c.pulseWidthUs, frequencyHz: c.frequencyHz }
        const cov = this.coverage
        if (o.amplitudeMa > this.ampCap) cov.atAmplitudeCap++
        if (chargePerPhaseUc(o) > CHARGE_PER_PHASE_MAX_UC) cov.atChargeCap++
        if (averageCurrentMa(o) > AVERAGE_CURRENT_MAX_MA) cov.atAverageCurrentCap++
        if (this.areaCm2 > 0 && rmsCurrentDensityMaPerCm2(o, this.areaCm2) > CURRENT_DENSITY_MAX_MA_PER_CM2) cov.atDensityCap++
    }

    /** Applies the event to the model: 1 = a stop condition, 2 = the output must be 0 now, 0 = neither. */
    private applyEvent(ev: StimEvent, prevOn: boolean, stoppedByTime: boolean): number {
        const now = ev.now
        switch (ev.kind) {
            case StimEventKind.Start:
                // a start while running changes nothing (a retried command), unless time just stopped it
                if (!prevOn || stoppedByTime) this.levelBound = 0
                return 0
            case StimEventKind.StopButton:
            case StimEventKind.PhaseEnded:
            case StimEventKind.Exception:
            case StimEventKind.TrainerLost:
                return 1
            case StimEventKind.LeadOff:
                this.lastStatus = now
                return 1
            case StimEventKind.ModuleStatus:
                this.lastStatus = now
                return 0
            case StimEventKind.ModuleFault:
                this.lastStatus = now
                return ev.value === 0 ? 0 : 1
            case StimEventKind.Impedance: {
                this.lastStatus = now
                const v = ev.value
                if (!prevOn || v === 0) return 0
                return finite(v) && (v as number) >= LOAD_IMPEDANCE_MIN_OHM && (v as number) <= LOAD_IMPEDANCE_MAX_OHM ? 0 : 1
            }
            case StimEventKind.BatteryLow:
                this.batteryOk = false
                return 1
            case StimEventKind.BatteryOk:
                this.batteryOk = true
                return 0
            case StimEventKind.ProbeRemoved:
                this.probeIn = false
                return 1
            case StimEventKind.ProbeInserted:
                this.probeIn = true
                return 0
            case StimEventKind.Contraindication:
                if (!flagged(ev.contraindications)) return 0
                this.contraindicated = true
                return 1
            case StimEventKind.ProgramChanged:
                this.configured = false
                this.lastPhase = undefined
                return 1
            case StimEventKind.SessionBegin:
                this.configure(ev.session)
                return 1
            case StimEventKind.IntensityUp:
                this.levelBound = Math.min(this.levelBound + AMPLITUDE_STEP_MA, this.ampCap)
                return 0
            case StimEventKind.IntensityDown:
                this.levelBound = Math.max(0, this.levelBound - AMPLITUDE_STEP_MA)
                return 0
            case StimEventKind.Phase:
                return this.phase(ev.phase)
            case StimEventKind.Tick:
            case StimEventKind.MeasuredLevel:
                return 0
        }
        return 1 // unknown event: the supervisor must fail safe
    }

    private configure(s: StimSessionConfig | undefined): void {
        this.stimUsed = 0
        this.levelBound = 0
        this.lastPhase = undefined
        this.configured = false
        this.ampCap = 0
        this.contraindicated = !s || flagged(s.contraindications)
        this.restOk = !!s && (s.restSinceLastSessionMs === Infinity || (finite(s.restSinceLastSessionMs) && s.restSinceLastSessionMs >= SESSION_REST_MIN_MS))
        if (!s) return
        const t = s.therapistCaps
        const area = s.electrodeAreaCm2
        if (!t || !(finite(area) && (area as number) > 0)) return
        const fields = [t.amplitudeMaxMa, t.pulseWidthMaxUs, t.frequencyMaxHz, t.sessionStimMaxMs]
        for (const v of fields) if (!(finite(v) && v > 0)) return
        if (Math.floor(Math.min(t.pulseWidthMaxUs, PULSE_WIDTH_MAX_US)) < PULSE_WIDTH_MIN_US) return
        if (Math.floor(Math.min(t.frequencyMaxHz, FREQUENCY_MAX_HZ)) < FREQUENCY_MIN_HZ) return
        this.configured = true
        this.ampCap = Math.min(t.amplitudeMaxMa, AMPLITUDE_MAX_MA)
        this.pwCap = Math.min(t.pulseWidthMaxUs, PULSE_WIDTH_MAX_US)
        this.fCap = Math.min(t.frequencyMaxHz, FREQUENCY_MAX_HZ)
        this.areaCm2 = area as number
        this.stimLimitMs = Math.min(t.sessionStimMaxMs, SESSION_STIM_MAX_MS)
    }

    /** New phase settings: 1 if plainly invalid (stop), 2 if different (through zero), 0 if the same. */
    private phase(p: StimPhaseSettings | undefined): number {
        const before = this.lastPhase
        this.lastPhase = p
        if (!p) return 1
        const nums = [p.frequencyHz, p.pulseWidthUs, p.workMs, p.restMs, p.rampUpMs, p.rampDownMs]
        for (const v of nums) if (!finite(v)) return 1
        if (p.mode !== 1 && p.mode !== 2 && p.mode !== 3) return 1
        if (before && sameSettings(before, p)) return 0
        this.levelBound = 0
        return 2
    }

    private judgeOutput(ev: StimEvent, step: StimStep, s: JudgeState): string {
        const c = step.command
        const on = c.enabled
        const amp = c.amplitudeMa
        const o: StimOutput = { amplitudeMa: amp, pulseWidthUs: c.pulseWidthUs, frequencyHz: c.frequencyHz }
        if (!finite(amp) || !finite(c.pulseWidthUs) || !finite(c.frequencyHz)) return "a commanded number is not finite"
        if (!on && amp !== 0) return "off but amplitude " + amp + " mA"
        if (amp < 0) return "negative amplitude " + amp
        // 1. caps
        if (amp > AMPLITUDE_MAX_MA) return "amplitude " + amp + " mA above the hard cap"
        if (c.pulseWidthUs < PULSE_WIDTH_MIN_US || c.pulseWidthUs > PULSE_WIDTH_MAX_US) return "pulse width " + c.pulseWidthUs + " us outside the hard range"
        if (c.frequencyHz < FREQUENCY_MIN_HZ || c.frequencyHz > FREQUENCY_MAX_HZ) return "frequency " + c.frequencyHz + " Hz outside the hard range"
        if (chargePerPhaseUc(o) > CHARGE_PER_PHASE_MAX_UC) return "charge per phase " + chargePerPhaseUc(o) + " uC above the cap"
        if (averageCurrentMa(o) > AVERAGE_CURRENT_MAX_MA) return "average current " + averageCurrentMa(o) + " mA above the cap"
        if (pulseEnergyMj(o) > PULSE_ENERGY_MAX_MJ) return "pulse energy " + pulseEnergyMj(o) + " mJ above the cap"
        if (on && !this.configured) return "on without valid caps"
        if (on || this.configured) {
            if (amp > this.ampCap) return "amplitude " + amp + " mA above the cap " + this.ampCap
            if (amp > 0 && rmsCurrentDensityMaPerCm2(o, this.areaCm2) > CURRENT_DENSITY_MAX_MA_PER_CM2)
                return "current density " + rmsCurrentDensityMaPerCm2(o, this.areaCm2) + " mA/cm2 above the cap"
        }
        if (this.configured && c.pulseWidthUs > this.pwCap) return "pulse width " + c.pulseWidthUs + " us above the therapist cap " + this.pwCap
        if (this.configured && c.frequencyHz > this.fCap) return "frequency " + c.frequencyHz + " Hz above the therapist cap " + this.fCap
        // 2. ramp
        if (amp - s.prevAmp > (AMPLITUDE_RAMP_MAX_MA_PER_S * s.dt) / 1000)
            return "amplitude rose " + (amp - s.prevAmp) + " mA in " + s.dt + " ms"
        if (!on) return ""
        // 3. stops latch; only a deliberate start turns it on, from zero
        const isStart = ev.kind === StimEventKind.Start
        if (s.clockBad) return "on with a clock fault"
        if (s.stopNow && !isStart) return "on in the step of a stop condition"
        if ((!s.prevOn || s.stopNow) && !isStart) return "turned on without a deliberate start"
        if ((!s.prevOn || s.stopNow) && amp > AMPLITUDE_START_MA) return "started at " + amp + " mA, not from the start amplitude"
        if (s.mustBeZero && amp !== 0) return "phase changed but the output did not go through zero"
        // 4. conditions that forbid stimulation
        if (this.contraindicated) return "on with a contraindication"
        if (!this.restOk) return "on too soon after the last session"
        if (!this.batteryOk) return "on with battery low"
        if (!this.probeIn) return "on with the probe out"
        if (!(s.statusSilence >= 0 && s.statusSilence <= STIM_STATUS_TIMEOUT_MS)) return "on with the module silent for " + s.statusSilence + " ms"
        if (this.stimUsed >= this.stimLimitMs) return "on after the session's stim time"
        // 5. the patient's level
        if (amp > this.levelBound) return "amplitude " + amp + " mA above what the presses allow (" + this.levelBound + ")"
        return ""
    }
}

interface JudgeState {
    prevOn: boolean
    prevAmp: number
    dt: number
    stopNow: boolean
    mustBeZero: boolean
    clockBad: boolean
    statusSilence: number
}

function rampMs(x: number): number {
    return Math.max(RAMP_MIN_MS, Math.min(RAMP_MAX_MS, x))
}

/** Same settings after the documented normalization (ramps clamped; the ETS trigger only counts in ETS). */
function sameSettings(a: StimPhaseSettings, b: StimPhaseSettings): boolean {
    return (
        a.mode === b.mode &&
        a.frequencyHz === b.frequencyHz &&
        a.pulseWidthUs === b.pulseWidthUs &&
        a.workMs === b.workMs &&
        a.restMs === b.restMs &&
        rampMs(a.rampUpMs) === rampMs(b.rampUpMs) &&
        rampMs(a.rampDownMs) === rampMs(b.rampDownMs) &&
        (a.mode !== StimMode.Ets || a.triggerPct === b.triggerPct)
    )
}
