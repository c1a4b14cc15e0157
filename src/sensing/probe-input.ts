import * as ds from "@devicescript/core"
import { PROBE_BATCH, probeBatchCount } from "../core/probe-batch"
import { SampleSequence } from "../core/sample-sequence"

/** One probe sample in wire units. */
export type SampleHandler = (seq: number, pressureHpa: number, emgMv: number) => void

export interface ProbeInput {
    readonly probe: ds.PftPelvicProbe
    readonly sequence: SampleSequence
    /** [ms] spacing of the samples as the probe reports it, 0 before the first batch */
    sampleIntervalMs(): number
    /** Batches that were not a whole number of samples (dropped, counted). */
    malformedCount(): number
}

/**
 * Subscribes to the probe's pushed `samples` reports and hands every new
 * sample to `onSample` in order. Lost samples are counted by the sequence
 * tracker, never filled in; repeated batches are dropped.
 */
export function startProbeInput(onSample: SampleHandler): ProbeInput {
    const probe = new ds.PftPelvicProbe()
    const sequence = new SampleSequence()
    let intervalMs = 0
    let malformed = 0
    probe.report().subscribe(pkt => {
        if (pkt.serviceCommand !== ds.PftPelvicProbeCodes.RegSamples) return
        const payload = pkt.payload
        const count = probeBatchCount(payload.length)
        if (count < 0) {
            malformed++
            return
        }
        const firstSeq = payload.getAt(PROBE_BATCH.firstSeqOffset, "u32")
        intervalMs = payload.getAt(PROBE_BATCH.intervalOffset, "u32") / PROBE_BATCH.intervalScale
        const verdict = sequence.accept(firstSeq, count)
        for (let i = verdict.acceptFrom; i < count; i++) {
            const at = PROBE_BATCH.headerBytes + i * PROBE_BATCH.sampleBytes
            const pressureHpa = payload.getAt(at + PROBE_BATCH.pressureOffset, "i32") / PROBE_BATCH.pressureScale
            const emgMv = payload.getAt(at + PROBE_BATCH.emgOffset, "u32") / PROBE_BATCH.emgScale
            onSample(firstSeq + i, pressureHpa, emgMv)
        }
    })
    return {
        probe,
        sequence,
        sampleIntervalMs: () => intervalMs,
        malformedCount: () => malformed,
    }
}
