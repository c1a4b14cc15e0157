// The EDF+ writer (host/export/edf.ts), checked by reading its files back:
// the header byte for byte with the field widths of the EDF and EDF+
// specifications (written out here, independently of the writer), the data
// records, the annotation TALs; then with edfdecoder (npm) and, where the
// machine has it, EDFlib (libedf-dev, the reference reader behind EDFbrowser).
import { execFileSync } from "node:child_process"
import { existsSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { TRACE_MISSING } from "../../../src/core/log/records"
import { listSessions, loadSession } from "../../../host/archive/queries"
import { encodeEdf, EdfError, edfNumber, sessionEdf, sessionEdfFile, type EdfFile } from "../../../host/export/edf"
import { pullLogs } from "../../../host/logs/pull"
import { appendSession, cipher, homeSession, makeDevice, tempArchive, tempDir } from "../logs/fixtures"
import { sessionData, START_MS } from "./fixtures"

// ------------------------------------------------------------ a reader written from the specification

/** EDF header: 8 version, 80 patient, 80 recording, 8 startdate, 8 starttime, 8 header bytes, 44 reserved, 8 records, 8 duration, 4 ns */
const SPEC_HEADER: [string, number][] = [
    ["version", 8],
    ["patient", 80],
    ["recording", 80],
    ["startdate", 8],
    ["starttime", 8],
    ["bytes", 8],
    ["reserved", 44],
    ["records", 8],
    ["duration", 8],
    ["ns", 4],
]
/** then ns x each of: 16 label, 80 transducer, 8 dimension, 8 physmin, 8 physmax, 8 digmin, 8 digmax, 80 prefiltering, 8 samples, 32 reserved */
const SPEC_SIGNAL: [string, number][] = [
    ["label", 16],
    ["transducer", 80],
    ["dimension", 8],
    ["physmin", 8],
    ["physmax", 8],
    ["digmin", 8],
    ["digmax", 8],
    ["prefiltering", 80],
    ["samples", 8],
    ["reserved", 32],
]

interface Parsed {
    header: Record<string, string>
    signals: Record<string, string>[]
    /** digital samples per signal, all records */
    data: number[][]
    /** per record: TAL strings of the annotation signal */
    tals: string[][]
}

function parseEdf(buf: Buffer): Parsed {
    let at = 0
    const take = (n: number) => {
        const s = buf.toString("latin1", at, at + n)
        at += n
        return s
    }
    const header: Record<string, string> = {}
    for (const [name, w] of SPEC_HEADER) header[name] = take(w)
    expect(at).toBe(256)
    const ns = parseInt(header["ns"], 10)
    const signals: Record<string, string>[] = Array.from({ length: ns }, () => ({}))
    for (const [name, w] of SPEC_SIGNAL) for (let s = 0; s < ns; s++) signals[s][name] = take(w)
    expect(at).toBe(256 + ns * 256)
    expect(parseInt(header["bytes"], 10)).toBe(at)
    for (let i = 0; i < at; i++) expect(buf[i] >= 0x20 && buf[i] <= 0x7e, `header byte ${i} is printable ASCII`).toBe(true)
    const records = parseInt(header["records"], 10)
    const spr = signals.map(s => parseInt(s["samples"], 10))
    expect(buf.length).toBe(at + records * spr.reduce((n, x) => n + 2 * x, 0))
    const data: number[][] = signals.map(() => [])
    const tals: string[][] = []
    for (let r = 0; r < records; r++) {
        for (let s = 0; s < ns; s++) {
            if (signals[s]["label"] === "EDF Annotations ") {
                const text = buf.toString("utf8", at, at + spr[s] * 2)
                tals.push(text.split("\x00").filter(t => t.length > 0))
                at += spr[s] * 2
                continue
            }
            for (let k = 0; k < spr[s]; k++) data[s].push(buf.readInt16LE(at + 2 * k))
            at += spr[s] * 2
        }
    }
    return { header, signals, data, tals }
}

/** A TAL: "+onset[\x15duration]\x14text\x14" */
function parseTal(t: string): { onset: number; duration: number | null; texts: string[] } {
    const m = /^([+-]\d+(?:\.\d+)?)(?:\x15(\d+(?:\.\d+)?))?\x14((?:[^\x14]*\x14)*)$/.exec(t)
    expect(m, `TAL ${JSON.stringify(t)}`).not.toBeNull()
    const texts = m![3].split("\x14").slice(0, -1)
    return { onset: Number(m![1]), duration: m![2] === undefined ? null : Number(m![2]), texts }
}

function physicalOf(sig: Record<string, string>, digital: number): number {
    const [pmin, pmax, dmin, dmax] = ["physmin", "physmax", "digmin", "digmax"].map(k => Number(sig[k]))
    return pmin + ((digital - dmin) * (pmax - pmin)) / (dmax - dmin)
}

const pad = (s: string, n: number) => s.padEnd(n, " ")

// ------------------------------------------------------------ EDFlib, where installed

const EDFLIB = existsSync("/usr/include/edflib.h")
let edflibTool: string | null = null
function edflib(file: string): any {
    if (!edflibTool) {
        edflibTool = join(tempDir("pft-edflib-"), "edflib-check")
        execFileSync("cc", ["-O1", "-o", edflibTool, join(__dirname, "edflib-check.c"), "-ledf"])
    }
    return JSON.parse(execFileSync(edflibTool, [file], { maxBuffer: 64 << 20 }).toString())
}

describe("a session as EDF+", () => {
    test("the header, field by field, as the EDF+ specification lays it out", () => {
        const p = parseEdf(sessionEdf(sessionData(), { utc: true }))
        expect(p.header).toEqual({
            version: pad("0", 8),
            patient: pad("P-0042 X X X", 80),
            recording: pad("Startdate 20-NOV-2026 pft-s12 X pft-e1daef9b9723f6da relax-then-tone_v3 fw-0.1.0", 80),
            startdate: "20.11.26",
            starttime: "09.30.00",
            bytes: pad("1024", 8),
            reserved: pad("EDF+C", 44),
            records: pad("12", 8),
            duration: pad("1", 8),
            ns: pad("3", 4),
        })
        expect(p.signals.map(s => [s["label"], s["dimension"], s["samples"]])).toEqual([
            [pad("Pressure Probe", 16), pad("cmH2O", 8), pad("10", 8)],
            [pad("EMG PelvicFloor", 16), pad("uV", 8), pad("10", 8)],
            [pad("EDF Annotations", 16), pad("", 8), p.signals[2]["samples"]],
        ])
        // physical/digital range from the data: x10 integers exactly, one below the lowest marks missing samples
        const all = sessionData().trace.flatMap(t => t.pressureX10).filter(v => v !== TRACE_MISSING)
        const lo = Math.min(...all)
        const hi = Math.max(...all)
        expect([p.signals[0]["digmin"], p.signals[0]["digmax"], p.signals[0]["physmin"], p.signals[0]["physmax"]].map(s => s.trim())).toEqual([
            String(lo - 1),
            String(hi),
            String((lo - 1) / 10),
            String(hi / 10),
        ])
        expect(p.signals[2]).toMatchObject({ digmin: pad("-32768", 8), digmax: pad("32767", 8), transducer: pad("", 80), reserved: pad("", 32) })
        for (const s of p.signals) expect(Number(s["physmin"])).not.toBe(Number(s["physmax"]))
    })

    test("both channels at the trace's rate in physical units, missing samples at the digital minimum", () => {
        const data = sessionData()
        const p = parseEdf(sessionEdf(data, { utc: true }))
        const want = (k: "pressureX10" | "emgX10") => data.trace.flatMap(t => t[k])
        for (const [s, k] of [
            [0, "pressureX10"],
            [1, "emgX10"],
        ] as const) {
            const digital = p.data[s]
            expect(digital).toHaveLength(120)
            want(k).forEach((v, i) => {
                if (v === TRACE_MISSING) expect(digital[i]).toBe(Number(p.signals[s]["digmin"]))
                else expect(physicalOf(p.signals[s], digital[i])).toBeCloseTo(v / 10, 9)
            })
        }
    })

    test("annotations: a time-keeping TAL opens every record; phases, cues, reps, events and missing signal follow, at their times", () => {
        const p = parseEdf(sessionEdf(sessionData(), { utc: true }))
        const all: { onset: number; duration: number | null; text: string }[] = []
        p.tals.forEach((tals, r) => {
            const keep = parseTal(tals[0])
            // "+t\x14\x14": a time-keeping TAL, whose one annotation is empty
            expect(keep).toEqual({ onset: r + 0.25, duration: null, texts: [""] })
            for (const t of tals.slice(1)) {
                const x = parseTal(t)
                expect(x.texts).toHaveLength(1)
                all.push({ onset: x.onset, duration: x.duration, text: x.texts[0] })
            }
        })
        // onsets count from the header's whole second: the session started 0.25 s after it
        expect(all).toEqual([
            { onset: 0.25, duration: 4, text: "Phase 1 relax (completed)" },
            { onset: 1.55, duration: 0.1, text: "Signal missing: pressure" },
            { onset: 4.15, duration: null, text: "relaxation gate met: rest tone 18.50 cmH2O, held 10.0 s" },
            { onset: 4.25, duration: 7.5, text: "Phase 2 holds (completed)" },
            { onset: 4.25, duration: 0.5, text: "Signal missing: EMG" },
            { onset: 5.25, duration: 3, text: "Cue block 1 rep 1" },
            { onset: 5.5, duration: 2.65, text: "Rep 1 EMG: peak 45.67 uV" },
            { onset: 5.55, duration: null, text: "Rep 1 pressure: peak 23.45 cmH2O (samples lost)" },
            { onset: 9.25, duration: null, text: "fault 4 (detail 17)" },
            { onset: 12.15, duration: null, text: "pain rating 3/10" },
        ])
    })

    test("edfdecoder (npm) reads the channels back", () => {
        const { EdfDecoder } = createRequire(import.meta.url)("edfdecoder")
        const data = sessionData()
        const buf = sessionEdf(data, { utc: true })
        const d = new EdfDecoder()
        d.setInput(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length))
        d.decode()
        const edf = d.getOutput()
        expect(edf.getNumberOfSignals()).toBe(3)
        expect(edf.getNumberOfRecords()).toBe(12)
        expect(edf.getSignalLabel(0)).toBe("Pressure Probe")
        expect(edf.getSignalPhysicalUnit(1)).toBe("uV")
        expect(edf.getSignalSamplingFrequency(0)).toBe(10)
        const pressure = Array.from(edf.getPhysicalSignalConcatRecords(0, 0, 12) as number[])
        data.trace.flatMap(t => t.pressureX10).forEach((v, i) => {
            if (v !== TRACE_MISSING) expect(pressure[i]).toBeCloseTo(v / 10, 4)
        })
    })

    test.skipIf(!EDFLIB)("EDFlib opens it as EDF+ with the patient, recording, signals and annotations", () => {
        const file = join(tempDir("pft-edf-"), "s.edf")
        writeFileSync(file, sessionEdf(sessionData(), { utc: true }))
        const r = edflib(file)
        expect(r).toMatchObject({
            filetype: 1,
            signals: 2,
            records: 12,
            recordDuration100ns: 10_000_000,
            start: [2026, 11, 20, 9, 30, 0],
            subsecond100ns: 2_500_000,
            patientcode: "P-0042",
            patientName: "X",
            admincode: "pft-s12",
            technician: "", // EDFlib reads "X" (unknown) as empty
            equipment: "pft-e1daef9b9723f6da",
            recordingAdditional: "relax-then-tone_v3 fw-0.1.0",
        })
        expect(r.signalParams.map((s: any) => [s.label.trim(), s.dimension.trim(), s.perRecord])).toEqual([
            ["Pressure Probe", "cmH2O", 10],
            ["EMG PelvicFloor", "uV", 10],
        ])
        const pressure = sessionData().trace.flatMap(t => t.pressureX10)
        pressure.forEach((v, i) => {
            if (v !== TRACE_MISSING) expect(r.signalParams[0].physical[i]).toBeCloseTo(v / 10, 3)
        })
        expect(r.annotations).toHaveLength(10)
        expect(r.annotations[0]).toMatchObject({ text: "Phase 1 relax (completed)", duration100ns: 40_000_000 })
        // EDFlib counts onsets from the first sample (the header's second + the sub-second start): session time exactly
        expect(r.annotations.find((a: any) => a.text.startsWith("Rep 1 EMG")).onset100ns).toBe(5250 * 10_000)
        expect(r.annotations.find((a: any) => a.text.startsWith("fault")).onset100ns).toBe(9000 * 10_000)
    })

    test("a session with no known start says so: Startdate X, 01.01.85", () => {
        const p = parseEdf(sessionEdf(sessionData({}, { startWallMs: null, startTimeSource: "unknown" })))
        expect(p.header["recording"].startsWith("Startdate X pft-s12 X ")).toBe(true)
        expect([p.header["startdate"], p.header["starttime"]]).toEqual(["01.01.85", "00.00.00"])
        expect(parseTal(p.tals[0][0]).onset).toBe(0)
    })

    test("a patient code with spaces or non-ASCII characters stays one subfield", () => {
        const p = parseEdf(sessionEdf(sessionData({}, { patientRef: "P 42é" }), { utc: true }))
        expect(p.header["patient"].trim()).toBe("P_42_ X X X")
    })

    test("many annotations in one second spill into later records; none is lost", () => {
        const many = Array.from({ length: 60 }, (_, i) => ({ seq: 100 + i, timeMs: 500, code: 1, cause: 0, value: 0, extra: 0 }))
        const p = parseEdf(sessionEdf(sessionData({ events: many }), { utc: true }))
        const texts = p.tals.flatMap(r => r.slice(1).map(t => parseTal(t).texts[0]))
        expect(texts.filter(t => t === "pause")).toHaveLength(60)
        expect(p.tals[0].length).toBeLessThan(61)
    })

    test("an EDF from a pulled session: the device's trace and reps, exactly", async () => {
        const dev = await makeDevice()
        await appendSession(dev, homeSession({ minutes: 1 }, 3))
        const archive = tempArchive()
        await pullLogs({ archive, connect: async () => dev.source, cipherFor: () => cipher(), keepOpen: true })
        const data = loadSession(archive, listSessions(archive)[0].id)!
        const buf = sessionEdf(data, { utc: true })
        const p = parseEdf(buf)
        // the trace is 60 s; the last reps' cues run to 85 s, and so does the file
        expect(p.data[0].length).toBe(850)
        const appended = homeSession({ minutes: 1 }, 3).flatMap(r => (r.kind === 6 ? r.pressureCmH2OX10 : []))
        appended.forEach((v, i) => {
            if (v !== TRACE_MISSING) expect(physicalOf(p.signals[0], p.data[0][i])).toBeCloseTo(v / 10, 9)
        })
        if (EDFLIB) {
            const file = join(tempDir("pft-edf-"), "pulled.edf")
            writeFileSync(file, buf)
            const r = edflib(file)
            expect(r.filetype).toBe(1)
            expect(r.annotations.filter((a: any) => a.text.startsWith("Rep ")).length).toBe(6)
        }
    })
})

describe("the EDF writer", () => {
    const file = (over: Partial<EdfFile> = {}): EdfFile => ({
        ...sessionEdfFile(sessionData(), { utc: true }),
        ...over,
    })

    test("refuses what the format cannot hold, saying what", () => {
        expect(() => encodeEdf(file({ patient: "x".repeat(81) }))).toThrow('patient "' + "x".repeat(81) + '" is 81 characters, the field holds 80')
        expect(() => encodeEdf(file({ recording: "Startdate X é" }))).toThrow("only printable US-ASCII is allowed in an EDF header")
        const f = file()
        f.signals[0].digitalMin = f.signals[0].digitalMax
        expect(() => encodeEdf(f)).toThrow(EdfError)
        expect(() => encodeEdf(file({ records: 0 }))).toThrow("0 data records: need at least 1")
    })

    test("numbers fit their 8 characters", () => {
        expect(edfNumber(-3276.8)).toBe("-3276.8")
        expect(edfNumber(0.1)).toBe("0.1")
        expect(edfNumber(1 / 3)).toBe("0.333333")
        expect(edfNumber(123456.789)).toBe("123456.8")
        expect(() => edfNumber(1e12)).toThrow("does not fit")
    })
})
