/**
 * The progress report as one self-contained HTML page: inline CSS, inline
 * SVG charts, no script, no font, image or style sheet from anywhere; it
 * opens offline from a file, prints on A4 (the PDF is Chromium's print of
 * this page, ./pdf.ts).
 *
 * For the therapist and the patient alike: plain headings, one sentence
 * under each chart saying what it shows, units on every number.
 */
import { EventCode } from "../../src/core/log/records"
import type { SessionData } from "../archive/queries"
import { annotations, traceGrid } from "../export/timeline"
import { describeEvent, faultCauseName, mmss, sessionOutcomeName, stopCauseName } from "../logs/names"
import { adherence, type Adherence } from "./adherence"
import { renderCharts, renderSvg, traceSpec, trendCharts, type RenderedChart } from "./charts"
import { dayStart, type ProgramInfoRow, type ReportData, type SessionPoint } from "./data"

export interface RenderedReport {
    html: string
    /** the charts on the page, trend charts first, then one per detailed session */
    charts: { id: string; title: string; hasSvg: boolean }[]
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

/** A number with `digits` decimals, or an en dash when there is none. */
export function num(v: number | null | undefined, digits = 1): string {
    return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits)
}

const DATE: Intl.DateTimeFormatOptions = { weekday: "short", day: "numeric", month: "short", year: "numeric" }
export const fmtDate = (ms: number) => new Date(ms).toLocaleDateString("en-GB", DATE)
export const fmtDateTime = (ms: number) => `${fmtDate(ms)} ${new Date(ms).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" })}`
/** An event in words, faults with their cause named (src/core/runner/types.ts FaultCause). */
function eventText(e: { code: number; cause: number; value: number; extra: number }): string {
    const cause = e.code === EventCode.Fault ? faultCauseName(e.cause) : undefined
    return cause ? `fault: ${cause} (detail ${e.value})` : describeEvent(e)
}


const CSS = `
:root { color-scheme: light; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 960px; padding: 20px 28px 60px; background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 4px; border-bottom: 1px solid #ccc; padding-bottom: 2px; }
h3 { font-size: 15px; margin: 18px 0 4px; }
p.meta { color: #444; margin: 0 0 12px; }
p.what { color: #333; margin: 2px 0 8px; max-width: 760px; }
p.no-data { border: 1px dashed #999; color: #555; padding: 14px; text-align: center; font-style: italic; }
dl.glance { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 8px 16px; margin: 8px 0; }
dl.glance div { border: 1px solid #ddd; border-radius: 4px; padding: 6px 10px; }
dl.glance dt { color: #555; font-size: 12px; }
dl.glance dd { margin: 0; font-size: 18px; font-weight: bold; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; font-weight: 600; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 0; }
svg { max-width: 100%; height: auto; }
section.chart, section.session { break-inside: avoid; page-break-inside: avoid; }
.note { color: #555; font-size: 12px; }
@page { size: A4; margin: 12mm; }
@media print { body { max-width: none; padding: 0; font-size: 11px; } h2 { break-after: avoid; } }
`

function programText(p: ProgramInfoRow): string[] {
    const f = p.frequency
    const freq = f === null ? "not known (program document not in the archive)" : f.sessionsPerDay !== undefined ? `${f.sessionsPerDay} a day` : `${f.sessionsPerWeek} a week`
    const r = p.relaxation
    const gate =
        r === null
            ? "–"
            : [
                  r.restToneMaxUv !== undefined ? `EMG rest under ${r.restToneMaxUv} uV (SD under ${r.restToneSdMaxUv} uV)` : "",
                  r.restToneMaxCmH2O !== undefined ? `pressure under ${r.restToneMaxCmH2O} cmH2O (SD under ${r.restToneSdMaxCmH2O} cmH2O)` : "",
              ]
                  .filter(Boolean)
                  .join(" and ") + ` for ${r.holdS} s, within ${r.timeoutS} s`
    return [
        `${esc(p.programId)} v${p.version}`,
        esc(freq),
        esc(gate),
        esc(p.phases.join(", ") || "–"),
        String(p.sessions),
        p.firstMs === null ? "–" : `${fmtDate(p.firstMs)} – ${fmtDate(p.lastMs!)}`,
    ]
}

function table(head: string[], body: string[][], numeric: number[] = []): string {
    const th = head.map(h => `<th>${h}</th>`).join("")
    const rows = body.map(r => `<tr>${r.map((c, i) => `<td${numeric.includes(i) ? ' class="n"' : ""}>${c}</td>`).join("")}</tr>`).join("\n")
    return `<table><thead><tr>${th}</tr></thead><tbody>\n${rows}\n</tbody></table>`
}

function glance(data: ReportData, adh: Adherence): string {
    const s = data.sessions
    const u = data.unit
    const first = <T>(f: (x: SessionPoint) => T | null) => s.map(f).find(v => v !== null) ?? null
    const last = <T>(f: (x: SessionPoint) => T | null) => [...s].reverse().map(f).find(v => v !== null) ?? null
    const lastTwoWeeks = s.filter(x => x.startMs >= data.untilMs - 14 * 86_400_000 && x.gate !== null)
    const gatePct = lastTwoWeeks.length ? (100 * lastTwoWeeks.filter(x => x.gate === "met").length) / lastTwoWeeks.length : null
    const item = (key: string, label: string, value: string) => `<div><dt>${label}</dt><dd data-metric="${key}">${value}</dd></div>`
    return `<dl class="glance">
${item("adherence", "Adherence (sessions done of prescribed)", adh.adherencePct === null ? "–" : `${num(adh.adherencePct, 0)} %`)}
${item("days", "Days done / partly / missed", `${adh.counts.done} / ${adh.counts.partly} / ${adh.counts.missed}`)}
${item("rest-first", `Rest tone, first session (${u})`, num(first(x => x.restPre), 2))}
${item("rest-last", `Rest tone, latest session (${u})`, num(last(x => x.restPre), 2))}
${item("gate-recent", "Gate met, last 14 days (%)", gatePct === null ? "–" : `${num(gatePct, 0)} %`)}
${item("mvc-last", `MVC, latest (${u})`, num(last(x => x.mvc), 1))}
${item("release-last", "Release latency, latest (ms)", num(last(x => x.releaseMedianMs), 0))}
${item("pain-last", "Pain, latest (NRS 0-10)", num(last(x => x.pain), 0))}
</dl>`
}

function chartSection(c: RenderedChart): string {
    const body = c.svg ? `<figure>${c.svg}</figure>` : `<p class="no-data">No data: ${esc(c.noData ?? "nothing recorded")}</p>`
    return `<section class="chart" id="chart-${c.id}">
<h2>${esc(c.title)}</h2>
<p class="what">${esc(c.description)}</p>
${body}
</section>`
}

function outcomeText(s: SessionPoint): string {
    if (s.continuedInNo !== null) return `continued in No. ${s.continuedInNo} (the log module restarted)`
    if (!s.complete) return "incomplete (no summary)"
    const o = s.outcome === null ? "?" : sessionOutcomeName(s.outcome)
    return s.stopCause !== null && s.outcome !== 1 ? `${o} (${stopCauseName(s.stopCause)})` : o
}

function sessionsTable(data: ReportData): string {
    const u = data.unit
    const body = data.sessions.map(s => [
        fmtDateTime(s.startMs),
        String(s.sessionNo),
        esc(`${s.program ?? "?"} v${s.programVersion ?? "?"}`),
        num(s.durationMs === null ? null : s.durationMs / 60_000, 1),
        esc(outcomeText(s)),
        num(s.restPre, 2),
        num(s.restPreSd, 2),
        num(s.restPost, 2),
        s.gate === null ? "–" : s.gate === "met" ? "met" : "not met",
        num(s.mvc, 1),
        s.repsDone === null ? "–" : `${s.repsDone}/${s.repsPlanned}`,
        num(s.releaseMedianMs, 0),
        num(s.stimMaxMa, 1),
        num(s.pain, 0),
    ])
    return table(
        ["Start", "No.", "Program", "Length (min)", "Outcome", `Rest before (${u})`, `Rest SD (${u})`, `Rest after (${u})`, "Gate", `MVC (${u})`, "Reps (done/planned)", "Release (ms)", "Stim max (mA)", "Pain (0-10)"],
        body,
        [1, 3, 5, 6, 7, 9, 11, 12, 13]
    )
}

function faultsSection(data: ReportData): string {
    const rows: string[][] = []
    for (const s of data.sessions) {
        for (const e of [...s.stops, ...s.faults].sort((a, b) => a.timeMs - b.timeMs)) rows.push([fmtDateTime(s.startMs), String(s.sessionNo), mmss(e.timeMs), esc(eventText(e))])
        if (s.spasmSigns > 0) rows.push([fmtDateTime(s.startMs), String(s.sessionNo), "", `${s.spasmSigns} spasm sign(s)`])
        if (s.quarantined > 0) rows.push([fmtDateTime(s.startMs), String(s.sessionNo), "", `log damaged: ${s.quarantined} item(s) quarantined (pft logs show ${s.id})`])
        if (s.joinedAtMs !== null)
            rows.push([
                fmtDateTime(s.startMs),
                String(s.sessionNo),
                mmss(s.joinedAtMs),
                s.joinedAfterEnd
                    ? "recorded after the session ended here: the log module restarted; every rep and the summary are kept, the trace is not"
                    : "recording began here: the log module restarted mid-session; every rep is kept, the trace before this is not",
            ])
        if (s.continuedInNo !== null)
            rows.push([fmtDateTime(s.startMs), String(s.sessionNo), "", `the log module restarted: the rest of this session is No. ${s.continuedInNo}`])
        else if (!s.complete) rows.push([fmtDateTime(s.startMs), String(s.sessionNo), "", "session incomplete: no summary record"])
    }
    const faults = data.sessions.reduce((n, s) => n + s.faults.filter(e => e.code === EventCode.Fault).length, 0)
    return `<section class="chart" id="faults">
<h2>Faults and early stops</h2>
<p class="what">Every fault, stimulation stop other than the planned end, early stop, spasm sign and damaged log in the period (time is minutes:seconds into the session). ${faults} fault(s) in ${data.sessions.length} session(s).</p>
${rows.length ? table(["Session start", "No.", "At (min:s)", "What"], rows, [1]) : '<p class="no-data">None in this period.</p>'}
</section>`
}

async function sessionDetail(d: SessionData, unit: string): Promise<{ html: string; hasSvg: boolean }> {
    const spec = traceSpec(d)
    const title = `Session ${d.row.sessionNo}: ${d.row.startWallMs === null ? "start unknown" : fmtDateTime(d.row.startWallMs)}`
    const svg = spec ? await renderSvg(spec, (spec as { description?: string }).description ?? title) : null
    const grid = traceGrid(d)
    // phases, events and signal/log notes; the reps are in the trace and the table above
    const notes = annotations(d, grid).filter(a => a.kind !== "cue" && a.kind !== "rep")
    const rows = notes.map(a => [mmss(a.onsetMs), a.durationMs === null ? "" : num(a.durationMs / 1000, 0), esc(a.text)])
    const pre = d.summary?.find(c => (unit === "uV" ? c.channel === 0 : c.channel === 1))
    const line = pre
        ? `Rest before ${num(pre.preMeanX100 / 100, 2)} ${unit} (SD ${num(pre.preSdX100 / 100, 2)}), after ${pre.postDurationMs > 0 ? `${num(pre.postMeanX100 / 100, 2)} ${unit}` : "–"}; MVC ${pre.repsDone > 0 ? `${num(pre.mvcX100 / 100, 1)} ${unit}` : "–"}; contractions ${pre.repsDone} of ${pre.repsPlanned}.`
        : "No summary record."
    return {
        hasSvg: svg !== null,
        html: `<section class="session" id="session-${d.row.id}">
<h3>${esc(title)}</h3>
<p class="what">${esc(line)} Trace downsampled for the page (minimum and maximum kept); phases shaded, events as dashed lines; EMG is not recorded under stimulation.</p>
${svg ? `<figure>${svg}</figure>` : '<p class="no-data">No data: no trace in the archive for this session</p>'}
<details><summary>Phases and events (${rows.length})</summary>
${table(["At (min:s)", "Length (s)", "What"], rows, [1])}
</details>
</section>`,
    }
}

/** The whole page. */
export async function renderReportHtml(data: ReportData): Promise<RenderedReport> {
    const adh = adherence(data)
    const charts = await renderCharts(trendCharts(data, adh))
    const details: { html: string; hasSvg: boolean; id: number }[] = []
    for (const d of data.detail) details.push({ ...(await sessionDetail(d, data.unit)), id: d.row.id })
    const period = `${fmtDate(data.fromMs)} – ${fmtDate(dayStart(data.untilMs - 1))}`
    const programs = data.programs.map(programText)
    const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Progress report ${esc(data.patientRef)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Progress report: ${esc(data.patientRef)}</h1>
<p class="meta">Home sessions ${esc(period)} · ${data.sessions.length} session(s) · trainer ${esc(data.devices.join(", ") || "–")} · made ${esc(fmtDateTime(data.now))}${
        data.undated ? ` · ${data.undated} session(s) with no known start time left out` : ""
    }</p>
</header>
<section id="glance">
<h2>At a glance</h2>
${glance(data, adh)}
<p class="note">Rest tone is the ${data.unit === "uV" ? "EMG" : "pressure"} signal at rest before the exercises (${esc(data.unit)}); relaxing it is the first goal. Toning exercises start only once the relaxation gate is met.</p>
</section>
<section id="programs">
<h2>Programs</h2>
${programs.length ? table(["Program", "Prescribed", "Relaxation gate", "Phases", "Sessions", "Used"], programs, [4]) : '<p class="no-data">No data: no program of this patient in the archive</p>'}
</section>
${charts.map(chartSection).join("\n")}
${faultsSection(data)}
<section id="sessions">
<h2>Sessions</h2>
<p class="what">Every session of the period, oldest first; a dash where the session recorded no value.</p>
${data.sessions.length ? sessionsTable(data) : '<p class="no-data">No data: no sessions in this period</p>'}
</section>
<section id="detail">
<h2>Session detail</h2>
<p class="what">The latest ${details.length} session(s) with their trace: EMG (uV) and pressure (cmH2O) against session time (s).</p>
${details.map(d => d.html).join("\n")}
</section>
</body>
</html>
`
    return {
        html,
        charts: [...charts.map(c => ({ id: c.id, title: c.title, hasSvg: c.svg !== null })), ...details.map(d => ({ id: `session-${d.id}`, title: `session ${d.id}`, hasSvg: d.hasSvg }))],
    }
}

