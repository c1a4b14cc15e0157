/**
 * The report's charts: Vega-Lite specs built from ReportData, compiled to
 * Vega and rendered to SVG in Node (`renderer: "none"`, no browser, no
 * canvas), inlined in the page.
 *
 * Accessibility: the Okabe-Ito palette (Okabe & Ito 2008, "Color
 * Universal Design"; distinguishable with every common colour-vision
 * deficiency), and nothing told by colour alone: series also differ by
 * line dash or point shape, calendar days carry a symbol. Every
 * quantitative axis title names its unit; every chart has a text
 * description (the SVG's aria-label).
 */
import * as vega from "vega"
import * as vl from "vega-lite"
import type { TopLevelSpec } from "vega-lite"
import { TRACE_MISSING } from "../../src/core/log/records"
import type { SessionData } from "../archive/queries"
import { sessionDurationMs, traceGrid } from "../export/timeline"
import { describeEvent, phaseKindName } from "../logs/names"
import { EventCode } from "../../src/core/log/records"
import type { Adherence, DayStatus } from "./adherence"
import type { ReportData, SessionPoint } from "./data"

/** Okabe-Ito, in their usual order (black last: for rules and reference lines). */
export const OKABE_ITO = {
    orange: "#E69F00",
    skyBlue: "#56B4E9",
    bluishGreen: "#009E73",
    yellow: "#F0E442",
    blue: "#0072B2",
    vermillion: "#D55E00",
    reddishPurple: "#CC79A7",
    black: "#000000",
} as const

const STATUS_STYLE: Record<DayStatus, { color: string; symbol: string; label: string }> = {
    done: { color: OKABE_ITO.bluishGreen, symbol: "✓", label: "done" },
    partly: { color: OKABE_ITO.orange, symbol: "½", label: "partly done" },
    missed: { color: OKABE_ITO.vermillion, symbol: "✗", label: "missed" },
    free: { color: "#eeeeee", symbol: "", label: "no session prescribed" },
}

const WIDTH = 640
/** sessions per series drawn with a point each; more are drawn as a line only */
const MAX_POINTS = 120
const CONFIG = {
    font: "Helvetica, Arial, sans-serif",
    background: "white",
    view: { stroke: null },
    axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e3e3e3", domainColor: "#666", tickColor: "#666" },
    legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", orient: "top" },
    range: { category: Object.values(OKABE_ITO) },
} as const

/** One chart of the page: its id, heading, what it shows in words, and its spec (null: "no data"). */
export interface ChartDef {
    id: string
    title: string
    /** one sentence: what the chart shows (also the SVG's aria-label) */
    description: string
    spec: TopLevelSpec | null
    /** why there is no chart, when spec is null */
    noData?: string
}

export interface RenderedChart extends ChartDef {
    /** inline SVG, null when there is no data */
    svg: string | null
}

const dateX = (title = "Session date") => ({ field: "date", type: "temporal" as const, title, axis: { format: "%-d %b", labelAngle: 0, labelOverlap: true } })

/** Rows for a per-session trend; sessions without the value are left out. */
function rows(sessions: SessionPoint[], series: string, value: (s: SessionPoint) => number | null): { date: number; value: number; series: string; session: number }[] {
    const out: { date: number; value: number; series: string; session: number }[] = []
    for (const s of sessions) {
        const v = value(s)
        if (v !== null && Number.isFinite(v)) out.push({ date: s.startMs, value: v, series, session: s.sessionNo })
    }
    return out
}

interface RefLine {
    value: number
    label: string
}

/** A per-session trend: lines with points, series told apart by colour, dash and point shape; optional reference lines (the gate's levels). */
function trend(o: { rows: ReturnType<typeof rows>; yTitle: string; series: string[]; refs?: RefLine[]; yZero?: boolean; description: string; height?: number }): TopLevelSpec {
    const colors = [OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.bluishGreen, OKABE_ITO.reddishPurple]
    // a point per session while they can be told apart; past that (months of daily sessions) the line alone, which keeps the page light
    const perSeries = Math.max(0, ...o.series.map(name => o.rows.filter(r => r.series === name).length))
    const layers: object[] = [
        {
            mark: { type: "line", point: perSeries <= MAX_POINTS ? { filled: true, size: 36 } : false, strokeWidth: perSeries <= MAX_POINTS ? 1.8 : 1.2 },
            encoding: {
                x: dateX(),
                y: { field: "value", type: "quantitative", title: o.yTitle, scale: { zero: o.yZero ?? true } },
                color: { field: "series", type: "nominal", title: null, scale: { domain: o.series, range: colors.slice(0, o.series.length) } },
                strokeDash: { field: "series", type: "nominal", title: null, scale: { domain: o.series, range: [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]].slice(0, o.series.length) } },
                ...(perSeries <= MAX_POINTS
                    ? { shape: { field: "series", type: "nominal", title: null, scale: { domain: o.series, range: ["circle", "square", "triangle-up", "diamond"].slice(0, o.series.length) } } }
                    : {}),
            },
        },
    ]
    if (o.refs?.length) {
        layers.push({
            data: { values: o.refs },
            mark: { type: "rule", strokeDash: [4, 4], color: OKABE_ITO.black, strokeWidth: 1 },
            encoding: { y: { field: "value", type: "quantitative" } },
        })
        layers.push({
            data: { values: o.refs },
            mark: { type: "text", align: "right", dx: WIDTH / 2 - 4, dy: -6, fontSize: 10, color: OKABE_ITO.black },
            encoding: { y: { field: "value", type: "quantitative" }, text: { field: "label" } },
        })
    }
    return {
        description: o.description,
        width: WIDTH,
        height: o.height ?? 170,
        data: { values: o.rows },
        layer: layers,
        config: CONFIG,
    } as TopLevelSpec
}

function calendarSpec(a: Adherence, description: string): TopLevelSpec {
    const weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    const label = (ms: number) => new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "2-digit" })
    const weekOf = (ms: number) => {
        const wd = (new Date(ms).getDay() + 6) % 7
        const d = new Date(ms)
        return label(new Date(d.getFullYear(), d.getMonth(), d.getDate() - wd).getTime())
    }
    const weeks = a.weeks.map(w => label(w.mondayMs))
    const small = weeks.length <= 14
    const values = a.days.map(d => ({
        weekday: weekdays[(new Date(d.dayMs).getDay() + 6) % 7],
        week: weekOf(d.dayMs),
        status: STATUS_STYLE[d.status].label,
        text: small ? `${new Date(d.dayMs).getDate()} ${STATUS_STYLE[d.status].symbol}` : STATUS_STYLE[d.status].symbol,
        sessions: d.sessions,
        date: label(d.dayMs),
    }))
    const weekText = a.weeks.map(w => ({ week: label(w.mondayMs), text: w.prescribed !== null ? `${w.completed} of ${w.prescribed}` : `${w.completed} done` }))
    const cell = small ? 22 : 13
    const statuses = Object.values(STATUS_STYLE)
    return {
        description,
        config: { ...CONFIG, view: { stroke: null } },
        hconcat: [
            {
                width: small ? 7 * 46 : 7 * 26,
                height: cell * weeks.length,
                data: { values },
                encoding: {
                    x: { field: "weekday", type: "ordinal", sort: weekdays, title: "Day of the week", axis: { orient: "top", labelAngle: 0, domain: false, ticks: false } },
                    y: { field: "week", type: "ordinal", sort: weeks, title: "Week starting", axis: { domain: false, ticks: false } },
                },
                layer: [
                    {
                        mark: { type: "rect", stroke: "white", strokeWidth: 2, cornerRadius: 2 },
                        encoding: {
                            color: {
                                field: "status",
                                type: "nominal",
                                title: "Day",
                                scale: { domain: statuses.map(s => s.label), range: statuses.map(s => s.color) },
                                legend: { orient: "bottom", direction: "horizontal", labelLimit: 220 },
                            },
                            tooltip: [{ field: "date" }, { field: "status" }, { field: "sessions" }],
                        },
                    },
                    {
                        mark: { type: "text", fontSize: small ? 11 : 9, aria: false },
                        encoding: {
                            text: { field: "text" },
                            color: { condition: { test: "datum.status === 'missed'", value: "white" }, value: "black" },
                        },
                    },
                ],
            },
            {
                width: 70,
                height: cell * weeks.length,
                data: { values: weekText },
                mark: { type: "text", align: "left", fontSize: small ? 11 : 9 },
                encoding: {
                    y: { field: "week", type: "ordinal", sort: weeks, axis: null },
                    x: { value: 4 },
                    text: { field: "text" },
                },
                title: { text: "Sessions done", fontSize: 11, fontWeight: "normal", anchor: "start", orient: "top" },
            },
        ],
    } as TopLevelSpec
}

/** Weekly share of sessions whose relaxation gate was met (sessions with no gate in them are not counted). */
function gateSpec(data: ReportData, description: string): TopLevelSpec | null {
    const weeks = new Map<number, { met: number; n: number }>()
    for (const s of data.sessions) {
        if (s.gate === null) continue
        const d = new Date(s.startMs)
        const monday = new Date(d.getFullYear(), d.getMonth(), d.getDate() - ((d.getDay() + 6) % 7)).getTime()
        const w = weeks.get(monday) ?? { met: 0, n: 0 }
        w.n++
        if (s.gate === "met") w.met++
        weeks.set(monday, w)
    }
    if (weeks.size === 0) return null
    const values = [...weeks.entries()]
        .sort(([a], [b]) => a - b)
        .map(([monday, w]) => ({ date: monday, pct: (100 * w.met) / w.n, label: `${w.met}/${w.n}` }))
    return {
        description,
        width: WIDTH,
        height: 150,
        data: { values },
        config: CONFIG,
        encoding: {
            x: { field: "date", type: "ordinal", timeUnit: "yearmonthdate", title: "Week starting", axis: { format: "%-d %b", labelAngle: 0 } },
            y: { field: "pct", type: "quantitative", title: "Sessions with the gate met (%)", scale: { domain: [0, 100] } },
        },
        layer: [
            { mark: { type: "bar", color: OKABE_ITO.bluishGreen, width: { band: 0.7 } } },
            { mark: { type: "text", dy: -6, fontSize: 10 }, encoding: { text: { field: "label" } } },
        ],
    } as TopLevelSpec
}

function stimSpec(data: ReportData, description: string): TopLevelSpec | null {
    const withStim = data.sessions.filter(s => s.stimMin !== null || s.stimMaxMa !== null)
    if (withStim.length === 0) return null
    const minutes = rows(withStim, "time", s => s.stimMin)
    const ma = rows(withStim, "intensity", s => s.stimMaxMa)
    const x = dateX()
    return {
        description,
        config: CONFIG,
        vconcat: [
            {
                width: WIDTH,
                height: 90,
                data: { values: minutes },
                mark: { type: "bar", color: OKABE_ITO.skyBlue, width: 4 },
                encoding: { x, y: { field: "value", type: "quantitative", title: "Stimulation time (min)" } },
            },
            {
                width: WIDTH,
                height: 120,
                data: { values: ma },
                mark: { type: "point", filled: true, shape: "diamond", color: OKABE_ITO.reddishPurple, size: 60, opacity: 1 },
                encoding: { x, y: { field: "value", type: "quantitative", title: "Highest intensity (mA)" } },
            },
        ],
    } as TopLevelSpec
}

/** [s] time, value pairs of a channel, downsampled to at most `maxPoints` by min and max per bucket (peaks survive). */
export function downsample(x10: number[], intervalMs: number, maxPoints: number): { t: number; v: number | null }[] {
    const buckets = Math.max(1, Math.floor(maxPoints / 2))
    const size = Math.max(1, Math.ceil(x10.length / buckets))
    const out: { t: number; v: number | null }[] = []
    for (let b = 0; b * size < x10.length; b++) {
        let lo = Infinity
        let hi = -Infinity
        let loAt = 0
        let hiAt = 0
        for (let i = b * size; i < Math.min(x10.length, (b + 1) * size); i++) {
            const v = x10[i]
            if (v === TRACE_MISSING) continue
            if (v < lo) {
                lo = v
                loAt = i
            }
            if (v > hi) {
                hi = v
                hiAt = i
            }
        }
        if (lo === Infinity) {
            out.push({ t: (b * size * intervalMs) / 1000, v: null }) // a gap: the line breaks here
            continue
        }
        const pts = loAt <= hiAt ? [[loAt, lo], [hiAt, hi]] : [[hiAt, hi], [loAt, lo]]
        for (const [i, v] of loAt === hiAt ? [pts[0]] : pts) out.push({ t: (i * intervalMs) / 1000, v: v / 10 })
    }
    return out
}

const PHASE_COLORS: Record<string, string> = {
    baseline: "#dddddd",
    relax: OKABE_ITO.skyBlue,
    flicks: OKABE_ITO.orange,
    holds: OKABE_ITO.yellow,
    assessment: OKABE_ITO.reddishPurple,
    stim: OKABE_ITO.bluishGreen,
}

/** One session's trace: EMG and pressure panels, phases shaded and named, gate, stim, stop and fault events as rules. */
export function traceSpec(data: SessionData, maxPoints = 600): TopLevelSpec | null {
    const grid = traceGrid(data)
    if (grid.emgX10.length === 0) return null
    const endS = sessionDurationMs(data, grid) / 1000
    const phases = data.phases
        .filter(p => p.startMs !== null)
        .map(p => ({ start: p.startMs! / 1000, end: (p.endMs ?? endS * 1000) / 1000, phase: phaseKindName(p.kind), label: `${p.index + 1} ${phaseKindName(p.kind)}` }))
        .filter(p => p.end > p.start)
    const marked = [EventCode.GateMet, EventCode.GateNotMet, EventCode.Stop, EventCode.Fault, EventCode.StimStop, EventCode.SpasmSign]
    const events = data.events.filter(e => marked.includes(e.code)).map(e => ({ t: e.timeMs / 1000, what: describeEvent(e) }))
    const kinds = [...new Set(phases.map(p => p.phase))]
    const panel = (x10: number[], yTitle: string, color: string, showPhaseLabels: boolean) => ({
        width: WIDTH,
        height: 120,
        layer: [
            {
                data: { values: phases },
                mark: { type: "rect", opacity: 0.22 },
                encoding: {
                    x: { field: "start", type: "quantitative" },
                    x2: { field: "end" },
                    color: { field: "phase", type: "nominal", title: "Phase", scale: { domain: kinds, range: kinds.map(k => PHASE_COLORS[k] ?? "#cccccc") } },
                },
            },
            ...(showPhaseLabels
                ? [
                      {
                          data: { values: phases.filter(p => p.end - p.start > 25) },
                          mark: { type: "text", align: "left", baseline: "top", dx: 2, y: 2, fontSize: 9, color: "#333" },
                          encoding: { x: { field: "start", type: "quantitative" }, text: { field: "label" } },
                      },
                  ]
                : []),
            {
                data: { values: downsample(x10, grid.intervalMs, maxPoints) },
                mark: { type: "line", color, strokeWidth: 1 },
                encoding: {
                    x: { field: "t", type: "quantitative", title: "Session time (s)", scale: { domain: [0, endS], nice: false } },
                    y: { field: "v", type: "quantitative", title: yTitle },
                },
            },
            ...(events.length
                ? [
                      {
                          data: { values: events },
                          mark: { type: "rule", color: OKABE_ITO.black, strokeDash: [3, 2] },
                          encoding: { x: { field: "t", type: "quantitative" }, tooltip: { field: "what" } },
                      },
                  ]
                : []),
        ],
    })
    const hasPressure = grid.pressureX10.some(v => v !== TRACE_MISSING)
    const hasEmg = grid.emgX10.some(v => v !== TRACE_MISSING)
    const panels = [
        ...(hasEmg ? [panel(grid.emgX10, "EMG (uV)", OKABE_ITO.blue, true)] : []),
        ...(hasPressure ? [panel(grid.pressureX10, "Pressure (cmH2O)", OKABE_ITO.vermillion, !hasEmg)] : []),
    ]
    if (panels.length === 0) return null
    return {
        description: `Trace of session ${data.row.sessionNo}: ${hasEmg ? "EMG in uV" : ""}${hasEmg && hasPressure ? " and " : ""}${hasPressure ? "pressure in cmH2O" : ""} against session time in seconds, phases shaded, events as dashed lines.`,
        config: CONFIG,
        vconcat: panels,
        resolve: { scale: { color: "shared" } },
    } as TopLevelSpec
}

/** The trend charts, in page order (spec null where the archive holds no data for it). */
export function trendCharts(data: ReportData, adh: Adherence): ChartDef[] {
    const u = data.unit
    const s = data.sessions
    const relax = data.programs.map(p => p.relaxation).find(r => r !== null) ?? null
    const level = data.unit === "uV" ? relax?.restToneMaxUv : relax?.restToneMaxCmH2O
    const sdLevel = data.unit === "uV" ? relax?.restToneSdMaxUv : relax?.restToneSdMaxCmH2O
    const chart = (id: string, title: string, description: string, spec: TopLevelSpec | null, noData = "no data in the archive for this period"): ChartDef => ({ id, title, description, spec, noData })
    const rest = [...rows(s, "before exercises", x => x.restPre), ...rows(s, "after exercises", x => x.restPost)]
    const sd = rows(s, "before exercises", x => x.restPreSd)
    const mvc = rows(s, "MVC", x => x.mvc)
    const hold = rows(s, "time at target", x => x.holdMeanS)
    const rel = rows(s, "release", x => x.releaseMedianMs)
    const pain = rows(s, "pain", x => x.pain)
    const restD = `Rest tone (${u}) of each session against its date: before the exercises (pre-baseline mean) and after (post-baseline mean)${level !== undefined ? `, with the relaxation gate's level of ${level} ${u}` : ""}.`
    return [
        chart(
            "adherence",
            "Adherence calendar",
            "Each day of the period: done, partly done (stopped early or fewer sessions than prescribed) or missed, against the program's prescribed frequency; the right column counts the sessions done each week against those prescribed.",
            adh.days.length ? calendarSpec(adh, "Adherence calendar, one row per week, one cell per day.") : null
        ),
        chart(
            "rest-tone",
            `Rest tone (${u})`,
            restD,
            rest.length ? trend({ rows: rest, yTitle: `Rest tone (${u})`, series: ["before exercises", "after exercises"], refs: level !== undefined ? [{ value: level, label: `gate level ${level} ${u}` }] : [], description: restD }) : null
        ),
        chart(
            "rest-variability",
            `Rest variability (${u})`,
            `Standard deviation of the rest tone before the exercises (${u}): a steadier rest shows as a lower line${sdLevel !== undefined ? `; the gate asks for under ${sdLevel} ${u}` : ""}.`,
            sd.length
                ? trend({
                      rows: sd,
                      yTitle: `Rest tone SD (${u})`,
                      series: ["before exercises"],
                      refs: sdLevel !== undefined ? [{ value: sdLevel, label: `gate SD ${sdLevel} ${u}` }] : [],
                      description: `Rest tone SD in ${u} per session.`,
                  })
                : null
        ),
        chart(
            "gate",
            "Relaxation gate success (%)",
            "Share of sessions each week in which the relaxation gate was met (rest tone under the program's level long enough), so that toning could start; the label gives sessions met / sessions with a gate.",
            gateSpec(data, "Weekly relaxation gate success in percent."),
            "no relaxation-gate events in the archive for this period"
        ),
        chart(
            "mvc",
            `Maximum voluntary contraction (${u})`,
            `The session's largest contraction peak (${u}); only sessions with contractions (toning runs once the gate is met).`,
            mvc.length ? trend({ rows: mvc, yTitle: `MVC (${u})`, series: ["MVC"], description: `MVC in ${u} per session.` }) : null,
            "no contractions recorded in this period"
        ),
        chart(
            "endurance",
            "Endurance: time at target per hold (s)",
            "Mean time each endurance hold stayed at its target, in seconds.",
            hold.length ? trend({ rows: hold, yTitle: "Time at target per hold (s)", series: ["time at target"], description: "Mean time at target per hold in seconds, per session." }) : null,
            "no holds recorded in this period"
        ),
        chart(
            "release",
            "Release latency (ms)",
            "Median time from the end of the contraction cue to back at rest, in milliseconds: overactive muscles let go slowly, so this falls as down-training works.",
            rel.length ? trend({ rows: rel, yTitle: "Release latency, median (ms)", series: ["release"], description: "Median release latency in ms per session." }) : null,
            "no contractions recorded in this period"
        ),
        chart(
            "stim",
            "Stimulation use (min) and intensity (mA)",
            "Minutes in stimulation phases per session, and the highest intensity the patient set, in mA.",
            stimSpec(data, "Stimulation minutes and highest intensity in mA per session."),
            "no stimulation in this period"
        ),
        chart(
            "pain",
            "Pain rating (NRS 0-10)",
            "The pain rating the patient gave after each session, on the 0-10 numeric rating scale.",
            pain.length ? trend({ rows: pain, yTitle: "Pain (NRS, 0-10 points)", series: ["pain"], description: "Pain rating 0-10 per session.", height: 120 }) : null,
            "no pain ratings in this period"
        ),
    ]
}

/** Compiles the Vega-Lite spec and renders it to an SVG string for inlining (no namespace URLs: inline SVG in HTML needs none). */
export async function renderSvg(spec: TopLevelSpec, ariaLabel: string): Promise<string> {
    const compiled = vl.compile(spec).spec
    const view = new vega.View(vega.parse(compiled), { renderer: "none" })
    try {
        const svg = await view.toSVG()
        return svg
            .replace(' xmlns="http://www.w3.org/2000/svg"', "")
            .replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
            .replace("<svg ", `<svg role="img" aria-label="${escapeAttr(ariaLabel)}" `)
    } finally {
        view.finalize()
    }
}

export function escapeAttr(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
}

export async function renderCharts(defs: ChartDef[]): Promise<RenderedChart[]> {
    const out: RenderedChart[] = []
    for (const d of defs) out.push({ ...d, svg: d.spec ? await renderSvg(d.spec, d.description) : null })
    return out
}

