// An archived session as the exports see it (host/archive/queries.ts
// SessionData), built directly: a factory, never a shared object.
import { EventCode, LogChannel, PhaseOutcome, SessionOutcome, StopCause, TRACE_MISSING } from "../../../src/core/log/records"
import type { SessionData, SessionListRow, TraceChunk } from "../../../host/archive/queries"
import { makeChannelSummary } from "../../cases/log.cases"

/** 2026-11-20 09:30:00.250 UTC */
export const START_MS = Date.UTC(2026, 10, 20, 9, 30, 0, 250)

/** 12 s of trace at 10 Hz in 5 s chunks (the last one short); pressure sample 13 and EMG samples 40..44 are missing. */
export function trace(): TraceChunk[] {
    const chunks: TraceChunk[] = []
    for (let c = 0; c < 3; c++) {
        const n = c < 2 ? 50 : 20
        const p: number[] = []
        const e: number[] = []
        for (let k = 0; k < n; k++) {
            const i = c * 50 + k
            p.push(i === 13 ? TRACE_MISSING : 150 + ((i * 7) % 90))
            e.push(i >= 40 && i < 45 ? TRACE_MISSING : -20 + ((i * 11) % 130))
        }
        chunks.push({ seq: 10 + c, startMs: c * 5000, intervalMs: 100, pressureX10: p, emgX10: e })
    }
    return chunks
}

export function row(overrides: Partial<SessionListRow> = {}): SessionListRow {
    return {
        id: 4,
        deviceId: "e1daef9b9723f6da",
        storeId: 99,
        sessionNo: 12,
        patientRef: "P-0042",
        programId: "relax-then-tone",
        programVersion: 3,
        startWallMs: START_MS,
        startTimeSource: "device",
        bootCount: 2,
        startMonoMs: 5000,
        endMs: 12000,
        complete: true,
        outcome: SessionOutcome.Completed,
        stopCause: StopCause.Completed,
        reps: 2,
        events: 3,
        traceSamples: 120,
        quarantined: 0,
        bytesStored: 1000,
        deviceSizeBytes: 1000,
        deviceLastSeq: 40,
        joinedAtMs: null,
        joinedAfterEnd: false,
        lastSessionSeq: 40,
        ackedSeq: 40,
        ...overrides,
    }
}

export function sessionData(overrides: Partial<SessionData> = {}, rowOverrides: Partial<SessionListRow> = {}): SessionData {
    return {
        row: row(rowOverrides),
        firmwareVersion: "0.1.0",
        timeSync: 1,
        summary: [makeChannelSummary(LogChannel.Emg, 4321), makeChannelSummary(LogChannel.Pressure, 6543)],
        phases: [
            { index: 0, kind: 1, startMs: 0, endMs: 4000, outcome: PhaseOutcome.Completed, repsDone: 0 },
            { index: 1, kind: 3, startMs: 4000, endMs: 11500, outcome: PhaseOutcome.Completed, repsDone: 1 },
        ],
        reps: [
            {
                seq: 20,
                channel: LogChannel.Emg,
                block: 1,
                repIndex: 0,
                flags: 0,
                cueOnMs: 5000,
                cueOffMs: 8000,
                onsetMs: 5250,
                offsetMs: 7900,
                onsetLatencyMs: 250,
                timeToPeakMs: 600,
                releaseLatencyMs: 300,
                holdAtTargetMs: 2100,
                peakX100: 4567,
                meanWorkX100: 3000,
                peakPctMvcX10: 812,
                holdCvX1000: 95,
                enduranceDeclinePctX10: -20,
            },
            {
                seq: 21,
                channel: LogChannel.Pressure,
                block: 1,
                repIndex: 0,
                flags: 4,
                cueOnMs: 5000,
                cueOffMs: 8000,
                onsetMs: 5300,
                offsetMs: -1,
                onsetLatencyMs: 300,
                timeToPeakMs: 700,
                releaseLatencyMs: -1,
                holdAtTargetMs: 1900,
                peakX100: 2345,
                meanWorkX100: 1500,
                peakPctMvcX10: 700,
                holdCvX1000: 110,
                enduranceDeclinePctX10: 0,
            },
        ],
        events: [
            { seq: 15, timeMs: 3900, code: EventCode.GateMet, cause: LogChannel.Pressure, value: 1850, extra: 10000 },
            { seq: 30, timeMs: 9000, code: EventCode.Fault, cause: 4, value: 17, extra: 0 },
            { seq: 31, timeMs: 11900, code: EventCode.PainRating, cause: 0, value: 3, extra: 0 },
        ],
        trace: trace(),
        quarantine: [],
        ...overrides,
    }
}
