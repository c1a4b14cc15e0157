// The progress report over the demo patient's archive (six weeks, built
// through the firmware's LogStore and the pull): self-contained HTML,
// units on every axis, numbers equal to the archive's, "no data" where the
// archive has none, and the page as headless Chromium renders and prints it.
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { beforeAll, describe, expect, test } from "vitest"
import { LogChannel } from "../../../src/core/log/records"
import { validateProgram } from "../../../src/core/program/validate"
import { Archive } from "../../../host/archive/archive"
import { archiveTotals, listSessions, loadSession } from "../../../host/archive/queries"
import { makeReport, type ReportResult } from "../../../host/commands/report"
import { CliError } from "../../../host/errors"
import { adherence } from "../../../host/report/adherence"
import { trendCharts } from "../../../host/report/charts"
import { ChromiumMissingError, DEFAULT_CHROMIUM, withPage } from "../../../host/report/chromium"
import { readReportData } from "../../../host/report/data"
import { buildDemoArchive, type DemoResult } from "../../../host/report/demo"
import { demoProgram } from "../../../host/report/demo-program"

const CHROMIUM_MISSING = existsSync(DEFAULT_CHROMIUM) ? null : `${DEFAULT_CHROMIUM} is missing: install Debian's chromium package to run the rendering tests`
if (CHROMIUM_MISSING) console.warn(`SKIPPED report rendering tests: ${CHROMIUM_MISSING}`)

/** The trend charts and the 5 detailed sessions' traces: every chart has data for the demo patient. */
const DEMO_CHARTS = 9 + 5
const UNIT = /\((?:[^()]*?[ ,])?(uV|cmH2O|ms|s|min|mA|%|points)\)$/

let dir: string
let demo: DemoResult
let report: ReportResult

beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pft-report-"))
    demo = await buildDemoArchive({ file: join(dir, "demo.sqlite") })
    report = await makeReport({ archive: demo.file, patient: demo.patientRef, out: join(dir, "report.html"), until: "2026-10-18", now: demo.untilMs - 1 })
}, 30_000)

/** Each inline SVG of the page, with the id of the section it is in. */
function svgs(html: string): { section: string; svg: string }[] {
    const out: { section: string; svg: string }[] = []
    const re = /<section class="(?:chart|session)" id="([^"]+)">([\s\S]*?)<\/section>/g
    for (const m of html.matchAll(re)) for (const s of m[2].match(/<svg[\s\S]*?<\/svg>/g) ?? []) out.push({ section: m[1], svg: s })
    return out
}

test("the demo programs pass the device's own validation", () => {
    for (const v of [1, 2] as const) expect(validateProgram(demoProgram(v)).errors).toBeUndefined()
})

test("the demo patient starts hypertonic and relaxes over six weeks; the archive holds every record, nothing quarantined", () => {
    const archive = Archive.open(demo.file)
    try {
        const totals = archiveTotals(archive)
        expect(totals).toMatchObject({ sessions: demo.sessions.length, quarantined: 0, patients: 1 })
        expect(totals.records).toBe(demo.sessions.reduce((n, s) => n + s.records, 0))
        const rows = listSessions(archive, { patientRef: demo.patientRef })
        expect(rows.every(r => r.ackedSeq === r.deviceLastSeq)).toBe(true)
        const pre = rows.map(r => loadSession(archive, r.id)!.summary!.find(c => c.channel === LogChannel.Emg)!.preMeanX100 / 100)
        expect(pre[0]).toBeGreaterThan(10)
        expect(pre[pre.length - 1]).toBeLessThan(6)
        const week = (k: number) => demo.sessions.filter(s => Math.floor(s.day / 7) === k)
        expect(week(0).filter(s => s.gateMet)).toHaveLength(0)
        expect(week(5).filter(s => s.gateMet).length / week(5).length).toBeGreaterThanOrEqual(0.8)
        expect(demo.sessions.length).toBeLessThan(42) // some days missed
    } finally {
        archive.close()
    }
})

test("the page is self-contained: no URL, no script, no external style sheet, font or image", () => {
    const html = report.html
    expect(html).not.toMatch(/https?:\/\//i)
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<link\b/i)
    expect(html).not.toMatch(/<(img|iframe|object|embed)\b/i)
    expect(html).not.toMatch(/\b(src|href)\s*=/i)
    expect(html).not.toMatch(/url\(|@import/i)
    expect(readFileSync(report.htmlFile, "utf8")).toBe(html)
})

test("every chart is an inline SVG whose axes all have titles, with units on every quantitative axis", () => {
    const charts = svgs(report.html)
    expect(charts).toHaveLength(DEMO_CHARTS)
    expect(report.charts.filter(c => c.hasSvg)).toHaveLength(DEMO_CHARTS)
    for (const { section, svg } of charts) {
        const axes = [...svg.matchAll(/aria-label="([XY])-axis([^"]*)"/g)].map(m => m[2])
        expect(axes.length, section).toBeGreaterThanOrEqual(2)
        for (const a of axes) {
            const m = /^ titled '([^']+)' for a (\w+) scale/.exec(a)
            expect(m, `${section}: an axis without a title: ${a}`).not.toBeNull()
            if (m![2] === "linear" || m![2] === "log") expect(m![1], `${section}: ${m![1]}`).toMatch(UNIT)
        }
        expect(svg).toMatch(/^<svg role="img" aria-label="[^"]{20,}"/)
    }
})

test("numbers in the page equal the archive's: rest-tone trend first and last points, at-a-glance values, the sessions table", () => {
    const archive = Archive.open(demo.file)
    try {
        const rows = listSessions(archive, { patientRef: demo.patientRef })
        const emg = (id: number) => loadSession(archive, id)!.summary!.find(c => c.channel === LogChannel.Emg)!
        const first = emg(rows[0].id).preMeanX100 / 100
        const last = emg(rows[rows.length - 1].id).preMeanX100 / 100
        const rest = svgs(report.html).find(c => c.section === "chart-rest-tone")!.svg
        const points = [...rest.matchAll(/aria-label="[^"]*Rest tone \(uV\): ([\d.]+); series: before exercises" role="graphics-symbol" aria-roledescription="point"/g)].map(m => Number(m[1]))
        expect(points).toHaveLength(rows.length)
        expect(points[0]).toBe(first)
        expect(points[points.length - 1]).toBe(last)
        expect(report.html).toContain(`<dd data-metric="rest-first">${first.toFixed(2)}</dd>`)
        expect(report.html).toContain(`<dd data-metric="rest-last">${last.toFixed(2)}</dd>`)
        // MVC trend: every point is a session's summary MVC, only sessions with contractions
        const mvcs = rows.map(r => emg(r.id)).filter(c => c.repsDone > 0).map(c => c.mvcX100 / 100)
        const mvcSvg = svgs(report.html).find(c => c.section === "chart-mvc")!.svg
        expect([...mvcSvg.matchAll(/MVC \(uV\): ([\d.]+)[^"]*" role="graphics-symbol" aria-roledescription="point"/g)].map(m => Number(m[1]))).toEqual(mvcs)
        // the sessions table: one row per session
        const table = /<section id="sessions">([\s\S]*?)<\/section>/.exec(report.html)![1]
        expect(table.match(/<tr><td>/g)).toHaveLength(rows.length)
    } finally {
        archive.close()
    }
})

test("the adherence calendar counts the demo's missed and stopped days against one session a day", () => {
    const archive = Archive.open(demo.file)
    try {
        const data = readReportData(archive, { patientRef: demo.patientRef, untilMs: demo.untilMs, now: demo.untilMs - 1 })
        const a = adherence(data)
        expect(a.days).toHaveLength(42)
        const stopped = demo.sessions.filter(s => s.outcome !== 1).length
        expect(a.counts).toEqual({ done: demo.sessions.length - stopped, partly: stopped, missed: 42 - demo.sessions.length, free: 0 })
        expect(a.adherencePct).toBeCloseTo((100 * (demo.sessions.length - stopped)) / 42, 6)
        expect(report.html).toContain(`<dd data-metric="days">${a.counts.done} / ${a.counts.partly} / ${a.counts.missed}</dd>`)
    } finally {
        archive.close()
    }
})

test('a metric the archive does not hold is shown as "no data", not invented', () => {
    const archive = Archive.open(demo.file)
    try {
        const data = readReportData(archive, { patientRef: demo.patientRef, untilMs: demo.untilMs, now: demo.untilMs - 1 })
        const stripped = { ...data, sessions: data.sessions.map(s => ({ ...s, gate: null, stimMaxMa: null, stimMin: null, pain: null })) }
        const charts = trendCharts(stripped, adherence(stripped))
        const byId = Object.fromEntries(charts.map(c => [c.id, c]))
        expect(byId["gate"].spec).toBeNull()
        expect(byId["gate"].noData).toMatch(/no relaxation-gate events/)
        expect(byId["stim"].spec).toBeNull()
        expect(byId["pain"].spec).toBeNull()
        expect(byId["rest-tone"].spec).not.toBeNull()
    } finally {
        archive.close()
    }
})

test("clear errors: no --patient lists the patients, an unknown patient says so, no archive says how to get one", async () => {
    const out = join(dir, "x.html")
    const err = (p: Promise<unknown>) => p.then(() => null, e => e as CliError)
    const none = await err(makeReport({ archive: demo.file, out }))
    expect(none).toBeInstanceOf(CliError)
    expect(none!.message).toMatch(/--patient is required: patients in the archive: P-DEMO \(\d+ sessions\)/)
    const unknown = await err(makeReport({ archive: demo.file, patient: "P-NOPE", out }))
    expect(unknown!.message).toMatch(/no patient P-NOPE in .*: patients in the archive: P-DEMO/)
    const missing = await err(makeReport({ archive: join(dir, "none.sqlite"), patient: "P-DEMO", out }))
    expect(missing!.message).toMatch(/no archive at .*pft logs pull/)
    const late = await err(makeReport({ archive: demo.file, patient: "P-DEMO", out, since: "2027-01-01" }))
    expect(late!.message).toMatch(/no dated sessions of patient P-DEMO since 2027-01-01/)
})

test("without Chromium the PDF fails with a message that says what to install", async () => {
    const before = process.env["PFT_CHROMIUM"]
    process.env["PFT_CHROMIUM"] = join(dir, "no-chromium-here")
    try {
        const e = await makeReport({ archive: demo.file, patient: demo.patientRef, out: join(dir, "y.html"), pdf: join(dir, "y.pdf") }).catch(x => x)
        expect(e).toBeInstanceOf(ChromiumMissingError)
        expect(e.message).toMatch(/install Debian's chromium package/)
    } finally {
        if (before === undefined) delete process.env["PFT_CHROMIUM"]
        else process.env["PFT_CHROMIUM"] = before
    }
})

describe.skipIf(CHROMIUM_MISSING !== null)("in headless Chromium (Debian's /usr/bin/chromium; skipped when it is missing)", () => {
    test("the page renders offline: the headings, every chart as an SVG with a size, no console error, no request", async () => {
        await withPage(report.html, async ({ page, problems, requests }) => {
            const h2 = await page.locator("h2").allTextContents()
            expect(h2).toEqual(
                expect.arrayContaining([
                    "At a glance",
                    "Programs",
                    "Adherence calendar",
                    "Rest tone (uV)",
                    "Rest variability (uV)",
                    "Relaxation gate success (%)",
                    "Maximum voluntary contraction (uV)",
                    "Endurance: time at target per hold (s)",
                    "Release latency (ms)",
                    "Stimulation use (min) and intensity (mA)",
                    "Pain rating (NRS 0-10)",
                    "Faults and early stops",
                    "Sessions",
                    "Session detail",
                ])
            )
            expect(await page.locator("h1").textContent()).toBe("Progress report: P-DEMO")
            const sizes = await page.locator("figure > svg").evaluateAll(els => els.map(e => e.getBoundingClientRect()).map(r => [r.width, r.height]))
            expect(sizes).toHaveLength(DEMO_CHARTS)
            for (const [w, h] of sizes) {
                expect(w).toBeGreaterThan(200)
                expect(h).toBeGreaterThan(80)
            }
            expect(await page.locator("section.session h3").count()).toBe(5)
            expect(await page.locator("p.no-data").count()).toBe(0)
            expect(problems).toEqual([])
            expect(requests).toEqual([])
        })
    }, 30_000)

    test("--pdf prints it to a PDF", async () => {
        const pdf = join(dir, "report.pdf")
        const r = await makeReport({ archive: demo.file, patient: demo.patientRef, out: join(dir, "r2.html"), until: "2026-10-18", pdf, detail: 2 })
        expect(r.pdfFile).toBe(pdf)
        const bytes = readFileSync(pdf)
        expect(bytes.subarray(0, 5).toString("latin1")).toBe("%PDF-")
        expect(bytes.length).toBeGreaterThan(50_000)
        const pages = bytes.toString("latin1").match(/\/Type\s*\/Page[^s]/g) ?? []
        expect(pages.length).toBeGreaterThan(2)
    }, 30_000)
})
