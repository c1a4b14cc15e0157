/**
 * A seeded source of random supervisor events for long random walks: the
 * DeviceScript VM walk (tests/vm/stim.vm.ts) and the soak benchmark
 * (bench/supervisor-soak.ts). The vitest property tests use fast-check's
 * own arbitraries instead (tests/core/stim/supervisor.property.test.ts),
 * which shrink a failure to a short sequence.
 *
 * Weighted towards what makes stimulation happen and go up (status reports,
 * intensity up, starts), with every stop cause, out-of-range and invalid
 * settings, contraindications, and time jumps around each timeout (keep-
 * alive gap, module silence, short therapist session caps so stim time
 * runs out) and backwards.
 *
 * DeviceScript subset: no Map, no typed arrays, `===` only, 32-bit integer
 * arithmetic through Math.imul and `>>> 0`.
 */
import { StimInvariantChecker } from "../../src/core/stim/invariants"
import { StimMode, type StimPhaseSettings } from "../../src/core/stim/plan"
import { StimEventKind, StimSupervisor, type StimEvent, type StimSessionConfig } from "../../src/core/stim/supervisor"

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; same sequence in Node and DeviceScript. */
export class Rng {
    private s: number
    constructor(seed: number) {
        this.s = seed >>> 0
    }
    /** [0, 1) */
    next(): number {
        this.s = (this.s + 0x6d2b79f5) >>> 0
        let t = this.s
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    /** [lo, hi) */
    range(lo: number, hi: number): number {
        return lo + (hi - lo) * this.next()
    }
    int(lo: number, hi: number): number {
        return Math.floor(this.range(lo, hi + 1))
    }
    chance(p: number): boolean {
        return this.next() < p
    }
}

/**
 * Event kinds and their weights (relative), in two regimes. Calm: a session
 * going well (frequent module status, intensity presses, ticks every few
 * tens of ms), so stimulation runs long enough to reach every cap. Chaos:
 * every stop cause, invalid settings and time jumps. The walk stays calm
 * for a few hundred steps, then has a burst of chaos of a few tens.
 */
const CALM: number[] = [
    StimEventKind.Tick, 20,
    StimEventKind.ModuleStatus, 22,
    StimEventKind.Impedance, 10,
    StimEventKind.IntensityUp, 30,
    StimEventKind.IntensityDown, 3,
    StimEventKind.Start, 4,
    StimEventKind.MeasuredLevel, 12,
    StimEventKind.BatteryOk, 0.5,
    StimEventKind.ProbeInserted, 0.5,
    StimEventKind.Phase, 0.1,
]

const CHAOS: number[] = [
    StimEventKind.Tick, 10,
    StimEventKind.ModuleStatus, 8,
    StimEventKind.Impedance, 10,
    StimEventKind.IntensityUp, 8,
    StimEventKind.IntensityDown, 4,
    StimEventKind.Start, 20,
    StimEventKind.StopButton, 3,
    StimEventKind.Phase, 4,
    StimEventKind.SessionBegin, 3,
    StimEventKind.LeadOff, 2,
    StimEventKind.ModuleFault, 3,
    StimEventKind.BatteryLow, 2,
    StimEventKind.BatteryOk, 3,
    StimEventKind.ProbeRemoved, 2,
    StimEventKind.ProbeInserted, 3,
    StimEventKind.Contraindication, 4,
    StimEventKind.Exception, 1,
    StimEventKind.ProgramChanged, 1,
    StimEventKind.MeasuredLevel, 6,
    StimEventKind.TrainerLost, 1,
    StimEventKind.PhaseEnded, 1,
]

function totalWeight(kinds: number[]): number {
    let w = 0
    for (let i = 1; i < kinds.length; i += 2) w += kinds[i]
    return w
}

/** per step: chaos -> calm (a burst of ~20 steps) */
const TO_CALM = 0.05

const CALM_WEIGHT = totalWeight(CALM)
const CHAOS_WEIGHT = totalWeight(CHAOS)

/** [ms] steps exactly at and just past the timeouts (250 keep-alive gap, 500 status). */
const STIM_BOUNDARY_STEPS: number[] = [250, 251, 500, 501, 249.999, 500.001]

/** [Hz] low (charge binds), 50 and, most often, the top (charge and average current tie at 450 us) */
const CORNER_FREQUENCIES: number[] = [1, 2, 10, 50, 100, 100, 100]

/** [Ohm] loads exactly at and just past the accepted range (100..2500) */
const IMPEDANCE_BOUNDARIES: number[] = [100, 99.999, 2500, 2500.001, -1]

export function randomSession(r: Rng): StimSessionConfig {
    const bad = r.chance(0.1)
    if (!bad && r.chance(0.3)) return cornerSession(r)
    return {
        therapistCaps: r.chance(0.03)
            ? undefined
            : {
                  amplitudeMaxMa: bad && r.chance(0.3) ? (r.chance(0.5) ? NaN : 0) : r.range(1, 130),
                  pulseWidthMaxUs: bad && r.chance(0.3) ? r.range(1, 60) : r.range(60, 700),
                  frequencyMaxHz: bad && r.chance(0.3) ? r.range(0, 1.5) : r.range(2, 200),
                  // often short, so the session's stim time runs out within a walk
                  sessionStimMaxMs: r.chance(0.5) ? r.range(2000, 60000) : r.range(60000, 2 * 3600000),
              },
        electrodeAreaCm2: bad && r.chance(0.3) ? (r.chance(0.5) ? 0 : NaN) : r.range(0.5, 30),
        contraindications: r.chance(0.02)
            ? undefined
            : { pregnant: r.chance(0.03), implantedDevice: r.chance(0.03), other: r.chance(0.02) },
        restSinceLastSessionMs: r.chance(0.8) ? Infinity : r.range(3 * 3600000, 5 * 3600000),
    }
}

/** A valid session whose caps reach the corners: charge, average current and density can bind. */
export function cornerSession(r: Rng): StimSessionConfig {
    return {
        therapistCaps: { amplitudeMaxMa: r.range(90, 120), pulseWidthMaxUs: r.range(450, 600), frequencyMaxHz: r.range(100, 150), sessionStimMaxMs: r.range(60000, 3600000) },
        electrodeAreaCm2: r.range(5, 30),
        contraindications: { pregnant: false, implantedDevice: false, other: false },
        restSinceLastSessionMs: Infinity,
    }
}

/** [us] the top of the range, half the time exactly 450 us */
function cornerPulseWidth(r: Rng): number {
    return r.chance(0.5) ? 450 : r.int(440, 450)
}

/** A valid phase; at the corners (top pulse width, low or top frequency) with `corner`. */
export function goodPhase(r: Rng, corner: boolean): StimPhaseSettings {
    return {
        mode: r.int(1, 3) as StimMode,
        frequencyHz: corner ? CORNER_FREQUENCIES[r.int(0, CORNER_FREQUENCIES.length - 1)] : r.int(1, 100),
        pulseWidthUs: corner ? cornerPulseWidth(r) : r.int(50, 450),
        workMs: r.range(1000, 8000),
        restMs: r.range(0, 8000),
        rampUpMs: r.range(500, 3000),
        rampDownMs: r.range(500, 3000),
        triggerPct: r.range(20, 90),
    }
}

export function randomPhase(r: Rng): StimPhaseSettings {
    const mode = r.chance(0.03) ? r.int(0, 5) : r.int(1, 3)
    const corner = r.chance(0.3)
    const p: StimPhaseSettings = {
        mode: mode as StimMode,
        frequencyHz: corner ? CORNER_FREQUENCIES[r.int(0, CORNER_FREQUENCIES.length - 1)] : r.chance(0.8) ? r.int(1, 100) : r.range(0, 300),
        pulseWidthUs: corner ? cornerPulseWidth(r) : r.chance(0.8) ? r.int(50, 450) : r.range(0, 1200),
        workMs: r.range(0, 12000),
        restMs: r.chance(0.3) ? 0 : r.range(0, 15000),
        rampUpMs: r.range(0, 12000),
        rampDownMs: r.range(0, 12000),
        triggerPct: r.range(-20, 150),
    }
    if (r.chance(0.02)) p.workMs = NaN
    if (r.chance(0.02)) p.frequencyHz = NaN
    return p
}

/** Endless random events with a monotonic-ish clock. */
export class StimEventSource {
    private now = 0
    private lastPhase: StimPhaseSettings | undefined = undefined
    private chaos = false
    private calmLeft = 0
    readonly rng: Rng

    constructor(seed: number) {
        this.rng = new Rng(seed)
        this.calmLeft = this.rng.int(100, 300)
    }

    /**
     * Events that make a start possible (valid session, phase, battery,
     * probe, module heard). `topCorner`: 450 us at 100 Hz with caps that let
     * the level reach the charge cap, where charge and average current tie.
     */
    setup(topCorner?: boolean): StimEvent[] {
        const r = this.rng
        const session: StimSessionConfig = {
            therapistCaps: { amplitudeMaxMa: r.range(10, 120), pulseWidthMaxUs: r.range(100, 600), frequencyMaxHz: r.range(10, 150), sessionStimMaxMs: r.range(5000, 3600000) },
            electrodeAreaCm2: r.range(1, 30),
            contraindications: { pregnant: false, implantedDevice: false, other: false },
            restSinceLastSessionMs: Infinity,
        }
        // a third of the walks at the corners, where charge, average current and density bind
        const corner = r.chance(0.33)
        if (corner && session.therapistCaps) {
            session.therapistCaps.amplitudeMaxMa = r.range(90, 120)
            session.therapistCaps.pulseWidthMaxUs = r.range(450, 600)
            session.therapistCaps.frequencyMaxHz = r.range(100, 150)
            session.electrodeAreaCm2 = r.range(5, 30)
        }
        const phase = goodPhase(r, corner)
        if (topCorner && session.therapistCaps) {
            session.therapistCaps.amplitudeMaxMa = 95
            session.therapistCaps.pulseWidthMaxUs = 450
            session.therapistCaps.frequencyMaxHz = 100
            session.electrodeAreaCm2 = 20
            phase.pulseWidthUs = 450
            phase.frequencyHz = 100
            this.calmLeft = 3000 // time to press up to the cap
        }
        this.lastPhase = phase
        const t = this.now
        return [
            { kind: StimEventKind.SessionBegin, now: t, session },
            { kind: StimEventKind.Phase, now: t, phase },
            { kind: StimEventKind.BatteryOk, now: t },
            { kind: StimEventKind.ProbeInserted, now: t },
            { kind: StimEventKind.ModuleStatus, now: t },
            { kind: StimEventKind.Start, now: t },
        ]
    }

    /**
     * Calm stretches are mostly short (85 %: 30-200 steps, so many stops
     * and restarts) or long (1500-5000 steps: time to press the level up to
     * the caps); chaos bursts last ~1/TO_CALM steps.
     */
    private switchRegime(): void {
        const r = this.rng
        if (this.chaos) {
            if (r.chance(TO_CALM)) {
                this.chaos = false
                this.calmLeft = r.chance(0.85) ? r.int(30, 200) : r.int(1500, 5000)
            }
        } else if (--this.calmLeft <= 0) this.chaos = true
    }

    private advance(): number {
        const r = this.rng
        const u = r.next()
        if (!this.chaos) return u < 0.1 ? 0 : r.range(0, 40)
        if (u < 0.1) return 0
        if (u < 0.7) return r.range(0, 50)
        if (u < 0.8) return r.range(50, 300) // around the keep-alive gap (250 ms)
        if (u < 0.87) return r.range(300, 1000) // around the status timeout (500 ms)
        if (u < 0.9) return r.range(1000, 3600000) // long jumps
        if (u < 0.93) return r.range(-1000, 0) // the clock goes backwards
        return STIM_BOUNDARY_STEPS[r.int(0, STIM_BOUNDARY_STEPS.length - 1)]
    }

    private kind(): StimEventKind {
        const kinds = this.chaos ? CHAOS : CALM
        let x = this.rng.next() * (this.chaos ? CHAOS_WEIGHT : CALM_WEIGHT)
        for (let i = 0; i < kinds.length; i += 2) {
            x -= kinds[i + 1]
            if (x < 0) return kinds[i] as StimEventKind
        }
        return StimEventKind.Tick
    }

    next(): StimEvent {
        const r = this.rng
        this.switchRegime()
        this.now += this.advance()
        const now = this.now
        const kind = this.kind()
        switch (kind) {
            case StimEventKind.Impedance: {
                const u = r.next()
                let v = r.range(100, 2500)
                if (this.chaos && u >= 0.4) {
                    if (u < 0.5) v = 0 // not measured
                    else if (u < 0.65) v = r.range(0, 100)
                    else if (u < 0.8) v = r.range(2500, 10000)
                    else if (u < 0.97) v = IMPEDANCE_BOUNDARIES[r.int(0, IMPEDANCE_BOUNDARIES.length - 1)]
                    else v = NaN
                }
                return { kind, now, value: v }
            }
            case StimEventKind.ModuleFault:
                return { kind, now, value: r.chance(0.5) ? 0 : r.int(1, 6) }
            case StimEventKind.MeasuredLevel:
                return { kind, now, value: r.chance(0.02) ? NaN : r.range(0, 150) }
            case StimEventKind.Phase: {
                // often a retry of the same settings (must change nothing); calm: a valid new phase
                const p = this.lastPhase && r.chance(0.3) ? this.lastPhase : this.chaos ? randomPhase(r) : goodPhase(r, r.chance(0.33))
                this.lastPhase = p
                return { kind, now, phase: p }
            }
            case StimEventKind.SessionBegin:
                return { kind, now, session: randomSession(r) }
            case StimEventKind.Contraindication:
                return {
                    kind,
                    now,
                    contraindications: r.chance(0.1) ? undefined : { pregnant: r.chance(0.4), implantedDevice: r.chance(0.4), other: r.chance(0.2) },
                }
        }
        return { kind, now }
    }
}

/** What a walk did, to compare Node and the VM number for number. */
export interface StimWalkDigest {
    steps: number
    violations: number
    stepsOn: number
    /** sums of the commanded values over all steps (IEEE doubles: the same on both sides) */
    amplitudeSumMa: number
    pulseWidthSumUs: number
    frequencySumHz: number
    firstViolation: string
}

/** A seeded walk: supervisor + independent checker, advanced in chunks (the VM yields between them). */
export class StimWalk {
    private readonly src: StimEventSource
    private readonly sup = new StimSupervisor()
    private readonly checker = new StimInvariantChecker()
    private readonly d: StimWalkDigest = { steps: 0, violations: 0, stepsOn: 0, amplitudeSumMa: 0, pulseWidthSumUs: 0, frequencySumHz: 0, firstViolation: "" }

    constructor(seed: number, topCorner?: boolean) {
        this.src = new StimEventSource(seed)
        const setup = this.src.setup(topCorner)
        for (const ev of setup) this.take(ev)
    }

    private take(ev: StimEvent): void {
        const s = this.sup.step(ev)
        this.checker.check(ev, s)
        const d = this.d
        d.steps++
        if (s.command.enabled) d.stepsOn++
        d.amplitudeSumMa += s.command.amplitudeMa
        d.pulseWidthSumUs += s.command.pulseWidthUs
        d.frequencySumHz += s.command.frequencyHz
    }

    /** `n` more random steps */
    advance(n: number): void {
        for (let i = 0; i < n; i++) this.take(this.src.next())
    }

    digest(): StimWalkDigest {
        this.d.violations = this.checker.violations
        this.d.firstViolation = this.checker.firstViolation
        return this.d
    }
}

/**
 * A short walk both worlds run (vitest: tests/core/stim/shared-cases.test.ts;
 * the VM: tests/vm/stim.vm.ts) and must digest to these very numbers: the
 * firmware commands exactly what Node computes, step for step. Seed 11 has
 * three stops (lead-off, a keep-alive gap, a program change) in its first
 * 400 steps. A deliberate change of behaviour changes them: rerun the walk
 * under Node, check the change is the intended one, and update.
 */
export const STIM_WALK_GOLDEN = {
    seed: 11,
    randomSteps: 400,
    digest: {
        steps: 406,
        violations: 0,
        stepsOn: 203,
        amplitudeSumMa: 1547.9453125,
        pulseWidthSumUs: 102479,
        frequencySumHz: 2269,
        firstViolation: "",
    } as StimWalkDigest,
}
