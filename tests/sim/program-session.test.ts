// A therapist's program run by the firmware's own core (MeasurementSession
// with the session runner, src/core/) against simulated patients, in Node
// (host/sim/offline-run.ts): relaxation first, toning only after the gate,
// a spasm sends the session back to relaxation, and the buttons and the
// battery behave as the programs issue says. The same runner on the firmware
// in the VM: tests/e2e/runner.test.ts (a shorter program: VM time is dear).
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import type { Program } from "../../src/core/program/types"
import { Cue } from "../../src/core/protocol/assessment"
import { BLOCK_RELAX, ButtonKind, DEFAULT_RUNNER, RunnerEventKind, RunnerReason, SessionRunner } from "../../src/core/runner"
import { DEFAULT_MEASUREMENT, MeasurementSession, SessionState } from "../../src/core/session/measurement-session"
import { cmH2OToHpa, uvToMv } from "../../src/core/units"
import { makeProfile, PatientModel } from "../../host/sim/patient"
import { repoRoot } from "../../host/paths"
import { runOffline, type OfflineRunOptions } from "../../host/sim/offline-run"

function relaxThenTone(): Program {
    return JSON.parse(readFileSync(join(repoRoot(), "docs", "examples", "relax-then-tone.json"), "utf8")) as Program
}

function run(o: Partial<OfflineRunOptions> & Pick<OfflineRunOptions, "profile">) {
    return runOffline({ seed: 1, program: relaxThenTone(), maxSessionMs: 40 * 60_000, ...o })
}

const kinds = (r: ReturnType<typeof run>, k: RunnerEventKind) => r.program.events.filter(e => e.kind === k)
const contracts = (r: ReturnType<typeof run>) => r.program.cues.filter(c => c.cue === Cue.Contract)

describe("a program on simulated patients, relaxation first", () => {
    test("a typical patient meets the relaxation gate, then does every contraction", () => {
        const r = run({ profile: "typical" })
        const gate = kinds(r, RunnerEventKind.GateMet)
        expect(gate.length).toBe(1)
        const firstContract = contracts(r)[0]
        expect(firstContract).toBeDefined()
        expect(gate[0].atMs).toBeLessThan(firstContract.atMs)
        // 10 flicks and 8 holds, all measured and counted
        expect(contracts(r).length).toBe(18)
        expect(r.run.summary.emg.repsDone).toBe(18)
        expect(kinds(r, RunnerEventKind.PhaseSkipped).length).toBe(0)
    })

    test("a hypertonic patient never reaches toning: gate work, then the toning phases are skipped", () => {
        const r = run({ profile: "hypertonic" })
        expect(contracts(r).length).toBe(0)
        expect(kinds(r, RunnerEventKind.GateMet).length).toBe(0)
        const notMet = kinds(r, RunnerEventKind.GateNotMet)
        expect(notMet.length).toBe(1)
        // the lowest rest tone reached is reported, above the criterion (4 uV)
        expect(notMet[0].value).toBeGreaterThan(4)
        const skipped = kinds(r, RunnerEventKind.PhaseSkipped).map(e => e.phaseIndex)
        expect(skipped).toEqual([2, 3])
        // the gate work was relaxation (the relax block), not a contraction
        expect(r.program.cues.some(c => c.block === BLOCK_RELAX)).toBe(true)
    })

    test("a spasm during toning sends the session back to relaxation", () => {
        // a patient relaxed enough to pass the gate whose first squeeze sets off a lasting spasm
        const r = run({
            profile: "spasm",
            overrides: { restEmgUv: 3, restEmgSdUv: 0.5, restEmgTauMs: 5000, spasmRestThresholdUv: 2, spasmProbability: 1 },
        })
        expect(r.truth.spasmMs.length).toBe(1)
        const sign = kinds(r, RunnerEventKind.SpasmSign)
        expect(sign.length).toBeGreaterThan(0)
        expect(sign[0].atMs).toBeGreaterThan(r.truth.spasmMs[0] - r.run.sessionStartMs)
        // right after the sign: relaxation work (gate work) for the interrupted toning phase
        const after = r.program.events.find(e => e.kind === RunnerEventKind.PhaseStarted && e.atMs >= sign[0].atMs)
        expect(after?.gateWork).toBe(true)
        expect(r.program.cues.some(c => c.block === BLOCK_RELAX && c.atMs >= sign[0].atMs)).toBe(true)
        // no squeeze is asked of her while the tone stays up
        expect(contracts(r).filter(c => c.atMs > sign[0].atMs).length).toBe(0)
    })

    test("pause and resume: the session waits, and the phase goes on where it was", () => {
        const r = run({ profile: "typical", actions: [{ atMs: 100_000, button: ButtonKind.StartPause }, { atMs: 130_000, button: ButtonKind.StartPause }] })
        const paused = kinds(r, RunnerEventKind.Paused)
        const resumed = kinds(r, RunnerEventKind.Resumed)
        expect(paused.length).toBe(1)
        expect(resumed.length).toBe(1)
        expect(resumed[0].atMs - paused[0].atMs).toBeGreaterThanOrEqual(29_000)
        expect(r.program.states).toContain(SessionState.Paused)
        // the 300 s relax phase started at 60 s ends 30 s late
        const relaxEnd = r.program.events.find(e => e.kind === RunnerEventKind.PhaseEnded && e.phaseIndex === 1)
        expect(relaxEnd!.atMs).toBeGreaterThanOrEqual(389_000)
        expect(contracts(r).length).toBe(18)
    })

    test("sample time (services/trainer.md live.sample_time) counts while paused and through the rating, and stays at its last value once done", () => {
        // what the log module reads to tell a session that runs (it joins one it did not see start) from one that is over
        const seen: { state: SessionState; t: number }[] = []
        let last: { seq: number; session: MeasurementSession } | undefined
        run({
            profile: "typical",
            actions: [{ atMs: 100_000, button: ButtonKind.StartPause }, { atMs: 130_000, button: ButtonKind.StartPause }],
            onSample: (seq, session) => {
                seen.push({ state: session.sessionState(), t: session.sampleTimeMs() })
                last = { seq, session }
            },
        })
        const during = (s: SessionState) => seen.filter(x => x.state === s).map(x => x.t)
        const paused = during(SessionState.Paused)
        const rating = during(SessionState.Rating)
        expect(paused.length).toBeGreaterThan(2000)
        expect(paused[paused.length - 1] - paused[0]).toBeGreaterThanOrEqual(29_000)
        expect(rating.length).toBeGreaterThan(100)
        expect(rating[rating.length - 1]).toBeGreaterThan(rating[0])
        const { seq, session } = last!
        expect(session.sessionState()).toBe(SessionState.Done)
        const endMs = session.sampleTimeMs()
        for (let k = 1; k <= 500; k++) session.push(seq + k, cmH2OToHpa(20), uvToMv(5), 0)
        expect(session.sampleTimeMs()).toBe(endMs)
    })

    test("stop always wins: the session ends at once, nothing more is cued, no rating is asked", () => {
        const r = run({ profile: "typical", actions: [{ atMs: 400_000, button: ButtonKind.Stop }] })
        const stopped = kinds(r, RunnerEventKind.Stopped)
        expect(stopped.length).toBe(1)
        expect(r.program.cues.filter(c => c.atMs > 400_100 && c.cue !== Cue.Idle).length).toBe(0)
        expect(r.program.states).not.toContain(SessionState.Rating)
        expect(r.program.states[r.program.states.length - 1]).toBe(SessionState.Done)
    })

    test("battery low: the rep in progress finishes, then the session ends cleanly and asks for the rating", () => {
        // 403 s: inside the first flick (cued at 360 s + a 6 s cycle: 402-404 s on)
        const r = run({ profile: "typical", actions: [{ atMs: 403_000, batteryLow: true }] })
        const ended = kinds(r, RunnerEventKind.SessionEnded)
        expect(ended.length).toBe(1)
        expect(ended[0].reason).toBe(RunnerReason.BatteryLow)
        expect(ended[0].atMs).toBeGreaterThan(403_000)
        // the flick in progress was counted, not cut
        expect(r.run.reps.emg.filter(x => x.cueOnMs === 402_000 && x.flags === 0).length).toBe(1)
        expect(r.program.states).toContain(SessionState.Rating)
    })

    test("the pain rating at the end is recorded from the buttons", () => {
        const end = 744_000 // the program's five phases
        const r = run({
            profile: "typical",
            actions: [
                { atMs: end + 1000, button: ButtonKind.Up },
                { atMs: end + 1500, button: ButtonKind.Up },
                { atMs: end + 2000, button: ButtonKind.Up },
                { atMs: end + 3000, button: ButtonKind.StartPause },
            ],
        })
        const rating = kinds(r, RunnerEventKind.RatingRecorded)
        expect(rating.length).toBe(1)
        expect(rating[0].value).toBe(3)
    })
})

describe("battery low before a session", () => {
    /** A session on a typical patient's probe, pushed sample by sample until it is zeroed (Ready). */
    function readySession() {
        const model = new PatientModel(makeProfile("typical"), 2)
        const session = new MeasurementSession(DEFAULT_MEASUREMENT)
        session.setSampleInterval(10)
        let seq = 0
        const push = (n: number) => {
            for (let i = 0; i < n; i++, seq++) {
                const s = model.sample(seq * 10)
                session.push(seq, cmH2OToHpa(s.pressureCmH2O), uvToMv(s.emgUv), 0)
            }
        }
        while (session.sessionState() !== SessionState.Ready && seq < 60_000) push(1)
        expect(session.sessionState()).toBe(SessionState.Ready)
        return { session, push }
    }

    test("no session starts, the program's or the assessment, until the battery is fine again; then one does", () => {
        const { session, push } = readySession()
        session.batteryLow()
        expect(session.batteryIsLow).toBe(true)
        expect(session.start(relaxThenTone(), p => new SessionRunner(p, DEFAULT_RUNNER))).toBe(false)
        expect(session.start()).toBe(false)
        push(100)
        expect(session.sessionState()).toBe(SessionState.Ready)
        // a repeat changes nothing
        session.batteryLow()
        expect(session.start()).toBe(false)
        // the charger: the monitor says fine (the trainer's set_battery_low(false))
        session.batteryIsLow = false
        expect(session.start(relaxThenTone(), p => new SessionRunner(p, DEFAULT_RUNNER))).toBe(true)
        push(10)
        expect(session.sessionState()).toBe(SessionState.Running)
    })

    test("low during the assessment stops it, and the next start waits for the battery", () => {
        const { session, push } = readySession()
        expect(session.start()).toBe(true)
        push(500)
        session.batteryLow()
        expect(session.sessionState()).toBe(SessionState.Done)
        push(100)
        expect(session.start()).toBe(false)
        session.batteryIsLow = false
        expect(session.start()).toBe(true)
    })
})
