/**
 * The adherence calendar: each day of the report against the prescribed
 * frequency of the program in force that day (the program's `frequency`,
 * src/core/program/types.ts). Pure functions over ReportData.
 *
 * - done: the day's prescribed sessions all ran to the end of the program
 *   (a session that stayed in relaxation work because the gate was not met
 *   is done: that is the program working as designed);
 * - partly: some session that day, but fewer than prescribed ran to the end
 *   (stopped early, a fault, no summary);
 * - missed: a day with a daily prescription and no session;
 * - free: no session on a day that has no daily prescription (a program of
 *   so many sessions a week, or a program the archive has no document for);
 *   the week's count against the weekly prescription says how it went.
 */
import { addDays, dayStart, sessionCompleted, type ProgramInfoRow, type ReportData, type SessionPoint } from "./data"

export const DAY_STATUSES = ["done", "partly", "missed", "free"] as const
export type DayStatus = (typeof DAY_STATUSES)[number]

export interface CalendarDay {
    /** [ms] local midnight */
    dayMs: number
    status: DayStatus
    sessions: number
    completed: number
    /** sessions prescribed that day, null if the prescription is weekly or unknown */
    prescribed: number | null
}

export interface CalendarWeek {
    /** [ms] local midnight of the Monday */
    mondayMs: number
    sessions: number
    completed: number
    /** sessions prescribed in the days of this week inside the report, null if unknown */
    prescribed: number | null
}

export interface Adherence {
    days: CalendarDay[]
    weeks: CalendarWeek[]
    counts: Record<DayStatus, number>
    /** days with a daily prescription */
    prescribedDays: number
    /** [%] sessions completed / sessions prescribed (capped per day and per week at what was prescribed), null if nothing prescribed is known */
    adherencePct: number | null
}

/** The program in force on a day: the latest one used on or before it, else the first one used. */
export function programOn(programs: ProgramInfoRow[], dayEndMs: number): ProgramInfoRow | null {
    const used = programs.filter(p => p.firstMs !== null).sort((a, b) => a.firstMs! - b.firstMs!)
    const before = used.filter(p => p.firstMs! < dayEndMs)
    return before.length ? before[before.length - 1] : (used[0] ?? programs[0] ?? null)
}

function mondayOf(dayMs: number): number {
    const wd = (new Date(dayMs).getDay() + 6) % 7 // Monday 0
    return addDays(dayMs, -wd)
}

function dayStatus(sessions: SessionPoint[], prescribed: number | null): DayStatus {
    const completed = sessions.filter(sessionCompleted).length
    if (sessions.length === 0) return prescribed !== null && prescribed > 0 ? "missed" : "free"
    return completed >= Math.max(1, prescribed ?? 1) ? "done" : "partly"
}

export function adherence(data: ReportData): Adherence {
    const byDay = new Map<number, SessionPoint[]>()
    for (const s of data.sessions) {
        // the part of a session recorded before the log module lost power: the session is counted once, by its joined part
        if (s.continuedInNo !== null) continue
        const d = dayStart(s.startMs)
        byDay.set(d, [...(byDay.get(d) ?? []), s])
    }
    const days: CalendarDay[] = []
    const weeks = new Map<number, CalendarWeek & { weeklyTarget: number | null; daily: boolean }>()
    let done = 0
    let due = 0
    for (let d = data.fromMs; d < data.untilMs; d = addDays(d, 1)) {
        const program = programOn(data.programs, addDays(d, 1))
        const f = program?.frequency ?? null
        const prescribed = f?.sessionsPerDay ?? null
        const sessions = byDay.get(d) ?? []
        const completed = sessions.filter(sessionCompleted).length
        days.push({ dayMs: d, status: dayStatus(sessions, prescribed), sessions: sessions.length, completed, prescribed })
        const monday = mondayOf(d)
        const w = weeks.get(monday) ?? { mondayMs: monday, sessions: 0, completed: 0, prescribed: null, weeklyTarget: f?.sessionsPerWeek ?? null, daily: false }
        w.sessions += sessions.length
        w.completed += completed
        if (prescribed !== null) {
            w.prescribed = (w.prescribed ?? 0) + prescribed
            w.daily = true
            done += Math.min(completed, prescribed)
            due += prescribed
        }
        weeks.set(monday, w)
    }
    for (const w of weeks.values()) {
        if (!w.daily && w.weeklyTarget !== null) {
            w.prescribed = w.weeklyTarget
            done += Math.min(w.completed, w.weeklyTarget)
            due += w.weeklyTarget
        }
    }
    const counts = { done: 0, partly: 0, missed: 0, free: 0 }
    for (const d of days) counts[d.status]++
    return {
        days,
        weeks: [...weeks.values()].map(({ mondayMs, sessions, completed, prescribed }) => ({ mondayMs, sessions, completed, prescribed })),
        counts,
        prescribedDays: days.filter(d => d.prescribed !== null).length,
        adherencePct: due > 0 ? (100 * done) / due : null,
    }
}
