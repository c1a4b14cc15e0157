/**
 * What every export needs from an archived session: the trace as one
 * sample grid in physical units, the session's start on the calendar, and
 * its annotations (phases, cues, reps, events, missing signal, damaged log)
 * in time order. Pure functions over SessionData (host/archive/queries.ts).
 */
import { DEFAULT_TRACE_INTERVAL_MS, TRACE_MISSING } from "../../src/core/log/records"
import type { SessionData } from "../archive/queries"
import { channelName, channelUnit, describeEvent, phaseKindName, phaseOutcomeName, repFlagWords } from "../logs/names"

/** Both channels on one grid: sample k at k x intervalMs of session time; null where there is no sample. */
export interface TraceGrid {
    /** [ms] */
    intervalMs: number
    /** [cmH2O] x 10, TRACE_MISSING where none: the device's own fixed point, kept exact */
    pressureX10: number[]
    /** [uV] x 10, TRACE_MISSING where none */
    emgX10: number[]
}

/**
 * The trace chunks of a session on one grid. The grid's interval is the
 * first chunk's (the firmware traces at one rate; a chunk at another rate
 * would land on the nearest grid points).
 */
export function traceGrid(data: SessionData): TraceGrid {
    const intervalMs = data.trace.length > 0 ? data.trace[0].intervalMs : DEFAULT_TRACE_INTERVAL_MS
    let n = 0
    for (const c of data.trace) n = Math.max(n, Math.round((c.startMs + (c.pressureX10.length - 1) * c.intervalMs) / intervalMs) + 1)
    const pressureX10 = new Array<number>(n).fill(TRACE_MISSING)
    const emgX10 = new Array<number>(n).fill(TRACE_MISSING)
    for (const c of data.trace) {
        for (let k = 0; k < c.pressureX10.length; k++) {
            const i = Math.round((c.startMs + k * c.intervalMs) / intervalMs)
            if (i < 0 || i >= n) continue
            pressureX10[i] = c.pressureX10[k]
            emgX10[i] = c.emgX10[k]
        }
    }
    return { intervalMs, pressureX10, emgX10 }
}

/** x 10 fixed point to the unit, null when missing */
export function physical(x10: number): number | null {
    return x10 === TRACE_MISSING ? null : x10 / 10
}

export interface Annotation {
    /** [ms] session time */
    onsetMs: number
    /** [ms] null: an instant */
    durationMs: number | null
    text: string
    kind: "phase" | "cue" | "rep" | "event" | "signal" | "log"
}

/** Runs of missing samples in one channel, as [start index, length]. */
function missingRuns(samples: number[]): [number, number][] {
    const runs: [number, number][] = []
    let start = -1
    for (let i = 0; i <= samples.length; i++) {
        const missing = i < samples.length && samples[i] === TRACE_MISSING
        if (missing && start < 0) start = i
        if (!missing && start >= 0) {
            runs.push([start, i - start])
            start = -1
        }
    }
    return runs
}

const fixed = (x: number, digits: number) => (Math.round(x * 10 ** digits) / 10 ** digits).toString()

/** The session's annotations, by onset. */
export function annotations(data: SessionData, grid: TraceGrid = traceGrid(data)): Annotation[] {
    const out: Annotation[] = []
    for (const p of data.phases) {
        const start = p.startMs ?? p.endMs ?? 0
        const outcome = p.outcome === null ? (p.endMs === null ? " (did not end)" : "") : ` (${phaseOutcomeName(p.outcome)})`
        out.push({ onsetMs: start, durationMs: p.endMs !== null && p.startMs !== null ? p.endMs - p.startMs : null, text: `Phase ${p.index + 1} ${phaseKindName(p.kind)}${outcome}`, kind: "phase" })
    }
    const cues = new Set<string>()
    for (const r of data.reps) {
        const key = `${r.block}/${r.repIndex}/${r.cueOnMs}`
        if (!cues.has(key)) {
            cues.add(key)
            out.push({ onsetMs: r.cueOnMs, durationMs: Math.max(0, r.cueOffMs - r.cueOnMs), text: `Cue block ${r.block} rep ${r.repIndex + 1}`, kind: "cue" })
        }
        const flags = repFlagWords(r.flags)
        const what = `Rep ${r.repIndex + 1} ${channelName(r.channel)}`
        if (r.onsetMs >= 0) {
            const dur = r.offsetMs >= 0 ? r.offsetMs - r.onsetMs : null
            out.push({ onsetMs: r.onsetMs, durationMs: dur, text: `${what}: peak ${fixed(r.peakX100 / 100, 2)} ${channelUnit(r.channel)}${flags ? ` (${flags})` : ""}`, kind: "rep" })
        } else out.push({ onsetMs: r.cueOnMs, durationMs: null, text: `${what}: ${flags || "no onset"}`, kind: "rep" })
    }
    for (const e of data.events) out.push({ onsetMs: e.timeMs, durationMs: null, text: describeEvent(e), kind: "event" })
    for (const [name, samples] of [
        ["pressure", grid.pressureX10],
        ["EMG", grid.emgX10],
    ] as const) {
        for (const [start, len] of missingRuns(samples)) out.push({ onsetMs: start * grid.intervalMs, durationMs: len * grid.intervalMs, text: `Signal missing: ${name}`, kind: "signal" })
    }
    if (data.quarantine.length > 0) {
        const bytes = data.quarantine.reduce((n, q) => n + q.length, 0)
        out.push({ onsetMs: 0, durationMs: null, text: `Log damaged: ${data.quarantine.length} item(s), ${bytes} bytes quarantined (pft logs show ${data.row.id})`, kind: "log" })
    }
    if (!data.row.complete) out.push({ onsetMs: 0, durationMs: null, text: "Session incomplete: no summary record", kind: "log" })
    return out.sort((a, b) => a.onsetMs - b.onsetMs)
}

/** [ms] how long the session lasts: the latest of its trace, summary, records. */
export function sessionDurationMs(data: SessionData, grid: TraceGrid = traceGrid(data)): number {
    let end = grid.pressureX10.length * grid.intervalMs
    if (data.row.endMs !== null) end = Math.max(end, data.row.endMs)
    for (const p of data.phases) end = Math.max(end, p.endMs ?? 0, p.startMs ?? 0)
    for (const e of data.events) end = Math.max(end, e.timeMs)
    for (const r of data.reps) end = Math.max(end, r.cueOffMs, r.offsetMs)
    return end
}

/** ISO time of a session time, or "" if the session's start is not known. */
export function wallIso(data: SessionData, sessionMs: number): string {
    return data.row.startWallMs === null ? "" : new Date(data.row.startWallMs + sessionMs).toISOString()
}

/** A file name for the session: patient, start (UTC) or device and number, no characters a file system dislikes. */
export function sessionFileStem(data: SessionData): string {
    const r = data.row
    const when = r.startWallMs === null ? "undated" : new Date(r.startWallMs).toISOString().slice(0, 16).replace(/[-:]/g, "").replace("T", "-")
    const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_")
    return `${safe(r.patientRef ?? "unassigned")}_${when}_${safe(r.deviceId.slice(0, 8))}-s${r.sessionNo}`
}
