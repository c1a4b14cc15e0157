/**
 * report_one_year_s, report_200_patients_list_ms, report_200_patients_report_s:
 * `pft report` (host/commands/report.ts makeReport: read the archive,
 * render every chart to SVG with Vega, write the HTML) over
 *
 * - one patient's year of daily home sessions: the demo patient model
 *   (host/report/demo.ts) over 365 days, none missed, ~14-minute sessions with their
 *   10 Hz traces (the 5 latest drawn in full), in an archive file on disk;
 * - an archive of 200 patients with three months of sessions each (18 000
 *   sessions): the time to list the patients and one patient's sessions
 *   (what a picker shows), and that patient's report.
 *
 * Both archives are built with the record codec and Archive.saveBatch
 * (demo.ts saveSessionsDirect: encode, decode and check each record, save
 * as the pull's save step does) rather than through the flash store and
 * the simulated link, which would take minutes. The 200 patients' sessions
 * are saved without their trace records (the summaries, reps, phases and
 * events are all there): with traces that archive would be ~3 GB (186 kB a
 * session, docs/logs.md) and take long to build, and neither listing nor a
 * report reads the traces of more than the 5 sessions it draws. The 90
 * sessions are made once by the patient model and given to every patient
 * under their own program and device.
 *
 * Run alone: npx tsx -e 'import("./bench/report.ts").then(async m => console.log(await m.benchReport()))'
 */
import { rmSync } from "node:fs"
import { join } from "node:path"
import { RecordKind, type LogRecord } from "../src/core/log/records"
import { Archive } from "../host/archive/archive"
import { listSessions } from "../host/archive/queries"
import { makeReport } from "../host/commands/report"
import { listPatients } from "../host/report/data"
import { demoSessions, saveSessionsDirect } from "../host/report/demo"
import { demoProgram } from "../host/report/demo-program"
import { tempDir } from "../tests/host/logs/fixtures"
import type { Figures } from "./results"

const PATIENTS = 200
const DAYS_EACH = 90
const START = new Date(2026, 0, 5)

async function timed<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
    const t0 = performance.now()
    const v = await fn()
    return [v, performance.now() - t0]
}

/** the middle value (upper middle of an even count) */
/** YYYY-MM-DD of the local day holding `ms` */
function localDate(ms: number): string {
    const d = new Date(ms)
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b)
    return s[s.length >> 1]
}

/** A year of one patient's sessions in an archive file; returns its path and how long building took. */
async function yearArchive(dir: string): Promise<{ file: string; sessions: number; buildMs: number; untilMs: number }> {
    const file = join(dir, "year.sqlite")
    const [plan, buildMs] = await timed(() => {
        const p = demoSessions({ days: 365, start: START, patientRef: "P-YEAR", missRate: 0, missedDays: [] })
        const archive = Archive.open(file)
        try {
            saveSessionsDirect(archive, p.sessions.map(s => s.records), { deviceId: "ye4a0000000000a1", programs: p.programs })
        } finally {
            archive.close()
        }
        return p
    })
    return { file, sessions: plan.sessions.length, buildMs, untilMs: plan.untilMs }
}

/** The same patient's header under another program and device. */
function asPatient(records: LogRecord[], programId: string, deviceId: string): LogRecord[] {
    return records.filter(r => r.kind !== RecordKind.Trace).map(r => (r.kind === RecordKind.SessionHeader ? { ...r, programId, deviceId } : r))
}

async function clinicArchive(dir: string): Promise<{ file: string; buildMs: number; sessions: number }> {
    const file = join(dir, "clinic.sqlite")
    const [sessions, buildMs] = await timed(() => {
        const plan = demoSessions({ days: DAYS_EACH, start: START })
        const archive = Archive.open(file)
        try {
            for (let p = 0; p < PATIENTS; p++) {
                const ref = `P-${String(p + 1).padStart(4, "0")}`
                const programId = `relax-then-tone-${p + 1}`
                const deviceId = (0xc0000000 + p).toString(16).padStart(16, "0")
                const programs = [demoProgram(1, ref), demoProgram(2, ref)].map(x => ({ ...x, programId }))
                saveSessionsDirect(
                    archive,
                    plan.sessions.map(s => asPatient(s.records, programId, deviceId)),
                    { deviceId, programs }
                )
            }
        } finally {
            archive.close()
        }
        return plan.sessions.length * PATIENTS
    })
    return { file, buildMs, sessions }
}

export async function benchReport(): Promise<Figures> {
    const dir = tempDir("pft-bench-report-")
    try {
        const year = await yearArchive(dir)
        console.log(`  one year: ${year.sessions} sessions built in ${(year.buildMs / 1000).toFixed(1)} s`)
        const yearRuns: number[] = []
        for (let k = 0; k < 3; k++) {
            const [r, ms] = await timed(() => makeReport({ archive: year.file, patient: "P-YEAR", out: join(dir, `year-${k}.html`), until: localDate(year.untilMs - 1), now: year.untilMs - 1 }))
            yearRuns.push(ms)
            if (r.sessions !== year.sessions) throw new Error(`the year's report shows ${r.sessions} sessions, the archive holds ${year.sessions}`)
        }
        console.log(`  one year report: ${yearRuns.map(ms => (ms / 1000).toFixed(2)).join(", ")} s (first run includes loading Vega)`)

        const clinic = await clinicArchive(dir)
        console.log(`  ${PATIENTS} patients x ${DAYS_EACH} days (${clinic.sessions} sessions) built in ${(clinic.buildMs / 1000).toFixed(1)} s`)
        const listRuns: number[] = []
        let shown = { patients: 0, sessions: 0 }
        for (let k = 0; k < 5; k++) {
            const [n, ms] = await timed(() => {
                const archive = Archive.open(clinic.file)
                try {
                    const patients = listPatients(archive)
                    const one = patients[(k * 37) % patients.length]
                    return { patients: patients.length, sessions: listSessions(archive, { patientRef: one.patientRef }).length }
                } finally {
                    archive.close()
                }
            })
            shown = n
            listRuns.push(ms)
        }
        const [, clinicReportMs] = await timed(() => makeReport({ archive: clinic.file, patient: "P-0137", out: join(dir, "clinic.html"), until: "2026-04-04", now: Date.UTC(2026, 3, 4) }))
        return {
            report_one_year_s: {
                value: yearRuns[0] / 1000,
                unit: "s",
                note: `pft report over ${year.sessions} daily sessions of one patient (traces archived, 5 drawn): read, 14 charts, HTML; the process's first run (then ${yearRuns
                    .slice(1)
                    .map(ms => (ms / 1000).toFixed(2))
                    .join(", ")} s); target < 2 s`,
            },
            report_200_patients_list_ms: {
                value: median(listRuns),
                unit: "ms",
                note: `open the archive, list its ${shown.patients} patients with session counts and dates, then one patient's ${shown.sessions} sessions; ${clinic.sessions} sessions in all, saved without traces; median of 5`,
            },
            report_200_patients_report_s: {
                value: clinicReportMs / 1000,
                unit: "s",
                note: `pft report for one patient of the ${PATIENTS}-patient archive`,
            },
        }
    } finally {
        rmSync(dir, { recursive: true, force: true })
    }
}
