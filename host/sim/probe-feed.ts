/**
 * Drives a simulated probe in real time: samples are due at a fixed rate on
 * the Node clock and sent in batches, catching up after a late timer so the
 * average rate stays exact.
 */
import type { ProbeSample, SimProbeServer } from "./probe-server"

/** Produces the sample with sequence number `seq` (taken at seq / rate). */
export type SampleSource = (seq: number, timeMs: number) => ProbeSample

export interface ProbeFeedOptions {
    server: SimProbeServer
    source: SampleSource
    /** [Hz] per channel */
    sampleRateHz: number
    /** samples per report */
    batchSize: number
    /** return true to drop (not send) the batch starting at `firstSeq` */
    dropBatch?: (firstSeq: number) => boolean
    /** [ms] timer period; defaults to half a batch period */
    tickMs?: number
    /** sequence number of the first sample (default 0) */
    startSeq?: number
    /**
     * Samples come `speed` times faster than real time (default 1). They are
     * still stamped `1000 / sampleRateHz` ms apart: the firmware works in
     * sample time, so a 5-minute session can run in 30 s.
     */
    speed?: number
}

export interface ProbeFeed {
    /** Samples generated so far (sent or dropped); the next has seq startSeq + generated(). */
    generated(): number
    /** [ms] sample time of the newest sample generated (-1 before any). */
    lastSampleTimeMs(): number
    stop(): void
}

export function startProbeFeed(options: ProbeFeedOptions): ProbeFeed {
    const { server, source, sampleRateHz, batchSize } = options
    const intervalMs = 1000 / sampleRateHz
    const startNs = process.hrtime.bigint()
    const startSeq = options.startSeq ?? 0
    const speed = options.speed ?? 1
    let generated = 0
    let busy = false
    const tick = async () => {
        if (busy) return
        busy = true
        try {
            const elapsedMs = Number(process.hrtime.bigint() - startNs) / 1e6
            const due = Math.floor((elapsedMs * speed) / intervalMs)
            while (due - generated >= batchSize) {
                const firstSeq = startSeq + generated
                const batch: ProbeSample[] = []
                for (let i = 0; i < batchSize; i++) batch.push(source(firstSeq + i, (firstSeq + i) * intervalMs))
                generated += batchSize
                if (options.dropBatch?.(firstSeq)) continue
                await server.pushBatch(firstSeq, intervalMs, batch)
            }
        } finally {
            busy = false
        }
    }
    const timer = setInterval(tick, options.tickMs ?? Math.max(1, (batchSize * intervalMs) / speed / 2))
    return {
        generated: () => generated,
        lastSampleTimeMs: () => (generated === 0 ? -1 : (startSeq + generated - 1) * intervalMs),
        stop: () => clearInterval(timer),
    }
}
