import { describe, expect, test } from "vitest"
import { Cue } from "../../../src/core/protocol/assessment"
import type { LiveReport, RunnerReport } from "../../../host/device/trainer-client"
import type { StimControlStatus } from "../../../host/device/stim-control-client"
import { alertLine, MonitorState, programLine, renderMonitor, scaleTop, sparkline, stimLine } from "../../../host/monitor/render"
import { FaultCause, Notice } from "../../../src/core/runner/types"
import { StimReason, stimReasonName } from "../../../src/core/stim/reasons"

function live(over: Partial<LiveReport> = {}): LiveReport {
    return {
        lastSeq: 1000,
        samplesReceived: 1000,
        samplesLost: 2,
        pressureCmH2O: 0,
        emgUv: 3,
        zeroCmH2O: 15,
        sampleTimeMs: 61_500,
        probeState: "ready",
        emgContact: "good",
        receivedAtMs: 0,
        ...over,
    }
}

function runner(over: Partial<RunnerReport> = {}): RunnerReport {
    return {
        state: "running",
        phaseIndex: 2,
        phaseKind: "holds",
        gateWork: false,
        toning: true,
        gateMet: true,
        batteryLow: false,
        gateProgressPct: 0,
        notice: Notice.None,
        ratingValue: 0,
        faultCause: 0,
        level: 31.25,
        levelChannel: "emg",
        bandLow: 24,
        bandHigh: 36,
        intensitySteps: 0,
        receivedAtMs: 0,
        ...over,
    }
}

function stim(over: Partial<StimControlStatus> = {}): StimControlStatus {
    return { levelMa: 0, peakLevelMa: 0, stimUsedMs: 0, running: false, locked: false, lastStop: StimReason.None, lastRefusal: StimReason.None, refusedStarts: 0, receivedAtMs: 0, ...over }
}

describe("pft monitor's program, stimulation and fault lines", () => {
    test("the phase, toning or the gate, the level against its target in the band's channel units", () => {
        expect(programLine(undefined)).toBe("program: - (none running)")
        expect(programLine(runner({ phaseIndex: -1 }))).toBe("program: - (none running)")
        expect(programLine(runner())).toBe("program: phase 3 holds   toning   level 31.3 uV   target 24.0-36.0 uV")
        expect(programLine(runner({ levelChannel: "pressure", level: 12, bandLow: 10, bandHigh: 15 }))).toContain("level 12.0 cmH2O   target 10.0-15.0 cmH2O")
        const gate = programLine(runner({ phaseIndex: 0, phaseKind: "relax", toning: false, gateWork: true, gateProgressPct: 40, level: 4.2, bandLow: NaN, bandHigh: 5, notice: Notice.SpasmSign }))
        expect(gate).toBe("program: phase 1 relax   relaxation first, gate 40%   level 4.2 uV   target <= 5.0 uV   tension rose: back to relaxation")
        expect(programLine(runner({ level: NaN, bandLow: NaN, bandHigh: NaN }))).toBe("program: phase 3 holds   toning   level - uV")
    })

    test("stimulation: on with its level, the time used, the last stop named, and faults called so as the trainer's LED bar does", () => {
        expect(stimLine(undefined, false)).toBe("stim: no stimulator module on the bus")
        expect(stimLine(undefined, true)).toBe("stim: module found, no status yet")
        expect(stimLine(stim({ running: true, levelMa: 12, peakLevelMa: 12.5, stimUsedMs: 200_500 }), true)).toBe("stim: ON 12.0 mA   peak 12.5 mA   used 3:20")
        expect(stimLine(stim({ lastStop: StimReason.PhaseEnded, peakLevelMa: 8 }), true)).toBe("stim: off   peak 8.0 mA   used 0:00   last stop: stim phase over")
        expect(stimLine(stim({ lastStop: StimReason.LeadOff }), true)).toContain("last stop: lead-off (FAULT)")
        expect(stimLine(stim({ lastStop: StimReason.BusLost }), true)).toContain("(FAULT)")
        expect(stimLine(stim({ lastStop: StimReason.StopButton }), true)).not.toContain("FAULT")
        expect(stimLine(stim({ locked: true, lastStop: StimReason.Contraindication }), true)).toContain("LOCKED (contraindication)")
        // a refused start says why (here the rest between stim sessions), until a start is taken
        expect(stimLine(stim({ lastRefusal: StimReason.SessionRestTooShort }), true)).toBe(`stim: off   peak 0.0 mA   used 0:00   start refused: ${stimReasonName(StimReason.SessionRestTooShort)}`)
        expect(stimLine(stim({ running: true, levelMa: 1, lastRefusal: StimReason.SessionRestTooShort }), true)).not.toContain("refused")
    })

    test("a runner fault is named as the patient guide counts it; battery low is said", () => {
        expect(alertLine(undefined)).toBe("")
        expect(alertLine(runner())).toBe("")
        expect(alertLine(runner({ state: "fault", faultCause: FaultCause.Electrodes, batteryLow: true }))).toBe("FAULT 2: electrode contact (lead-off or impedance)   battery low")
        expect(alertLine(runner({ faultCause: 42 }))).toBe("FAULT 42: unknown")
    })

    test("the screen carries the three lines", () => {
        const s = new MonitorState(40)
        s.runner = runner({ state: "fault", faultCause: FaultCause.Stimulator })
        s.stimFound = true
        s.stim = stim({ lastStop: StimReason.ModuleFault })
        const text = renderMonitor(s, 200).join("\n")
        expect(text).toContain("program: phase 3 holds")
        expect(text).toContain("last stop: stimulator fault (FAULT)")
        expect(text).toContain("FAULT 1: stimulator module fault or silent")
    })
})

describe("pft monitor's screen", () => {
    test("a sparkline maps the range to the eight block heights and pads on the left", () => {
        expect(sparkline([0, 5, 10], 5, 0, 10)).toBe("  ▁▅█")
        expect(sparkline([NaN, 10], 2, 0, 10)).toBe(" █")
        expect(sparkline([-5, 20], 2, 0, 10)).toBe("▁█")
    })

    test("only the last `width` values are drawn", () => {
        const values = Array.from({ length: 50 }, (_, i) => i)
        expect(sparkline(values, 10, 0, 49).length).toBe(10)
        expect(sparkline(values, 10, 0, 49).endsWith("█")).toBe(true)
    })

    test("scales round up to 1, 2, 5 x 10^n above the largest value", () => {
        expect(scaleTop([3], 10)).toBe(10)
        expect(scaleTop([11], 10)).toBe(20)
        expect(scaleTop([43.6], 10)).toBe(50)
        expect(scaleTop([120], 10)).toBe(200)
    })

    test("the screen shows state, cue, rep, units, lost samples, marks and the keys", () => {
        const s = new MonitorState(40)
        for (let i = 0; i < 60; i++) s.addLive(live({ emgUv: i % 10 === 0 ? 40 : 3, pressureCmH2O: i % 10 === 0 ? 20 : 0.5 }))
        s.state = "running"
        s.cue = { cue: Cue.Contract, block: 1, repIndex: 2, segmentIndex: 7, startedAtMs: 61_000 }
        s.mark()
        const lines = renderMonitor(s, 80)
        const text = lines.join("\n")
        expect(text).toContain("session running")
        expect(text).toContain("SQUEEZE (quick flicks, rep 3)")
        expect(text).toContain("uV")
        expect(text).toContain("cmH2O")
        expect(text).toContain("samples lost 2 of 1000")
        expect(text).toContain("marks: 61.5 s")
        expect(text).toContain("m mark")
        expect(s.emgUv.length).toBe(40)
        for (const l of lines) expect(l.length).toBeLessThanOrEqual(80)
    })
})
