/**
 * What the device itself checks in a signed program before it runs it.
 *
 * The full validator (./validate.ts: every field, its unit and range, all
 * errors at once) runs on the host: `pft program validate` and `pft program
 * push`, which signs only a program that passed it. The device does not
 * carry the validator, because a DeviceScript image holds at most 64 KB of
 * function bytecode (docs/engineering.md, "DeviceScript findings") and the
 * validator alone is 12 KB of it: the room goes to the session runner.
 *
 * A valid clinic signature proves the program came through that validator.
 * The device still re-checks, with this code, what keeps the patient safe
 * even if a clinic's key or computer were misused: the contraindication
 * locks, the device's hard limits, the relaxation criterion every toning
 * phase needs, and the session lengths. The stim supervisor
 * (src/core/stim/supervisor.ts) clamps every output to the hard caps at run
 * time as well. Every program the validator accepts passes this check
 * (property-tested in tests/core/program/device-check.test.ts).
 *
 * No imports outside src/core: shared by the firmware and the host.
 */
import { AMPLITUDE_MAX_MA, FREQUENCY_MAX_HZ, FREQUENCY_MIN_HZ, PULSE_WIDTH_MAX_US, PULSE_WIDTH_MIN_US, SESSION_STIM_MAX_MS } from "../limits"
import { CodecError } from "../codec/bytes"
import { decodeProgram } from "./codec"
import { PHASES_MAX, SESSION_MAX_S } from "./fields"
import { isToningPhase, lockingFlags, sessionMaxDurationS, sessionStimS } from "./phases"
import { PHASE_KINDS, PROGRAM_FORMAT_VERSION, type Program, type StimPhase } from "./types"

function within(v: number, lo: number, hi: number): boolean {
    return v >= lo && v <= hi
}

function lockProblem(program: Program, phase: number, modality: "probe" | "stim"): string {
    const flags = lockingFlags(program.contraindications, modality)
    if (flags.length === 0) return ""
    const what = modality === "stim" ? "stimulation" : "the intravaginal probe"
    return "phase " + phase + ": " + what + " is contraindicated for this patient (" + flags.join(", ") + ")"
}

function stimProblem(program: Program, phase: number, s: StimPhase): string {
    const caps = program.caps
    if (!caps) return "phase " + phase + ": a stim phase needs the therapist's caps"
    if (!within(caps.amplitudeMaxMa, 0, AMPLITUDE_MAX_MA)) return "caps.amplitudeMaxMa is over the hard limit of " + AMPLITUDE_MAX_MA + " mA"
    if (!within(s.frequencyHz, FREQUENCY_MIN_HZ, FREQUENCY_MAX_HZ) || s.frequencyHz > caps.frequencyMaxHz)
        return "phase " + phase + ": " + s.frequencyHz + " Hz is outside the hard limits or the therapist's cap"
    if (!within(s.pulseWidthUs, PULSE_WIDTH_MIN_US, PULSE_WIDTH_MAX_US) || s.pulseWidthUs > caps.pulseWidthMaxUs)
        return "phase " + phase + ": " + s.pulseWidthUs + " us is outside the hard limits or the therapist's cap"
    return ""
}

/**
 * The first reason the device refuses to run `program`, as a sentence; ""
 * when it may run. Never throws on a decoded program.
 */
export function deviceProgramProblem(program: Program): string {
    if (program.formatVersion !== PROGRAM_FORMAT_VERSION) return "format version " + program.formatVersion + " is not " + PROGRAM_FORMAT_VERSION
    const phases = program.phases
    if (!(phases.length >= 1 && phases.length <= PHASES_MAX)) return "a program has 1 to " + PHASES_MAX + " phases"
    for (let i = 0; i < phases.length; i++) {
        const ph = phases[i]
        if (PHASE_KINDS.indexOf(ph.kind) < 0) return "phase " + i + ": unknown kind"
        // every phase senses or stimulates through the intravaginal probe (phases.ts phaseUsesProbe)
        let p = lockProblem(program, i, "probe")
        if (p === "" && ph.kind === "stim") p = lockProblem(program, i, "stim")
        if (p === "" && ph.kind === "stim") p = stimProblem(program, i, ph as StimPhase)
        if (p !== "") return p
        if (isToningPhase(ph) && !program.relaxation) return "phase " + i + ": a toning phase needs the relaxation criterion"
    }
    if (sessionMaxDurationS(program) > SESSION_MAX_S) return "the session would be longer than " + SESSION_MAX_S + " s"
    const stimS = sessionStimS(program)
    if (stimS * 1000 > SESSION_STIM_MAX_MS || (program.caps && stimS > program.caps.sessionStimMaxMin * 60))
        return "the stimulation time is over the hard limit or the therapist's cap"
    return ""
}

export interface DeviceDecode {
    /** the program, when it may run */
    program?: Program
    /** why not, as a sentence ("" when it may run) */
    problem: string
}

/** The device's reading of canonical program bytes: decode, field ranges, then deviceProgramProblem. */
export function decodeForDevice(bytes: number[]): DeviceDecode {
    let program: Program
    try {
        program = decodeProgram(bytes)
    } catch (e) {
        return { problem: e instanceof CodecError ? e.message : "the program bytes cannot be read" }
    }
    const problem = deviceProgramProblem(program)
    return problem === "" ? { program, problem } : { problem }
}
