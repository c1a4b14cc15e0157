/**
 * What the progress report shows, read from the archive: one `SessionPoint`
 * per dated session of the patient (summary, gate, reps, stim, pain,
 * faults, in the units the charts plot), the patient's programs with their
 * prescribed frequency, and the full `SessionData` of the last few
 * sessions for the per-session traces.
 *
 * Only what the archive holds: a metric a session did not record is null
 * (the chart says "no data"), never estimated.
 */
import { EventCode, LogChannel, SessionOutcome, StopCause, type ChannelSummary } from "../../src/core/log/records"
import { PHASE_KINDS, type Channels, type PrescribedFrequency, type RelaxationCriterion } from "../../src/core/program/types"
import { Block } from "../../src/core/protocol/assessment"
import type { Archive } from "../archive/archive"
import { continuationRow, countUndated, listSessions, loadSession, type EventRow, type SessionData, type SessionListRow } from "../archive/queries"
import { channelUnit } from "../logs/names"

export interface ReportQuery {
    patientRef: string
    /** [ms] sessions starting at or after it; the calendar starts on its day */
    sinceMs?: number
    /** [ms] the calendar ends the day before (default: the day after `now`) */
    untilMs?: number
    /** [ms] when the report is made */
    now: number
    /** sessions shown in full with their trace, the latest (default 5) */
    detailSessions?: number
}

/** A program version of the patient as the archive knows it. */
export interface ProgramInfoRow {
    programId: string
    version: number
    /** null if the archive has not seen the program document (only its id from session headers) */
    channels: Channels | null
    frequency: PrescribedFrequency | null
    relaxation: RelaxationCriterion | null
    phases: string[]
    /** [ms] first and last session start with it (null: none in the report) */
    firstMs: number | null
    lastMs: number | null
    sessions: number
}

/** One session, in the charts' units (the report's primary channel: EMG uV, or pressure cmH2O). */
export interface SessionPoint {
    id: number
    sessionNo: number
    deviceId: string
    /** [ms] Unix time */
    startMs: number
    program: string | null
    programVersion: number | null
    complete: boolean
    outcome: number | null
    stopCause: number | null
    /** [ms] session time at the summary */
    durationMs: number | null
    /** rest before the exercises (the summary's pre-baseline), primary channel */
    restPre: number | null
    restPreSd: number | null
    /** [%] SD / mean x 100 */
    restPreCvPct: number | null
    /** rest after (post-baseline), null if the session did not record one */
    restPost: number | null
    mvc: number | null
    repsDone: number | null
    repsPlanned: number | null
    /** "met", "not-met", or null: no gated phase came up (or the archive has no gate event) */
    gate: "met" | "not-met" | null
    /** [ms] median release latency of the session's reps, primary channel */
    releaseMedianMs: number | null
    /** [s] mean time at target per hold (holds and endurance reps) */
    holdMeanS: number | null
    /** [mA] highest stimulation intensity set */
    stimMaxMa: number | null
    /** [min] in stim phases */
    stimMin: number | null
    /** 0..10 NRS, the last rating of the session */
    pain: number | null
    faults: EventRow[]
    /** stops other than the end of the program (stop button, battery, faults...) */
    stops: EventRow[]
    spasmSigns: number
    quarantined: number
    /** [ms] session time recording began, when the log module joined the session late (it restarted mid-session), else null */
    joinedAtMs: number | null
    /** joined after the session had ended: joinedAtMs is its end, and only its reps and summary were read back */
    joinedAfterEnd: boolean
    /** the log module lost power in this session: the number of the session that holds the rest (joined late), else null */
    continuedInNo: number | null
}

export interface ReportData {
    patientRef: string
    /** [ms] first and last calendar day shown (local midnights), the calendar's end exclusive */
    fromMs: number
    untilMs: number
    now: number
    /** the channel the trends plot */
    channel: LogChannel
    unit: string
    programs: ProgramInfoRow[]
    sessions: SessionPoint[]
    /** sessions with no known start time (left out: they cannot go on a calendar) */
    undated: number
    /** the latest sessions in full, newest last */
    detail: SessionData[]
    devices: string[]
}

/** [ms] local midnight of the day of `ms` */
export function dayStart(ms: number): number {
    const d = new Date(ms)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
}

/** [ms] local midnight `n` days after the midnight `dayMs` (DST-safe) */
export function addDays(dayMs: number, n: number): number {
    const d = new Date(dayMs)
    return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n).getTime()
}

function median(xs: number[]): number | null {
    if (xs.length === 0) return null
    const s = [...xs].sort((a, b) => a - b)
    const m = s.length >> 1
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function parseProgram(json: string | null): { channels: Channels | null; frequency: PrescribedFrequency | null; relaxation: RelaxationCriterion | null; phases: string[] } {
    const none = { channels: null, frequency: null, relaxation: null, phases: [] }
    if (json === null) return none
    try {
        const p = JSON.parse(json) as Record<string, unknown>
        return {
            channels: (p["channels"] as Channels) ?? null,
            frequency: (p["frequency"] as PrescribedFrequency) ?? null,
            relaxation: (p["relaxation"] as RelaxationCriterion) ?? null,
            phases: Array.isArray(p["phases"]) ? (p["phases"] as { kind: string }[]).map(ph => String(ph.kind)) : [],
        }
    } catch {
        return none
    }
}

function programRows(archive: Archive, patientRef: string): ProgramInfoRow[] {
    const rows = archive.db
        .prepare(
            `SELECT pr.program_id AS programId, pr.version, pr.program_json AS json FROM programs pr JOIN patients pa ON pa.id = pr.patient_id
             WHERE pa.ref = ? ORDER BY pr.program_id, pr.version`
        )
        .all(patientRef) as { programId: string; version: number; json: string | null }[]
    return rows.map(r => ({ programId: r.programId, version: r.version, ...parseProgram(r.json), firstMs: null, lastMs: null, sessions: 0 }))
}

const STIM_KIND = PHASE_KINDS.indexOf("stim")

/** Reads one session's points with a few prepared statements (no traces: those are for the detail sessions only). */
class PointReader {
    private readonly summary
    private readonly reps
    private readonly events
    private readonly phases

    constructor(archive: Archive) {
        const db = archive.db
        this.summary = db.prepare("SELECT summary_json AS s FROM sessions WHERE id = ?").pluck()
        this.reps = db.prepare("SELECT channel, block, release_latency_ms AS rel, hold_at_target_ms AS hold FROM reps WHERE session_id = ?")
        this.events = db.prepare("SELECT seq, time_ms AS timeMs, code, cause, value, extra FROM events WHERE session_id = ? ORDER BY seq")
        this.phases = db.prepare("SELECT phase_index AS i, edge, time_ms AS t FROM phases WHERE session_id = ? AND phase_kind = ? ORDER BY seq")
    }

    /** `rows`: the sessions around it, where its continuation is looked for */
    point(row: SessionListRow, channel: LogChannel, rows: SessionListRow[]): SessionPoint {
        const continuedIn = continuationRow(row, rows)
        const json = this.summary.get(row.id) as string | null
        const summary: ChannelSummary | undefined = json === null ? undefined : (JSON.parse(json) as ChannelSummary[]).find(c => c.channel === channel)
        const reps = (this.reps.all(row.id) as { channel: number; block: number; rel: number; hold: number }[]).filter(r => r.channel === channel)
        const events = this.events.all(row.id) as EventRow[]
        const stimPhases = this.phases.all(row.id, STIM_KIND) as { i: number; edge: string; t: number }[]
        const gateMet = events.some(e => e.code === EventCode.GateMet)
        const gateNot = events.some(e => e.code === EventCode.GateNotMet)
        const stim = events.filter(e => e.code === EventCode.StimLevel)
        const pains = events.filter(e => e.code === EventCode.PainRating)
        const holds = reps.filter(r => r.block === Block.Holds || r.block === Block.Endurance)
        let stimMs = 0
        const open = new Map<number, number>()
        for (const p of stimPhases) {
            if (p.edge === "start") open.set(p.i, p.t)
            else if (open.has(p.i)) {
                stimMs += p.t - open.get(p.i)!
                open.delete(p.i)
            }
        }
        const has = summary !== undefined
        return {
            id: row.id,
            sessionNo: row.sessionNo,
            deviceId: row.deviceId,
            startMs: row.startWallMs!,
            program: row.programId,
            programVersion: row.programVersion,
            complete: row.complete,
            outcome: row.outcome,
            stopCause: row.stopCause,
            durationMs: row.endMs,
            restPre: has && summary.preDurationMs > 0 ? summary.preMeanX100 / 100 : null,
            restPreSd: has && summary.preDurationMs > 0 ? summary.preSdX100 / 100 : null,
            restPreCvPct: has && summary.preDurationMs > 0 ? summary.preCvX1000 / 10 : null,
            restPost: has && summary.postDurationMs > 0 ? summary.postMeanX100 / 100 : null,
            mvc: has && summary.repsDone > 0 && summary.mvcX100 > 0 ? summary.mvcX100 / 100 : null,
            repsDone: has ? summary.repsDone : null,
            repsPlanned: has ? summary.repsPlanned : null,
            gate: gateMet ? "met" : gateNot ? "not-met" : null,
            releaseMedianMs: median(reps.filter(r => r.rel >= 0).map(r => r.rel)),
            holdMeanS: holds.length ? holds.reduce((n, r) => n + r.hold, 0) / holds.length / 1000 : null,
            stimMaxMa: stim.length ? Math.max(...stim.map(e => e.value)) / 1000 : null,
            stimMin: stimPhases.length ? stimMs / 60_000 : null,
            pain: pains.length ? pains[pains.length - 1].value : null,
            faults: events.filter(e => e.code === EventCode.Fault || (e.code === EventCode.StimStop && e.cause !== StopCause.Completed)),
            stops: events.filter(e => e.code === EventCode.Stop),
            spasmSigns: events.filter(e => e.code === EventCode.SpasmSign).length,
            quarantined: row.quarantined,
            joinedAtMs: row.joinedAtMs,
            joinedAfterEnd: row.joinedAfterEnd,
            continuedInNo: continuedIn === null ? null : continuedIn.sessionNo,
        }
    }
}

/** EMG unless the patient's programs use pressure only (or the archive has only pressure summaries). */
function primaryChannel(programs: ProgramInfoRow[], archive: Archive, rows: SessionListRow[]): LogChannel {
    const chans = programs.map(p => p.channels).filter(c => c !== null)
    if (chans.length > 0) return chans.every(c => c === "pressure") ? LogChannel.Pressure : LogChannel.Emg
    const get = archive.db.prepare("SELECT summary_json AS s FROM sessions WHERE id = ?").pluck()
    for (const r of rows) {
        const j = get.get(r.id) as string | null
        if (j !== null) return (JSON.parse(j) as ChannelSummary[]).some(c => c.channel === LogChannel.Emg) ? LogChannel.Emg : LogChannel.Pressure
    }
    return LogChannel.Emg
}

/** Everything the report shows for one patient. */
export function readReportData(archive: Archive, q: ReportQuery): ReportData {
    const rows = listSessions(archive, { patientRef: q.patientRef, sinceMs: q.sinceMs }).filter(r => r.startWallMs !== null && (q.untilMs === undefined || r.startWallMs < q.untilMs))
    const programs = programRows(archive, q.patientRef)
    const channel = primaryChannel(programs, archive, rows)
    const reader = new PointReader(archive)
    const sessions = rows.map(r => reader.point(r, channel, rows))
    for (const s of sessions) {
        let p = programs.find(x => x.programId === s.program && x.version === s.programVersion)
        if (!p && s.program !== null) {
            p = { programId: s.program, version: s.programVersion ?? 0, channels: null, frequency: null, relaxation: null, phases: [], firstMs: null, lastMs: null, sessions: 0 }
            programs.push(p)
        }
        if (!p) continue
        // a cut session's first part counts with its joined continuation, once
        if (s.continuedInNo === null) p.sessions++
        p.firstMs = p.firstMs === null ? s.startMs : Math.min(p.firstMs, s.startMs)
        p.lastMs = p.lastMs === null ? s.startMs : Math.max(p.lastMs, s.startMs)
    }
    // the calendar's end (exclusive): the midnight at or after `untilMs`, else the end of today
    const calendarEnd = q.untilMs === undefined ? addDays(dayStart(q.now), 1) : dayStart(q.untilMs) === q.untilMs ? q.untilMs : addDays(dayStart(q.untilMs), 1)
    const fromMs = q.sinceMs !== undefined ? dayStart(q.sinceMs) : sessions.length > 0 ? dayStart(sessions[0].startMs) : dayStart(q.now)
    const n = q.detailSessions ?? 5
    const detail = n > 0 ? sessions.slice(-n).map(s => loadSession(archive, s.id)!) : []
    return {
        patientRef: q.patientRef,
        fromMs,
        untilMs: calendarEnd,
        now: q.now,
        channel,
        unit: channelUnit(channel),
        programs,
        sessions,
        undated: countUndated(archive, q.patientRef),
        detail,
        devices: [...new Set(rows.map(r => r.deviceId))],
    }
}

export interface PatientListRow {
    patientRef: string
    sessions: number
    /** [ms] null if none dated */
    firstMs: number | null
    lastMs: number | null
}

/** Every patient in the archive with their session count and dates (for choosing one; the 200-patient bench). */
export function listPatients(archive: Archive): PatientListRow[] {
    return archive.db
        .prepare(
            `SELECT pa.ref AS patientRef, COUNT(s.id) AS sessions, MIN(s.start_wall_ms) AS firstMs, MAX(s.start_wall_ms) AS lastMs
             FROM patients pa LEFT JOIN sessions s ON s.patient_id = pa.id GROUP BY pa.id ORDER BY pa.ref`
        )
        .all() as PatientListRow[]
}

/** Did the session run to the end of its program? */
export function sessionCompleted(s: SessionPoint): boolean {
    return s.complete && s.outcome === SessionOutcome.Completed
}
