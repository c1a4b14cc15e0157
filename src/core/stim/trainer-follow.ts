/**
 * How the stimulator module follows the trainer: the program runner's status
 * (services/trainer.md `runner`) and live report (`live`) in, stim
 * supervisor events out (src/core/stim/supervisor.ts).
 *
 * The trainer runs the session (phases, buttons, gate, battery, probe); the
 * stim module's own firmware reads the program in force from the trainer,
 * watches what the trainer reports and turns it into the supervisor's
 * events. So the trainer's firmware needs no stim client (its 64 KB image is
 * full, docs/engineering.md), and every stim decision is taken next to the
 * output stage, by the supervisor, whatever the trainer says.
 *
 * - A stim phase is delivered while the runner is Running in it, outside
 *   gate work (a strengthening or ETS phase waits for the relaxation gate,
 *   and its gate work is relaxation, not stimulation). Entering it: the
 *   session's caps (first stim phase of the session), the phase, then Start
 *   (the output starts from zero; the patient turns it up).
 * - Intensity: `intensity_steps` counts Up minus Down presses the runner
 *   took in stim phases, modulo 256. The change since the last status seen
 *   becomes IntensityUp/Down events, so a lost report loses no press and a
 *   repeated one repeats none. A change read as more than 127 steps up is
 *   impossible between two reports (they come at once on every change and
 *   every 500 ms) and is read as steps down: the safe way round.
 * - Leaving it: to the next phase, to gate work or to the end-of-session
 *   rating is PhaseEnded; a pause, a stop (the session goes Done without a
 *   rating) or a runner fault is StopButton, the patient's (or the device's)
 *   stop. Either latches the output off until the next Start. A next stim
 *   phase starts with the next status (the trainer repeats it every 500 ms),
 *   not in the same step as the stop: in the simulator a start right behind
 *   a stop had its `enabled` write overtaken by the stop's own (two fibers),
 *   the module was off under a running supervisor, and the driver stopped on
 *   the mismatch (a fail-safe, but a spurious fault).
 * - Battery (runner flags bit 3) and probe (`live.probe_state`) go through
 *   as BatteryLow/Ok and ProbeRemoved/Inserted.
 * - ETS: every live report in an ETS phase gives MeasuredLevel, the
 *   trigger channel's level in % of the runner's target (`band_low`).
 * - Contraindications come from the program itself (the flags that lock
 *   stimulation), the caps from its `caps`, the electrode area from the
 *   probe this module drives.
 * - The rest since the last stim session: a session counts when its output
 *   ran (`outputOn`); its end is the status that shows the session over.
 *   Before any such end in this boot, the module's record stands in
 *   (`restBeforeBoot`, src/core/stim/rest-record.ts).
 *
 * Pure (no I/O, no clock: `nowMs` is passed in), DeviceScript-compatible;
 * src/stim/trainer-link.ts is the firmware around it.
 */
import { lockingFlags } from "../program/phases"
import type { Program, StimPhase } from "../program/types"
import { stimSettingsOf } from "../runner/phase-plan"
import { RunnerFlag, type RunnerReportFields } from "../protocol/trainer-reports"
import { RunnerState } from "../runner/types"
import { StimMode } from "./plan"
import { StimEventKind, type StimSessionConfig } from "./supervisor"

/** The runner status as services/trainer.md `runner` carries it: the fields the stim module acts on (flags bit 0 gate work, bit 3 battery low; `bandLow` the target in a stim phase). */
export type FollowedRunner = Pick<RunnerReportFields, "state" | "phaseIndex" | "phaseKind" | "flags" | "bandLow" | "intensitySteps">

/** What the stim module hands the supervisor: an event without its time (the firmware stamps it). */
export interface FollowEvent {
    kind: StimEventKind
    value?: number
    phase?: ReturnType<typeof stimSettingsOf>
    session?: StimSessionConfig
}

/** PHASE_KINDS.indexOf("stim") (src/core/program/types.ts; a test checks it) */
export const STIM_PHASE_KIND = 5
/** ProbeState.Ready (src/core/sensing/pressure-conditioner.ts): inserted and zeroed */
const PROBE_READY = 2

export class TrainerFollower {
    private program: Program | null = null
    /** the trainer's session is on (Running or Paused) */
    private inSession = false
    /** caps sent for this session */
    private configured = false
    /** the output ran in this session (the supervisor started it): a stim session for the rest between sessions */
    private stimulated = false
    /** the stim phase being delivered, -1 none */
    private deliveringIndex = -1
    /** the phase whose settings the supervisor has, -1 none */
    private phaseSent = -1
    private steps = 0
    /** the trainer's battery verdict: 1 low, 0 ok, -1 not heard yet (the supervisor starts with the battery not known good) */
    private batteryLow = -1
    private probeReady = false
    private etsTarget = NaN
    private etsPressure = false
    /** [ms] the end of the last session with stimulation (-Infinity: none on record), this boot's or from the record (restBeforeBoot) */
    private lastStimSessionEndMs = -Infinity
    /** sessions with stimulation that ended in this boot */
    private stimSessionsEndedCount = 0

    constructor(
        /** [cm^2] area of the smaller stimulation electrode of the probe this module drives */
        private readonly electrodeAreaCm2: number
    ) {}

    /** The stim phase being delivered (the program's index), -1 none. */
    delivering(): number {
        return this.deliveringIndex
    }

    /** The trainer's session is on (Running or Paused) as far as the statuses seen so far tell. */
    sessionOn(): boolean {
        return this.inSession
    }

    /** The output ran in the trainer's session now on (or the last one, once it is over). */
    stimulatedThisSession(): boolean {
        return this.stimulated
    }

    /** How many sessions with stimulation ended in this boot; the last one ended at lastStimSessionEnd(). */
    stimSessionsEnded(): number {
        return this.stimSessionsEndedCount
    }

    /** [ms] When the last session with stimulation ended, -Infinity none on record. */
    lastStimSessionEnd(): number {
        return this.lastStimSessionEndMs
    }

    /**
     * What the supervisor did: its output is on (`running`). Only a session
     * whose output ran counts as a stim session: a start refused (the rest
     * too short, the probe out) does not push the next session's rest back.
     */
    outputOn(running: boolean): void {
        if (running && this.inSession) this.stimulated = true
    }

    /**
     * [ms] The rest since the last stim session before this boot, as the
     * module's own record tells it (src/core/stim/rest-record.ts), at
     * `nowMs`. It counts until a session with stimulation ends in this boot.
     */
    restBeforeBoot(restMs: number, nowMs: number): void {
        if (this.stimSessionsEndedCount > 0 || this.stimulated) return
        this.lastStimSessionEndMs = restMs === Infinity ? -Infinity : nowMs - restMs
    }

    /** The program in force on the trainer (null: none, or unreadable). A different program mid-session stops (ProgramChanged). */
    setProgram(p: Program | null): FollowEvent[] {
        const same = p !== null && this.program !== null && p.programId === this.program.programId && p.programVersion === this.program.programVersion
        if (same || (p === null && this.program === null)) return []
        this.program = p
        if (!this.inSession) return []
        this.deliveringIndex = -1
        this.phaseSent = -1
        this.configured = false
        return [{ kind: StimEventKind.ProgramChanged }]
    }

    /** A runner status from the trainer. */
    runner(r: FollowedRunner, nowMs: number): FollowEvent[] {
        const out: FollowEvent[] = []
        const low = (r.flags & RunnerFlag.BatteryLow) !== 0 ? 1 : 0
        if (low !== this.batteryLow) {
            this.batteryLow = low
            out.push({ kind: low === 1 ? StimEventKind.BatteryLow : StimEventKind.BatteryOk })
        }
        const active = r.state === RunnerState.Running || r.state === RunnerState.Paused
        if (active && !this.inSession) {
            this.inSession = true
            this.configured = false
            this.stimulated = false
            this.phaseSent = -1
        }
        const want = this.stimPhaseAt(r)
        let stopped = false
        if (this.deliveringIndex >= 0 && want !== this.deliveringIndex) {
            // the session moved on (next phase, gate work, rating), or was paused or stopped
            const movedOn = r.state === RunnerState.Rating || (r.state === RunnerState.Running && r.phaseIndex !== this.deliveringIndex) || (r.flags & RunnerFlag.GateWork) !== 0
            out.push({ kind: movedOn ? StimEventKind.PhaseEnded : StimEventKind.StopButton })
            this.deliveringIndex = -1
            stopped = true
        }
        // the next phase starts at the next status (at most 500 ms on), never in the same breath as a stop: the
        // driver's stop and start writes come from two fibers, and a start right behind a stop could be overtaken
        if (want >= 0 && !stopped) {
            if (this.deliveringIndex < 0) this.begin(want, r, nowMs, out)
            else this.intensity(r.intensitySteps, out)
        }
        if (!active && this.inSession) {
            this.inSession = false
            if (this.stimulated) {
                this.lastStimSessionEndMs = nowMs
                this.stimSessionsEndedCount++
            }
        }
        return out
    }

    /** A live report: the probe's state and the channels' levels ([uV] EMG envelope, [cmH2O] pressure above the zero). */
    live(probeState: number, emgUv: number, pressureCmH2O: number): FollowEvent[] {
        const out: FollowEvent[] = []
        const ready = probeState === PROBE_READY
        if (ready !== this.probeReady) {
            this.probeReady = ready
            out.push({ kind: ready ? StimEventKind.ProbeInserted : StimEventKind.ProbeRemoved })
        }
        if (this.deliveringIndex >= 0 && this.etsTarget > 0) {
            const level = this.etsPressure ? pressureCmH2O : emgUv
            out.push({ kind: StimEventKind.MeasuredLevel, value: (100 * level) / this.etsTarget })
        }
        return out
    }

    /** The program's stim phase the runner is in and should be delivering, -1 none. */
    private stimPhaseAt(r: FollowedRunner): number {
        const p = this.program
        if (p === null || r.state !== RunnerState.Running || r.phaseKind !== STIM_PHASE_KIND || (r.flags & RunnerFlag.GateWork) !== 0) return -1
        if (r.phaseIndex < 0 || r.phaseIndex >= p.phases.length || p.phases[r.phaseIndex].kind !== "stim") return -1
        return r.phaseIndex
    }

    private begin(index: number, r: FollowedRunner, nowMs: number, out: FollowEvent[]): void {
        const p = this.program as Program
        const phase = p.phases[index] as StimPhase
        const settings = stimSettingsOf(phase)
        if (!this.configured) {
            this.configured = true
            out.push({ kind: StimEventKind.SessionBegin, session: this.sessionOf(p, nowMs) })
        }
        if (this.phaseSent !== index) {
            this.phaseSent = index
            out.push({ kind: StimEventKind.Phase, phase: settings })
        }
        this.etsTarget = settings.mode === StimMode.Ets ? r.bandLow : NaN
        this.etsPressure = phase.triggerChannel === "pressure"
        this.deliveringIndex = index
        this.steps = r.intensitySteps
        out.push({ kind: StimEventKind.Start })
    }

    private intensity(steps: number, out: FollowEvent[]): void {
        let d = (steps - this.steps) & 255
        this.steps = steps
        if (d >= 128) d -= 256
        for (; d > 0; d--) out.push({ kind: StimEventKind.IntensityUp })
        for (; d < 0; d++) out.push({ kind: StimEventKind.IntensityDown })
    }

    private sessionOf(p: Program, nowMs: number): StimSessionConfig {
        const flags = lockingFlags(p.contraindications, "stim")
        const pregnant = flags.indexOf("pregnant") >= 0
        const implant = flags.indexOf("pacemakerOrImplant") >= 0
        const caps = p.caps
        return {
            therapistCaps:
                caps === undefined
                    ? undefined
                    : { amplitudeMaxMa: caps.amplitudeMaxMa, pulseWidthMaxUs: caps.pulseWidthMaxUs, frequencyMaxHz: caps.frequencyMaxHz, sessionStimMaxMs: caps.sessionStimMaxMin * 60000 },
            electrodeAreaCm2: this.electrodeAreaCm2 > 0 ? this.electrodeAreaCm2 : undefined,
            // any other flag that locks stimulation (infection, bleeding, epilepsy...)
            contraindications: { pregnant: pregnant, implantedDevice: implant, other: flags.length > (pregnant ? 1 : 0) + (implant ? 1 : 0) },
            restSinceLastSessionMs: nowMs - this.lastStimSessionEndMs,
        }
    }
}
