/**
 * `pft report --patient P [--since DATE] [--until DATE] --out report.html [--pdf report.pdf]`:
 * the patient's progress report from the archive, as one self-contained
 * HTML page (host/report/html.ts), and optionally its PDF (headless
 * Chromium's print, host/report/chromium.ts).
 *
 * `pft report --demo --out DIR`: builds a demo archive of a simulated
 * patient (host/report/demo.ts) in DIR and writes DIR/report.html from it.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { Archive } from "../archive/archive"
import { openArchive, type ArchiveOption } from "../archive/open"
import { CliError, EXIT } from "../errors"
import { htmlToPdf, htmlToPng } from "../report/chromium"
import { addDays, dayStart, listPatients, readReportData } from "../report/data"
import { buildDemoArchive, demoArchiveFile } from "../report/demo"
import { renderReportHtml } from "../report/html"
import { parseSince } from "./export"

export interface ReportOptions extends ArchiveOption {
    patient?: string
    since?: string
    /** last day shown (default today) */
    until?: string
    /** the HTML file (with --demo: a directory) */
    out: string
    pdf?: string
    /** a PNG of the top of the page */
    screenshot?: string
    /** sessions shown in full with their trace (default 5) */
    detail?: number
    demo?: boolean
    /** [ms] "now" for the report's stamp and the calendar's default end (tests) */
    now?: number
}

export interface ReportResult {
    htmlFile: string
    pdfFile?: string
    pngFile?: string
    archiveFile: string
    patientRef: string
    sessions: number
    charts: { id: string; title: string; hasSvg: boolean }[]
    html: string
}

/** The archive's patients, for an error that says which there are. */
function patientsHint(archive: Archive): string {
    const ps = listPatients(archive)
    if (ps.length === 0) return "the archive has no patients yet (pft logs pull)"
    const shown = ps.slice(0, 20).map(p => `${p.patientRef} (${p.sessions} session${p.sessions === 1 ? "" : "s"})`)
    return `patients in the archive: ${shown.join(", ")}${ps.length > 20 ? `, and ${ps.length - 20} more` : ""}`
}

/** Writes the report (and PDF, PNG); returns what it wrote. */
export async function makeReport(opts: ReportOptions): Promise<ReportResult> {
    const now = opts.now ?? Date.now()
    if (opts.detail !== undefined && !(Number.isInteger(opts.detail) && opts.detail >= 0 && opts.detail <= 100)) throw new CliError("--detail must be a whole number 0..100", EXIT.usage)
    let patient = opts.patient
    let untilMs = opts.until === undefined ? undefined : addDays(dayStart(parseSince(opts.until)), 1)
    let htmlFile = opts.out
    let archive: Archive
    if (opts.demo) {
        mkdirSync(opts.out, { recursive: true })
        const file = demoArchiveFile(opts.out)
        for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
        const demo = await buildDemoArchive({ file })
        patient = demo.patientRef
        untilMs ??= demo.untilMs
        htmlFile = join(opts.out, "report.html")
        archive = Archive.open(file)
    } else archive = openArchive(opts, true)
    const archiveFile = archive.file
    let html: string
    let charts: ReportResult["charts"]
    let sessions: number
    try {
        if (patient === undefined) throw new CliError(`--patient is required: ${patientsHint(archive)}`, EXIT.usage)
        const sinceMs = opts.since === undefined ? undefined : parseSince(opts.since)
        const data = readReportData(archive, { patientRef: patient!, sinceMs, untilMs, now: opts.demo && opts.now === undefined && untilMs !== undefined ? untilMs - 1 : now, detailSessions: opts.detail })
        if (data.sessions.length === 0) {
            const known = listPatients(archive).some(p => p.patientRef === patient)
            throw new CliError(
                known
                    ? `no dated sessions of patient ${patient}${opts.since ? ` since ${opts.since}` : ""} in ${archive.file}${data.undated ? ` (${data.undated} with no known start time)` : ""}`
                    : `no patient ${patient} in ${archive.file}: ${patientsHint(archive)}`,
                EXIT.failure
            )
        }
        const r = await renderReportHtml(data)
        html = r.html
        charts = r.charts
        sessions = data.sessions.length
    } finally {
        archive.close()
    }
    mkdirSync(dirname(htmlFile), { recursive: true })
    writeFileSync(htmlFile, html)
    const result: ReportResult = { htmlFile, archiveFile, patientRef: patient!, sessions, charts, html }
    if (opts.pdf) {
        mkdirSync(dirname(opts.pdf), { recursive: true })
        await htmlToPdf(html, opts.pdf)
        result.pdfFile = opts.pdf
    }
    if (opts.screenshot) {
        mkdirSync(dirname(opts.screenshot), { recursive: true })
        await htmlToPng(html, opts.screenshot)
        result.pngFile = opts.screenshot
    }
    return result
}

export async function runReport(opts: ReportOptions): Promise<void> {
    const r = await makeReport(opts)
    if (opts.demo) console.log(`demo archive ${r.archiveFile} (patient ${r.patientRef})`)
    console.log(`${r.htmlFile}: progress report of ${r.patientRef}, ${r.sessions} session(s), ${r.charts.filter(c => c.hasSvg).length} chart(s)`)
    if (r.pdfFile) console.log(`${r.pdfFile}: PDF`)
    if (r.pngFile) console.log(`${r.pngFile}: screenshot`)
}
