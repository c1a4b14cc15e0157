/**
 * Recorded traces replayed through the real firmware. The CSV format
 * (docs/engineering.md): a header line `time_ms,pressure_cmH2O,emg_uV`, then
 * one row per sample, evenly spaced, time in ms from the start.
 */
import { readFileSync } from "node:fs"
import type { ProbeSample } from "./probe-server"
import type { SampleSource } from "./probe-feed"

export const REPLAY_HEADER = ["time_ms", "pressure_cmH2O", "emg_uV"] as const

export class ReplayFormatError extends Error {
    constructor(file: string, line: number, message: string) {
        super(`${file}:${line}: ${message}`)
        this.name = "ReplayFormatError"
    }
}

export interface ReplayTrace {
    /** [Hz] from the time column */
    sampleRateHz: number
    samples: ProbeSample[]
}

/** Parses a replay CSV; every problem names the line and says what is expected. */
export function parseReplayCsv(text: string, file = "replay.csv"): ReplayTrace {
    const lines = text.split(/\r?\n/)
    const header = lines[0]?.trim().split(",").map(s => s.trim())
    if (!header || header.join(",") !== REPLAY_HEADER.join(","))
        throw new ReplayFormatError(file, 1, `the header must be "${REPLAY_HEADER.join(",")}", got "${lines[0] ?? ""}"`)
    const times: number[] = []
    const samples: ProbeSample[] = []
    for (let i = 1; i < lines.length; i++) {
        const line = lines[i].trim()
        if (!line) continue
        const cells = line.split(",")
        if (cells.length !== 3) throw new ReplayFormatError(file, i + 1, `expected 3 values (time_ms,pressure_cmH2O,emg_uV), got ${cells.length}`)
        const [t, p, e] = cells.map(c => Number(c))
        if (![t, p, e].every(Number.isFinite)) throw new ReplayFormatError(file, i + 1, `not a number in "${line}"`)
        if (e < 0) throw new ReplayFormatError(file, i + 1, `emg_uV is an envelope and cannot be negative (${e})`)
        if (times.length && t <= times[times.length - 1])
            throw new ReplayFormatError(file, i + 1, `time_ms must increase (${t} after ${times[times.length - 1]})`)
        times.push(t)
        samples.push({ pressureCmH2O: p, emgUv: e })
    }
    if (samples.length < 2) throw new ReplayFormatError(file, lines.length, "needs at least 2 samples")
    const intervalMs = (times[times.length - 1] - times[0]) / (times.length - 1)
    for (let i = 1; i < times.length; i++) {
        const step = times[i] - times[i - 1]
        if (Math.abs(step - intervalMs) > intervalMs * 0.5)
            throw new ReplayFormatError(file, i + 2, `samples must be evenly spaced (~${intervalMs} ms); got a step of ${step} ms`)
    }
    return { sampleRateHz: 1000 / intervalMs, samples }
}

export function readReplayCsv(file: string): ReplayTrace {
    return parseReplayCsv(readFileSync(file, "utf8"), file)
}

/** A sample source that plays the trace once, then holds its last sample. */
export function replaySource(trace: ReplayTrace): SampleSource {
    return seq => trace.samples[Math.min(seq, trace.samples.length - 1)]
}
