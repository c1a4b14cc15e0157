// A program's stim phases, delivered end to end: the trainer's firmware runs
// the session in one VM, the stimulator module's firmware follows it in a
// second VM (src/stim/trainer-link.ts: it reads the program in force and
// hears the runner's status), and the simulated stimulator module measures
// what reaches the patient. A simulated patient keeps the probe in and
// follows the cues; the test presses the patient's buttons on the trainer.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as jd from "jacdac-ts"
import { afterAll, expect, test } from "vitest"
import type { LedReport, RunnerReport } from "../../host/device/trainer-client"
import { findStimControl, type StimControlStatus } from "../../host/device/stim-control-client"
import { createClinicKey } from "../../host/program/clinic-key"
import { runPatient } from "../../host/sim/patient-run"
import { startSimulation } from "../../host/sim/simulation"
import { hostStimulator } from "../../host/sim/stim-server"
import { steepestRise } from "../../host/sim/stim-module"
import { waitFor } from "../../host/sim/stim-rig"
import { noContraindications, type Program } from "../../src/core/program/types"
import { ButtonKind, FaultCause } from "../../src/core/runner/types"
import { Blink, LedColour } from "../../src/core/feedback/led-bar"
import { StimReason } from "../../src/core/stim/reasons"
import { AMPLITUDE_RAMP_MAX_MA_PER_S, AMPLITUDE_STEP_MA, SESSION_REST_MIN_MS, STIM_STATUS_TIMEOUT_MS, STIM_TICK_MS } from "../../src/core/limits"
import { installProgram } from "../helpers/install-program"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/** [ms] the stop button is pressed on the trainer: its firmware, a runner report and the stim firmware lie between (two VMs, one bus) */
const BUTTON_TO_OFF_MAX_MS = 150
/** [ms] the trainer's live report period (services/trainer.md: 10 a second), the stim module's keep-alive while it follows */
const LIVE_REPORT_MS = 100
const SPEED = 2
const CAP_MA = 12

/** Baseline, then two relax-mode stim phases back to back (10 Hz, 200 us), then relaxation; the therapist caps the level at 12 mA. */
function stimProgram(): Program {
    return {
        formatVersion: 1,
        programId: "stim-e2e",
        programVersion: 1,
        patientRef: "P-0007",
        channels: "emg",
        contraindications: noContraindications(),
        caps: { amplitudeMaxMa: CAP_MA, pulseWidthMaxUs: 250, frequencyMaxHz: 10, sessionStimMaxMin: 20 },
        frequency: { sessionsPerWeek: 2 },
        phases: [
            { kind: "baseline", durationS: 10 },
            { kind: "stim", mode: "relax", waveform: "symmetric-biphasic", frequencyHz: 10, pulseWidthUs: 200, durationS: 30, rampUpS: 1, rampDownS: 1 },
            { kind: "stim", mode: "relax", waveform: "symmetric-biphasic", frequencyHz: 10, pulseWidthUs: 200, durationS: 30, rampUpS: 1, rampDownS: 1 },
            { kind: "relax", durationS: 30, breathPeriodS: 10, restToneMaxUv: 4 },
        ],
    }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))
const dir = mkdtempSync(join(tmpdir(), "pft-e2e-stim-session-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test("a program's stim phases: from zero, up to the patient's level and never past the therapist's cap; a pause, the phase's end and a hung trainer stop it, the last shown as the stimulator's fault; the rest between stim sessions outlives the module's power cycle", async () => {
    const key = createClinicKey({ file: join(dir, "clinic.json") })
    const sim = await startSimulation({ hostLink: E2E_HOST_LINK, stimFirmware: true })
    try {
        const module = hostStimulator(sim.bus)
        module.setLoad(500)
        const stim = await findStimControl(sim.hostBus, 20000)
        const statuses: StimControlStatus[] = []
        stim.onStatus(s => statuses.push(s))
        // the host sets the trainer's clock: the stim module keeps the end of its last stim session by it
        const trainer = await installProgram(sim, key, stimProgram())
        let runner: RunnerReport | undefined
        let runnerReports = 0
        trainer.onRunner(r => {
            runner = r
            runnerReports++
        })
        // what the host's jacdac-ts saw of the devices: a restart or a drop replaces its objects
        const busEvents: string[] = []
        const t0 = Date.now()
        sim.hostBus.on(jd.DEVICE_RESTART, (d: jd.JDDevice) => busEvents.push(`restart ${d.shortId} at ${Date.now() - t0} ms`))
        sim.hostBus.on(jd.DEVICE_DISCONNECT, (d: jd.JDDevice) => busEvents.push(`drop ${d.shortId} at ${Date.now() - t0} ms`))
        const leds: LedReport[] = []
        trainer.onLed(l => leds.push(l))
        let live: unknown
        trainer.onLive(l => (live = l))

        const measured: Record<string, number> = {}
        const press = async (b: ButtonKind, times: number) => {
            for (let i = 0; i < times; i++) {
                await trainer.pressButton(b)
                await sleep(120)
            }
        }
        const lastStatus = () => statuses[statuses.length - 1]
        const drive = async () => {
            // nothing before the stim phase
            await waitFor("the first stim phase", () => runner?.phaseIndex === 1, 30_000)
            measured.beforeStimMa = Math.max(0, ...module.timeline().map(e => e.deliveredMa))
            await waitFor("the output started by the stim module", () => statuses.some(s => s.running), 5000)
            // 40 presses would be 20 mA: the therapist's cap holds it at 12
            await press(ButtonKind.Up, 40)
            await sleep(1500)
            measured.levelPhase1Ma = module.deliveredNow()

            // pause: the runner's status goes out at once and the stim module stops the output
            let at = module.now()
            await trainer.pressButton(ButtonKind.StartPause)
            await waitFor("zero output at the module after the pause", () => module.deliveredNow() === 0, 2000)
            measured.pauseToOffMs = module.timeToZeroMs(at) ?? NaN
            await waitFor("the pause in the stim status", () => !lastStatus().running && lastStatus().lastStop === StimReason.StopButton, 2000)
            await sleep(400)
            await trainer.pressButton(ButtonKind.StartPause)
            await waitFor("the output on again after resuming", () => lastStatus().running, 5000)
            measured.afterResumeMa = module.deliveredNow()

            // the next stim phase: the first one's end stops the output (its own cause), the next starts from zero;
            // the stop and the restart can fall between two of the status's 50 ms looks: then one status says both
            await waitFor("the second stim phase", () => runner?.phaseIndex === 2, 40_000)
            await waitFor("the first phase's end in the stim status", () => statuses.some(s => s.lastStop === StimReason.PhaseEnded), 5000)
            await waitFor("the output on again in the second phase", () => lastStatus().running, 5000)
            await sleep(1200)
            measured.startOfPhase2Ma = module.deliveredNow()
            await press(ButtonKind.Up, 6)
            await waitFor("current in the second phase", () => module.deliveredNow() >= 5 * AMPLITUDE_STEP_MA, 5000)

            // the trainer's firmware hangs: its reports stop, and the stim module stops the output by itself
            const pid = sim.vm.child.pid!
            at = module.now()
            process.kill(-pid, "SIGSTOP")
            try {
                await waitFor("zero output at the module with the trainer hung", () => module.deliveredNow() === 0, 3000)
            } finally {
                process.kill(-pid, "SIGCONT")
            }
            measured.trainerHangToOffMs = module.timeToZeroMs(at) ?? NaN
            await waitFor("the trainer's silence in the stim status", () => lastStatus().lastStop === StimReason.BusLost, 2000)
            // the trainer is back: it hears the stop and ends the session with the stimulator's fault on the bar
            // (1 red pixel, docs/patient-guide.md); the output stays off
            await waitFor("the stimulator fault on the trainer", () => runner?.state === "fault", 5000)
            measured.faultCause = runner!.faultCause
            await sleep(500)
            measured.afterHangMa = Math.max(module.deliveredNow(), lastStatus().running ? 1 : 0)
            measured.peakLevelMa = lastStatus().peakLevelMa

            // The rest between stim sessions outlives the stim module's power cycle: the session above ended
            // (with the fault) about a minute after it began, and the module writes its end by the trainer's clock.
            // The power is cut once that record is on flash (the module logs it once it reads back): the simulator
            // rewrites its whole flash file at each write, and a kill inside that rewrite loses every setting
            // (docs/safety.md H10, a residual risk of the simulator's store, not what this test is about).
            await waitFor("the session's end on the module's flash", () => sim.stim!.vm().lines.some(l => l.includes("stim: rest record closed")), 5000)
            await sim.stim!.restart()
            const restartedAt = sim.stim!.vm().lines.length
            after.refused = await anotherSession()
            after.refusals = sim.stim!.vm().lines.slice(restartedAt).filter(l => l.includes("stim: start refused"))
            // the host reads why from the module's status (pft monitor shows it)
            const read = await stim.status()
            after.lastRefusal = read.lastRefusal
            after.refusedStarts = read.refusedStarts
            // 4 h later by the trainer's clock (the host sets it): the rest is over and the output runs
            await trainer.setWallClock(Math.floor(Date.now() / 1000) + SESSION_REST_MIN_MS / 1000)
            after.rested = await anotherSession()
            sessionsOver = true
        }
        /** after the session above: one more, on the same probe feed, into its stim phase; 4 Up presses; the stop button */
        const after: { refused?: { peakMa: number }; refusals?: string[]; lastRefusal?: number; refusedStarts?: number; rested?: { peakMa: number } } = {}
        let sessionsOver = false
        const anotherSession = async () => {
            const from = module.now()
            await trainer.startRunning(5000)
            await waitFor("the next session's stim phase", () => runner?.state === "running" && runner?.phaseIndex === 1, 30_000)
            await sleep(1500)
            await press(ButtonKind.Up, 4)
            await sleep(1500)
            // measured at the module: what reached the patient
            const got = { peakMa: Math.max(0, ...module.timeline().filter(e => e.atMs >= from).map(e => Math.max(e.deliveredMa, e.targetMa))) }
            await trainer.pressButton(ButtonKind.Stop)
            await waitFor("the session stopped", () => runner?.state === "done", 5000)
            return got
        }
        const [run] = await Promise.all([
            runPatient({ sim, profile: "typical", seed: 3, speed: SPEED, endWhen: s => sessionsOver && (s === "rating" || s === "done" || s === "fault"), maxSessionMs: 200_000 }),
            drive().catch(async e => {
                const state = await trainer.sessionState().catch(err => `unreadable (${err})`)
                // what the run saw, to tell a firmware fault from a slow bus
                const timeline = module.timeline().filter(x => x.cause !== "amplitude").slice(-12)
                console.error(
                    `stim session e2e failed: measured ${JSON.stringify(measured)}; stim statuses [running, last stop, level] ${JSON.stringify(statuses.map(x => [x.running, x.lastStop, x.levelMa]))}; ` +
                        `module timeline ${JSON.stringify(timeline)}\ntrainer VM:\n${sim.vm.lines.slice(-25).join("\n")}\nstim VM (since its last start):\n${sim.stim!.vm().lines.slice(-25).join("\n")}`
                )
                // the facts that tell a firmware fault from a slow bus, in the error: a CI log's tail shows it
                if (e instanceof Error)
                    e.message +=
                        ` (at ${Date.now() - t0} ms: session state ${state}; ${runnerReports} runner reports, the last ${JSON.stringify(runner)}; ` +
                        `last live ${JSON.stringify(live)}; ${statuses.length} stim statuses; host bus: ${busEvents.join(", ") || "no restart or drop"})`
                throw e
            }),
        ])
        console.info(`stim session e2e: ${JSON.stringify(measured)}`)
        const timeline = module.timeline()
        // no current before the stim phase; the cap held: the module never delivered more than 12 mA
        expect(measured.beforeStimMa).toBe(0)
        expect(Math.max(...timeline.map(e => e.deliveredMa))).toBeLessThanOrEqual(CAP_MA)
        expect(measured.levelPhase1Ma).toBeCloseTo(CAP_MA, 5)
        expect(measured.peakLevelMa).toBe(CAP_MA)
        // never faster than the ramp-rate limit, also from zero at each start
        expect(steepestRise(timeline)).toBeLessThanOrEqual(AMPLITUDE_RAMP_MAX_MA_PER_S / 1000 + 1e-9)
        // the first phase's end stopped the output with its own cause (waited for above), and the second started from zero
        expect(measured.startOfPhase2Ma).toBeLessThan(1)
        // the patient's pause on the trainer: zero at the module; back on from zero
        expect(measured.pauseToOffMs).toBeLessThanOrEqual(BUTTON_TO_OFF_MAX_MS)
        expect(measured.afterResumeMa).toBeLessThan(1)
        // the trainer hung: zero once its reports (10 a second) have been missing for STIM_STATUS_TIMEOUT_MS,
        // seen at the module's next supervisor tick
        expect(measured.trainerHangToOffMs).toBeLessThanOrEqual(STIM_STATUS_TIMEOUT_MS + LIVE_REPORT_MS + STIM_TICK_MS + 50)
        expect(measured.afterHangMa).toBe(0)
        expect(measured.faultCause).toBe(FaultCause.Stimulator)
        expect(leds.some(l => l.blink === Blink.Fast && l.pixels.filter(p => p === LedColour.Fault).length === FaultCause.Stimulator)).toBe(true)
        expect(run.run.wallSeconds).toBeGreaterThan(0)
        await sleep(300)
        expect(module.deliveredNow()).toBe(0)

        // after the stim module's restart its RAM knew nothing, but its record said the last stim session ended a minute ago
        console.info(`stim session e2e, after the module's restart: ${JSON.stringify(after)}`)
        expect(after.refused!.peakMa).toBe(0)
        expect(after.refusals!.some(l => l.includes(`reason ${StimReason.SessionRestTooShort}`))).toBe(true)
        expect(after.lastRefusal).toBe(StimReason.SessionRestTooShort)
        // counted since the module's boot (the log module records each one)
        expect(after.refusedStarts).toBe(1)
        expect(after.rested!.peakMa).toBeGreaterThanOrEqual(2 * AMPLITUDE_STEP_MA)
        expectHostLinkClean(sim)
    } finally {
        await sim.stop()
    }
}, 240_000)
