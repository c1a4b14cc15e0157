/**
 * Drives a simulated probe in real time: samples are due at a fixed rate on
 * the Node clock and sent in batches, catching up after a late timer so the
 * average rate stays exact. With flow control (`handledSeq`) the feed also
 * waits for a firmware that has fallen behind, as a real probe never has to:
 * simulated time then runs slower than `speed` rather than overflowing the
 * firmware's queue, which would lose samples the patient never lost.
 */
import { PROBE_QUEUE_SAMPLES } from "../../src/core/probe-batch"
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
    /**
     * Flow control: the newest sample the firmware has handled (the trainer's
     * `live.last_seq`), or undefined while that is not known (before the
     * first report, or when reports stopped: a firmware that is not there
     * cannot be waited for). The feed then generates no sample more than
     * the firmware's queue less one batch beyond it, so the queue cannot
     * overflow; a held feed stops simulated time, and does not catch up on
     * the wall time it waited.
     */
    handledSeq?: () => number | undefined
}

export interface ProbeFeed {
    /** Samples generated so far (sent or dropped); the next has seq startSeq + generated(). */
    generated(): number
    /** [ms] sample time of the newest sample generated (-1 before any). */
    lastSampleTimeMs(): number
    /** [ms] wall time the feed has fallen behind its speed by waiting for the firmware (flow control), so far */
    heldMs(): number
    stop(): void
}

export function startProbeFeed(options: ProbeFeedOptions): ProbeFeed {
    const { server, source, sampleRateHz, batchSize } = options
    const intervalMs = 1000 / sampleRateHz
    const startSeq = options.startSeq ?? 0
    const speed = options.speed ?? 1
    const maxAhead = PROBE_QUEUE_SAMPLES - batchSize
    // samples are due from `originNs` on, `originGenerated` being generated then; a hold moves the origin
    let originNs = process.hrtime.bigint()
    let originGenerated = 0
    let generated = 0
    let heldNs = 0n
    let busy = false
    const tick = async () => {
        if (busy) return
        busy = true
        try {
            const now = process.hrtime.bigint()
            const elapsedMs = Number(now - originNs) / 1e6
            const due = originGenerated + Math.floor((elapsedMs * speed) / intervalMs)
            while (due - generated >= batchSize) {
                const firstSeq = startSeq + generated
                const handled = options.handledSeq?.()
                if (handled !== undefined && firstSeq + batchSize - 1 > handled + maxAhead) {
                    // time stands still while the firmware catches up: what was due is not sent in a burst after
                    heldNs += now - originNs - BigInt(Math.round(((generated - originGenerated) * intervalMs * 1e6) / speed))
                    originNs = now
                    originGenerated = generated
                    break
                }
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
        heldMs: () => Number(heldNs) / 1e6,
        stop: () => clearInterval(timer),
    }
}
