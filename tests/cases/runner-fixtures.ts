// Session-runner fixtures shared by vitest (tests/core/runner/) and the
// DeviceScript VM (tests/cases/runner.cases.ts): factories that build a
// fresh object on every call, and a rig that drives a runner with samples
// at a fixed step and collects its events. Kept to the DeviceScript subset.
import type { RepMetrics } from "../../src/core/metrics/types"
import { noContraindications, type Phase, type Program, type RelaxationCriterion, type StimPhase } from "../../src/core/program/types"
import { DEFAULT_RUNNER, SessionRunner, type RunnerOptions } from "../../src/core/runner/session-runner"
import { ButtonKind, RunnerEventKind, type RunnerEvent } from "../../src/core/runner/types"

type Rec = Record<string, unknown>


export function baselinePhase(durationS?: number): Phase {
    return { kind: "baseline", durationS: durationS ?? 10 }
}

export function relaxPhase(over?: Rec): Phase {
    const p: Rec = { kind: "relax", durationS: 30, breathPeriodS: 10, restToneMaxUv: 4 }
    if (over) for (const k of Object.keys(over)) p[k] = over[k]
    return p as unknown as Phase
}

export function flicksPhase(over?: Rec): Phase {
    const p: Rec = { kind: "flicks", reps: 3, onS: 2, offS: 4, targetPctMvc: 60 }
    if (over) for (const k of Object.keys(over)) p[k] = over[k]
    return p as unknown as Phase
}

export function holdsPhase(over?: Rec): Phase {
    const p: Rec = { kind: "holds", reps: 2, workS: 6, restS: 6, targetPctMvc: 50 }
    if (over) for (const k of Object.keys(over)) p[k] = over[k]
    return p as unknown as Phase
}

export function assessmentPhase(over?: Rec): Phase {
    const p: Rec = { kind: "assessment", preBaselineS: 10, flickReps: 2, holdReps: 1, enduranceS: 0, postBaselineS: 10 }
    if (over) for (const k of Object.keys(over)) p[k] = over[k]
    return p as unknown as Phase
}

/** A strengthening stim phase (toning); `over` replaces fields, undefined removes one. */
export function stimPhase(over?: Rec): StimPhase {
    const p: Rec = {
        kind: "stim",
        mode: "strengthen",
        waveform: "symmetric-biphasic",
        frequencyHz: 50,
        pulseWidthUs: 300,
        durationS: 20,
        rampUpS: 1,
        rampDownS: 1,
        workS: 5,
        restS: 10,
    }
    if (over) for (const k of Object.keys(over)) p[k] = over[k]
    for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k]
    return p as unknown as StimPhase
}

/** Relax-mode stim, continuous (not toning). */
export function relaxStimPhase(over?: Rec): StimPhase {
    const p = stimPhase({ mode: "relax", frequencyHz: 10, workS: undefined, restS: undefined })
    const r = p as unknown as Rec
    if (over) for (const k of Object.keys(over)) r[k] = over[k]
    return p
}

export function etsPhase(over?: Rec): StimPhase {
    const p = stimPhase({ mode: "ets", targetPctMvc: 60, triggerPctOfTarget: 80, triggerChannel: "emg" })
    const r = p as unknown as Rec
    if (over) for (const k of Object.keys(over)) r[k] = over[k]
    return p
}

export interface ProgramOverrides {
    channels?: Program["channels"]
    /** flags set to true */
    flags?: string[]
    /** replaces fields of the default criterion; null: no criterion */
    relaxation?: Rec | null
    phases?: Phase[]
    usesDilators?: boolean
}

/**
 * A program for the runner (EMG; criterion 4 uV, SD 1 uV, hold 5 s,
 * timeout 30 s; relax 30 s then 3 flicks), with overrides. Short times
 * keep the tests fast; the runner does not validate (the caller does).
 */
export function makeProgram(o?: ProgramOverrides): Program {
    const over = o ?? {}
    const flags = noContraindications()
    const fr = flags as unknown as Rec
    if (over.flags) for (const f of over.flags) fr[f] = true
    let relaxation: RelaxationCriterion | undefined = { restToneMaxUv: 4, restToneSdMaxUv: 1, holdS: 5, timeoutS: 30 }
    if (over.relaxation === null) relaxation = undefined
    else if (over.relaxation) {
        const r = relaxation as unknown as Rec
        for (const k of Object.keys(over.relaxation)) r[k] = over.relaxation[k]
        for (const k of Object.keys(r)) if (r[k] === undefined) delete r[k]
    }
    const p: Program = {
        formatVersion: 1,
        programId: "runner-test",
        programVersion: 1,
        patientRef: "P-0042",
        channels: over.channels ?? "emg",
        contraindications: flags,
        caps: { amplitudeMaxMa: 40, pulseWidthMaxUs: 300, frequencyMaxHz: 50, sessionStimMaxMin: 20 },
        relaxation: relaxation,
        frequency: { sessionsPerDay: 1 },
        phases: over.phases ?? [relaxPhase(), flicksPhase()],
    }
    if (over.usesDilators !== undefined) p.usesDilators = over.usesDilators
    return p
}

/** Runner options for tests: a 1 s rest window (10 buckets of 100 ms), the rest as DEFAULT_RUNNER. */
export function makeOptions(over?: Rec): RunnerOptions {
    const o: Rec = {}
    const d = DEFAULT_RUNNER as unknown as Rec
    for (const k of Object.keys(d)) o[k] = d[k]
    o["restWindowMs"] = 1000
    o["restWindowBuckets"] = 10
    if (over) for (const k of Object.keys(over)) o[k] = over[k]
    return o as unknown as RunnerOptions
}

/** A finished rep's metrics with the given flags. */
export function makeRep(repIndex: number, flags?: number): RepMetrics {
    return {
        repIndex: repIndex,
        block: 1,
        cueOnMs: 0,
        cueOffMs: 0,
        onsetMs: 100,
        offsetMs: 1000,
        onsetLatencyMs: 100,
        peak: 20,
        peakPctMvc: 100,
        timeToPeakMs: 200,
        meanWork: 15,
        holdAtTargetMs: 0,
        holdCv: 0.1,
        releaseLatencyMs: 100,
        enduranceDeclinePct: 0,
        flags: flags ?? 0,
    }
}

/** Drives one runner: samples every `stepMs`, events collected in order. */
export class RunnerRig {
    readonly runner: SessionRunner
    /** [ms] the latest time given to the runner */
    t = 0
    readonly stepMs: number
    events: RunnerEvent[] = []

    constructor(program: Program, options?: RunnerOptions, stepMs?: number) {
        this.runner = new SessionRunner(program, options ?? makeOptions())
        this.stepMs = stepMs ?? 10
    }

    drain(): void {
        const e = this.runner.takeEvents()
        for (const x of e) this.events.push(x)
    }

    /** Probe in, start pressed, at the current time. */
    start(): RunnerRig {
        this.runner.probeReady(this.t, true)
        this.runner.button(this.t, ButtonKind.StartPause)
        this.drain()
        return this
    }

    /** Samples from t + step up to `untilMs` (inclusive) with the same levels. */
    feedTo(untilMs: number, emgUv: number, pressureCmH2O?: number): void {
        const p = pressureCmH2O ?? 0
        while (this.t + this.stepMs <= untilMs) {
            this.t += this.stepMs
            this.runner.sample(this.t, { emgUv: emgUv, pressureCmH2O: p })
        }
        this.drain()
    }

    /** Samples for `ms` more. */
    feed(ms: number, emgUv: number, pressureCmH2O?: number): void {
        this.feedTo(this.t + ms, emgUv, pressureCmH2O)
    }

    /** Samples alternating mean + a, mean - a (sample SD about a) for `ms`. */
    feedWobble(ms: number, mean: number, a: number): void {
        const until = this.t + ms
        let k = Math.floor(this.t / this.stepMs)
        while (this.t + this.stepMs <= until) {
            this.t += this.stepMs
            k++
            const v = k - 2 * Math.floor(k / 2) === 0 ? mean + a : mean - a
            this.runner.sample(this.t, { emgUv: v, pressureCmH2O: 0 })
        }
        this.drain()
    }

    /** A button press at the current time. */
    press(kind: ButtonKind): void {
        this.runner.button(this.t, kind)
        this.drain()
    }

    at(ms: number): RunnerRig {
        this.t = ms
        return this
    }

    count(kind: RunnerEventKind): number {
        let n = 0
        for (const e of this.events) if (e.kind === kind) n++
        return n
    }

    first(kind: RunnerEventKind): RunnerEvent | null {
        for (const e of this.events) if (e.kind === kind) return e
        return null
    }

    last(kind: RunnerEventKind): RunnerEvent | null {
        let found: RunnerEvent | null = null
        for (const e of this.events) if (e.kind === kind) found = e
        return found
    }
}
