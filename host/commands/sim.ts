import { CliError, EXIT } from "../errors"
import { keepStdoutForJson } from "../cli/json-stdout"
import { runAssessment, type AssessmentRunResult } from "../sim/assessment-run"
import { join } from "node:path"
import { repoRoot } from "../paths"
import { HOST_LINKS, startSimulation, type HostLink } from "../sim/simulation"
import { hostStimulator } from "../sim/stim-server"
import { PROFILE_NAMES, type ProfileName } from "../sim/patient"
import { runPatient } from "../sim/patient-run"
import { readReplayCsv, ReplayFormatError, replaySource } from "../sim/replay"
import type { SessionScore } from "../sim/scoring"
import type { CueReport } from "../device/trainer-client"
import { formatSessionReport } from "../report/session-text"
import { Block, Cue } from "../../src/core/protocol/assessment"
import { randomBytes } from "node:crypto"
import { formatProgramError, sessionMaxDurationS, sessionStimS, type Program } from "../../src/core/program"
import { BLOCK_RELAX, BLOCK_STIM } from "../../src/core/runner"
import { readProgramFile } from "../program/load"
import { CLINIC_KEY_BYTES } from "../program/sign"
import { installProgramOnSim, InstallRefused } from "../sim/install-program"
import type { Simulation } from "../sim/simulation"

export interface SimOptions {
    profile: string
    seed: number
    speed: number
    replay?: string
    duration?: number
    json?: boolean
    verbose?: boolean
    serve?: boolean
    /** sim | serial (SimulationOptions.hostLink) */
    hostLink?: string
    /** a therapist program file to run instead of the built-in assessment */
    program?: string
}

const CUE_WORDS: Record<number, string> = {
    [Cue.Idle]: "session over",
    [Cue.Rest]: "rest and breathe",
    [Cue.Contract]: "squeeze",
    [Cue.Release]: "let go",
}
const BLOCK_WORDS: Record<number, string> = {
    [Block.PreBaseline]: "pre-baseline",
    [Block.Flicks]: "quick flicks",
    [Block.Holds]: "holds",
    [Block.Endurance]: "endurance",
    [Block.PostBaseline]: "post-baseline",
    [BLOCK_RELAX]: "relaxation",
    [BLOCK_STIM]: "stimulation",
}

function checkOptions(opts: SimOptions): void {
    if (!(opts.speed >= 1 && opts.speed <= 20)) throw new CliError("--speed must be 1..20 (x real time)", EXIT.usage)
    if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new CliError("--seed must be a whole number >= 0", EXIT.usage)
    if (opts.duration !== undefined && !(opts.duration > 0)) throw new CliError("--duration must be > 0 s", EXIT.usage)
    if (!opts.replay && !(PROFILE_NAMES as readonly string[]).includes(opts.profile))
        throw new CliError(`unknown --profile '${opts.profile}': use one of ${PROFILE_NAMES.join(", ")}`, EXIT.usage)
    if (opts.hostLink !== undefined && !(HOST_LINKS as readonly string[]).includes(opts.hostLink))
        throw new CliError(`unknown --host-link '${opts.hostLink}': use ${HOST_LINKS.join(" or ")}`, EXIT.usage)
}

/**
 * `pft sim --serve`: the simulated trainer, with its stimulator module
 * (firmware and output stage) and its log module, stays up (no patient, no session)
 * until Ctrl-C, so other commands can talk to it from another terminal:
 * `pft device provision`, `pft program push`, `pft devices`.
 */
async function serve(opts: SimOptions): Promise<void> {
    console.log("pft sim: starting the devtools bus and the firmware VM...")
    const sim = await startSimulation({
        clearFlash: false,
        stimFirmware: true,
        logFirmware: true,
        logDir: join(repoRoot(), ".devicescript", "log-vm"),
        stimDir: join(repoRoot(), ".devicescript", "stim-vm"),
        onVmLine: opts.verbose ? l => console.error(`vm: ${l}`) : undefined,
    }).catch(e => {
        throw new CliError(`could not start the simulation: ${(e as Error).message}`, EXIT.busy)
    })
    // the stimulator module's output stage, on a 500 Ohm load: the stim module's firmware drives it when a program's stim phase runs
    const stimulator = hostStimulator(sim.bus)
    stimulator.setLoad(500)
    console.log("pft sim: the simulated trainer, its stimulator module and its log module are running on ws://127.0.0.1:8081/ (their settings and the log persist between runs).")
    console.log("         In another terminal: pft device provision, pft program push FILE, pft program show, pft logs pull. Ctrl-C stops it.")
    await new Promise<void>(resolve => {
        process.once("SIGINT", resolve)
        process.once("SIGTERM", resolve)
    })
    await sim.stop()
}

export async function runSim(opts: SimOptions): Promise<void> {
    if (opts.serve) return serve(opts)
    checkOptions(opts)
    if (!opts.json) return runSession(opts)
    const restore = keepStdoutForJson()
    try {
        await runSession(opts)
    } finally {
        restore()
    }
}

async function runSession(opts: SimOptions): Promise<void> {
    const say = (line: string) => (opts.json ? console.error(line) : console.log(line))
    const trace = opts.replay ? loadReplay(opts.replay) : undefined
    if (trace) say(`pft sim: replaying ${trace.samples.length} samples at ${Math.round(trace.sampleRateHz)} Hz from ${opts.replay}`)
    else say(`pft sim: simulated patient '${opts.profile}' (seed ${opts.seed}) at ${opts.speed}x real time`)

    const program = opts.program ? loadProgram(opts.program) : undefined
    if (program) say(`pft sim: program ${program.programId} version ${program.programVersion} (at most ${sessionMaxDurationS(program)} s of session)`)

    say("pft sim: starting the devtools bus and the firmware VM...")
    // a program with stimulation needs the stimulator module (its firmware and a simulated output stage on a 500 Ohm load)
    const withStim = program !== undefined && sessionStimS(program) > 0
    const sim = await startSimulation({
        hostLink: opts.hostLink as HostLink | undefined,
        onVmLine: opts.verbose ? l => console.error(`vm: ${l}`) : undefined,
        stimFirmware: withStim,
    }).catch(e => {
        throw new CliError(`could not start the simulation: ${(e as Error).message}`, EXIT.busy)
    })
    if (withStim) hostStimulator(sim.bus).setLoad(500)
    try {
        if (program) await installProgram(sim, program)
    } catch (e) {
        await sim.stop()
        throw e
    }
    // a program's session ends with the patient's rating (or done, if it asks none)
    const sessionEnd = program ? { endWhen: (s: string) => s === "rating" || s === "done", maxSessionMs: sessionMaxDurationS(program) * 1000 } : {}
    let stop: () => void = () => {}
    const stopSignal = new Promise<void>(r => (stop = r))
    const onSignal = () => {
        say("pft sim: stopping the session...")
        stop()
    }
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    const timer = opts.duration ? setTimeout(stop, opts.duration * 1000) : undefined
    let cued = false
    const onCue = (c: CueReport) => {
        // the idle cue before the session's first segment is not its end
        if (c.cue === Cue.Idle && !cued) return
        cued = true
        const where = c.cue === Cue.Idle ? "" : ` (${BLOCK_WORDS[c.block] ?? "?"}${c.repIndex >= 0 ? `, contraction ${c.repIndex + 1}` : ""})`
        say(`  ${(c.startedAtMs / 1000).toFixed(1).padStart(6)} s  ${CUE_WORDS[c.cue] ?? "?"}${where}`)
    }
    let result: AssessmentRunResult
    let score: SessionScore | undefined
    try {
        if (trace) {
            result = await runAssessment({
                sim,
                source: replaySource(trace),
                sampleRateHz: trace.sampleRateHz,
                speed: opts.speed,
                stopAtSeq: trace.samples.length - 1,
                stopSignal,
                onCue,
                ...sessionEnd,
            })
        } else {
            const r = await runPatient({ sim, profile: opts.profile as ProfileName, seed: opts.seed, speed: opts.speed, stopSignal, onCue, ...sessionEnd })
            result = r.run
            score = r.score
        }
    } finally {
        if (timer) clearTimeout(timer)
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
        await sim.stop()
    }
    // the VM at a high --speed on a busy machine can fall behind the feed: the feed waits for it (host/sim/feed-flow.ts), and
    // only a VM that stopped taking samples for a second can still lose some (its queue overflows, it counts them lost)
    if (result.feedHeldSeconds > 0.1 * result.wallSeconds)
        say(`pft sim: the VM could not keep up with ${opts.speed}x real time: the feed waited ${result.feedHeldSeconds.toFixed(1)} s of the ${result.wallSeconds.toFixed(0)} s for it (nothing was lost; the session ran slower)`)
    const lostByVm = result.summary.emg.samplesLost - result.droppedSamples
    if (lostByVm > 0.01 * result.sentSamples)
        say(`pft sim: warning: the firmware lost ${lostByVm} of the ${result.sentSamples} samples sent (the VM fell behind at ${opts.speed}x real time); the metrics are of what it saw: run again with a lower --speed`)
    if (opts.json) {
        const programInfo = program ? { programId: program.programId, programVersion: program.programVersion } : undefined
        // console.log goes to stderr while the session runs (keepStdoutForJson)
        process.stdout.write(JSON.stringify({ profile: trace ? undefined : opts.profile, seed: trace ? undefined : opts.seed, replay: opts.replay, program: programInfo, ...result, score }, null, 2) + "\n")
        return
    }
    console.log(formatSessionReport(result, score))
}

function loadReplay(file: string) {
    try {
        return readReplayCsv(file)
    } catch (e) {
        if (e instanceof ReplayFormatError) throw new CliError(e.message, EXIT.usage)
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`, EXIT.usage)
    }
}

/** Reads and validates a program file; an invalid one says every problem and what to do. */
function loadProgram(file: string): Program {
    const v = readProgramFile(file)
    if (v.ok) return v.program
    for (const e of v.errors) console.error(formatProgramError(e))
    throw new CliError(`${file} is not a valid program: nothing was run (check it with \`pft program validate\`)`, EXIT.usage)
}

/**
 * Installs the program on the simulated trainer, whose flash starts empty,
 * with a clinic key made for this run only (kept in memory, never written).
 */
async function installProgram(sim: Simulation, program: Program): Promise<void> {
    try {
        await installProgramOnSim(sim, randomBytes(CLINIC_KEY_BYTES), program)
    } catch (e) {
        if (e instanceof InstallRefused) throw new CliError(e.message, EXIT.failure)
        throw e
    }
}
