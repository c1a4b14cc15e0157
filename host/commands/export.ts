/**
 * `pft export --format csv|json|edf --patient P [--since DATE] --out DIR`:
 * one file per archived session of the patient, named by patient, start
 * and device session (host/export/timeline.ts sessionFileStem).
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { openArchive, type ArchiveOption } from "../archive/open"
import { countUndated, listSessions, loadSession } from "../archive/queries"
import { CliError, EXIT } from "../errors"
import { CSV_ROWS, sessionCsv, type CsvRows } from "../export/csv"
import { sessionEdf } from "../export/edf"
import { sessionJsonText } from "../export/json"
import { sessionFileStem } from "../export/timeline"

export const EXPORT_FORMATS = ["csv", "json", "edf"] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export interface ExportOptions extends ArchiveOption {
    format: string
    patient: string
    since?: string
    out: string
    /** csv: one row per sample (default) or per rep */
    rows?: string
    /** edf: header start time in UTC */
    utc?: boolean
}

/** --since: YYYY-MM-DD (local midnight) or an ISO date-time. [ms] Unix time. */
export function parseSince(s: string): number {
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
    const ms = day ? new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).getTime() : Date.parse(s)
    if (!Number.isFinite(ms)) throw new CliError(`--since "${s}": expected a date YYYY-MM-DD or an ISO date-time`, EXIT.usage)
    return ms
}

/** Writes the files; returns their paths. */
export function exportSessions(opts: ExportOptions): string[] {
    if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(", ")}`, EXIT.usage)
    const rows = (opts.rows ?? "samples") as CsvRows
    if (!(CSV_ROWS as readonly string[]).includes(rows)) throw new CliError(`--rows must be one of ${CSV_ROWS.join(", ")}`, EXIT.usage)
    const format = opts.format as ExportFormat
    const sinceMs = opts.since === undefined ? undefined : parseSince(opts.since)
    const archive = openArchive(opts, true)
    try {
        const sessions = listSessions(archive, { patientRef: opts.patient, sinceMs })
        if (sessions.length === 0) {
            const undated = sinceMs === undefined ? 0 : countUndated(archive, opts.patient)
            throw new CliError(
                `no sessions of patient ${opts.patient}${opts.since ? ` since ${opts.since}` : ""} in ${archive.file}${undated ? ` (${undated} with no known start time are left out by --since)` : ""}`,
                EXIT.failure
            )
        }
        mkdirSync(opts.out, { recursive: true })
        const written: string[] = []
        for (const s of sessions) {
            const data = loadSession(archive, s.id)!
            const stem = sessionFileStem(data)
            const file = join(opts.out, format === "csv" ? `${stem}_${rows}.csv` : `${stem}.${format}`)
            const body = format === "edf" ? sessionEdf(data, { utc: opts.utc }) : format === "json" ? sessionJsonText(data) : sessionCsv(data, rows)
            writeFileSync(file, body)
            written.push(file)
        }
        return written
    } finally {
        archive.close()
    }
}

export async function runExport(opts: ExportOptions): Promise<void> {
    const files = exportSessions(opts)
    for (const f of files) console.log(f)
    console.log(`${files.length} session(s) of patient ${opts.patient} exported as ${opts.format}`)
}
