import { describe, expect, test } from "vitest"
import { Cue } from "../../../src/core/protocol/assessment"
import type { LiveReport } from "../../../host/device/trainer-client"
import { MonitorState, renderMonitor, scaleTop, sparkline } from "../../../host/monitor/render"

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
