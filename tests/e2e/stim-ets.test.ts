// An EMG-triggered (ETS) stim phase, end to end and scored against the
// patient model's ground truth: the trainer's firmware runs the program in
// one VM (flicks first: they give the session's MVC, so the ETS target), the
// stimulator module's firmware follows it in a second VM and the simulated
// output stage measures what reaches the patient. In the ETS phase the test
// acts for the patient: a contraction she cannot hold (she reaches the
// trigger, then falls back) must be assisted, starting only after her true
// fall below the trigger; one she holds for the work time needs no help; at
// rest nothing is delivered.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, test } from "vitest"
import type { RunnerReport } from "../../host/device/trainer-client"
import { createClinicKey } from "../../host/program/clinic-key"
import { makeProfile, PatientModel } from "../../host/sim/patient"
import { runPatient } from "../../host/sim/patient-run"
import type { ProbeFeed } from "../../host/sim/probe-feed"
import { startSimulation } from "../../host/sim/simulation"
import { hostStimulator } from "../../host/sim/stim-server"
import { steepestRise } from "../../host/sim/stim-module"
import { waitFor } from "../../host/sim/stim-rig"
import { noContraindications, type Program } from "../../src/core/program/types"
import { Cue } from "../../src/core/protocol/assessment"
import { ButtonKind } from "../../src/core/runner/types"
import { AMPLITUDE_RAMP_MAX_MA_PER_S, AMPLITUDE_STEP_MA } from "../../src/core/limits"
import { installProgram } from "../helpers/install-program"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/** x real time for the patient and the trainer; the stim module's ETS times (work, rest, ramps) run on its own clock, in real time */
const SPEED = 2
const ETS_PHASE = 2
const TRIGGER_PCT_OF_TARGET = 80
const WORK_S = 2
const REST_S = 2
const RAMP_S = 0.5
/** [ms] true fall below the trigger to the assist at the module: the trainer's smoothing, its live report (10 a second), the module's step and write */
const ASSIST_LATENCY_MAX_MS = 600
/** [ms] how much earlier than the truth the assist may start: the device's noisy envelope may cross first; the clocks are matched to a probe batch */
const ASSIST_EARLY_MAX_MS = 150

function etsProgram(): Program {
    return {
        formatVersion: 1,
        programId: "ets-e2e",
        programVersion: 1,
        patientRef: "P-0008",
        channels: "emg",
        contraindications: noContraindications(),
        relaxation: { restToneMaxUv: 4, restToneSdMaxUv: 1, holdS: 10, timeoutS: 30 },
        caps: { amplitudeMaxMa: 20, pulseWidthMaxUs: 300, frequencyMaxHz: 50, sessionStimMaxMin: 20 },
        frequency: { sessionsPerWeek: 3 },
        phases: [
            { kind: "baseline", durationS: 10 },
            { kind: "flicks", reps: 2, onS: 2, offS: 3, targetPctMvc: 60 },
            {
                kind: "stim",
                mode: "ets",
                waveform: "symmetric-biphasic",
                frequencyHz: 35,
                pulseWidthUs: 250,
                durationS: 90,
                rampUpS: RAMP_S,
                rampDownS: RAMP_S,
                workS: WORK_S,
                restS: REST_S,
                targetPctMvc: 60,
                triggerPctOfTarget: TRIGGER_PCT_OF_TARGET,
                triggerChannel: "emg",
            },
        ],
    }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const dir = mkdtempSync(join(tmpdir(), "pft-e2e-stim-ets-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A contraction the test makes the patient do: when (module clock and model time) it began and ended. */
interface Attempt {
    name: string
    repIndex: number
    contractWallMs: number
    contractModelMs: number
    releaseWallMs: number
    releaseModelMs: number
}

test("ETS: a contraction she cannot hold is assisted, only after her true fall below the trigger; one she holds is not; nothing at rest", async () => {
    const key = createClinicKey({ file: join(dir, "clinic.json") })
    const sim = await startSimulation({ hostLink: E2E_HOST_LINK, stimFirmware: true })
    try {
        const module = hostStimulator(sim.bus)
        module.setLoad(500)
        const trainer = await installProgram(sim, key, etsProgram())
        let runner: RunnerReport | undefined
        /** the runner's course (state, phase, gate work, notice) as it changed, to say where a wait stalled */
        const course: string[] = []
        const t0 = Date.now()
        let lastStep = ""
        trainer.onRunner(r => {
            const step = `${r.state} phase ${r.phaseIndex}${r.gateWork ? " gate work" : ""}${r.gateMet ? " gate met" : ""} notice ${r.notice}`
            if (step !== lastStep) course.push(`${Date.now() - t0}ms ${step}`)
            lastStep = step
            runner = r
        })

        const model = new PatientModel(makeProfile("typical"), 11)
        let feed: ProbeFeed | undefined
        const attempts: Attempt[] = []
        let targetUv = NaN
        let etsStartWallMs = NaN
        let done = false
        /** she contracts, and lets go `holdWallMs` later (the module's clock: the ETS work time runs on it) */
        const contraction = async (name: string, repIndex: number, holdWallMs: number) => {
            const a = { name, repIndex, contractWallMs: module.now(), contractModelMs: feed!.lastSampleTimeMs() } as Attempt
            model.seeCue(Cue.Contract, a.contractModelMs, repIndex)
            await sleep(holdWallMs)
            a.releaseWallMs = module.now()
            a.releaseModelMs = feed!.lastSampleTimeMs()
            model.seeCue(Cue.Release, a.releaseModelMs, repIndex)
            attempts.push(a)
        }
        const drive = async () => {
            try {
                await waitFor("the ETS phase, gate met", () => runner?.state === "running" && runner.phaseIndex === ETS_PHASE && !runner.gateWork, 60_000).catch(e => {
                    throw new Error(`${e.message}; the runner's course: ${course.join("; ")}`)
                })
                console.info(`stim ETS e2e: the runner's course to the ETS phase: ${course.join("; ")}`)
                etsStartWallMs = module.now()
                targetUv = runner!.bandLow
                // at rest: nothing
                await sleep(1500)
                // 1: reaches the trigger, falls back after 0.7 s: assisted; she sets the level during the assist
                await contraction("first, not held", 101, 700)
                await sleep(600)
                for (let i = 0; i < 8; i++) {
                    await trainer.pressButton(ButtonKind.Up)
                    await sleep(100)
                }
                await sleep((2 * RAMP_S + WORK_S + REST_S) * 1000)
                // 2: not held either (scored)
                await contraction("second, not held", 102, 700)
                await sleep((2 * RAMP_S + WORK_S + REST_S) * 1000 + 500)
                // 3: held past the work time: no assist
                await contraction("held", 103, (WORK_S + 1.5) * 1000)
                await sleep(REST_S * 1000 + 500)
            } finally {
                done = true
            }
        }
        const [run] = await Promise.all([
            runPatient({
                sim,
                profile: "typical",
                seed: 11,
                speed: SPEED,
                model,
                onFeed: f => (feed = f),
                stopSignal: (async () => {
                    while (!done) await sleep(100)
                })(),
                maxSessionMs: 300_000,
            }),
            drive(),
        ])

        // the truth, from the patient's noise-free EMG: where each attempt's envelope fell back below the trigger
        const triggerUv = (TRIGGER_PCT_OF_TARGET / 100) * targetUv
        const emg = run.trace.emgUv
        const dtMs = run.trace.intervalMs
        const toWall = (a: Attempt, modelMs: number) => a.releaseWallMs + (modelMs - a.releaseModelMs) / SPEED
        const timeline = module.timeline()
        /** assist onsets: the output heading above zero after being at zero */
        const onsets: number[] = []
        for (let i = 1; i < timeline.length; i++) if (timeline[i].targetMa > 0 && !(timeline[i - 1].targetMa > 0)) onsets.push(timeline[i].atMs)
        const seen = attempts.map(a => {
            let reachedMs = NaN
            let fellMs = NaN
            for (let k = Math.floor(a.contractModelMs / dtMs); k < emg.length; k++) {
                const v = emg[k]
                if (!(v >= 0)) continue
                if (Number.isNaN(reachedMs) && v >= triggerUv) reachedMs = k * dtMs
                else if (!Number.isNaN(reachedMs) && v < triggerUv) {
                    fellMs = k * dtMs
                    break
                }
            }
            const fellWallMs = toWall(a, fellMs)
            const next = onsets.find(t => t >= a.contractWallMs)
            return { name: a.name, reachedWallMs: toWall(a, reachedMs), fellWallMs, heldMs: (fellMs - reachedMs) / SPEED, assistAfterFallMs: next === undefined ? NaN : next - fellWallMs }
        })
        console.info(`stim ETS e2e: target ${targetUv.toFixed(1)} uV, trigger ${triggerUv.toFixed(1)} uV; ${JSON.stringify(seen)}; onsets ${JSON.stringify(onsets.map(t => Math.round(t - etsStartWallMs)))} ms into the phase`)

        expect(targetUv).toBeGreaterThan(0)
        // at rest in the ETS phase, before her first contraction: nothing
        expect(Math.max(0, ...timeline.filter(e => e.atMs >= etsStartWallMs && e.atMs < attempts[0].contractWallMs).map(e => e.targetMa))).toBe(0)
        // every contraction reached the trigger; the first two fell back within the work time, the third held past it
        for (const s of seen) expect(Number.isFinite(s.reachedWallMs), s.name).toBe(true)
        expect(seen[0].heldMs).toBeLessThan(WORK_S * 1000)
        expect(seen[1].heldMs).toBeLessThan(WORK_S * 1000)
        expect(seen[2].heldMs).toBeGreaterThan(WORK_S * 1000)
        // the scored one: assisted after her true fall below the trigger, not before
        expect(seen[1].assistAfterFallMs).toBeGreaterThanOrEqual(-ASSIST_EARLY_MAX_MS)
        expect(seen[1].assistAfterFallMs).toBeLessThanOrEqual(ASSIST_LATENCY_MAX_MS)
        // the assist delivered her level (8 presses), never more
        const assisted = timeline.filter(e => e.atMs >= attempts[1].contractWallMs && e.atMs < attempts[2].contractWallMs)
        expect(Math.max(...assisted.map(e => e.deliveredMa))).toBeCloseTo(8 * AMPLITUDE_STEP_MA, 5)
        // the held one: no assist from her contraction to the end of the test
        expect(Math.max(0, ...timeline.filter(e => e.atMs >= attempts[2].contractWallMs).map(e => e.targetMa))).toBe(0)
        expect(steepestRise(timeline)).toBeLessThanOrEqual(AMPLITUDE_RAMP_MAX_MA_PER_S / 1000 + 1e-9)
        expectHostLinkClean(sim)
    } finally {
        await sim.stop()
    }
}, 240_000)
