import * as ds from "@devicescript/core"
import { PROBE_BATCH, probeBatchCount } from "../core/probe-batch"
import { SampleSequence } from "../core/sample-sequence"

/** One probe sample in wire units; `lostBefore` samples went missing just before it. */
export type SampleHandler = (seq: number, pressureHpa: number, emgMv: number, lostBefore: number) => void

export interface ProbeInput {
    readonly probe: ds.PftPelvicProbe
    readonly sequence: SampleSequence
    /** [ms] spacing of the samples as the probe reports it, 0 before the first batch */
    sampleIntervalMs(): number
    /** Batches that were not a whole number of samples (dropped, counted). */
    malformedCount(): number
    /** Calls `handler` after each batch's samples were handled. */
    onBatchDone(handler: () => Promise<void>): void
}

/**
 * Subscribes to the probe's pushed `samples` reports and hands every new
 * sample to `onSample` in order. Lost samples are counted by the sequence
 * tracker, never filled in; repeated batches are dropped.
 */
export function startProbeInput(onSample: SampleHandler, onInterval?: (intervalMs: number) => void): ProbeInput {
    const probe = new ds.PftPelvicProbe()
    const sequence = new SampleSequence()
    let intervalMs = 0
    let malformed = 0
    let batchDone: () => Promise<void> = undefined
    probe.report().subscribe(async pkt => {
        if (pkt.serviceCommand !== ds.PftPelvicProbeCodes.RegSamples) return
        const payload = pkt.payload
        const count = probeBatchCount(payload.length)
        if (count < 0) {
            malformed++
            return
        }
        const firstSeq = payload.getAt(PROBE_BATCH.firstSeqOffset, "u32")
        const interval = payload.getAt(PROBE_BATCH.intervalOffset, "u32") / PROBE_BATCH.intervalScale
        if (interval !== intervalMs && onInterval) onInterval(interval)
        intervalMs = interval
        const verdict = sequence.accept(firstSeq, count)
        for (let i = verdict.acceptFrom; i < count; i++) {
            const at = PROBE_BATCH.headerBytes + i * PROBE_BATCH.sampleBytes
            const pressureHpa = payload.getAt(at + PROBE_BATCH.pressureOffset, "i32") / PROBE_BATCH.pressureScale
            const emgMv = payload.getAt(at + PROBE_BATCH.emgOffset, "u32") / PROBE_BATCH.emgScale
            onSample(firstSeq + i, pressureHpa, emgMv, i === verdict.acceptFrom ? verdict.lostBefore : 0)
        }
        if (batchDone) await batchDone()
    })
    return {
        probe,
        sequence,
        sampleIntervalMs: () => intervalMs,
        malformedCount: () => malformed,
        onBatchDone: handler => {
            batchDone = handler
        },
    }
}
