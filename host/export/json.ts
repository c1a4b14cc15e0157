/**
 * JSON export of one session, for integration with other systems: a
 * versioned document (`format`, `version`) in physical units, times in
 * seconds of session time plus the session's start on the calendar, with
 * everything the archive holds: patient, device, program, summary, phases,
 * reps, events, the trace (null for a missing sample) and the quarantine.
 */
import { sessionMetricsFromChannelSummary } from "../../src/core/log/records"
import type { SessionData } from "../archive/queries"
import { channelName, channelUnit, describeEvent, eventName, phaseKindName, phaseOutcomeName, repFlagWords, sessionOutcomeName, stopCauseName } from "../logs/names"
import { physical, traceGrid } from "./timeline"

export const SESSION_JSON_FORMAT = "pft-session"
export const SESSION_JSON_VERSION = 1

const s = (ms: number | null) => (ms === null ? null : ms / 1000)
const none = (v: number) => (v < 0 ? null : v)

export function sessionJson(data: SessionData): Record<string, unknown> {
    const r = data.row
    const g = traceGrid(data)
    return {
        format: SESSION_JSON_FORMAT,
        version: SESSION_JSON_VERSION,
        patient: r.patientRef,
        device: { id: r.deviceId, storeId: r.storeId, firmwareVersion: data.firmwareVersion },
        program: r.programId === null ? null : { id: r.programId, version: r.programVersion },
        session: {
            archiveId: r.id,
            number: r.sessionNo,
            start: r.startWallMs === null ? null : new Date(r.startWallMs).toISOString(),
            startTimeSource: r.startTimeSource,
            bootCount: r.bootCount,
            startSinceBootS: s(r.startMonoMs),
            durationS: s(r.endMs),
            complete: r.complete,
            outcome: r.outcome === null ? null : sessionOutcomeName(r.outcome),
            stopCause: r.stopCause === null ? null : stopCauseName(r.stopCause),
        },
        summary:
            data.summary?.map(c => ({ channel: channelName(c.channel), unit: channelUnit(c.channel), ...sessionMetricsFromChannelSummary(c) })) ?? null,
        phases: data.phases.map(p => ({
            index: p.index,
            kind: phaseKindName(p.kind),
            startS: s(p.startMs),
            endS: s(p.endMs),
            outcome: p.outcome === null ? null : phaseOutcomeName(p.outcome),
            repsDone: p.repsDone,
        })),
        reps: data.reps.map(x => ({
            channel: channelName(x.channel),
            unit: channelUnit(x.channel),
            block: x.block,
            rep: x.repIndex + 1,
            cueOnS: s(x.cueOnMs),
            cueOffS: s(x.cueOffMs),
            onsetS: x.onsetMs < 0 ? null : s(x.onsetMs),
            offsetS: x.offsetMs < 0 ? null : s(x.offsetMs),
            onsetLatencyMs: none(x.onsetLatencyMs),
            timeToPeakMs: none(x.timeToPeakMs),
            releaseLatencyMs: none(x.releaseLatencyMs),
            holdAtTargetS: s(x.holdAtTargetMs),
            peak: x.peakX100 / 100,
            meanWork: x.meanWorkX100 / 100,
            peakPctMvc: x.peakPctMvcX10 / 10,
            holdCv: x.holdCvX1000 / 1000,
            enduranceDeclinePct: x.enduranceDeclinePctX10 / 10,
            flags: x.flags,
            flagWords: repFlagWords(x.flags),
        })),
        events: data.events.map(e => ({ timeS: s(e.timeMs), code: e.code, name: eventName(e.code), cause: e.cause, value: e.value, extra: e.extra, text: describeEvent(e) })),
        trace: {
            intervalMs: g.intervalMs,
            pressureCmH2O: g.pressureX10.map(physical),
            emgUv: g.emgX10.map(physical),
        },
        quarantine: data.quarantine.map(q => ({
            offset: q.offset,
            length: q.length,
            code: q.code,
            expected: q.expected,
            found: q.found,
            message: q.message,
            bytesHex: Buffer.from(q.bytes).toString("hex"),
        })),
    }
}

export function sessionJsonText(data: SessionData): string {
    return JSON.stringify(sessionJson(data), null, 2) + "\n"
}
