// The session recorder (src/core/log/recorder.ts): one named test per rule,
// at its boundary where it has one; a scripted session whose every record
// round-trips through encodeRecord/decodeRecord (plain and encrypted); and
// the real SessionRunner driven through its trainer report, so the phases
// the recorder hears match the ones the runner itself reports.
import { RunnerStatus } from "../../../src/feedback/runner-status"
import { describe, expect, test } from "vitest"
import { AMPLITUDE_STEP_MA } from "../../../src/core/limits"
import {
    DEFAULT_REP_GRACE_MS,
    NO_PHASE_KIND,
    PHASE_EDGE_SLACK_MS,
    SessionRecorder,
    STIM_LEVEL_STEP_MA,
    stopCauseOfStimReason,
    type LiveObservation,
    type RunnerObservation,
    type SessionRecorderOptions,
    type SessionStart,
    type StimObservation,
} from "../../../src/core/log/recorder"
import { RunnerFlag } from "../../../src/core/protocol/trainer-reports"
import {
    decodeRecord,
    DEFAULT_TRACE_CHUNK_SAMPLES,
    DEFAULT_TRACE_INTERVAL_MS,
    encodeRecord,
    EventCode,
    JoinedLateCause,
    LogChannel,
    MAX_TRACE_SAMPLES,
    PhaseOutcome,
    RecordKind,
    SessionOutcome,
    StopCause,
    TimeSync,
    TRACE_MISSING,
    type EventRecord,
    type LogRecord,
    type PhaseEndRecord,
    type SummaryRecord,
    type TraceRecord,
} from "../../../src/core/log/records"
import { RepFlag, type RepMetrics, type SessionMetrics } from "../../../src/core/metrics/types"
import { PHASE_KINDS } from "../../../src/core/program/types"
import { DEFAULT_RUNNER, SessionRunner } from "../../../src/core/runner/session-runner"
import {
    ButtonKind,
    Notice,
    PhaseOutcome as RunnerOutcome,
    RunnerEventKind,
    RunnerState,
    type RunnerEvent,
} from "../../../src/core/runner/types"
import { EmgContact } from "../../../src/core/sensing/emg-contact"
import { ProbeState } from "../../../src/core/sensing/pressure-conditioner"
import { StimReason } from "../../../src/core/stim/reasons"
import { flicksPhase, makeOptions, makeProgram, makeRep, relaxPhase, type ProgramOverrides } from "../../cases/runner-fixtures"
import { ccmCipher } from "./helpers"

// ------------------------------------------------------------ fixtures (factories: a fresh object per call)

const RELAX = PHASE_KINDS.indexOf("relax")
const FLICKS = PHASE_KINDS.indexOf("flicks")
const HOLDS = PHASE_KINDS.indexOf("holds")

/** [cmH2O x 10] from hPa, computed apart from the module: 1 cmH2O = 98.0665 Pa (conventional) */
function cmX10(hpa: number): number {
    return Math.round(((hpa * 100) / 98.0665) * 10)
}

/** [uV x 10] from mV */
function uvX10(mv: number): number {
    return Math.round(mv * 1000 * 10)
}

function sessionStart(over?: Partial<SessionStart>): SessionStart {
    return {
        deviceId: "pft-0042",
        firmwareVersion: "0.9.1",
        programId: "relax-then-tone",
        programVersion: 7,
        bootCount: 12,
        startMonoMs: 61_000,
        startWallMs: 1_767_225_600_000,
        ...over,
    }
}

function liveAt(t: number, over?: Partial<LiveObservation>): LiveObservation {
    return { sampleTimeMs: t, pressureHpa: 2, emgMv: 0.005, probeState: ProbeState.Ready, emgContact: EmgContact.Good, ...over }
}

function runnerObs(over?: Partial<RunnerObservation>): RunnerObservation {
    return { state: RunnerState.Running, phaseIndex: -1, phaseKind: NO_PHASE_KIND, flags: 0, notice: Notice.None, ratingValue: 0, faultCause: 0, level: NaN, ...over }
}

function stimObs(over?: Partial<StimObservation>): StimObservation {
    return { levelMa: 0, peakLevelMa: 0, running: false, lastStop: StimReason.None, ...over }
}

function repAt(repIndex: number, cueOnMs: number, flags?: number): RepMetrics {
    const m = makeRep(repIndex, flags)
    m.cueOnMs = cueOnMs
    m.cueOffMs = cueOnMs + 2000
    m.onsetMs = cueOnMs + 150
    m.offsetMs = cueOnMs + 2600
    return m
}

function sessionMetrics(repsPlanned: number, repsDone: number): SessionMetrics {
    return {
        preBaseline: { mean: 3.1, sd: 0.6, cv: 0.19, durationMs: 10_000 },
        postBaseline: { mean: 2.8, sd: 0.5, cv: 0.18, durationMs: 10_000 },
        mvc: 31.5,
        repsPlanned: repsPlanned,
        repsDone: repsDone,
        holdFatiguePct: 12.5,
        enduranceDeclinePct: 0,
        timeOnTaskMs: 24_000,
    }
}

function bothChannels(repsPlanned: number, repsDone: number): { channel: LogChannel; metrics: SessionMetrics }[] {
    return [
        { channel: LogChannel.Emg, metrics: sessionMetrics(repsPlanned, repsDone) },
        { channel: LogChannel.Pressure, metrics: sessionMetrics(repsPlanned, repsDone) },
    ]
}

/** A recorder and every record it returned, in order. */
class Tape {
    readonly rec: SessionRecorder
    readonly records: LogRecord[] = []

    constructor(options?: SessionRecorderOptions) {
        this.rec = new SessionRecorder(options)
    }

    private add(out: LogRecord[]): LogRecord[] {
        for (const r of out) this.records.push(r)
        return out
    }

    start(over?: Partial<SessionStart>): LogRecord[] {
        return this.add(this.rec.start(sessionStart(over)))
    }

    live(t: number, over?: Partial<LiveObservation>): LogRecord[] {
        return this.add(this.rec.live(liveAt(t, over)))
    }

    runner(t: number, over?: Partial<RunnerObservation>): LogRecord[] {
        return this.add(this.rec.runner(runnerObs(over), t))
    }

    stim(t: number, over?: Partial<StimObservation>): LogRecord[] {
        return this.add(this.rec.stim(stimObs(over), t))
    }

    rep(channel: LogChannel, m: RepMetrics): LogRecord[] {
        return this.add(this.rec.rep(channel, m))
    }

    /** the rep on both channels */
    reps(m: RepMetrics): LogRecord[] {
        return this.add([...this.rec.rep(LogChannel.Emg, m), ...this.rec.rep(LogChannel.Pressure, m)])
    }

    finish(t: number, channels?: { channel: LogChannel; metrics: SessionMetrics }[]): LogRecord[] {
        return this.add(this.rec.finish(t, channels ?? []))
    }

    lines(): string[] {
        return this.records.map(line)
    }

    events(code?: EventCode): EventRecord[] {
        return this.records.filter((r): r is EventRecord => r.kind === RecordKind.Event && (code === undefined || r.code === code))
    }

    traces(): TraceRecord[] {
        return this.records.filter((r): r is TraceRecord => r.kind === RecordKind.Trace)
    }

    phaseLines(): string[] {
        return this.records.filter(r => r.kind === RecordKind.PhaseStart || r.kind === RecordKind.PhaseEnd).map(line)
    }

    summary(): SummaryRecord {
        const s = this.records.filter((r): r is SummaryRecord => r.kind === RecordKind.Summary)
        expect(s.length).toBe(1)
        return s[0]
    }
}

function startedTape(options?: SessionRecorderOptions): Tape {
    const tape = new Tape(options)
    tape.start()
    return tape
}

const EVENT_NAMES: Record<number, string> = {
    [EventCode.Pause]: "pause",
    [EventCode.Resume]: "resume",
    [EventCode.Stop]: "stop",
    [EventCode.GateMet]: "gate-met",
    [EventCode.GateNotMet]: "gate-not-met",
    [EventCode.SpasmSign]: "spasm",
    [EventCode.StimLevel]: "stim-level",
    [EventCode.StimStop]: "stim-stop",
    [EventCode.Fault]: "fault",
    [EventCode.PainRating]: "pain",
    [EventCode.DilatorSize]: "dilator",
    [EventCode.StimRefused]: "stim-refused",
    [EventCode.JoinedLate]: "joined",
}
const PHASE_OUTCOMES = ["?", "completed", "gate-not-met", "stopped", "fault"]
const SESSION_OUTCOMES = ["?", "completed", "stopped", "fault"]

/** One record as a line a reader can check at a glance. */
function line(r: LogRecord): string {
    switch (r.kind) {
        case RecordKind.SessionHeader:
            return "header"
        case RecordKind.PhaseStart:
            return `start ${r.phaseIndex}/${r.phaseKind} @${r.timeMs}`
        case RecordKind.PhaseEnd:
            return `end ${r.phaseIndex}/${r.phaseKind} @${r.timeMs} ${PHASE_OUTCOMES[r.outcome]} reps ${r.repsDone}`
        case RecordKind.Rep:
            return `rep ${r.repIndex} ch${r.channel}`
        case RecordKind.Event:
            return `${EVENT_NAMES[r.code]} @${r.timeMs} ${r.cause} ${r.value} ${r.extra}`
        case RecordKind.Trace:
            return `trace @${r.startMs} x${r.pressureCmH2OX10.length}`
        case RecordKind.Summary:
            return `summary @${r.endMs} ${SESSION_OUTCOMES[r.outcome]} cause ${r.stopCause} ch${r.channels.length}`
        default:
            return "kind " + r.kind
    }
}

// ------------------------------------------------------------ trace

describe("trace", () => {
    const small = { traceIntervalMs: 100, traceChunkSamples: 5 }
    const P = (hpa: number) => cmX10(hpa)
    const E = (mv: number) => uvX10(mv)
    const M = TRACE_MISSING

    test.each([
        {
            name: "slot k = floor(t / interval): the first sample in a slot wins",
            samples: [liveAt(0, { pressureHpa: 1 }), liveAt(99, { pressureHpa: 5, emgMv: 0.5 })],
            startMs: 0,
            pressure: [P(1)],
            emg: [E(0.005)],
        },
        {
            name: "a slot without a sample is missing",
            samples: [liveAt(0), liveAt(250, { pressureHpa: 3 })],
            startMs: 0,
            pressure: [P(2), M, P(3)],
            emg: [E(0.005), M, E(0.005)],
        },
        {
            name: "a sample back in time, inside the chunk, fills its empty slot",
            samples: [liveAt(0), liveAt(300), liveAt(100, { pressureHpa: 4 })],
            startMs: 0,
            pressure: [P(2), P(4), M, P(2)],
            emg: [E(0.005), E(0.005), M, E(0.005)],
        },
        {
            name: "a sample before the chunk's start is dropped",
            samples: [liveAt(1000), liveAt(999, { pressureHpa: 4 }), liveAt(1100)],
            startMs: 1000,
            pressure: [P(2), P(2)],
            emg: [E(0.005), E(0.005)],
        },
        {
            name: "a chunk starts at the slot of the sample that opens it",
            samples: [liveAt(1234), liveAt(1300)],
            startMs: 1200,
            pressure: [P(2), P(2)],
            emg: [E(0.005), E(0.005)],
        },
    ])("$name (finish() writes the open chunk up to its last sample)", ({ samples, startMs, pressure, emg }) => {
        const tape = startedTape(small)
        for (const s of samples) expect(tape.rec.live(s)).toEqual([])
        tape.finish(2000)
        const tr = tape.traces()
        expect(tr.length).toBe(1)
        expect(tr[0].startMs).toBe(startMs)
        expect(tr[0].intervalMs).toBe(100)
        expect(tr[0].pressureCmH2OX10).toEqual(pressure)
        expect(tr[0].emgUvX10).toEqual(emg)
    })

    test("the first sample past the chunk writes it out, padded to its full length", () => {
        const tape = startedTape(small)
        tape.live(0)
        tape.live(100)
        expect(tape.live(399)).toEqual([])
        const out = tape.live(500)
        expect(out.map(line)).toEqual(["trace @0 x5"])
        const tr = out[0] as TraceRecord
        expect(tr.pressureCmH2OX10).toEqual([P(2), P(2), M, P(2), M])
        tape.finish(600)
        expect(tape.traces().map(line)).toEqual(["trace @0 x5", "trace @500 x1"])
    })

    test("a gap opens the next chunk at the sample's own slot: no chunk is all missing", () => {
        const tape = startedTape(small)
        tape.live(0)
        expect(tape.live(2730).map(line)).toEqual(["trace @0 x5"])
        tape.live(2800)
        tape.finish(3000)
        expect(tape.traces().map(line)).toEqual(["trace @0 x5", "trace @2700 x2"])
        for (const tr of tape.traces()) expect(tr.pressureCmH2OX10.some(v => v !== M)).toBe(true)
    })

    test.each([
        { probe: ProbeState.NotInserted, measured: false },
        { probe: ProbeState.Zeroing, measured: false },
        { probe: ProbeState.Ready, measured: true },
        { probe: ProbeState.Removed, measured: false },
    ])("probe state $probe: pressure and EMG measured = $measured", ({ probe, measured }) => {
        const tape = startedTape(small)
        tape.live(0, { probeState: probe })
        tape.finish(100)
        const tr = tape.traces()[0]
        expect(tr.pressureCmH2OX10).toEqual([measured ? P(2) : M])
        expect(tr.emgUvX10).toEqual([measured ? E(0.005) : M])
    })

    test.each([
        { contact: EmgContact.Unknown, measured: true },
        { contact: EmgContact.Good, measured: true },
        { contact: EmgContact.FlatLine, measured: false },
        { contact: EmgContact.Saturated, measured: false },
        { contact: EmgContact.Jumpy, measured: true },
    ])("EMG contact $contact: EMG measured = $measured, pressure always", ({ contact, measured }) => {
        const tape = startedTape(small)
        tape.live(0, { emgContact: contact })
        tape.finish(100)
        const tr = tape.traces()[0]
        expect(tr.emgUvX10).toEqual([measured ? E(0.005) : M])
        expect(tr.pressureCmH2OX10).toEqual([P(2)])
    })

    test("units: hPa to cmH2O x 10 (1 cmH2O = 98.0665 Pa), mV to uV x 10; NaN is missing", () => {
        const tape = startedTape(small)
        tape.live(0, { pressureHpa: 100, emgMv: 0.0123 })
        tape.live(100, { pressureHpa: -5, emgMv: NaN })
        tape.finish(200)
        const tr = tape.traces()[0]
        expect(tr.pressureCmH2OX10).toEqual([1020, -51])
        expect(tr.emgUvX10).toEqual([123, M])
    })

    test("defaults: DEFAULT_TRACE_CHUNK_SAMPLES slots of DEFAULT_TRACE_INTERVAL_MS", () => {
        const tape = startedTape()
        const n = DEFAULT_TRACE_CHUNK_SAMPLES
        const dt = DEFAULT_TRACE_INTERVAL_MS
        for (let k = 0; k < n; k++) expect(tape.live(k * dt)).toEqual([])
        const out = tape.live(n * dt)
        expect(out.map(line)).toEqual([`trace @0 x${n}`])
        expect((out[0] as TraceRecord).intervalMs).toBe(dt)
    })

    test("a chunk of MAX_TRACE_SAMPLES is allowed and encodes; one more is refused", () => {
        const tape = startedTape({ traceChunkSamples: MAX_TRACE_SAMPLES })
        for (let k = 0; k <= MAX_TRACE_SAMPLES; k++) tape.live(k * 100)
        const tr = tape.traces()[0]
        expect(tr.pressureCmH2OX10.length).toBe(MAX_TRACE_SAMPLES)
        expect(() => encodeRecord(tr, { session: 1, seq: 1 }, ccmCipher("k"))).not.toThrow()
        expect(() => new SessionRecorder({ traceChunkSamples: MAX_TRACE_SAMPLES + 1 })).toThrow(RangeError)
    })

    test.each([
        { name: "chunk of 0", options: { traceChunkSamples: 0 } },
        { name: "fractional chunk", options: { traceChunkSamples: 2.5 } },
        { name: "interval 0", options: { traceIntervalMs: 0 } },
        { name: "interval over u16", options: { traceIntervalMs: 0x10000 } },
    ])("options out of range throw: $name", ({ options }) => {
        expect(() => new SessionRecorder(options)).toThrow(RangeError)
    })
})

// ------------------------------------------------------------ phases

describe("phases", () => {
    /** a phase change is held back for late reps: a live report repGraceMs later releases it */
    const grace = { repGraceMs: 3000 }

    test("a new phase index ends the open phase Completed and starts the next (held until repGraceMs passed)", () => {
        const tape = startedTape(grace)
        expect(tape.runner(0, { phaseIndex: 0, phaseKind: RELAX }).map(line)).toEqual(["start 0/1 @0"])
        expect(tape.runner(4000, { phaseIndex: 1, phaseKind: FLICKS })).toEqual([])
        expect(tape.live(6999).filter(r => r.kind !== RecordKind.Trace)).toEqual([])
        expect(tape.live(7000).filter(r => r.kind !== RecordKind.Trace).map(line)).toEqual(["end 0/1 @4000 completed reps 0", "start 1/2 @4000"])
    })

    test("a new kind at the same index is a new phase: gate work, then the toning it guarded", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX, flags: RunnerFlag.GateWork, level: 3.5 })
        tape.runner(5900, { phaseIndex: 0, phaseKind: FLICKS, flags: RunnerFlag.Toning | RunnerFlag.GateMet, notice: Notice.GateMet, level: 3.25 })
        tape.finish(8000)
        expect(tape.lines().filter(l => !l.startsWith("trace"))).toEqual([
            "header",
            "start 0/1 @0",
            `gate-met @5900 ${LogChannel.Emg} 325 0`,
            "end 0/1 @5900 completed reps 0",
            "start 0/2 @5900",
            "end 0/2 @8000 stopped reps 0",
            `summary @8000 stopped cause ${StopCause.None} ch0`,
        ])
    })

    test("gate not met: the notice comes with the next phase and ends the gate work GateNotMet (extra: the gated phase)", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX, flags: RunnerFlag.GateWork })
        tape.runner(30_000, { phaseIndex: 1, phaseKind: RELAX, notice: Notice.GateNotMet, level: 6 })
        tape.runner(30_500, { phaseIndex: 1, phaseKind: RELAX, notice: Notice.GateNotMet, level: 6 })
        tape.runner(40_000, { state: RunnerState.Rating })
        tape.finish(40_100)
        expect(tape.phaseLines()).toEqual(["start 0/1 @0", "end 0/1 @30000 gate-not-met reps 0", "start 1/1 @30000", "end 1/1 @40000 completed reps 0"])
        expect(tape.events().map(line)).toEqual([`gate-not-met @30000 ${LogChannel.Emg} 600 0`])
    })

    test("a spasm sign ends the toning phase Stopped and logs SpasmSign (level x 100)", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: FLICKS, flags: RunnerFlag.Toning })
        tape.runner(11_900, { phaseIndex: 0, phaseKind: RELAX, flags: RunnerFlag.GateWork, notice: Notice.SpasmSign, level: 4.5 })
        tape.finish(12_000)
        expect(tape.phaseLines()).toEqual(["start 0/2 @0", "end 0/2 @11900 stopped reps 0", "start 0/1 @11900", "end 0/1 @12000 stopped reps 0"])
        expect(tape.events().map(line)).toEqual([`spasm @11900 ${LogChannel.Emg} 450 0`])
    })

    test("a fault ends the phase Fault and logs the cause", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX })
        tape.runner(3000, { state: RunnerState.Fault, faultCause: 3 })
        tape.finish(3000)
        expect(tape.lines().filter(l => !l.startsWith("trace"))).toEqual([
            "header",
            "start 0/1 @0",
            "fault @3000 3 0 0",
            "end 0/1 @3000 fault reps 0",
            `summary @3000 fault cause ${StopCause.Fault} ch0`,
        ])
    })

    test.each([
        { name: "Running -> Done (stop)", from: RunnerState.Running, to: RunnerState.Done, outcome: "stopped" },
        { name: "Paused -> Done (stop)", from: RunnerState.Paused, to: RunnerState.Done, outcome: "stopped" },
        { name: "Paused -> Rating (paused too long)", from: RunnerState.Paused, to: RunnerState.Rating, outcome: "stopped" },
        { name: "Running -> Rating (the phases are over)", from: RunnerState.Running, to: RunnerState.Rating, outcome: "completed" },
        { name: "Running -> Fault", from: RunnerState.Running, to: RunnerState.Fault, outcome: "fault" },
    ])("the last phase when the runner goes $name: $outcome", ({ from, to, outcome }) => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 2, phaseKind: HOLDS, state: from })
        tape.runner(9000, { state: to })
        tape.finish(9100)
        expect(tape.phaseLines()).toEqual(["start 2/3 @0", `end 2/3 @9000 ${outcome} reps 0`])
    })

    test("a phase still open at finish() ends Stopped", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX })
        const out = tape.finish(5000)
        expect(out.map(line)).toEqual(["end 0/1 @5000 stopped reps 0", `summary @5000 stopped cause ${StopCause.None} ch0`])
    })

    test.each([
        {
            name: "distinct rep indexes over both channels",
            reps: [
                { ch: LogChannel.Emg, m: repAt(0, 1000) },
                { ch: LogChannel.Pressure, m: repAt(0, 1000) },
                { ch: LogChannel.Emg, m: repAt(1, 4000) },
            ],
            repsDone: 2,
        },
        {
            name: "no contraction or interrupted on every channel: not done",
            reps: [
                { ch: LogChannel.Emg, m: repAt(0, 1000, RepFlag.NoContraction) },
                { ch: LogChannel.Pressure, m: repAt(0, 1000, RepFlag.NoContraction) },
                { ch: LogChannel.Emg, m: repAt(1, 4000, RepFlag.Interrupted) },
                { ch: LogChannel.Emg, m: repAt(2, 6000, RepFlag.NoRelease | RepFlag.Dropout) },
            ],
            repsDone: 1,
        },
        {
            name: "done on either channel counts",
            reps: [
                { ch: LogChannel.Emg, m: repAt(0, 1000, RepFlag.NoContraction) },
                { ch: LogChannel.Pressure, m: repAt(0, 1000) },
            ],
            repsDone: 1,
        },
    ])("repsDone: $name", ({ reps, repsDone }) => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: FLICKS })
        for (const r of reps) expect(tape.rep(r.ch, r.m).map(line)).toEqual([`rep ${r.m.repIndex} ch${r.ch}`])
        tape.runner(10_000, { phaseIndex: 1, phaseKind: RELAX })
        tape.finish(12_000)
        expect(tape.phaseLines()[1]).toBe(`end 0/2 @10000 completed reps ${repsDone}`)
    })

    test.each([
        { cueOnMs: 10_000 - PHASE_EDGE_SLACK_MS - 1, held: true },
        { cueOnMs: 10_000 - PHASE_EDGE_SLACK_MS, held: false },
    ])("a rep read after the phase change and cued at $cueOnMs (change at 10000): counted in the ended phase = $held", ({ cueOnMs, held }) => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: FLICKS })
        tape.runner(10_000, { phaseIndex: 1, phaseKind: HOLDS })
        const out = tape.reps(repAt(0, cueOnMs))
        tape.finish(20_000)
        if (held) {
            // the rep goes out first; the change waits for the next record
            expect(out.map(line)).toEqual(["rep 0 ch0", "rep 0 ch1"])
            expect(tape.phaseLines()).toEqual(["start 0/2 @0", "end 0/2 @10000 completed reps 1", "start 1/3 @10000", "end 1/3 @20000 stopped reps 0"])
        } else {
            // a rep of the new phase releases the change first
            expect(out.map(line)).toEqual(["end 0/2 @10000 completed reps 0", "start 1/3 @10000", "rep 0 ch0", "rep 0 ch1"])
            expect(tape.phaseLines()).toEqual(["start 0/2 @0", "end 0/2 @10000 completed reps 0", "start 1/3 @10000", "end 1/3 @20000 stopped reps 1"])
        }
    })

    test("a rep cued before its phase began, read after the change was written, counts in no phase", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: FLICKS })
        tape.runner(10_000, { phaseIndex: 1, phaseKind: HOLDS })
        tape.live(13_000) // repGraceMs later: the change is written
        tape.reps(repAt(0, 6000))
        tape.finish(20_000)
        expect(tape.phaseLines()).toEqual(["start 0/2 @0", "end 0/2 @10000 completed reps 0", "start 1/3 @10000", "end 1/3 @20000 stopped reps 0"])
        expect(tape.lines().filter(l => l.startsWith("rep"))).toEqual(["rep 0 ch0", "rep 0 ch1"])
    })

    test("an event after a phase change writes the held change first, so records stay in time order", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: FLICKS })
        tape.runner(10_000, { phaseIndex: 1, phaseKind: HOLDS })
        expect(tape.runner(10_500, { phaseIndex: 1, phaseKind: HOLDS, state: RunnerState.Paused }).map(line)).toEqual([
            "end 0/2 @10000 completed reps 0",
            "start 1/3 @10000",
            "pause @10500 0 0 0",
        ])
    })

    test("start() opens the phase of the runner status heard just before it, at 0", () => {
        const tape = new Tape()
        expect(tape.runner(0, { phaseIndex: 0, phaseKind: RELAX, flags: RunnerFlag.GateWork })).toEqual([])
        expect(tape.start().map(line)).toEqual(["header", "start 0/1 @0"])
        expect(tape.runner(500, { phaseIndex: 0, phaseKind: RELAX, flags: RunnerFlag.GateWork })).toEqual([])
    })

    test("a session joined late opens with JoinedLate at the join time; its running phase opens then, not at 0", () => {
        const tape = new Tape()
        tape.runner(0, { phaseIndex: 1, phaseKind: HOLDS })
        expect(tape.start({ joinedAtMs: 42370 }).map(line)).toEqual(["header", "joined @42370 0 42370 0", "start 1/3 @42370"])
        // the reps that had finished, read back: kept, but counted in no phase (cued before recording began)
        tape.reps(repAt(0, 30000))
        tape.reps(repAt(1, 50000))
        tape.runner(60000, { phaseIndex: 2, phaseKind: HOLDS })
        tape.live(60000 + DEFAULT_REP_GRACE_MS)
        expect(tape.phaseLines()).toEqual(["start 1/3 @42370", "end 1/3 @60000 completed reps 1", "start 2/3 @60000"])
        expect(tape.records.filter(r => r.kind === RecordKind.Rep).length).toBe(4)
    })

    test("a session joined before any runner status: JoinedLate, and the phase opens when the status comes", () => {
        const tape = new Tape()
        expect(tape.start({ joinedAtMs: 9000 }).map(line)).toEqual(["header", "joined @9000 0 9000 0"])
        expect(tape.runner(9400, { phaseIndex: 0, phaseKind: RELAX }).map(line)).toEqual(["start 0/1 @9400"])
    })

    test("joinedAtMs 0 is a session recorded from its start: no JoinedLate", () => {
        const tape = new Tape()
        expect(tape.start({ joinedAtMs: 0 }).map(line)).toEqual(["header"])
        expect(tape.events(EventCode.JoinedLate)).toEqual([])
    })

    test("a session joined after its end (a program's, the runner Done): JoinedLate says so; the reps read back decide its outcome", () => {
        const ended = (planned: number, done: number) => {
            const tape = new Tape()
            tape.runner(0, { state: RunnerState.Done })
            const start = tape.start({ joinedAtMs: 76000, joinedAfterEnd: true })
            tape.reps(repAt(0, 40000))
            tape.finish(76000, bothChannels(planned, done))
            return { start: start.map(line), summary: tape.summary() }
        }
        const all = ended(3, 3)
        expect(all.start, "no phase opens: the runner is Done").toEqual(["header", `joined @76000 ${JoinedLateCause.AfterEnd} 76000 0`])
        expect([all.summary.outcome, all.summary.stopCause]).toEqual([SessionOutcome.Completed, StopCause.Completed])
        expect(all.summary.channels.length).toBe(2)
        // fewer reps than planned: how it ended was not heard, so no cause is made up
        const some = ended(3, 1)
        expect([some.summary.outcome, some.summary.stopCause]).toEqual([SessionOutcome.Stopped, StopCause.None])
        // the same program session joined while it ran, its Done heard: Stopped by the button, whatever the reps
        const tape = new Tape()
        tape.runner(0, { state: RunnerState.Running, phaseIndex: 0, phaseKind: HOLDS })
        tape.start({ joinedAtMs: 30000 })
        tape.runner(40000, { state: RunnerState.Done })
        tape.finish(40000, bothChannels(3, 3))
        expect([tape.summary().outcome, tape.summary().stopCause]).toEqual([SessionOutcome.Stopped, StopCause.Button])
    })

    test("start() after the last session's Done status opens no phase", () => {
        const tape = new Tape()
        tape.runner(0, { state: RunnerState.Done })
        expect(tape.start().map(line)).toEqual(["header"])
    })
})

// ------------------------------------------------------------ events

describe("events", () => {
    /** A runner session with every kind of change, each report as given. */
    function script(tape: Tape, repeat: number): void {
        const reports: [number, Partial<RunnerObservation>][] = [
            [0, { phaseIndex: 0, phaseKind: RELAX, level: 3.5 }],
            [3000, { phaseIndex: 0, phaseKind: RELAX, notice: Notice.GateMet, flags: RunnerFlag.GateMet, level: 3 }],
            [4000, { phaseIndex: 0, phaseKind: RELAX, notice: Notice.GateMet, flags: RunnerFlag.GateMet, level: 3, state: RunnerState.Paused }],
            [5000, { phaseIndex: 0, phaseKind: RELAX, notice: Notice.GateMet, flags: RunnerFlag.GateMet, level: 3 }],
            [9000, { phaseIndex: 1, phaseKind: FLICKS, notice: Notice.GateMet, flags: RunnerFlag.GateMet | RunnerFlag.Toning, level: 20 }],
            [12_000, { phaseIndex: 1, phaseKind: RELAX, notice: Notice.SpasmSign, flags: RunnerFlag.GateWork, level: 5.25 }],
            [13_000, { state: RunnerState.Fault, faultCause: 2, notice: Notice.SpasmSign }],
        ]
        for (const [t, o] of reports) for (let k = 0; k < repeat; k++) tape.runner(t + k * 500, o)
    }

    test("only changes are logged: the same reports repeated give the same records", () => {
        const once = startedTape()
        script(once, 1)
        const thrice = startedTape()
        script(thrice, 3)
        expect(thrice.events().map(e => [e.code, e.cause, e.value, e.extra])).toEqual(once.events().map(e => [e.code, e.cause, e.value, e.extra]))
        expect(once.events().map(e => EVENT_NAMES[e.code])).toEqual(["gate-met", "pause", "resume", "spasm", "fault"])
    })

    test.each([
        { name: "Running -> Paused: Pause", from: RunnerState.Running, to: RunnerState.Paused, lines: ["pause @100 0 0 0"] },
        { name: "Paused -> Running: Resume", from: RunnerState.Paused, to: RunnerState.Running, lines: ["resume @100 0 0 0"] },
        { name: "Running -> Running: nothing", from: RunnerState.Running, to: RunnerState.Running, lines: [] },
        { name: "Ready -> Running: nothing", from: RunnerState.Ready, to: RunnerState.Running, lines: [] },
    ])("$name", ({ from, to, lines }) => {
        const tape = startedTape()
        tape.runner(0, { state: from })
        expect(tape.runner(100, { state: to }).map(line)).toEqual(lines)
    })

    test.each([
        { notice: Notice.GateMet, level: 3.456, line: "gate-met @100 1 346 0" },
        { notice: Notice.GateNotMet, level: 6, line: "gate-not-met @100 1 600 4" },
        { notice: Notice.SpasmSign, level: NaN, line: "spasm @100 1 0 0" },
    ])("notice $notice: value = level x 100 (0 if NaN), cause = the levelChannel option", ({ notice, level, line: expected }) => {
        const tape = startedTape({ levelChannel: LogChannel.Pressure })
        tape.runner(0, { phaseIndex: 4, phaseKind: RELAX })
        const out = tape.runner(100, { phaseIndex: 4, phaseKind: RELAX, notice: notice, level: level })
        expect(out.map(line)).toEqual([expected])
    })

    test("a notice back to None, or a fault cause back to 0, logs nothing", () => {
        const tape = startedTape()
        tape.runner(0, { notice: Notice.GateMet, faultCause: 1 })
        expect(tape.runner(100, {})).toEqual([])
    })
})

// ------------------------------------------------------------ rating

describe("rating", () => {
    /**
     * Running (phase 0, with `notice` from the phases: 1 if the gate was
     * met), Rating from 10000, then the steps; each report keeps that
     * notice unless the step gives its own (the runner changes the notice
     * only to RatingRecorded, as the session goes Done after a confirmed
     * last step).
     */
    function rated(steps: [number, Partial<RunnerObservation>][], notice?: Notice): Tape {
        const n = notice ?? Notice.None
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX, notice: n })
        tape.runner(10_000, { state: RunnerState.Rating, notice: n })
        for (const [t, o] of steps) tape.runner(t, { notice: n, ...o })
        return tape
    }
    /** the rating events only (a notice heard before the rating logs its own event) */
    const ratings = (tape: Tape) => tape.events().filter(e => e.code === EventCode.PainRating || e.code === EventCode.DilatorSize).map(line)
    const rating = (value: number, dilator?: boolean) => ({ state: RunnerState.Rating, ratingValue: value, flags: dilator ? RunnerFlag.DilatorStep : 0 })
    /** the last step confirmed: Done with Notice.RatingRecorded */
    const done = { state: RunnerState.Done, notice: Notice.RatingRecorded }
    /** the stop button, or the rating timeout: Done, the notice left as it was */
    const doneUnconfirmed = { state: RunnerState.Done }
    const RATING_TIMEOUT_MS = DEFAULT_RUNNER.ratingTimeoutMs

    test("the runner's notice for a confirmed rating is 4", () => {
        expect(Notice.RatingRecorded).toBe(4)
    })

    test("pain, then the dilator step: PainRating when the step turns, DilatorSize when done", () => {
        const tape = rated([
            [10_500, rating(1)],
            [10_600, rating(3)],
            [11_000, rating(1, true)],
            [11_200, rating(2, true)],
            [11_500, done],
        ])
        expect(tape.events().map(line)).toEqual(["pain @11000 0 3 0", "dilator @11500 0 2 0"])
    })

    test("pain only: PainRating of the last value when done", () => {
        const tape = rated([
            [10_500, rating(4)],
            [10_600, rating(2)],
            [11_000, done],
        ])
        expect(tape.events().map(line)).toEqual(["pain @11000 0 2 0"])
    })

    test("a confirmed rating after the gate was met (notice 1 -> 4): recorded, and no notice event for it", () => {
        const tape = rated([[10_500, rating(2)], [11_000, done]], Notice.GateMet)
        expect(tape.events().map(line)).toEqual([`gate-met @0 ${LogChannel.Emg} 0 0`, "pain @11000 0 2 0"])
    })

    test("a confirmed rating is recorded however long it took (no timing guess)", () => {
        const tape = rated([
            [10_000 + RATING_TIMEOUT_MS - 1, rating(5)],
            [10_000 + 2 * RATING_TIMEOUT_MS, rating(1, true)],
            [10_000 + 3 * RATING_TIMEOUT_MS, done],
        ])
        expect(ratings(tape)).toEqual([`pain @${10_000 + 2 * RATING_TIMEOUT_MS} 0 5 0`, `dilator @${10_000 + 3 * RATING_TIMEOUT_MS} 0 1 0`])
    })

    test.each([
        { name: "notice none", notice: Notice.None },
        { name: "notice still 1 from gate met", notice: Notice.GateMet },
        { name: "notice still 3 from a spasm sign", notice: Notice.SpasmSign },
    ])("a stop during the pain step (Rating -> Done, $name) records nothing", ({ notice }) => {
        const tape = rated([[10_500, rating(3)], [10_600, rating(4)], [11_000, doneUnconfirmed]], notice)
        expect(ratings(tape)).toEqual([])
    })

    test.each([
        { name: "notice none", notice: Notice.None },
        { name: "notice still 1 from gate met", notice: Notice.GateMet },
    ])("a stop during the dilator step after a confirmed pain ($name) records the PainRating only", ({ notice }) => {
        const tape = rated([[10_500, rating(3)], [11_000, rating(1, true)], [11_200, rating(2, true)], [11_500, doneUnconfirmed]], notice)
        expect(ratings(tape)).toEqual(["pain @11000 0 3 0"])
    })

    test.each([
        { name: "in the pain step", steps: [[10_500, rating(3)]], lines: [] },
        { name: "in the dilator step after a confirmed pain", steps: [[10_500, rating(3)], [11_000, rating(2, true)]], lines: ["pain @11000 0 3 0"] },
    ] as { name: string; steps: [number, Partial<RunnerObservation>][]; lines: string[] }[])(
        "the rating timeout (Done without notice 4 after 5 min) $name records no rating of that step",
        ({ steps, lines }) => {
            const last = steps[steps.length - 1][0]
            const tape = rated([...steps, [last + RATING_TIMEOUT_MS, doneUnconfirmed]], Notice.GateMet)
            expect(ratings(tape)).toEqual(lines)
        }
    )

    test.each([
        { name: "Rating -> Fault", steps: [[10_500, rating(6)], [11_000, { state: RunnerState.Fault, faultCause: 5 }]], lines: ["fault @11000 5 0 0"] },
        { name: "Rating -> Fault, even with notice 4", steps: [[10_500, rating(6)], [11_000, { state: RunnerState.Fault, faultCause: 5, notice: Notice.RatingRecorded }]], lines: ["fault @11000 5 0 0"] },
        { name: "dilator size 0 (none used)", steps: [[10_500, rating(2)], [11_000, rating(0, true)], [11_500, done]], lines: ["pain @11000 0 2 0"] },
    ] as { name: string; steps: [number, Partial<RunnerObservation>][]; lines: string[] }[])("no rating recorded: $name", ({ steps, lines }) => {
        const tape = rated(steps)
        expect(tape.events().map(line)).toEqual(lines)
    })
})

// ------------------------------------------------------------ stim

describe("stim", () => {
    test("STIM_LEVEL_STEP_MA is the supervisor's intensity step", () => {
        expect(STIM_LEVEL_STEP_MA).toBe(AMPLITUDE_STEP_MA)
    })

    test.each([
        { name: "a step up", peaks: [0.5], lines: [`stim-level @100 ${StimReason.LevelUp} 500 0`] },
        { name: "less than a step (in the uA logged)", peaks: [0.499], lines: [] },
        { name: "a step once rounded to uA", peaks: [0.4996], lines: [`stim-level @100 ${StimReason.LevelUp} 500 0`] },
        { name: "two changes less than a step each, a step in all", peaks: [0.3, 0.6], lines: [`stim-level @200 ${StimReason.LevelUp} 600 0`] },
        {
            name: "steps up, then a new session's reset",
            peaks: [1, 1.5, 1.8, 0],
            lines: [`stim-level @100 ${StimReason.LevelUp} 1000 0`, `stim-level @200 ${StimReason.LevelUp} 1500 1000`, `stim-level @400 ${StimReason.NewSession} 0 1500`],
        },
        { name: "NaN is ignored", peaks: [NaN], lines: [] },
    ])("StimLevel (uA): $name", ({ peaks, lines }) => {
        const tape = startedTape()
        peaks.forEach((p, i) => tape.stim(100 * (i + 1), { running: true, peakLevelMa: p }))
        expect(tape.events().map(line)).toEqual(lines)
    })

    test("StimStop when running goes true -> false: cause mapped, value the StimReason", () => {
        const tape = startedTape()
        tape.stim(100, { running: true })
        tape.stim(150, { running: true })
        expect(tape.stim(200, { running: false, lastStop: StimReason.ImpedanceHigh }).map(line)).toEqual([
            `stim-stop @200 ${StopCause.ImpedanceOutOfRange} ${StimReason.ImpedanceHigh} 0`,
        ])
        expect(tape.stim(300, { running: false, lastStop: StimReason.ImpedanceHigh })).toEqual([])
    })

    test("StimStop when last_stop changes to non-zero though running was not seen false (stopped and started again)", () => {
        const tape = startedTape()
        tape.stim(100, { running: true, lastStop: StimReason.StopButton })
        expect(tape.stim(200, { running: true, lastStop: StimReason.LeadOff }).map(line)).toEqual([`stim-stop @200 ${StopCause.LeadOff} ${StimReason.LeadOff} 0`])
    })

    test("the same stop cause again is logged when running goes false again", () => {
        const tape = startedTape()
        tape.stim(100, { running: false, lastStop: StimReason.StopButton })
        tape.stim(200, { running: true, lastStop: StimReason.StopButton })
        expect(tape.stim(300, { running: false, lastStop: StimReason.StopButton }).map(line)).toEqual([`stim-stop @300 ${StopCause.Button} ${StimReason.StopButton} 0`])
    })

    test("StimRefused for each refused start in a session, the same reason again included; counted across a lost status; none outside a session", () => {
        const tape = new Tape()
        // before the session: remembered, not logged
        expect(tape.stim(0, { lastRefusal: StimReason.SessionRestTooShort, refusedStarts: 1 })).toEqual([])
        tape.start()
        expect(tape.stim(100, { lastRefusal: StimReason.SessionRestTooShort, refusedStarts: 1 })).toEqual([])
        // the same reason again is a new refusal
        expect(tape.stim(200, { lastRefusal: StimReason.SessionRestTooShort, refusedStarts: 2 }).map(line)).toEqual([`stim-refused @200 ${StimReason.SessionRestTooShort} 1 0`])
        // two refusals behind one status (one status lost), and the count wrapping at 256
        expect(tape.stim(300, { lastRefusal: StimReason.NoStimCaps, refusedStarts: 4 }).map(line)).toEqual([`stim-refused @300 ${StimReason.NoStimCaps} 2 0`])
        tape.stim(400, { lastRefusal: StimReason.NoStimCaps, refusedStarts: 255 })
        expect(tape.stim(500, { lastRefusal: StimReason.NoStimCaps, refusedStarts: 0 }).map(line)).toEqual([`stim-refused @500 ${StimReason.NoStimCaps} 1 0`])
        // a start taken clears the reason: nothing more
        expect(tape.stim(600, { running: true, lastRefusal: StimReason.None, refusedStarts: 0 })).toEqual([])
    })

    test("running true -> false with no reason is a Fault (the supervisor's last-resort stop)", () => {
        const tape = startedTape()
        tape.stim(100, { running: true })
        expect(tape.stim(200, { running: false }).map(line)).toEqual([`stim-stop @200 ${StopCause.Fault} 0 0`])
    })

    test("the first status ever heard is only the baseline; statuses outside a session are not logged but remembered", () => {
        const tape = new Tape()
        expect(tape.stim(0, { running: true })).toEqual([])
        expect(tape.stim(0, { running: false, lastStop: StimReason.BatteryLow })).toEqual([])
        tape.start()
        expect(tape.stim(100, { running: false, lastStop: StimReason.BatteryLow })).toEqual([])
        const fresh = startedTape()
        expect(fresh.stim(100, { running: false, lastStop: StimReason.BatteryLow })).toEqual([])
    })

    /** Every StimReason, and the log's StopCause for it. */
    const STOP_CAUSE_OF: Record<number, StopCause> = {
        [StimReason.None]: StopCause.None,
        [StimReason.StopButton]: StopCause.Button,
        [StimReason.LeadOff]: StopCause.LeadOff,
        [StimReason.ImpedanceLow]: StopCause.ImpedanceOutOfRange,
        [StimReason.ImpedanceHigh]: StopCause.ImpedanceOutOfRange,
        [StimReason.ProbeRemoved]: StopCause.ProbeMissing,
        [StimReason.BusLost]: StopCause.StimHeartbeatLost,
        [StimReason.KeepAliveGap]: StopCause.StimHeartbeatLost,
        [StimReason.ModuleFault]: StopCause.Fault,
        [StimReason.BatteryLow]: StopCause.LowBattery,
        [StimReason.StimTimeOver]: StopCause.SessionTimeOver,
        [StimReason.Contraindication]: StopCause.Contraindication,
        [StimReason.Exception]: StopCause.Fault,
        [StimReason.ProgramChanged]: StopCause.Host,
        [StimReason.InvalidPhase]: StopCause.Fault,
        [StimReason.ClockFault]: StopCause.Fault,
        [StimReason.PhaseEnded]: StopCause.Completed,
        [StimReason.NoStimCaps]: StopCause.Fault,
        [StimReason.NoPhase]: StopCause.Fault,
        [StimReason.AlreadyRunning]: StopCause.Fault,
        [StimReason.NotRunning]: StopCause.Fault,
        [StimReason.AdjustWindowClosed]: StopCause.Fault,
        [StimReason.NoStimNow]: StopCause.Fault,
        [StimReason.AtMaximum]: StopCause.Fault,
        [StimReason.AtZero]: StopCause.Fault,
        [StimReason.SessionRestTooShort]: StopCause.Fault,
        [StimReason.Unchanged]: StopCause.Fault,
        [StimReason.RampUp]: StopCause.Fault,
        [StimReason.Work]: StopCause.Fault,
        [StimReason.RampDown]: StopCause.Fault,
        [StimReason.Rest]: StopCause.Fault,
        [StimReason.Continuous]: StopCause.Fault,
        [StimReason.EtsWaiting]: StopCause.Fault,
        [StimReason.EtsArmed]: StopCause.Fault,
        [StimReason.EtsAssist]: StopCause.Fault,
        [StimReason.LevelUp]: StopCause.Fault,
        [StimReason.LevelDown]: StopCause.Fault,
        [StimReason.NewPhase]: StopCause.Fault,
        [StimReason.NewSession]: StopCause.Fault,
    }
    const reasons = Object.values(StimReason).filter((v): v is StimReason => typeof v === "number")

    test("the table covers every StimReason", () => {
        expect(Object.keys(STOP_CAUSE_OF).map(Number).sort((a, b) => a - b)).toEqual([...reasons].sort((a, b) => a - b))
    })

    test.each(reasons.map(r => ({ reason: r, cause: STOP_CAUSE_OF[r] })))("StimReason $reason -> StopCause $cause", ({ reason, cause }) => {
        expect(stopCauseOfStimReason(reason)).toBe(cause)
    })

    test.each([17, 99, 255])("an unknown StimReason %i -> Fault", r => {
        expect(stopCauseOfStimReason(r)).toBe(StopCause.Fault)
    })
})

// ------------------------------------------------------------ summary

describe("summary outcome", () => {
    type Scenario = { name: string; play: (tape: Tape) => void; channels?: { channel: LogChannel; metrics: SessionMetrics }[]; outcome: SessionOutcome; cause: StopCause }
    const running = (t: number, over?: Partial<RunnerObservation>) => (tape: Tape) => tape.runner(t, { phaseIndex: 0, phaseKind: RELAX, ...over })
    const scenarios: Scenario[] = [
        {
            name: "the phases over, then the rating: Completed",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Rating })
                tape.runner(6000, { state: RunnerState.Done })
            },
            outcome: SessionOutcome.Completed,
            cause: StopCause.Completed,
        },
        {
            name: "the probe taken out during the rating changes nothing",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Rating })
                tape.live(5500, { probeState: ProbeState.Removed })
                tape.runner(6000, { state: RunnerState.Done })
            },
            outcome: SessionOutcome.Completed,
            cause: StopCause.Completed,
        },
        {
            name: "a stim stop does not change the outcome",
            play: tape => {
                running(0)(tape)
                tape.stim(1000, { running: true })
                tape.stim(2000, { running: false, lastStop: StimReason.LeadOff })
                tape.runner(5000, { state: RunnerState.Rating })
                tape.runner(6000, { state: RunnerState.Done })
            },
            outcome: SessionOutcome.Completed,
            cause: StopCause.Completed,
        },
        {
            name: "a fault: Fault, even after a clean end",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Rating })
                tape.runner(6000, { state: RunnerState.Fault, faultCause: 4 })
            },
            outcome: SessionOutcome.Fault,
            cause: StopCause.Fault,
        },
        {
            name: "battery low while running, then the rating: Stopped, LowBattery",
            play: tape => {
                running(0)(tape)
                running(4000, { flags: RunnerFlag.BatteryLow })(tape)
                tape.runner(5000, { state: RunnerState.Rating, flags: RunnerFlag.BatteryLow })
                tape.runner(6000, { state: RunnerState.Done, flags: RunnerFlag.BatteryLow })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.LowBattery,
        },
        {
            name: "battery low seen only in the report that ends the phases: Stopped, LowBattery",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Rating, flags: RunnerFlag.BatteryLow })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.LowBattery,
        },
        {
            name: "battery low only during the rating: Completed",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Rating })
                tape.runner(5500, { state: RunnerState.Rating, flags: RunnerFlag.BatteryLow })
            },
            outcome: SessionOutcome.Completed,
            cause: StopCause.Completed,
        },
        {
            name: "the stop button (Running -> Done): Stopped, Button",
            play: tape => {
                running(0)(tape)
                tape.runner(5000, { state: RunnerState.Done })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.Button,
        },
        {
            name: "paused too long with the probe out: Stopped, ProbeMissing",
            play: tape => {
                running(0)(tape)
                tape.live(1000, { probeState: ProbeState.Removed })
                running(1000, { state: RunnerState.Paused })(tape)
                tape.runner(5000, { state: RunnerState.Rating })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.ProbeMissing,
        },
        {
            name: "paused too long, probe in: Stopped, None",
            play: tape => {
                running(0)(tape)
                running(1000, { state: RunnerState.Paused })(tape)
                tape.runner(5000, { state: RunnerState.Rating })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.None,
        },
        {
            name: "a program whose end was not heard, probe out at the end: Stopped, ProbeMissing",
            play: tape => {
                running(0)(tape)
                tape.live(1000, { probeState: ProbeState.Removed })
            },
            outcome: SessionOutcome.Stopped,
            cause: StopCause.ProbeMissing,
        },
        {
            name: "a program whose end was not heard: Stopped, None (channel summaries do not matter)",
            play: running(0),
            channels: bothChannels(3, 3),
            outcome: SessionOutcome.Stopped,
            cause: StopCause.None,
        },
        {
            name: "the assessment with every rep done: Completed",
            play: tape => tape.runner(0, { state: RunnerState.Idle }),
            channels: bothChannels(7, 7),
            outcome: SessionOutcome.Completed,
            cause: StopCause.Completed,
        },
        {
            name: "the assessment, one channel a rep short: Stopped, None",
            play: tape => tape.runner(0, { state: RunnerState.Idle }),
            channels: [
                { channel: LogChannel.Emg, metrics: sessionMetrics(7, 7) },
                { channel: LogChannel.Pressure, metrics: sessionMetrics(7, 6) },
            ],
            outcome: SessionOutcome.Stopped,
            cause: StopCause.None,
        },
        {
            name: "the assessment, reps short and the probe out: Stopped, ProbeMissing",
            play: tape => tape.live(1000, { probeState: ProbeState.Removed }),
            channels: bothChannels(7, 2),
            outcome: SessionOutcome.Stopped,
            cause: StopCause.ProbeMissing,
        },
        {
            name: "the assessment without channel summaries: Stopped",
            play: () => undefined,
            outcome: SessionOutcome.Stopped,
            cause: StopCause.None,
        },
    ]

    test.each(scenarios)("$name", ({ play, channels, outcome, cause }) => {
        const tape = startedTape()
        play(tape)
        tape.finish(9000, channels)
        const s = tape.summary()
        expect([s.outcome, s.stopCause]).toEqual([outcome, cause])
        expect(s.channels.length).toBe(channels ? channels.length : 0)
    })

    test("the phases ending early log a Stop event with the summary's cause", () => {
        const tape = startedTape()
        running(0)(tape)
        tape.runner(5000, { state: RunnerState.Done })
        tape.finish(5000)
        expect(tape.events().map(line)).toEqual([`stop @5000 ${StopCause.Button} 0 0`])
    })
})

// ------------------------------------------------------------ lifecycle

describe("lifecycle", () => {
    test("outside a session every call returns []", () => {
        const rec = new SessionRecorder()
        expect(rec.recording()).toBe(false)
        expect(rec.live(liveAt(100))).toEqual([])
        expect(rec.runner(runnerObs({ phaseIndex: 0, phaseKind: RELAX, notice: Notice.GateMet }), 100)).toEqual([])
        expect(rec.stim(stimObs({ running: true, peakLevelMa: 3 }), 100)).toEqual([])
        expect(rec.rep(LogChannel.Emg, repAt(0, 0))).toEqual([])
        expect(rec.finish(100, bothChannels(1, 1))).toEqual([])
    })

    test("finish() twice: [] the second time, and recording() is false after it", () => {
        const tape = startedTape()
        expect(tape.rec.recording()).toBe(true)
        expect(tape.finish(100).map(line)).toEqual([`summary @100 stopped cause ${StopCause.None} ch0`])
        expect(tape.rec.recording()).toBe(false)
        expect(tape.finish(200)).toEqual([])
        expect(tape.live(300)).toEqual([])
    })

    test("start() while a session is open closes it first: its trace, phase and a summary Stopped, None, no channels", () => {
        const tape = startedTape()
        tape.runner(0, { phaseIndex: 0, phaseKind: RELAX })
        tape.live(0)
        tape.live(700)
        expect(tape.start().map(line)).toEqual([
            "trace @0 x8",
            "end 0/1 @700 stopped reps 0",
            `summary @700 stopped cause ${StopCause.None} ch0`,
            "header",
            "start 0/1 @0",
        ])
    })

    test.each([
        { startWallMs: 1_767_225_600_000, timeSync: TimeSync.Host },
        { startWallMs: 0, timeSync: TimeSync.None },
    ])("the header: wall clock $startWallMs -> timeSync $timeSync", ({ startWallMs, timeSync }) => {
        const out = new SessionRecorder().start(sessionStart({ startWallMs }))
        expect(out).toEqual([
            {
                kind: RecordKind.SessionHeader,
                formatVersion: 1,
                timeSync: timeSync,
                bootCount: 12,
                startMonoMs: 61_000,
                startWallMs: startWallMs,
                programVersion: 7,
                deviceId: "pft-0042",
                firmwareVersion: "0.9.1",
                programId: "relax-then-tone",
            },
        ])
    })
})

// ------------------------------------------------------------ a scripted session, round trip

describe("a scripted session", () => {
    /**
     * 0-4000 relax (gate met at 3000), 4000-10000 flicks (reps 0, 1),
     * 10000-14000 holds (reps 2, 3; stim level up three times and a stop
     * button; paused 13000-13400), rating 14000-14900 (pain 3, dilator 2).
     * Live every 100 ms from 0 to 14900 but 5500-8400 (lost): 120 samples,
     * lead-off 9000-9900. Rep 3 is read after the rating began.
     */
    const GAP = (t: number) => t >= 5500 && t <= 8400
    const LEAD_OFF = (t: number) => t >= 9000 && t <= 9900
    const pressureHpa = (t: number) => 1.5 + (t % 1700) / 400
    const emgMv = (t: number) => 0.002 + (t % 900) / 100_000

    function runnerAt(t: number): Partial<RunnerObservation> {
        if (t < 4000) return { phaseIndex: 0, phaseKind: RELAX, notice: t >= 3000 ? Notice.GateMet : Notice.None, flags: t >= 3000 ? RunnerFlag.GateMet : 0, level: 3.2 }
        const met = { notice: Notice.GateMet, flags: RunnerFlag.GateMet | RunnerFlag.Toning, level: 18 }
        if (t < 10_000) return { phaseIndex: 1, phaseKind: FLICKS, ...met }
        if (t < 14_000) return { phaseIndex: 2, phaseKind: HOLDS, ...met, state: t >= 13_000 && t < 13_400 ? RunnerState.Paused : RunnerState.Running }
        const rating = (value: number, dilator: boolean) => ({ state: RunnerState.Rating, notice: Notice.GateMet, ratingValue: value, flags: dilator ? RunnerFlag.DilatorStep : 0 })
        if (t < 14_200) return rating(0, false)
        if (t < 14_300) return rating(1, false)
        if (t < 14_400) return rating(2, false)
        if (t < 14_500) return rating(3, false)
        if (t < 14_700) return rating(1, true)
        if (t < 14_900) return rating(2, true)
        return { state: RunnerState.Done, notice: Notice.RatingRecorded }
    }

    const REPS: [number, RepMetrics][] = [
        [5200, repAt(0, 4500)],
        [9700, repAt(1, 8600)],
        [12_000, repAt(2, 10_500)],
        [14_100, repAt(3, 12_500)],
    ]
    const STIM: [number, Partial<StimObservation>][] = [
        [10_200, { running: true, levelMa: 0.5, peakLevelMa: 0.5 }],
        [10_600, { running: true, levelMa: 1, peakLevelMa: 1 }],
        [10_800, { running: true, levelMa: 1.3, peakLevelMa: 1.3 }],
        [11_000, { running: true, levelMa: 1.5, peakLevelMa: 1.5 }],
        [11_900, { running: false, peakLevelMa: 1.5, lastStop: StimReason.StopButton }],
    ]

    function play(): Tape {
        const tape = new Tape()
        tape.stim(0, {}) // the supervisor's status before the session: the baseline
        tape.start()
        let fed = 0
        for (let t = 0; t <= 14_900; t += 100) {
            if (!GAP(t)) {
                tape.live(t, { pressureHpa: pressureHpa(t), emgMv: emgMv(t), emgContact: LEAD_OFF(t) ? EmgContact.Saturated : EmgContact.Good })
                fed++
                tape.runner(t, runnerAt(t))
            }
            for (const [at, m] of REPS) if (at === t) tape.reps(m)
            for (const [at, s] of STIM) if (at === t) tape.stim(t, s)
        }
        expect(fed).toBe(120)
        tape.finish(15_000, bothChannels(4, 4))
        return tape
    }

    test("records, in order", () => {
        const rep = (i: number) => [`rep ${i} ch0`, `rep ${i} ch1`]
        const E = LogChannel.Emg
        expect(play().lines()).toEqual([
            "header",
            "start 0/1 @0",
            `gate-met @3000 ${E} 320 0`,
            "trace @0 x50",
            "end 0/1 @4000 completed reps 0",
            "start 1/2 @4000",
            ...rep(0),
            ...rep(1),
            "trace @5000 x50",
            "end 1/2 @10000 completed reps 2",
            "start 2/3 @10000",
            `stim-level @10200 ${StimReason.LevelUp} 500 0`,
            `stim-level @10600 ${StimReason.LevelUp} 1000 500`,
            `stim-level @11000 ${StimReason.LevelUp} 1500 1000`,
            `stim-stop @11900 ${StopCause.Button} ${StimReason.StopButton} 0`,
            ...rep(2),
            "pause @13000 0 0 0",
            "resume @13400 0 0 0",
            ...rep(3),
            "end 2/3 @14000 completed reps 2",
            "pain @14500 0 3 0",
            "dilator @14900 0 2 0",
            "trace @10000 x50",
            `summary @15000 completed cause ${StopCause.Completed} ch2`,
        ])
    })

    test("the trace holds what was fed: cmH2O x 10, uV x 10, missing in the gap and EMG missing on lead-off", () => {
        const traces = play().traces()
        let n = 0
        for (const tr of traces) {
            for (let k = 0; k < tr.pressureCmH2OX10.length; k++) {
                const t = tr.startMs + k * tr.intervalMs
                const where = `t=${t}`
                if (GAP(t)) {
                    expect(tr.pressureCmH2OX10[k], where).toBe(TRACE_MISSING)
                    expect(tr.emgUvX10[k], where).toBe(TRACE_MISSING)
                    continue
                }
                n++
                expect(tr.pressureCmH2OX10[k], where).toBe(cmX10(pressureHpa(t)))
                expect(tr.emgUvX10[k], where).toBe(LEAD_OFF(t) ? TRACE_MISSING : uvX10(emgMv(t)))
            }
        }
        expect(n).toBe(120)
    })

    test.each([
        { name: "plain", cipher: undefined },
        { name: "AES-256-CCM", cipher: ccmCipher("recorder test key") },
    ])("every record round-trips through encodeRecord / decodeRecord ($name)", ({ cipher }) => {
        const records = play().records
        records.forEach((rec, i) => {
            const frame = { session: 5, seq: 1000 + i }
            const d = decodeRecord(encodeRecord(rec, frame, cipher), 0, cipher)
            expect([d.session, d.seq]).toEqual([5, 1000 + i])
            expect(d.record, line(rec)).toEqual(rec)
        })
    })
})

// ------------------------------------------------------------ the real runner, heard through its report

/** The runner report as the trainer builds it: the firmware's own RunnerStatus (src/feedback/runner-status.ts), fields as services/trainer.md orders them. */
function reportOf(status: RunnerStatus, runner: SessionRunner, t: number): RunnerObservation {
    status.update(runner, t, false)
    const r = status.runner()
    return { state: r[0], phaseIndex: r[1], phaseKind: r[2], flags: r[3], notice: r[5], ratingValue: r[6], faultCause: r[7], level: r[8] }
}

/** The log's outcome for each runner PhaseOutcome (as src/core/runner/types.ts documents it). */
const LOG_OUTCOME: Record<number, PhaseOutcome> = {
    [RunnerOutcome.Completed]: PhaseOutcome.Completed,
    [RunnerOutcome.GateNotMet]: PhaseOutcome.GateNotMet,
    [RunnerOutcome.Stopped]: PhaseOutcome.Stopped,
    [RunnerOutcome.Fault]: PhaseOutcome.Fault,
    [RunnerOutcome.GateMet]: PhaseOutcome.Completed,
    [RunnerOutcome.SpasmSign]: PhaseOutcome.Stopped,
    [RunnerOutcome.BatteryLow]: PhaseOutcome.Stopped,
    [RunnerOutcome.PauseTimeout]: PhaseOutcome.Stopped,
}

/**
 * A SessionRunner fed a sample every 10 ms; like the trainer, a live and a
 * runner report every 100 ms and a runner report after every button.
 */
class HeardRunner {
    readonly runner: SessionRunner
    private readonly status = new RunnerStatus()
    readonly tape: Tape
    readonly events: RunnerEvent[] = []
    private readonly kinds: string[]
    t = 0
    probe = ProbeState.Ready as number

    constructor(program: ProgramOverrides, runnerOptions?: Record<string, unknown>, recorderOptions?: SessionRecorderOptions) {
        const p = makeProgram(program)
        this.kinds = p.phases.map(ph => ph.kind)
        this.runner = new SessionRunner(p, makeOptions(runnerOptions))
        this.tape = new Tape(recorderOptions)
        this.runner.probeReady(0, true)
        this.runner.button(0, ButtonKind.StartPause)
        // the runner status reaches the module before the session's first live report
        this.report()
        this.tape.start()
    }

    report(): void {
        for (const e of this.runner.takeEvents()) this.events.push(e)
        this.tape.runner(this.t, reportOf(this.status, this.runner, this.t))
    }

    feedTo(untilMs: number, emgUv: number): void {
        while (this.t + 10 <= untilMs) {
            this.t += 10
            const ready = this.probe === ProbeState.Ready
            this.runner.sample(this.t, { emgUv: ready ? emgUv : NaN, pressureCmH2O: ready ? 0 : NaN })
            if (this.t % 100 === 0) {
                this.tape.live(this.t, { probeState: this.probe, emgMv: emgUv / 1000 })
                this.report()
            }
        }
    }

    press(kind: ButtonKind, atMs: number): void {
        this.feedTo(atMs, 3)
        this.runner.button(this.t, kind)
        this.report()
    }

    probeOut(): void {
        this.probe = ProbeState.Removed
        this.runner.probeReady(this.t, false)
        this.tape.live(this.t, { probeState: this.probe })
        this.report()
    }

    /** the runner's own phase starts and ends, as log lines (outcomes mapped as the log maps them) */
    runnerPhases(): string[] {
        const out: string[] = []
        let kind = -1
        for (const e of this.events) {
            if (e.kind === RunnerEventKind.PhaseStarted) {
                kind = e.gateWork ? RELAX : PHASE_KINDS.indexOf(this.kinds[e.phaseIndex] as (typeof PHASE_KINDS)[number])
                out.push(`start ${e.phaseIndex}/${kind}`)
            } else if (e.kind === RunnerEventKind.PhaseEnded) out.push(`end ${e.phaseIndex}/${kind} ${PHASE_OUTCOMES[LOG_OUTCOME[e.limit]]}`)
        }
        return out
    }

    /** the recorder's, without times */
    recordedPhases(): string[] {
        return this.tape.phaseLines().map(l => l.replace(/ @\d+/, "").replace(/ reps \d+$/, ""))
    }

    /** each recorded phase record is at most one report period after the runner's */
    expectTimesClose(): void {
        const runnerTimes = this.events.filter(e => e.kind === RunnerEventKind.PhaseStarted || e.kind === RunnerEventKind.PhaseEnded).map(e => e.atMs)
        const recorded = this.tape.records.filter(r => r.kind === RecordKind.PhaseStart || r.kind === RecordKind.PhaseEnd).map(r => (r as PhaseEndRecord).timeMs)
        expect(recorded.length).toBe(runnerTimes.length)
        recorded.forEach((t, i) => {
            expect(t - runnerTimes[i]).toBeGreaterThanOrEqual(0)
            expect(t - runnerTimes[i]).toBeLessThanOrEqual(100)
        })
    }
}

describe("the real session runner, heard through its trainer report", () => {
    const MET_AT = 5900

    test("gate met in gate work, flicks done, pain rated: the runner's phases, Completed", () => {
        const h = new HeardRunner({ phases: [flicksPhase()] })
        h.feedTo(24_500, 3)
        expect(h.runner.state()).toBe(RunnerState.Rating)
        h.press(ButtonKind.Up, 25_000)
        h.press(ButtonKind.StartPause, 25_500)
        expect(h.runner.state()).toBe(RunnerState.Done)
        h.tape.finish(h.t)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 completed", "start 0/2", "end 0/2 completed"])
        h.expectTimesClose()
        expect(h.tape.events().map(e => EVENT_NAMES[e.code])).toEqual(["gate-met", "pain"])
        expect(h.tape.events(EventCode.PainRating)[0].value).toBe(1)
        expect([h.tape.summary().outcome, h.tape.summary().stopCause]).toEqual([SessionOutcome.Completed, StopCause.Completed])
    })

    test("gate not met: the gate work ends GateNotMet, the relax phase runs", () => {
        const h = new HeardRunner({ phases: [flicksPhase(), relaxPhase({ durationS: 10 })] })
        h.feedTo(40_500, 6)
        expect(h.runner.state()).toBe(RunnerState.Rating)
        h.tape.finish(h.t)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 gate-not-met", "start 1/1", "end 1/1 completed"])
        h.expectTimesClose()
        expect(h.tape.events(EventCode.GateNotMet).map(e => e.extra)).toEqual([0])
    })

    test("a spasm sign, then the stop button: toning Stopped, gate work again, Stopped (Button)", () => {
        const h = new HeardRunner({ phases: [flicksPhase(), relaxPhase({ durationS: 10 })] })
        h.feedTo(MET_AT, 3)
        h.feedTo(7900, 20)
        h.feedTo(11_900, 4.5)
        h.press(ButtonKind.Stop, 12_500)
        h.tape.finish(h.t)
        expect(h.runner.state()).toBe(RunnerState.Done)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 completed", "start 0/2", "end 0/2 stopped", "start 0/1", "end 0/1 stopped"])
        h.expectTimesClose()
        expect(h.tape.events().map(e => EVENT_NAMES[e.code])).toEqual(["gate-met", "spasm", "stop"])
        expect([h.tape.summary().outcome, h.tape.summary().stopCause]).toEqual([SessionOutcome.Stopped, StopCause.Button])
    })

    test("battery low: the phase Stopped, the session Stopped (LowBattery)", () => {
        const h = new HeardRunner({ phases: [relaxPhase({ durationS: 30 })] })
        h.feedTo(10_000, 3)
        h.runner.batteryLow(h.t)
        h.report()
        expect(h.runner.state()).toBe(RunnerState.Rating)
        h.tape.finish(h.t)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 stopped"])
        expect([h.tape.summary().outcome, h.tape.summary().stopCause]).toEqual([SessionOutcome.Stopped, StopCause.LowBattery])
    })

    test("the probe out, paused too long: the phase Stopped, the session Stopped (ProbeMissing)", () => {
        const h = new HeardRunner({ phases: [relaxPhase({ durationS: 30 })] }, { pauseTimeoutMs: 2000 })
        h.feedTo(5000, 3)
        h.probeOut()
        h.feedTo(7500, 3)
        expect(h.runner.state()).toBe(RunnerState.Rating)
        h.tape.finish(h.t)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 stopped"])
        expect(h.tape.events().map(e => EVENT_NAMES[e.code])).toEqual(["pause", "stop"])
        expect([h.tape.summary().outcome, h.tape.summary().stopCause]).toEqual([SessionOutcome.Stopped, StopCause.ProbeMissing])
    })

    test("a fault: the phase Fault, the session Fault", () => {
        const h = new HeardRunner({ phases: [relaxPhase({ durationS: 30 })] })
        h.feedTo(3000, 3)
        h.runner.fault(h.t, 3)
        h.report()
        h.tape.finish(h.t)
        expect(h.recordedPhases()).toEqual(h.runnerPhases())
        expect(h.recordedPhases()).toEqual(["start 0/1", "end 0/1 fault"])
        expect(h.tape.events(EventCode.Fault).map(e => e.cause)).toEqual([3])
        expect(h.tape.summary().outcome).toBe(SessionOutcome.Fault)
    })

    test("pain 3 then dilator 2 with the buttons", () => {
        const h = new HeardRunner({ phases: [relaxPhase({ durationS: 5 })], usesDilators: true })
        h.feedTo(5100, 3)
        for (const at of [5200, 5300, 5400]) h.press(ButtonKind.Up, at)
        h.press(ButtonKind.StartPause, 5800)
        h.press(ButtonKind.Up, 5900)
        h.press(ButtonKind.StartPause, 6400)
        expect(h.runner.state()).toBe(RunnerState.Done)
        expect(h.events.filter(e => e.kind === RunnerEventKind.RatingRecorded || e.kind === RunnerEventKind.DilatorRecorded).map(e => e.value)).toEqual([3, 2])
        expect(h.tape.events().map(line)).toEqual(["pain @5800 0 3 0", "dilator @6400 0 2 0"])
    })

    test("the rating timed out: no rating recorded", () => {
        const h = new HeardRunner({ phases: [relaxPhase({ durationS: 5 })] }, { ratingTimeoutMs: 10_000 })
        h.feedTo(5100, 3)
        for (const at of [5200, 5300, 5400]) h.press(ButtonKind.Up, at)
        h.feedTo(15_200, 3)
        expect(h.runner.state()).toBe(RunnerState.Done)
        expect(h.events.filter(e => e.kind === RunnerEventKind.RatingRecorded).length).toBe(0)
        expect(h.tape.events()).toEqual([])
    })

    /** the runner's own RatingRecorded / DilatorRecorded events, as log lines */
    function runnerRatings(h: HeardRunner): string[] {
        return h.events
            .filter(e => e.kind === RunnerEventKind.RatingRecorded || e.kind === RunnerEventKind.DilatorRecorded)
            .map(e => `${e.kind === RunnerEventKind.RatingRecorded ? "pain" : "dilator"} @${e.atMs} 0 ${e.value} 0`)
    }

    /** the recorder's PainRating / DilatorSize events */
    function recordedRatings(h: HeardRunner): string[] {
        return h.tape.events().filter(e => e.code === EventCode.PainRating || e.code === EventCode.DilatorSize).map(line)
    }

    /**
     * A script from the rating's start r (ms; pain 2 already set with the
     * buttons); expected: the rating lines, times relative to r.
     */
    type RatingScript = { name: string; dilators: boolean; play: (h: HeardRunner, r: number) => void; expected: string[]; doneNotice: Notice }
    const confirmPain = (h: HeardRunner, r: number) => h.press(ButtonKind.StartPause, r + 800)
    const RATING_TIMEOUT_MS = DEFAULT_RUNNER.ratingTimeoutMs
    const RATING_SCRIPTS: RatingScript[] = [
        { name: "pain confirmed", dilators: false, play: confirmPain, expected: ["pain @800 0 2 0"], doneNotice: Notice.RatingRecorded },
        {
            name: "pain and dilator confirmed",
            dilators: true,
            play: (h, r) => {
                confirmPain(h, r)
                h.press(ButtonKind.Up, r + 900)
                h.press(ButtonKind.Up, r + 1000)
                h.press(ButtonKind.StartPause, r + 1400)
            },
            expected: ["pain @800 0 2 0", "dilator @1400 0 3 0"],
            doneNotice: Notice.RatingRecorded,
        },
        { name: "stop during the pain step", dilators: false, play: (h, r) => h.press(ButtonKind.Stop, r + 800), expected: [], doneNotice: Notice.GateMet },
        { name: "stop during the pain step (dilators in use)", dilators: true, play: (h, r) => h.press(ButtonKind.Stop, r + 800), expected: [], doneNotice: Notice.GateMet },
        {
            name: "pain confirmed, stop during the dilator step",
            dilators: true,
            play: (h, r) => {
                confirmPain(h, r)
                h.press(ButtonKind.Up, r + 900)
                h.press(ButtonKind.Stop, r + 1400)
            },
            expected: ["pain @800 0 2 0"],
            doneNotice: Notice.GateMet,
        },
        {
            name: "the rating timeout in the pain step (5 min)",
            dilators: false,
            play: (h, r) => h.feedTo(r + RATING_TIMEOUT_MS + 200, 3),
            expected: [],
            doneNotice: Notice.GateMet,
        },
        {
            name: "pain confirmed, the rating timeout in the dilator step (5 min)",
            dilators: true,
            play: (h, r) => {
                confirmPain(h, r)
                h.feedTo(r + 800 + RATING_TIMEOUT_MS + 200, 3)
            },
            expected: ["pain @800 0 2 0"],
            doneNotice: Notice.GateMet,
        },
    ]

    test.each(RATING_SCRIPTS)("$name: exactly the runner's own rating events", ({ dilators, play, expected, doneNotice }) => {
        // gate work (the gate met at MET_AT: notice 1), flicks, then the rating
        const h = new HeardRunner({ phases: [flicksPhase()], usesDilators: dilators })
        let r = -1
        while (r < 0 && h.t < 30_000) {
            h.feedTo(h.t + 100, 3)
            if (h.runner.state() === RunnerState.Rating) r = h.t
        }
        expect(r).toBeGreaterThan(MET_AT)
        expect(h.runner.view().notice).toBe(Notice.GateMet)
        h.press(ButtonKind.Up, r + 100)
        h.press(ButtonKind.Up, r + 200)
        play(h, r)
        expect(h.runner.state()).toBe(RunnerState.Done)
        expect(h.runner.view().notice).toBe(doneNotice)
        h.tape.finish(h.t)
        expect(recordedRatings(h)).toEqual(runnerRatings(h))
        expect(recordedRatings(h).map(l => l.replace(/@(\d+)/, (_, at: string) => "@" + (Number(at) - r)))).toEqual(expected)
        expect([h.tape.summary().outcome, h.tape.summary().stopCause]).toEqual([SessionOutcome.Completed, StopCause.Completed])
    })
})
