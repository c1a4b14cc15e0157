// The session log end to end: the trainer's firmware and the log module's
// firmware (src/main_log.ts) in two VMs, the log module's flash chip served
// from Node (host/sim/flash-server.ts), a simulated patient doing a week of
// the short program. The log module records every session from what the
// trainer reports; one session loses the log module's power half-way (its
// VM killed) and, back, the module joins the session still running; on the
// next day the module is off from half-way to the session's end and, back,
// reads that session's reps and summary from the trainer; on the last day it
// is off for the whole session and does the same, and a restart after that
// adds nothing (the session is recorded); the week is pulled as `pft logs pull` does, cut half-way and resumed,
// archived once, acknowledged, and the module frees the space. The
// host side runs over the run's link: the simulator bus, or USB serial (the
// pty bridge) when scripts/test.mjs runs it with PFT_E2E_LINK=serial.
// What the archive holds is checked against what the patient model and the
// trainer reported.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, expect, test, vi } from "vitest"
import { EventCode, fixedPoint, JoinedLateCause, LogChannel, PhaseOutcome, SessionOutcome, TRACE_MISSING } from "../../src/core/log/records"
import { PHASE_KINDS } from "../../src/core/program"
import { Channel } from "../../src/core/session/measurement-session"
import { Archive } from "../../host/archive/archive"
import { archiveTotals, continuationRow, listSessions, loadSession, sessionFrames, type SessionData, type SessionListRow } from "../../host/archive/queries"
import type { SessionInfo } from "../../src/core/log/session-index"
import { findSessionLog, KeyStatus } from "../../host/device/session-log-client"
import type { DeviceRep, DeviceSummary, TrainerClient } from "../../host/device/trainer-client"
import { openSessionLogSource } from "../../host/logs/bus-source"
import { ccmRecordCipher, deriveLogKey } from "../../host/logs/cipher"
import { PullError, pullLogs, type PullReport } from "../../host/logs/pull"
import { runLogsPull } from "../../host/commands/logs-pull"
import { FlakyLogSource, MAX_READ_BYTES } from "../../host/logs/source"
import { createClinicKey } from "../../host/program/clinic-key"
import { makeProfile, PatientModel, patientSource } from "../../host/sim/patient"
import { startProbeFeed } from "../../host/sim/probe-feed"
import { hostProbe } from "../../host/sim/probe-server"
import { shortProgram, SHORT_PROGRAM_MAX_MS } from "../../host/sim/short-program"
import { firmwareCrash, startSimulation, type Simulation } from "../../host/sim/simulation"
import { installProgram } from "../helpers/install-program"
import { readReportData } from "../../host/report/data"
import { adherence } from "../../host/report/adherence"
import { statusWords } from "../../host/commands/logs-list"
import { renderReportHtml } from "../../host/report/html"
import { E2E_HOST_LINK, expectHostLinkClean } from "../helpers/e2e-link"

/** x real time: the 76 s program in about 7 s (the patients e2e runs at 12x without losing samples) */
const SPEED = 12
const RATE_HZ = 100
const DAYS = 7
/** the day the patient rates pain 3 (the others stop at the rating) */
const RATED_DAY = 1
const RATED_PAIN = 3
/** the day the log module loses power half-way through the session */
const CUT_DAY = 4
/** [ms] session time of the cut: after the short program's first rep (cued at 40 s), before its second (61.6 s) */
const CUT_AT_SESSION_MS = 52000
/** the day the log module loses power half-way and stays off until the session has ended */
const END_CUT_DAY = 5
/** the day the log module is off from before the session starts to after its end */
const WHOLE_OFF_DAY = 6
/** each cut day is two sessions in the store: recorded up to the cut, and joined after the module's boot */
const SESSIONS = DAYS + 2

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

const dir = mkdtempSync(join(tmpdir(), "pft-e2e-log-"))
let sim: Simulation | undefined
afterAll(async () => {
    await sim?.stop()
    rmSync(dir, { recursive: true, force: true })
})

/** What the log module's VM printed (its "log:" lines and any crash), for a failure's message. */
function logVmLines(s: Simulation): string {
    return s.log!.vm().lines.filter(l => /log:|Exception|PANIC|error/i.test(l)).slice(-40).join("\n")
}

/** Every finished rep the trainer holds for its last session on `channel` (read_rep of each planned rep). */
async function readReps(trainer: TrainerClient, channel: Channel): Promise<DeviceRep[]> {
    const planned = (await trainer.readSummary(channel)).repsPlanned
    const out: DeviceRep[] = []
    for (let i = 0; i < planned; i++) {
        const r = await trainer.readRep(i, channel)
        if (r) out.push(r)
    }
    return out
}

/** Waits for the log module's VM to print `pattern` after its power cut; says how far its boot got if it does not. */
async function waitForLogLine(s: Simulation, pattern: RegExp, timeoutMs: number, cutAtMs: number, countsAtCut: Record<string, number>): Promise<string> {
    const logModule = s.log!
    return await logModule.vm().waitForLine(pattern, timeoutMs).catch(e => {
        // the flash server's commands since the cut tell a VM that never asked (stuck before its flash, or
        // its commands lost) from one whose answers were lost
        const now = logModule.flash.counts
        throw new Error(`${(e as Error).message}\n${Date.now() - cutAtMs} ms after the cut; flash commands since: ${JSON.stringify(Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - countsAtCut[k]])))}`)
    })
}

async function startRunning(trainer: TrainerClient) {
    await trainer.waitForState(s => s === "ready" || s === "done", 30000)
    await trainer.startRunning(5000)
}

test(
    "a week of sessions on the log module: recorded, a power cut survived and the session joined after it, pulled (cut half-way, resumed), archived once, acknowledged, space freed",
    async () => {
        const key = createClinicKey({ file: join(dir, "clinic.json") })
        // 64 sectors (256 KB) hold the week many times over, and the log module's boot reads them in a few seconds over the bus
        sim = await startSimulation({ hostLink: E2E_HOST_LINK, logFirmware: true, flashSectors: 64 })
        let log = await findSessionLog(sim.hostBus, 20000)
        expect((await log.provisionKey(Buffer.from(key.key))).status).toBe(KeyStatus.Installed)
        let trainer = await installProgram(sim, key, shortProgram())

        const model = new PatientModel(makeProfile("typical"), 7)
        const probe = hostProbe(sim.bus, RATE_HZ)
        const feed = startProbeFeed({ server: probe, source: patientSource(model, RATE_HZ), sampleRateHz: RATE_HZ, batchSize: 10, speed: SPEED })
        const offCue = trainer.onCue(c => model.seeCue(c.cue, feed.lastSampleTimeMs(), c.repIndex))
        // the session's sample time, once this session's first live report came (the trainer keeps showing the last session's until then)
        let sampleTimeMs = 0
        let fresh = false
        // the phases the trainer's runner reported, per day: [index, kind] at each change
        const runnerPhases: [number, number][][] = []
        let phasesToday: [number, number][] = []
        const offRunner = trainer.onRunner(r => {
            if (r.phaseIndex < 0 || r.state === "rating" || r.state === "done") return
            const at: [number, number] = [r.phaseIndex, PHASE_KINDS.indexOf(r.phaseKind as never)]
            const last = phasesToday[phasesToday.length - 1]
            if (!last || last[0] !== at[0] || last[1] !== at[1]) phasesToday.push(at)
        })
        const offLive = trainer.onLive(l => {
            if (l.sampleTimeMs > 0 && l.sampleTimeMs < 5000) fresh = true
            if (fresh) sampleTimeMs = l.sampleTimeMs
        })
        // what the trainer itself reports of each session's reps (read_rep), per day and channel
        const trainerReps: { emg: DeviceRep[]; pressure: DeviceRep[] }[] = []
        let beforeCut = ""
        let countsAtCut: Record<string, number> = {}
        let cutAtMs = 0
        /** the log module's line when it joined the cut session after its boot */
        let joinedLine = ""
        let readBackLine = ""
        /** the session being recorded when the module lost power, as its store listed it just before */
        let cutSession: SessionInfo | undefined
        /** the same for the session that ended while the module was off, and its end (trainer sample time) */
        let endCutSession: SessionInfo | undefined
        let endedAtMs = 0
        /** the log module's line when it joined that session after its end, and the host's clock then */
        let joinedEndedLine = ""
        let joinedEndedAtWallMs = 0
        let endedReadBackLine = ""
        /** the trainer's sample time at the end of the session the module was off for, and its line when it joined it */
        let wholeEndedAtMs = 0
        let wholeJoinedLine = ""
        /** Waits for the session's end (its rating stopped: its sample time then stands still); returns its final sample time. */
        const endSession = async () => {
            const state = await trainer.waitForState(s => s === "rating" || s === "done", (SHORT_PROGRAM_MAX_MS / SPEED) * 2 + 30000)
            if (state === "rating") await trainer.stopSession()
            await trainer.waitForState(s => s === "done", 20000)
            await sleep(300) // a live report with the final sample time
            return sampleTimeMs
        }
        /** what the trainer summed up of each session, per day (read_summary, both channels) */
        const trainerSummaries: { emg: DeviceSummary; pressure: DeviceSummary }[] = []
        try {
            for (let day = 0; day < DAYS; day++) {
                sampleTimeMs = 0
                fresh = false
                phasesToday = []
                runnerPhases.push(phasesToday)
                if (day === WHOLE_OFF_DAY) {
                    const countsAtOff = { ...sim.log!.flash.counts }
                    const offAtMs = Date.now()
                    await sim.log!.restart(async () => {
                        await startRunning(trainer)
                        wholeEndedAtMs = await endSession()
                    })
                    // back, its newest session is complete, but the trainer's summary is not the last it recorded
                    wholeJoinedLine = await waitForLogLine(sim, /log: session joined after its end/, 60000, offAtMs, countsAtOff)
                    await waitForLogLine(sim, /log: \d+ finished reps read back/, 20000, offAtMs, countsAtOff)
                } else await startRunning(trainer)
                if (day === CUT_DAY) {
                    const deadline = Date.now() + 30000
                    while (sampleTimeMs < CUT_AT_SESSION_MS && Date.now() < deadline) await sleep(20)
                    // the session is paused while the module restarts and boots (at 12x the rest of it is shorter
                    // than a boot under load; the pause times out after 10 min of session time, 50 s here)
                    await trainer.pressButton(1) // StartPause pauses
                    await trainer.waitForState(s => s === "paused", 10000)
                    beforeCut = logVmLines(sim)
                    cutSession = (await log.listSessions()).find(x => x.open)
                    countsAtCut = { ...sim.log!.flash.counts }
                    cutAtMs = Date.now()
                    await sim.log!.restart()
                    // back, it joins the session still running and reads back the reps that had finished
                    readBackLine = await waitForLogLine(sim, /log: \d+ finished reps read back/, 60000, cutAtMs, countsAtCut)
                    joinedLine = sim.log!.vm().lines.find(l => /log: session joined/.test(l)) ?? ""
                    await trainer.pressButton(1) // StartPause resumes
                    await trainer.waitForState(s => s === "running", 10000)
                }
                if (day === END_CUT_DAY) {
                    const deadline = Date.now() + 30000
                    while (sampleTimeMs < CUT_AT_SESSION_MS && Date.now() < deadline) await sleep(20)
                    log = await findSessionLog(sim.hostBus, 20000) // found again: the first cut took it off the bus
                    endCutSession = (await log.listSessions()).find(x => x.open)
                    const countsAtEndCut = { ...sim.log!.flash.counts }
                    const endCutAtMs = Date.now()
                    // off until the session is over (the rating stopped: its sample time then stands still)
                    await sim.log!.restart(async () => {
                        endedAtMs = await endSession()
                    })
                    // back, it finds its newest session cut and the trainer's session over: its reps and summary are read back
                    joinedEndedLine = await waitForLogLine(sim, /log: session joined after its end/, 60000, endCutAtMs, countsAtEndCut)
                    joinedEndedAtWallMs = Date.now()
                    endedReadBackLine = await waitForLogLine(sim, /log: \d+ finished reps read back/, 20000, endCutAtMs, countsAtEndCut)
                }
                const end = await trainer.waitForState(s => s === "rating" || s === "done", (SHORT_PROGRAM_MAX_MS / SPEED) * 2 + 30000)
                trainerReps.push({ emg: await readReps(trainer, Channel.Emg), pressure: await readReps(trainer, Channel.Pressure) })
                trainerSummaries.push({ emg: await trainer.readSummary(Channel.Emg), pressure: await trainer.readSummary(Channel.Pressure) })
                if (end === "rating" && day === RATED_DAY) {
                    for (let i = 0; i < RATED_PAIN; i++) {
                        await trainer.pressButton(2) // Up
                        await sleep(150)
                    }
                    await trainer.pressButton(1) // StartPause confirms
                } else if (end === "rating") await trainer.stopSession()
                await trainer.waitForState(s => s === "done", 20000)
                await sleep(500) // the summary goes out once the rating is over
            }
        } catch (e) {
            // what the trainer did: a crash, and the day's course (a session back at 'ready' without its end once)
            const crash = firmwareCrash(sim)
            const course = runnerPhases.map((p, i) => `day ${i}: ${JSON.stringify(p)}`).join("; ")
            throw new Error(`${(e as Error).message}\n${crash ? `the trainer's firmware crashed:\n  ${crash}\n` : ""}phases so far: ${course}; today ${JSON.stringify(phasesToday)} at ${sampleTimeMs} ms\ntrainer VM, last lines:\n${sim.vm.lines.slice(-25).join("\n")}`)
        } finally {
            offCue()
            offLive()
            offRunner()
            feed.stop()
        }
        // one more power cut with the trainer's last session over and recorded (its summary on the chip): the module adds nothing
        await waitForLogLine(sim, /log: summary written, fingerprint kept/, 20000, Date.now(), { ...sim.log!.flash.counts })
        const countsAtLastCut = { ...sim.log!.flash.counts }
        const lastCutAtMs = Date.now()
        await sim.log!.restart()
        const recordedLine = await waitForLogLine(sim, /log: the trainer's last session is/, 60000, lastCutAtMs, countsAtLastCut)
        expect(recordedLine).toContain("the trainer's last session is recorded")
        // the log module has written everything it was given (found again: its restart took it off the bus)
        log = await findSessionLog(sim.hostBus, 20000)
        let status = await log.readStatus()
        for (let i = 0; i < 50 && status.recordingSession !== 0; i++) {
            await sleep(200)
            status = await log.readStatus()
        }
        expect(status.recordsLost, logVmLines(sim)).toBe(0)
        expect(status.sessions, beforeCut + "\n--- cut ---\n" + sim.log!.vm().lines.slice(-30).join("\n")).toBe(SESSIONS)
        expect(status.unarchivedSessions).toBe(SESSIONS)

        // pulled as `pft logs pull` does, the link cut half-way: what was saved stays archived
        const archiveFile = join(dir, "archive.sqlite")
        const source = await openSessionLogSource(log)
        const listed = await source.listSessions()
        const totalBytes = listed.reduce((n, s) => n + s.sizeBytes, 0)
        const link = new FlakyLogSource(source, { seed: 3, failAfterReads: Math.ceil(totalBytes / MAX_READ_BYTES / 2) })
        const firstTry = Archive.open(archiveFile)
        const cut = await pullLogs({
            archive: firstTry,
            connect: async () => link,
            cipherFor: (storeId: number) => ccmRecordCipher(deriveLogKey(Buffer.from(key.key), storeId)),
            keepOpen: true,
        }).catch(e => e)
        expect(cut).toBeInstanceOf(PullError)
        const savedBytes = listSessions(firstTry).reduce((n, r) => n + r.bytesStored, 0)
        expect(savedBytes).toBeGreaterThan(0)
        expect(savedBytes).toBeLessThan(totalBytes)
        firstTry.close()
        expect((await log.readStatus()).unarchivedSessions).toBe(SESSIONS)

        // `pft logs pull` resumes: it reads only what is not archived yet, then acknowledges, over this run's
        // host link (the simulator's bus, or USB serial: the pty bridge, as on a real port)
        const pullCommand = async () => {
            const out: string[] = []
            const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")))
            try {
                // the command opens the link itself, as `pft logs pull` in another process would
                await sim!.withHostLinkFree(() => runLogsPull({ archive: archiveFile, keyFile: join(dir, "clinic.json"), ...sim!.hostConnect, json: true }))
            } finally {
                spy.mockRestore()
            }
            return JSON.parse(out.join("\n")) as PullReport
        }
        const done = await pullCommand()
        expect(done.quarantined).toBe(0)
        expect(done.acknowledged.length).toBe(SESSIONS)
        expect(done.bytes).toBeLessThan(totalBytes - savedBytes + 8 * MAX_READ_BYTES)
        const archive = Archive.open(archiveFile)

        // every rep, as the log has it and as the trainer reported it
        const logged = (s: { reps: { channel: number; repIndex: number; cueOnMs: number; onsetMs: number; peakX100: number }[] }, ch: LogChannel) =>
            s.reps.filter(x => x.channel === ch).map(x => [x.repIndex, x.cueOnMs, x.onsetMs, x.peakX100])
        const reported = (reps: DeviceRep[]) => reps.map(x => [x.repIndex, x.cueOnMs, x.onsetMs, fixedPoint(x.peak, 100)])

        // a session joined after its end: every rep and both summaries as the trainer holds them, no phase, and the outcome
        // its summaries give (how it ended was not heard: completed if every planned rep was done)
        const expectReadBackAfterEnd = (r: SessionListRow, s: SessionData, day: number) => {
            expect(logged(s, LogChannel.Emg)).toEqual(reported(trainerReps[day].emg))
            expect(logged(s, LogChannel.Pressure)).toEqual(reported(trainerReps[day].pressure))
            const summed = trainerSummaries[day]
            expect(s.summary!.map(c => [c.channel, c.repsPlanned, c.repsDone, c.mvcX100])).toEqual([
                [LogChannel.Emg, summed.emg.repsPlanned, summed.emg.repsDone, fixedPoint(summed.emg.mvc, 100)],
                [LogChannel.Pressure, summed.pressure.repsPlanned, summed.pressure.repsDone, fixedPoint(summed.pressure.mvc, 100)],
            ])
            const allDone = summed.emg.repsDone >= summed.emg.repsPlanned && summed.pressure.repsDone >= summed.pressure.repsPlanned
            expect(r.outcome).toBe(allDone ? SessionOutcome.Completed : SessionOutcome.Stopped)
            expect(s.phases).toEqual([])
        }

        // archived once, as the trainer reported it
        const rows = listSessions(archive)
        expect(rows.length).toBe(SESSIONS)
        // in the module's order (the calendar's can differ: see the joined session's start below)
        const bySession = [...rows].sort((x, y) => x.sessionNo - y.sessionNo)
        for (let day = 0; day < DAYS; day++) {
            const r = bySession[day <= CUT_DAY ? day : day <= END_CUT_DAY ? day + 1 : day + 2]
            const s = loadSession(archive, r.id)!
            expect(r).toMatchObject({ quarantined: 0, programId: "relax-then-tone-short", programVersion: 1, patientRef: shortProgram().patientRef })
            expect(r.ackedSeq).toBe(r.deviceLastSeq)
            expect(r.startWallMs, "placed on the calendar: the host set the clock").not.toBeNull()
            if (day === WHOLE_OFF_DAY) {
                // the module was off for all of it: joined after its end, on its own (nothing links it to the session before)
                expect(r.joinedAfterEnd).toBe(true)
                const joinedAt = Number(/sample time (\d+) ms/.exec(wholeJoinedLine)?.[1] ?? NaN)
                expect(joinedAt, wholeJoinedLine).toBe(wholeEndedAtMs)
                expect(s.events.map(e => [e.code, e.timeMs, e.cause, e.value])).toEqual([[EventCode.JoinedLate, joinedAt, JoinedLateCause.AfterEnd, joinedAt]])
                expect(rows.filter(x => continuationRow(x, rows)?.id === r.id), "no cut session continues in it").toEqual([])
                expect(r.complete).toBe(true)
                expectReadBackAfterEnd(r, s, day)
                continue
            }
            // the trace has samples of both channels
            expect(s.trace.some(t => t.pressureX10.some(v => v !== TRACE_MISSING) && t.emgX10.some(v => v !== TRACE_MISSING))).toBe(true)
            if (day === CUT_DAY) {
                // recorded up to the power cut: no summary; every record committed before it is archived,
                // intact (no quarantine) and in an unbroken sequence
                expect(r.complete).toBe(false)
                expect(cutSession, "a session was open at the cut").toBeDefined()
                expect(r.sessionNo).toBe(cutSession!.session)
                expect(r.deviceLastSeq).toBeGreaterThanOrEqual(cutSession!.lastSeq)
                const seqs = sessionFrames(archive, r.id).map(f => f.seq)
                expect(seqs).toEqual(Array.from({ length: r.deviceLastSeq - cutSession!.firstSeq + 1 }, (_, k) => cutSession!.firstSeq + k))
                expect(s.phases.length).toBeGreaterThan(0)

                // the same session joined after the module's boot: one JoinedLate event at the time recording
                // began, then to its end, with every rep the trainer reported (those finished before the join
                // read back); its phases are the runner's from the join on
                const jr = bySession[day + 1]
                const j = loadSession(archive, jr.id)!
                const joinedAt = Number(/sample time (\d+) ms/.exec(joinedLine)?.[1] ?? NaN)
                expect(joinedAt, joinedLine).toBeGreaterThan(CUT_AT_SESSION_MS)
                expect(j.events.filter(e => e.code === EventCode.JoinedLate).map(e => [e.timeMs, e.value])).toEqual([[joinedAt, joinedAt]])
                expect(jr.sessionNo).toBe(r.sessionNo + 1)
                expect(jr.complete).toBe(true)
                expect(jr.outcome).toBe(SessionOutcome.Completed)
                // its start is the trainer's clock less its sample time. On a patient's trainer that is the cut
                // session's start; here the session's time runs SPEED x the clock's, so it lies joinedAt x (1 - 1/SPEED)
                // before it (within the clock's 1 s steps and the cut session's first report)
                expect(Math.abs(jr.startWallMs! - (r.startWallMs! - joinedAt * (1 - 1 / SPEED)))).toBeLessThanOrEqual(2500)
                // a rep finished before the cut: in the cut session, and read back into the joined one
                expect(s.reps.filter(x => x.channel === LogChannel.Emg).length, "reps recorded before the cut").toBeGreaterThan(0)
                expect(Number(/(\d+) finished reps read back/.exec(readBackLine)?.[1]), readBackLine).toBeGreaterThan(0)
                expect(logged(j, LogChannel.Emg)).toEqual(reported(trainerReps[day].emg))
                expect(logged(j, LogChannel.Pressure)).toEqual(reported(trainerReps[day].pressure))
                expect(j.phases.length).toBeGreaterThan(0)
                expect(j.phases.map(p => [p.index, p.kind])).toEqual(runnerPhases[day].slice(-j.phases.length))
                expect(j.phases.every(p => p.endMs !== null && p.outcome !== null)).toBe(true)
                expect(j.trace[0].startMs).toBeGreaterThanOrEqual(joinedAt - 100)
                // the therapist's report says so: the cut part continues in the joined one, which began late
                const data = readReportData(archive, { patientRef: shortProgram().patientRef, now: Date.now() + 86_400_000 })
                expect(data.sessions.find(x => x.id === r.id)!.continuedInNo).toBe(jr.sessionNo)
                expect(data.sessions.find(x => x.id === jr.id)!.joinedAtMs).toBe(joinedAt)
                expect(statusWords(r, continuationRow(r, rows))).toContain(`continued in id ${jr.id}`)
                // the calendar and the program's count have the week's sessions, each cut one once
                expect(adherence(data).days.reduce((n, d) => n + d.sessions, 0)).toBe(DAYS)
                expect(data.programs.find(p => p.programId === "relax-then-tone-short")!.sessions).toBe(DAYS)
                const page = (await renderReportHtml(data)).html
                expect(page).toContain(`the rest of this session is No. ${jr.sessionNo}`)
                expect(page).toContain("recording began here: the log module restarted mid-session")
                continue
            }
            if (day === END_CUT_DAY) {
                // recorded up to the power cut, then nothing until the module came back after the session's end
                expect(r.complete).toBe(false)
                expect(endCutSession, "a session was open at the second cut").toBeDefined()
                expect(r.sessionNo).toBe(endCutSession!.session)
                // what it recorded before the cut (the first rep's records may still have been queued) is as the trainer reported
                const before = logged(s, LogChannel.Emg)
                expect(before).toEqual(reported(trainerReps[day].emg).slice(0, before.length))
                // the session joined after its end: one JoinedLate (AfterEnd) at the trainer's final sample time, every rep
                // the trainer reported (all read back), and its summary as the trainer gave it
                const jr = bySession[day + 2]
                const j = loadSession(archive, jr.id)!
                const joinedAt = Number(/sample time (\d+) ms/.exec(joinedEndedLine)?.[1] ?? NaN)
                expect(joinedAt, joinedEndedLine).toBe(endedAtMs)
                expect(j.events.filter(e => e.code === EventCode.JoinedLate).map(e => [e.timeMs, e.cause, e.value])).toEqual([[joinedAt, JoinedLateCause.AfterEnd, joinedAt]])
                expect(jr.sessionNo).toBe(r.sessionNo + 1)
                expect(jr.complete).toBe(true)
                expect(Number(/(\d+) finished reps read back/.exec(endedReadBackLine)?.[1]), endedReadBackLine).toBe(trainerReps[day].emg.length)
                expectReadBackAfterEnd(jr, j, day)
                // placed by the trainer's clock less the session's length when the module came back (the latest it
                // could have started; at SPEED x the session's time runs ahead of the clock, so earlier here)
                expect(Math.abs(jr.startWallMs! - (joinedEndedAtWallMs - joinedAt))).toBeLessThanOrEqual(2500)
                const data = readReportData(archive, { patientRef: shortProgram().patientRef, now: Date.now() + 86_400_000 })
                expect(data.sessions.find(x => x.id === r.id)!.continuedInNo).toBe(jr.sessionNo)
                expect(data.sessions.find(x => x.id === jr.id)!.joinedAfterEnd).toBe(true)
                expect(statusWords(jr)).toContain("recorded after it ended")
                const page = (await renderReportHtml(data)).html
                expect(page).toContain(`the rest of this session is No. ${jr.sessionNo}`)
                expect(page).toContain("recorded after the session ended here: the log module restarted")
                continue
            }
            expect(r.complete, `day ${day}`).toBe(true)
            expect(r.outcome).toBe(SessionOutcome.Completed)
            // every rep the trainer reported, on both channels, with its metrics
            expect(trainerReps[day].emg.length).toBeGreaterThan(0)
            const which = `day ${day}, session ${r.sessionNo}`
            expect(logged(s, LogChannel.Emg), which).toEqual(reported(trainerReps[day].emg))
            expect(logged(s, LogChannel.Pressure), which).toEqual(reported(trainerReps[day].pressure))
            // the phases as the runner went through them (relaxation work before a toning phase shows as that phase's index with kind relax), each ended
            expect(s.phases.map(p => [p.index, p.kind])).toEqual(runnerPhases[day])
            expect(s.phases.every(p => p.endMs !== null && p.outcome !== null)).toBe(true)
            expect(s.phases[0].outcome).toBe(PhaseOutcome.Completed)
            const pain = s.events.filter(e => e.code === EventCode.PainRating)
            expect(pain.map(e => e.value)).toEqual(day === RATED_DAY ? [RATED_PAIN] : [])
        }

        // pulling again adds nothing; the module's space is free for new sessions
        const before = archiveTotals(archive)
        const again = await pullCommand()
        expect(archiveTotals(archive)).toEqual(before)
        expect(again.recordsAdded).toBe(0)
        log = await findSessionLog(sim!.hostBus, 20000) // the host link was opened again after the command
        const after = await log.readStatus()
        expect(after.unarchivedSessions).toBe(0)
        expect(after.unarchivedBytes).toBe(0)
        expectHostLinkClean(sim!)
        archive.close()
    },
    6 * 60_000
)
