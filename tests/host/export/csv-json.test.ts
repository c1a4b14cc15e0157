// CSV (per sample or per rep) and JSON exports of an archived session.
import { describe, expect, test } from "vitest"
import { TRACE_MISSING } from "../../../src/core/log/records"
import { repsCsv, REP_COLUMNS, samplesCsv, SAMPLE_COLUMNS, sessionCsv } from "../../../host/export/csv"
import { sessionJson, SESSION_JSON_FORMAT } from "../../../host/export/json"
import { annotations, sessionFileStem, traceGrid } from "../../../host/export/timeline"
import { sessionData, START_MS } from "./fixtures"

function rows(text: string): string[][] {
    expect(text.endsWith("\r\n")).toBe(true)
    return text
        .slice(0, -2)
        .split("\r\n")
        .map(l => l.split(","))
}

describe("CSV", () => {
    test("one row per sample: session time, UTC time, phase, both channels in their units; a missing sample is an empty cell", () => {
        const r = rows(samplesCsv(sessionData()))
        expect(r[0]).toEqual([...SAMPLE_COLUMNS])
        expect(r).toHaveLength(1 + 120)
        expect(r[1]).toEqual(["0", new Date(START_MS).toISOString(), "relax", "15", "-2"])
        expect(r[14]).toEqual(["1.3", new Date(START_MS + 1300).toISOString(), "relax", "", "-0.7"])
        expect(r[41]).toEqual(["4", new Date(START_MS + 4000).toISOString(), "holds", "16", ""])
        expect(r[120][2]).toBe("")
        const data = sessionData()
        const want = data.trace.flatMap(t => t.pressureX10)
        r.slice(1).forEach((row, i) => expect(row[3]).toBe(want[i] === TRACE_MISSING ? "" : String(want[i] / 10)))
    })

    test("one row per rep and channel, amplitudes in the channel's unit, none as empty", () => {
        const r = rows(repsCsv(sessionData()))
        expect(r[0]).toEqual([...REP_COLUMNS])
        expect(r.slice(1)).toEqual([
            ["EMG", "uV", "1", "1", "5", "8", "5.25", "7.9", "250", "600", "300", "2.1", "45.67", "30", "81.2", "0.095", "-2", ""],
            ["pressure", "cmH2O", "1", "1", "5", "8", "5.3", "", "300", "700", "", "1.9", "23.45", "15", "70", "0.11", "0", "samples lost"],
        ])
        expect(sessionCsv(sessionData(), "reps")).toBe(repsCsv(sessionData()))
    })

    test("fields with commas or quotes are quoted", () => {
        const d = sessionData()
        d.reps[0].flags = 1 | 4
        expect(repsCsv(d).split("\r\n")[1].endsWith(',"no contraction, samples lost"')).toBe(true)
    })

    test("a session with no known start leaves the UTC column empty", () => {
        const r = rows(samplesCsv(sessionData({}, { startWallMs: null })))
        expect(r[1][1]).toBe("")
    })
})

describe("JSON", () => {
    test("a versioned document with everything the archive holds, in physical units", () => {
        const j = sessionJson(sessionData()) as any
        expect(j).toMatchObject({
            format: SESSION_JSON_FORMAT,
            version: 1,
            patient: "P-0042",
            device: { id: "e1daef9b9723f6da", storeId: 99, firmwareVersion: "0.1.0" },
            program: { id: "relax-then-tone", version: 3 },
            session: { number: 12, start: new Date(START_MS).toISOString(), startTimeSource: "device", durationS: 12, complete: true, outcome: "completed", stopCause: "completed" },
        })
        expect(j.summary[0]).toMatchObject({ channel: "EMG", unit: "uV", mvc: 43.21, repsDone: 24 })
        expect(j.phases[1]).toEqual({ index: 1, kind: "holds", startS: 4, endS: 11.5, outcome: "completed", repsDone: 1 })
        expect(j.reps[1]).toMatchObject({ channel: "pressure", unit: "cmH2O", onsetS: 5.3, offsetS: null, releaseLatencyMs: null, peak: 23.45, flagWords: "samples lost" })
        expect(j.events.map((e: any) => e.name)).toEqual(["relaxation gate met", "fault", "pain rating"])
        expect(j.trace.intervalMs).toBe(100)
        expect(j.trace.pressureCmH2O[13]).toBeNull()
        expect(j.trace.pressureCmH2O[0]).toBe(15)
        expect(j.trace.emgUv).toHaveLength(120)
        expect(JSON.parse(JSON.stringify(j))).toEqual(j)
    })

    test("quarantined bytes travel as hex with what was wrong", () => {
        const q = { sessionId: 4, sessionNo: 12, deviceId: "e1daef9b9723f6da", offset: 400, length: 3, bytes: [1, 2, 255], code: "bad-crc", expected: "CRC-32 0x1", found: "0x2", message: "m", detectedAtMs: 0 }
        const j = sessionJson(sessionData({ quarantine: [q] }, { quarantined: 1 })) as any
        expect(j.quarantine).toEqual([{ offset: 400, length: 3, code: "bad-crc", expected: "CRC-32 0x1", found: "0x2", message: "m", bytesHex: "0102ff" }])
        expect(annotations(sessionData({ quarantine: [q] })).find(a => a.kind === "log")!.text).toBe("Log damaged: 1 item(s), 3 bytes quarantined (pft logs show 4)")
    })
})

describe("timeline", () => {
    test("chunks land on one grid; gaps between chunks are missing samples", () => {
        const d = sessionData()
        d.trace.splice(1, 1)
        const g = traceGrid(d)
        expect(g.pressureX10).toHaveLength(120)
        expect(g.pressureX10.slice(50, 100).every(v => v === TRACE_MISSING)).toBe(true)
        expect(annotations(d).filter(a => a.text === "Signal missing: pressure").map(a => [a.onsetMs, a.durationMs])).toEqual([
            [1300, 100],
            [5000, 5000],
        ])
    })

    test("file names: patient, UTC start, device and session", () => {
        expect(sessionFileStem(sessionData())).toBe("P-0042_20261120-0930_e1daef9b-s12")
        expect(sessionFileStem(sessionData({}, { patientRef: null, startWallMs: null }))).toBe("unassigned_undated_e1daef9b-s12")
    })
})
