/** `pft logs list`: the archived sessions, oldest first, one line each. */
import { openArchive, type ArchiveOption } from "../archive/open"
import { continuationRow, listSessions, type SessionListRow } from "../archive/queries"
import { mmss, sessionOutcomeName } from "../logs/names"
import { parseSince } from "./export"

export interface LogsListOptions extends ArchiveOption {
    patient?: string
    since?: string
    json?: boolean
    utc?: boolean
}

/** "2026-11-20 09:30" (local or UTC), "?" when the start is unknown, "~" when inferred. */
export function formatStart(r: SessionListRow, utc = false): string {
    if (r.startWallMs === null) return `? (boot ${r.bootCount ?? "?"} +${Math.round((r.startMonoMs ?? 0) / 1000)} s)`
    const d = new Date(r.startWallMs)
    const p = (n: number) => String(n).padStart(2, "0")
    const s = utc
        ? `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}Z`
        : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
    return r.startTimeSource === "inferred" ? `~${s}` : s
}

/** `continuedIn`: the session holding the rest of an incomplete one (continuationRow), if any */
export function statusWords(r: SessionListRow, continuedIn: SessionListRow | null = null): string {
    const parts = [r.complete ? (r.outcome === null ? "complete" : sessionOutcomeName(r.outcome)) : "incomplete"]
    if (continuedIn !== null) parts.push(`the log module restarted: continued in id ${continuedIn.id}`)
    if (r.joinedAtMs !== null)
        parts.push(
            r.joinedAfterEnd
                ? `recorded after it ended at ${mmss(r.joinedAtMs)} (the log module restarted): its reps and summary`
                : `recording began ${mmss(r.joinedAtMs)} in (the log module restarted)`
        )
    if (r.bytesStored < r.deviceSizeBytes) parts.push(`partial ${r.bytesStored}/${r.deviceSizeBytes} B`)
    if (r.quarantined > 0) parts.push(`${r.quarantined} quarantined`)
    parts.push(r.ackedSeq >= r.deviceLastSeq ? "acknowledged" : "not acknowledged")
    return parts.join(", ")
}

export async function runLogsList(opts: LogsListOptions): Promise<void> {
    const archive = openArchive(opts, true)
    try {
        const rows = listSessions(archive, { patientRef: opts.patient, sinceMs: opts.since ? parseSince(opts.since) : undefined })
        if (opts.json) {
            console.log(JSON.stringify(rows, null, 2))
            return
        }
        if (rows.length === 0) {
            console.log(`no sessions in ${archive.file}${opts.patient ? ` for patient ${opts.patient}` : ""}`)
            return
        }
        const table = rows.map(r => [
            String(r.id),
            r.patientRef ?? "(unassigned)",
            formatStart(r, opts.utc),
            `${r.deviceId.slice(0, 8)}/${r.sessionNo}`,
            r.programId === null ? "?" : `${r.programId} v${r.programVersion}`,
            r.endMs === null ? "-" : `${(r.endMs / 60000).toFixed(1)} min`,
            String(r.reps),
            statusWords(r, continuationRow(r, rows)),
        ])
        const head = ["id", "patient", "start", "device/session", "program", "length", "reps", "status"]
        const widths = head.map((h, i) => Math.max(h.length, ...table.map(t => t[i].length)))
        for (const line of [head, ...table]) console.log(line.map((c, i) => (i === line.length - 1 ? c : c.padEnd(widths[i]))).join("  "))
    } finally {
        archive.close()
    }
}
