/**
 * Fixture factories and a small rig for driving the stim supervisor in
 * tests: fresh objects from `make*({ ...overrides })`, never shared mutable
 * fixtures. DeviceScript subset: used by vitest (tests/core/stim/) and by
 * the VM cases (tests/cases/stim.cases.ts).
 */
import type { TherapistCaps } from "../../src/core/stim/caps"
import { StimMode, type StimPhaseSettings } from "../../src/core/stim/plan"
import {
    StimEventKind,
    StimSupervisor,
    type ContraindicationFlags,
    type StimEvent,
    type StimSessionConfig,
    type StimStep,
} from "../../src/core/stim/supervisor"

export interface TherapistCapsOverrides {
    amplitudeMaxMa?: number
    pulseWidthMaxUs?: number
    frequencyMaxHz?: number
    sessionStimMaxMs?: number
}

/** Therapist caps below the hard limits: 60 mA, 400 us, 80 Hz, 20 min. */
export function makeTherapistCaps(o?: TherapistCapsOverrides): TherapistCaps {
    const c: TherapistCaps = { amplitudeMaxMa: 60, pulseWidthMaxUs: 400, frequencyMaxHz: 80, sessionStimMaxMs: 20 * 60 * 1000 }
    if (o) {
        if (o.amplitudeMaxMa !== undefined) c.amplitudeMaxMa = o.amplitudeMaxMa
        if (o.pulseWidthMaxUs !== undefined) c.pulseWidthMaxUs = o.pulseWidthMaxUs
        if (o.frequencyMaxHz !== undefined) c.frequencyMaxHz = o.frequencyMaxHz
        if (o.sessionStimMaxMs !== undefined) c.sessionStimMaxMs = o.sessionStimMaxMs
    }
    return c
}

export function noContraindications(): ContraindicationFlags {
    return { pregnant: false, implantedDevice: false, other: false }
}

export interface SessionOverrides {
    therapistCaps?: TherapistCaps
    electrodeAreaCm2?: number
    contraindications?: ContraindicationFlags
    restSinceLastSessionMs?: number
}

/** A valid session: default therapist caps, 10 cm^2 electrodes, no contraindications, no earlier session. */
export function makeSession(o?: SessionOverrides): StimSessionConfig {
    const s: StimSessionConfig = {
        therapistCaps: makeTherapistCaps(),
        electrodeAreaCm2: 10,
        contraindications: noContraindications(),
        restSinceLastSessionMs: Infinity,
    }
    if (o) {
        if (o.therapistCaps !== undefined) s.therapistCaps = o.therapistCaps
        if (o.electrodeAreaCm2 !== undefined) s.electrodeAreaCm2 = o.electrodeAreaCm2
        if (o.contraindications !== undefined) s.contraindications = o.contraindications
        if (o.restSinceLastSessionMs !== undefined) s.restSinceLastSessionMs = o.restSinceLastSessionMs
    }
    return s
}

export interface PhaseOverrides {
    mode?: StimMode
    frequencyHz?: number
    pulseWidthUs?: number
    workMs?: number
    restMs?: number
    rampUpMs?: number
    rampDownMs?: number
    triggerPct?: number
}

function withOverrides(p: StimPhaseSettings, o: PhaseOverrides | undefined): StimPhaseSettings {
    if (!o) return p
    if (o.mode !== undefined) p.mode = o.mode
    if (o.frequencyHz !== undefined) p.frequencyHz = o.frequencyHz
    if (o.pulseWidthUs !== undefined) p.pulseWidthUs = o.pulseWidthUs
    if (o.workMs !== undefined) p.workMs = o.workMs
    if (o.restMs !== undefined) p.restMs = o.restMs
    if (o.rampUpMs !== undefined) p.rampUpMs = o.rampUpMs
    if (o.rampDownMs !== undefined) p.rampDownMs = o.rampDownMs
    if (o.triggerPct !== undefined) p.triggerPct = o.triggerPct
    return p
}

/**
 * Continuous relaxation at 10 Hz, 250 us, 500 ms ramp: after the ramp the
 * envelope is 1, so the output follows the level (the simplest phase to
 * test the rules with).
 */
export function makePhase(o?: PhaseOverrides): StimPhaseSettings {
    const p: StimPhaseSettings = {
        mode: StimMode.Relax,
        frequencyHz: 10,
        pulseWidthUs: 250,
        workMs: 5000,
        restMs: 0,
        rampUpMs: 500,
        rampDownMs: 500,
        triggerPct: 0,
    }
    return withOverrides(p, o)
}

/** Strengthening: 50 Hz, 250 us, 5 s work, 10 s rest, 1 s ramps. */
export function makeStrengthenPhase(o?: PhaseOverrides): StimPhaseSettings {
    const p = makePhase({ mode: StimMode.Strengthen, frequencyHz: 50, pulseWidthUs: 250, workMs: 5000, restMs: 10000, rampUpMs: 1000, rampDownMs: 1000 })
    return withOverrides(p, o)
}

/** ETS: 35 Hz, 250 us, assist 5 s, 10 s rest, 1 s ramps, trigger at 60 % of target. */
export function makeEtsPhase(o?: PhaseOverrides): StimPhaseSettings {
    const p = makePhase({ mode: StimMode.Ets, frequencyHz: 35, pulseWidthUs: 250, workMs: 5000, restMs: 10000, rampUpMs: 1000, rampDownMs: 1000, triggerPct: 60 })
    return withOverrides(p, o)
}

/**
 * [ms] the rig's tick: well inside the keep-alive gap (250 ms) and the
 * status timeout (500 ms). The firmware ticks faster (20-50 ms); 100 ms
 * keeps a scenario short enough for the VM's synchronous-step budget.
 */
export const RIG_TICK_MS = 100

/**
 * Drives one supervisor with a clock. `status(t)` is a module status report
 * (a heartbeat that also ticks); `run(ms)` advances in RIG_TICK_MS steps
 * with a status each step, as a healthy module and firmware would.
 */
export class StimRig {
    readonly sup = new StimSupervisor()
    now = 0
    last: StimStep

    constructor() {
        this.last = this.sup.tick(0)
    }

    send(ev: StimEvent): StimStep {
        this.now = ev.now
        this.last = this.sup.step(ev)
        return this.last
    }

    /** an event of `kind` at the current time (or `dtMs` later) */
    ev(kind: StimEventKind, value?: number, dtMs?: number): StimStep {
        return this.send({ kind, now: this.now + (dtMs ?? 0), value })
    }

    /** session, phase, battery and probe OK, module heard: ready to start */
    ready(session?: StimSessionConfig, phase?: StimPhaseSettings): StimStep {
        this.send({ kind: StimEventKind.SessionBegin, now: this.now, session: session ?? makeSession() })
        this.send({ kind: StimEventKind.Phase, now: this.now, phase: phase ?? makePhase() })
        this.ev(StimEventKind.BatteryOk)
        this.ev(StimEventKind.ProbeInserted)
        return this.ev(StimEventKind.ModuleStatus)
    }

    start(): StimStep {
        return this.ev(StimEventKind.Start)
    }

    /** `ms` of healthy running: a module status every RIG_TICK_MS */
    run(ms: number): StimStep {
        const end = this.now + ms
        while (this.now + RIG_TICK_MS < end) this.ev(StimEventKind.ModuleStatus, undefined, RIG_TICK_MS)
        if (this.now < end) this.ev(StimEventKind.ModuleStatus, undefined, end - this.now)
        return this.last
    }

    /** `n` intensity-up presses at the current time */
    press(n: number): StimStep {
        for (let i = 0; i < n; i++) this.ev(StimEventKind.IntensityUp)
        return this.last
    }

    /**
     * ready, start, past the ramp-in, the level raised to `levelMa` and the
     * output ramped up to it (continuous phase).
     */
    reach(levelMa: number, session?: StimSessionConfig, phase?: StimPhaseSettings): StimStep {
        this.ready(session, phase)
        this.start()
        this.run(600)
        this.press(Math.ceil(levelMa / 0.5))
        return this.run(Math.ceil((levelMa / 30) * 1000) + 100)
    }
}
