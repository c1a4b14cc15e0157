// Program fixtures for vitest: factories that build a fresh object on every
// call (never a shared, mutated fixture).
import type { Contraindications, Phase, Program, StimPhase } from "../../../src/core/program"
import { noContraindications } from "../../cases/program.cases"

type Rec = Record<string, unknown>

export { noContraindications }

export function baseline(durationS = 60): Phase {
    return { kind: "baseline", durationS }
}

export function relax(over: Rec = {}): Phase {
    return { kind: "relax", durationS: 300, breathPeriodS: 10, restToneMaxUv: 4, ...over } as Phase
}

export function flicks(over: Rec = {}): Phase {
    return { kind: "flicks", reps: 10, onS: 2, offS: 4, targetPctMvc: 60, ...over } as Phase
}

export function holds(over: Rec = {}): Phase {
    return { kind: "holds", reps: 8, workS: 6, restS: 12, targetPctMvc: 50, ...over } as Phase
}

/** A strengthening stim phase inside the default caps; `over` replaces or (with undefined) removes fields. */
export function stim(over: Rec = {}): StimPhase {
    const p: Rec = {
        kind: "stim",
        mode: "strengthen",
        waveform: "symmetric-biphasic",
        frequencyHz: 50,
        pulseWidthUs: 300,
        durationS: 600,
        rampUpS: 1,
        rampDownS: 1,
        workS: 5,
        restS: 10,
        ...over,
    }
    for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k]
    return p as unknown as StimPhase
}

export function etsStim(over: Rec = {}): StimPhase {
    return stim({ mode: "ets", targetPctMvc: 60, triggerPctOfTarget: 80, triggerChannel: "emg", ...over })
}

export function relaxStim(over: Rec = {}): StimPhase {
    return stim({ mode: "relax", frequencyHz: 10, workS: undefined, restS: undefined, ...over })
}

export interface ProgramOverrides {
    channels?: Program["channels"]
    contraindications?: Partial<Contraindications>
    caps?: Partial<NonNullable<Program["caps"]>> | null
    relaxation?: Partial<NonNullable<Program["relaxation"]>> | null
    frequency?: Program["frequency"]
    phases?: Phase[]
    rest?: Rec
}

/**
 * A valid program (EMG, a relaxation criterion, caps 90 mA / 450 us / 50 Hz
 * / 20 min, relax then flicks) with overrides; `null` removes caps or
 * relaxation.
 */
export function makeProgram(o: ProgramOverrides = {}): Program {
    const p: Rec = {
        formatVersion: 1,
        programVersion: 1,
        programId: "test-program",
        patientRef: "P-0042",
        channels: o.channels ?? "emg",
        contraindications: { ...noContraindications(), ...o.contraindications },
        caps: { amplitudeMaxMa: 90, pulseWidthMaxUs: 450, frequencyMaxHz: 50, sessionStimMaxMin: 20, ...o.caps },
        relaxation: { restToneMaxUv: 4, restToneSdMaxUv: 1, holdS: 20, timeoutS: 300, ...o.relaxation },
        frequency: o.frequency ?? { sessionsPerDay: 1 },
        phases: o.phases ?? [relax(), flicks()],
        ...o.rest,
    }
    if (o.caps === null) delete p["caps"]
    if (o.relaxation === null) delete p["relaxation"]
    return p as unknown as Program
}

/**
 * A copy with `value` at `path` ("phases[1].onS", "caps.amplitudeMaxMa");
 * undefined deletes. A path through a non-object leaves the copy as it is.
 */
export function withPath(program: unknown, path: string, value: unknown): unknown {
    const copy = structuredClone(program)
    const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".")
    let o = copy as Rec
    for (const part of parts.slice(0, -1)) {
        o = o[part] as Rec
        if (typeof o !== "object" || o === null) return copy
    }
    const last = parts[parts.length - 1]
    if (value === undefined) delete o[last]
    else o[last] = value
    return copy
}
