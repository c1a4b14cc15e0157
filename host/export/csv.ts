/**
 * CSV export of one session, for spreadsheets: one row per trace sample
 * (`samples`) or one row per rep and channel (`reps`). Units are in the
 * column names; a missing value is an empty cell. RFC 4180: comma
 * separated, CRLF line ends, fields quoted when they hold a comma or quote.
 */
import type { SessionData } from "../archive/queries"
import { channelName, channelUnit, phaseKindName, repFlagWords } from "../logs/names"
import { physical, traceGrid, wallIso } from "./timeline"

export const CSV_ROWS = ["samples", "reps"] as const
export type CsvRows = (typeof CSV_ROWS)[number]

function field(v: string | number | null): string {
    if (v === null) return ""
    const s = String(v)
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

function csv(rows: (string | number | null)[][]): string {
    return rows.map(r => r.map(field).join(",")).join("\r\n") + "\r\n"
}

const seconds = (ms: number) => Math.round(ms) / 1000
const orNull = (v: number) => (v < 0 ? null : v)

export const SAMPLE_COLUMNS = ["session_time_s", "wall_time_utc", "phase", "pressure_cmH2O", "emg_uV"] as const

/** One row per sample of the trace (both channels on one grid). */
export function samplesCsv(data: SessionData): string {
    const g = traceGrid(data)
    const rows: (string | number | null)[][] = [[...SAMPLE_COLUMNS]]
    let p = 0
    const phases = data.phases.filter(ph => ph.startMs !== null)
    for (let i = 0; i < g.pressureX10.length; i++) {
        const t = i * g.intervalMs
        while (p + 1 < phases.length && phases[p + 1].startMs! <= t) p++
        const ph = phases[p]
        const inPhase = ph && ph.startMs! <= t && (ph.endMs === null || t < ph.endMs)
        rows.push([seconds(t), wallIso(data, t), inPhase ? phaseKindName(ph.kind) : "", physical(g.pressureX10[i]), physical(g.emgX10[i])])
    }
    return csv(rows)
}

export const REP_COLUMNS = [
    "channel",
    "unit",
    "block",
    "rep",
    "cue_on_s",
    "cue_off_s",
    "onset_s",
    "offset_s",
    "onset_latency_ms",
    "time_to_peak_ms",
    "release_latency_ms",
    "hold_at_target_s",
    "peak",
    "mean_work",
    "peak_pct_mvc",
    "hold_cv",
    "endurance_decline_pct",
    "flags",
] as const

/** One row per rep and channel; the amplitude columns are in the channel's unit (`unit`). */
export function repsCsv(data: SessionData): string {
    const rows: (string | number | null)[][] = [[...REP_COLUMNS]]
    for (const r of data.reps)
        rows.push([
            channelName(r.channel),
            channelUnit(r.channel),
            r.block,
            r.repIndex + 1,
            seconds(r.cueOnMs),
            seconds(r.cueOffMs),
            r.onsetMs < 0 ? null : seconds(r.onsetMs),
            r.offsetMs < 0 ? null : seconds(r.offsetMs),
            orNull(r.onsetLatencyMs),
            orNull(r.timeToPeakMs),
            orNull(r.releaseLatencyMs),
            seconds(r.holdAtTargetMs),
            r.peakX100 / 100,
            r.meanWorkX100 / 100,
            r.peakPctMvcX10 / 10,
            r.holdCvX1000 / 1000,
            r.enduranceDeclinePctX10 / 10,
            repFlagWords(r.flags),
        ])
    return csv(rows)
}

export function sessionCsv(data: SessionData, rows: CsvRows): string {
    return rows === "reps" ? repsCsv(data) : samplesCsv(data)
}
