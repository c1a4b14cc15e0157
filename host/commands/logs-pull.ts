/**
 * `pft logs pull`: the device's session logs into the archive, with a
 * progress bar (bytes and sessions), then a summary: what was archived,
 * what was quarantined (session, offset, why), what the device acknowledged.
 */
import { SingleBar } from "cli-progress"
import { existsSync } from "node:fs"
import type { Archive } from "../archive/archive"
import { openArchive, type ArchiveOption } from "../archive/open"
import { CliError, EXIT } from "../errors"
import { logCipher } from "../logs/cipher"
import { connectLogSource, type LogConnectOptions } from "../logs/connect"
import { PullError, pullLogs, type PullOptions, type PullProgress, type PullReport } from "../logs/pull"
import { LogSourceError, LogSourceErrorCode, MAX_READ_BYTES } from "../logs/source"
import { QuarantineCode } from "../logs/verify"
import { defaultClinicKeyFile, loadClinicKey } from "../program/clinic-key"

export interface LogsPullOptions extends ArchiveOption, LogConnectOptions {
    keyFile?: string
    patient?: string
    inFlight?: number
    chunk?: number
    /** commander's --no-ack */
    ack?: boolean
    json?: boolean
}

/** The records' key: the clinic key named, else the default one if there is one, else none (plain records only). */
function cipherFor(opts: LogsPullOptions): PullOptions["cipherFor"] {
    if (!opts.keyFile && !existsSync(defaultClinicKeyFile())) return undefined
    const key = loadClinicKey(opts.keyFile).key
    return storeId => logCipher(key, storeId)
}

function kb(bytes: number): string {
    return (bytes / 1024).toFixed(1)
}

export function pullSummary(r: PullReport, archiveFile: string): string[] {
    const lines: string[] = []
    const worked = r.sessions.filter(s => s.bytes > 0)
    lines.push(
        `device ${r.deviceId} (store ${r.storeId}): ${r.sessions.length} session(s) listed, ${worked.length} pulled (${kb(r.bytes)} KB, ${r.recordsAdded} new records) into ${archiveFile}`
    )
    for (const s of worked) lines.push(`  session ${s.session}: ${s.status}, ${kb(s.bytes)} KB, ${s.recordsAdded} records${s.quarantined.length ? `, ${s.quarantined.length} quarantined` : ""}`)
    for (const s of r.sessions)
        for (const q of s.quarantined)
            lines.push(
                q.code === QuarantineCode.SeqGap
                    ? `  MISSING in session ${s.session}: ${q.message}: expected ${q.expected}, found ${q.found} (pft logs show ${s.id})`
                    : `  QUARANTINED session ${s.session} offset ${q.offset}, ${q.length} bytes: ${q.code}: expected ${q.expected}, found ${q.found} (kept in the archive: pft logs show ${s.id})`
            )
    if (r.acknowledged.length) lines.push(`acknowledged on the device (it may free their space): session ${r.acknowledged.join(", ")}`)
    if (r.pendingAcks.length) lines.push(`acknowledgement pending on the device (no room yet): session ${r.pendingAcks.join(", ")}: pull again later`)
    const f = r.fetch
    lines.push(`link: ${f.reads} reads, ${f.retries} asked again (${f.timeouts} timeouts), ${f.duplicates} duplicate answers, ${f.short} short, ${r.rereads} re-read to verify; ${(r.durationMs / 1000).toFixed(1)} s`)
    for (const w of r.warnings) lines.push(`warning: ${w}`)
    return lines
}

function exitCodeOf(e: PullError): number {
    const c = e.cause
    if (c instanceof CliError) return c.exitCode
    if (c instanceof LogSourceError && c.code === LogSourceErrorCode.Disconnected) return EXIT.noDevice
    if (e.step === "connect") return EXIT.noDevice
    return EXIT.failure
}

export async function runLogsPull(opts: LogsPullOptions): Promise<void> {
    const chunk = opts.chunk ?? MAX_READ_BYTES
    if (!(Number.isInteger(chunk) && chunk >= 1 && chunk <= MAX_READ_BYTES)) throw new CliError(`--chunk must be 1..${MAX_READ_BYTES} bytes (one report)`, EXIT.usage)
    const inFlight = opts.inFlight ?? 4
    if (!(Number.isInteger(inFlight) && inFlight >= 1 && inFlight <= 16)) throw new CliError("--in-flight must be 1..16", EXIT.usage)
    const cipher = cipherFor(opts)
    const archive: Archive = openArchive(opts, false)
    const bar = new SingleBar({
        format: "{step} |{bar}| {percentage}% | {done}/{all} KB | sessions {sd}/{st}",
        hideCursor: true,
        clearOnComplete: true,
        stream: process.stderr,
    })
    let started = false
    const onProgress = (p: PullProgress) => {
        const payload = { step: p.step.padEnd(11), done: kb(p.bytesDone), all: kb(p.bytesTotal), sd: p.sessionsDone, st: p.sessionsTotal }
        if (!started) {
            bar.start(1000, 0, payload)
            started = true
        }
        bar.update(Math.round(p.fraction * 1000), payload)
    }
    try {
        const report = await pullLogs({
            archive,
            connect: () => connectLogSource(opts),
            cipherFor: cipher,
            chunkBytes: chunk,
            inFlight,
            patientRef: opts.patient,
            acknowledge: opts.ack ?? true,
            onProgress,
        })
        if (started) bar.stop()
        if (opts.json) console.log(JSON.stringify(report, null, 2))
        else for (const line of pullSummary(report, archive.file)) console.log(line)
    } catch (e) {
        if (started) bar.stop()
        if (e instanceof PullError)
            throw new CliError(`logs pull: ${e.message}${e.step === "connect" ? "" : ". What was saved is kept: run `pft logs pull` again to resume"}`, exitCodeOf(e))
        throw e
    } finally {
        archive.close()
    }
}
