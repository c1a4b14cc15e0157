/**
 * `pft logs show SESSION`: one archived session (SESSION = the id `pft logs
 * list` prints): where and when, the summary per channel, phases, reps,
 * events, and every quarantined stretch with its offset and bytes.
 */
import type { SessionData } from "../archive/queries"
import { loadSession, sessionFrames } from "../archive/queries"
import { openArchive, type ArchiveOption } from "../archive/open"
import { CliError, EXIT } from "../errors"
import { sessionJson } from "../export/json"
import { channelName, channelUnit, describeEvent, phaseKindName, phaseOutcomeName, poorContactNotice, repFlagWords, stopCauseName } from "../logs/names"
import { LogChannel } from "../../src/core/log/records"
import { formatStart, statusWords } from "./logs-list"

export interface LogsShowOptions extends ArchiveOption {
    json?: boolean
    /** also dump the raw frames as pulled (hex), for a bug report */
    frames?: boolean
    utc?: boolean
}

const sec = (ms: number | null) => (ms === null || ms < 0 ? "-" : `${(ms / 1000).toFixed(1)} s`)

export function showLines(d: SessionData, utc = false): string[] {
    const r = d.row
    const out: string[] = []
    out.push(`session ${r.id}: device ${r.deviceId} store ${r.storeId} session ${r.sessionNo}, firmware ${d.firmwareVersion ?? "?"}`)
    out.push(`patient ${r.patientRef ?? "(unassigned)"}, program ${r.programId ?? "?"} v${r.programVersion ?? "?"}`)
    out.push(`start ${formatStart(r, utc)} (${r.startTimeSource}), ${r.endMs === null ? "no summary" : `length ${sec(r.endMs)}`}, ${statusWords(r)}`)
    if (r.stopCause !== null) out.push(`stop cause: ${stopCauseName(r.stopCause)}`)
    for (const c of d.summary ?? []) {
        const u = channelUnit(c.channel)
        out.push(
            `  ${channelName(c.channel)}: rest before ${(c.preMeanX100 / 100).toFixed(2)} ${u} (CV ${(c.preCvX1000 / 1000).toFixed(2)}), after ${(c.postMeanX100 / 100).toFixed(2)} ${u}, ` +
                `MVC ${(c.mvcX100 / 100).toFixed(2)} ${u}, reps ${c.repsDone}/${c.repsPlanned}, time on task ${sec(c.timeOnTaskMs)}`
        )
    }
    if (d.phases.length) out.push("phases:")
    for (const p of d.phases)
        out.push(`  ${p.index + 1}. ${phaseKindName(p.kind)} ${sec(p.startMs)} .. ${sec(p.endMs)}${p.outcome === null ? "" : `, ${phaseOutcomeName(p.outcome)}`}${p.repsDone === null ? "" : `, ${p.repsDone} reps`}`)
    if (d.reps.length) out.push(`reps (${d.reps.length}):`)
    for (const x of d.reps)
        out.push(
            `  ${channelName(x.channel).padEnd(8)} block ${x.block} #${String(x.repIndex + 1).padStart(2)}  cue ${sec(x.cueOnMs)}  onset ${x.onsetLatencyMs < 0 ? "-" : `${x.onsetLatencyMs} ms`}  ` +
                `peak ${(x.peakX100 / 100).toFixed(2)} ${channelUnit(x.channel)} (${(x.peakPctMvcX10 / 10).toFixed(0)} %MVC)  hold ${sec(x.holdAtTargetMs)}${x.flags ? `  ${repFlagWords(x.flags)}` : ""}`
        )
    const poor = poorContactNotice(d.reps.filter(x => x.channel === LogChannel.Emg).map(x => x.flags))
    if (poor) out.push(poor)
    if (d.events.length) out.push("events:")
    for (const e of d.events) out.push(`  ${sec(e.timeMs).padStart(9)}  ${describeEvent(e)}`)
    out.push(`trace: ${d.trace.reduce((n, t) => n + t.pressureX10.length, 0)} samples of both channels${d.trace.length ? ` every ${d.trace[0].intervalMs} ms` : ""}`)
    if (d.quarantine.length) out.push(`quarantined (${d.quarantine.length}), kept in the archive:`)
    for (const q of d.quarantine) {
        out.push(`  offset ${q.offset}, ${q.length} bytes: ${q.code}: expected ${q.expected}, found ${q.found}`)
        if (q.message) out.push(`    ${q.message}`)
        if (q.bytes.length) out.push(`    ${Buffer.from(q.bytes.slice(0, 64)).toString("hex")}${q.bytes.length > 64 ? "..." : ""}`)
    }
    return out
}

export async function runLogsShow(session: string, opts: LogsShowOptions): Promise<void> {
    const id = Number(session)
    if (!Number.isInteger(id) || id < 1) throw new CliError(`SESSION is the archive id that \`pft logs list\` prints (a whole number), not "${session}"`, EXIT.usage)
    const archive = openArchive(opts, true)
    try {
        const d = loadSession(archive, id)
        if (!d) throw new CliError(`no session ${id} in ${archive.file}: see \`pft logs list\``, EXIT.failure)
        if (opts.json) console.log(JSON.stringify(sessionJson(d), null, 2))
        else for (const line of showLines(d, opts.utc)) console.log(line)
        if (opts.frames) for (const f of sessionFrames(archive, id)) console.log(`frame seq ${f.seq} offset ${f.offset} kind ${f.kind}: ${Buffer.from(f.frame).toString("hex")}`)
    } finally {
        archive.close()
    }
}
