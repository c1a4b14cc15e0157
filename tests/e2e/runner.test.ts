// The session runner on the real firmware in the VM: a signed program is
// pushed, a simulated patient follows the device's cues, and what the device
// shows on the bus (runner status, LED frames, cues, session state) is
// checked against what the patient model really did (its ground truth):
// relaxation first, toning only once relaxed, back to relaxation on a spasm
// sign, pause / stop / low battery as the programs issue says.
// e2e-one-link: what is checked runs on the device; the host link carries its reports and the button commands, which
// session-log, stim-session and programs test over USB serial with a program session of their own (this file took
// ~190 s of CI per link)
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, afterEach, describe, expect, test } from "vitest"
import { Blink, LedColour } from "../../src/core/feedback/led-bar"
import { ProgramStatus } from "../../src/core/program"
import { Cue } from "../../src/core/protocol/assessment"
import { BLOCK_RELAX, ButtonKind, Notice } from "../../src/core/runner"
import { findTrainer, type CueReport, type LedReport, type RunnerReport, type TrainerClient } from "../../host/device/trainer-client"
import { createClinicKey } from "../../host/program/clinic-key"
import { signProgram } from "../../host/program/sign"
import type { PatientProfile, ProfileName } from "../../host/sim/patient"
import { runPatient, type PatientRunResult } from "../../host/sim/patient-run"
import { shortProgram, SHORT_PROGRAM_MAX_MS } from "../../host/sim/short-program"
import { startSimulation, type Simulation } from "../../host/sim/simulation"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/**
 * x real time: the 76 s program runs in about 40 s. With the runner's LED
 * frame pushed on the bus at each change the VM keeps up at 2x (cues reach
 * the patient model within ~0.2 s of sample time); at 3x the probe queue
 * overflows, samples drop and cues come late.
 */
const SPEED = 2
const SEED = 1

/** A patient relaxed enough to pass the gate whose first squeeze sets off a lasting spasm (as in tests/sim/program-session.test.ts). */
const SPASM_AFTER_GATE: Partial<PatientProfile> = { restEmgUv: 3, restEmgSdUv: 0.5, restEmgTauMs: 5000, spasmRestThresholdUv: 2, spasmProbability: 1 }

interface Seen {
    run: PatientRunResult
    runners: RunnerReport[]
    leds: LedReport[]
    cues: CueReport[]
    trainer: TrainerClient
}

describe("the session runner on the device", () => {
    let sim: Simulation | undefined
    const dir = mkdtempSync(join(tmpdir(), "pft-e2e-runner-"))
    const key = createClinicKey({ file: join(dir, "clinic.json") })

    afterEach(async () => {
        await sim?.stop()
        sim = undefined
    })
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    /**
     * A fresh device with the short program installed; the patient follows
     * its cues until the session asks the rating or is done. `act` sees every
     * cue and live sample time, to press buttons or flag the battery.
     */
    async function session(
        profile: ProfileName,
        o: { overrides?: Partial<PatientProfile>; act?: (trainer: TrainerClient, now: { cue?: CueReport; sampleTimeMs: number }) => void } = {}
    ): Promise<Seen> {
        sim = await startSimulation({ hostLink: E2E_HOST_LINK })
        const trainer = await findTrainer(sim.hostBus, 20000)
        expect((await trainer.provisionKey(Buffer.from(key.key))).status).toBe(ProgramStatus.KeyInstalled)
        const pushed = await trainer.pushProgram(signProgram(shortProgram(), key.key).envelope)
        expect(pushed.status, pushed.message).toBe(ProgramStatus.Installed)
        const seen = { runners: [] as RunnerReport[], leds: [] as LedReport[], cues: [] as CueReport[] }
        const offs = [
            trainer.onRunner(r => seen.runners.push(r)),
            trainer.onLed(l => seen.leds.push(l)),
            trainer.onCue(c => {
                const last = seen.cues[seen.cues.length - 1]
                if (last && last.segmentIndex === c.segmentIndex && last.cue === c.cue) return
                seen.cues.push(c)
                o.act?.(trainer, { cue: c, sampleTimeMs: c.startedAtMs })
            }),
            trainer.onLive(l => o.act?.(trainer, { sampleTimeMs: l.sampleTimeMs })),
        ]
        try {
            const run = await runPatient({
                sim,
                profile,
                seed: SEED,
                speed: SPEED,
                overrides: o.overrides,
                endWhen: s => s === "rating" || s === "done",
                maxSessionMs: SHORT_PROGRAM_MAX_MS,
            })
            expectHostLinkClean(sim)
            return { run, trainer, ...seen }
        } finally {
            for (const off of offs) off()
        }
    }

    // the spasm test's state (act callbacks see cues and live reports as they come)
    let signCueMs = -1
    let sawContract = false

    const contracts = (s: Seen) => s.cues.filter(c => c.cue === Cue.Contract)
    const firstWith = (s: Seen, ok: (r: RunnerReport) => boolean) => s.runners.findIndex(ok)

    test("a typical patient relaxes first, then is cued through every contraction; the LED bar shows the gate met, then the cue", async () => {
        const s = await session("typical")
        const gateMet = firstWith(s, r => r.notice === Notice.GateMet)
        const toning = firstWith(s, r => r.toning)
        expect(gateMet, "the device said the relaxation gate was met").toBeGreaterThanOrEqual(0)
        expect(toning).toBeGreaterThan(gateMet)
        // every toning status comes with the gate met
        expect(s.runners.filter(r => r.toning && !r.gateMet).length).toBe(0)
        // 3 flicks and 1 hold cued, done and counted: the device's count equals the patient's
        expect(contracts(s).length).toBe(4)
        expect(s.run.truth.reps.length).toBe(4)
        expect(s.run.run.summary.emg.repsDone).toBe(4)
        // the gate met notice: the whole bar green, blinking fast; toning: pixel 0 in the cue's colour
        expect(s.leds.some(l => l.blink === Blink.Fast && l.pixels.length === 8 && l.pixels.every(p => p === LedColour.OnTarget))).toBe(true)
        expect(s.leds.some(l => l.pixels[0] === LedColour.Contract)).toBe(true)
        expect(s.leds.some(l => l.pixels[0] === LedColour.Hold)).toBe(true)
        // relaxation phases show the breathing pacer (blue) at the top of the bar
        expect(s.leds.some(l => l.pixels[7] === LedColour.Breathe)).toBe(true)
        // the session ended cleanly and asks the pain rating (0: one dim pixel)
        const last = s.runners[s.runners.length - 1]
        expect(last.state).toBe("rating")
        expect((await s.trainer.led()).pixels[0]).toBe(LedColour.Marker)
    })

    test("a hypertonic patient never reaches toning: relaxation work, 'not met' on the bar, the toning phases skipped, a clean end", async () => {
        const s = await session("hypertonic")
        expect(s.runners.some(r => r.toning)).toBe(false)
        expect(s.runners.some(r => r.gateMet)).toBe(false)
        expect(contracts(s).length).toBe(0)
        expect(s.run.truth.reps.length).toBe(0)
        // gate work (relaxation before the flicks) ran, cued as relaxation
        expect(s.runners.some(r => r.gateWork && r.phaseIndex === 2)).toBe(true)
        expect(s.cues.some(c => c.block === BLOCK_RELAX && c.cue === Cue.Rest)).toBe(true)
        // "not met": the whole bar orange, blinking slowly (shown before the rating); the holds never start; the session ends cleanly
        expect(s.runners.some(r => r.notice === Notice.GateNotMet)).toBe(true)
        expect(s.leds.some(l => l.blink === Blink.Slow && l.pixels.every(p => p === LedColour.AboveTarget))).toBe(true)
        expect(s.runners.some(r => r.phaseIndex === 3)).toBe(false)
        expect(s.runners[s.runners.length - 1].state).toBe("rating")
    })

    test("a spasm sign during toning sends the session back to relaxation, no squeeze is cued while the tone stays up; stop always wins", async () => {
        let stopped = false
        const s = await session("spasm", {
            overrides: SPASM_AFTER_GATE,
            act: (trainer, now) => {
                // stop 10 s into the relaxation work after the sign
                if (!stopped && now.cue === undefined && signCueMs > 0 && now.sampleTimeMs >= signCueMs + 10_000) {
                    stopped = true
                    void trainer.pressButton(4)
                }
                if (now.cue && now.cue.block === BLOCK_RELAX && sawContract && signCueMs < 0) signCueMs = now.cue.startedAtMs
                if (now.cue && now.cue.cue === Cue.Contract) sawContract = true
            },
        })
        expect(s.run.truth.spasmMs.length).toBe(1)
        const sign = firstWith(s, r => r.notice === Notice.SpasmSign)
        expect(sign, "the device saw the spasm sign").toBeGreaterThan(firstWith(s, r => r.toning))
        // after the sign: relaxation work for the interrupted phase, never toning again
        expect(s.runners.slice(sign).some(r => r.gateWork)).toBe(true)
        expect(s.runners.slice(sign).some(r => r.toning)).toBe(false)
        expect(signCueMs, "relaxation cued after the first squeeze").toBeGreaterThan(0)
        // the device reacted after the spasm really began (truth in feed time, cues in session time)
        expect(signCueMs).toBeGreaterThan(s.run.truth.spasmMs[0] - s.run.run.sessionStartMs)
        expect(contracts(s).filter(c => c.startedAtMs > signCueMs).length).toBe(0)
        // stop: done at once, no rating asked
        expect(stopped).toBe(true)
        expect(s.runners[s.runners.length - 1].state).toBe("done")
        expect(s.runners.some(r => r.state === "rating")).toBe(false)
        expect(await s.trainer.sessionState()).toBe("done")
    })

    test("pause waits (slow blink) and resume goes on where it was; battery low mid-squeeze finishes and counts it, then ends cleanly with the rating", async () => {
        let paused = false
        let resumed = false
        let flagged = false
        const s = await session("typical", {
            act: (trainer, now) => {
                if (!paused && now.sampleTimeMs >= 15_000) {
                    paused = true
                    void trainer.pressButton(1)
                } else if (paused && !resumed && now.sampleTimeMs >= 25_000) {
                    resumed = true
                    void trainer.pressButton(1)
                } else if (resumed && !flagged && now.cue?.cue === Cue.Contract) {
                    flagged = true
                    void trainer.setBatteryLow(true)
                }
            },
        })
        // the pause as the bar showed it (slow blink), in session time
        const pausedAt = s.leds.findIndex(l => l.blink === Blink.Slow && l.sampleTimeMs > 10_000)
        expect(pausedAt, "the bar blinked slowly while paused").toBeGreaterThanOrEqual(0)
        const resumedAt = s.leds.findIndex((l, i) => i > pausedAt && l.blink !== Blink.Slow)
        const pauseMs = s.leds[resumedAt].sampleTimeMs - s.leds[pausedAt].sampleTimeMs
        expect(pauseMs).toBeGreaterThan(5_000)
        expect(s.runners.some(r => r.state === "paused")).toBe(true)
        // the relax phase (10-40 s) went on where it was: the first squeeze came the pause later
        const first = contracts(s)[0]
        expect(first.startedAtMs).toBeGreaterThanOrEqual(40_000 + pauseMs - 500)
        // battery low during that squeeze: it was finished and counted, nothing more cued, then the rating
        expect(contracts(s).length).toBe(1)
        expect(s.run.truth.reps.length).toBe(1)
        expect(s.run.run.summary.emg.repsDone).toBe(1)
        const last = s.runners[s.runners.length - 1]
        expect(last.state).toBe("rating")
        expect(last.batteryLow).toBe(true)
        // while the squeeze finished, the battery pixel: the top of the bar in red
        expect(s.leds.some(l => l.pixels[7] === LedColour.Battery)).toBe(true)

        // the rating confirmed, the session is done. The battery still low: a start does nothing, and the bar's
        // top pixel says why; once the battery is fine (the charger) a session starts
        const frames: LedReport[] = []
        const off = s.trainer.onLed(l => frames.push(l))
        try {
            await s.trainer.pressButton(ButtonKind.StartPause)
            await s.trainer.waitForState(st => st === "done", 10_000)
            await s.trainer.startSession()
            await s.trainer.pressButton(ButtonKind.StartPause)
            await new Promise(r => setTimeout(r, 1000))
            expect(await s.trainer.sessionState()).toBe("done")
            expect(frames.length, "the done frame was pushed").toBeGreaterThan(0)
            expect(frames[frames.length - 1].pixels[7]).toBe(LedColour.Battery)
            await s.trainer.setBatteryLow(false)
            await s.trainer.startRunning(10_000)
        } finally {
            off()
        }
    })
})
