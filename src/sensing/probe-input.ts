import * as ds from "@devicescript/core"
import { PROBE_QUEUE_SAMPLES, ProbeBatch, probeBatchCount } from "../core/probe-batch"
import { SampleSequence } from "../core/sample-sequence"

/**
 * Samples handled per synchronous stretch (the whole per-sample path of both
 * channels). One: the heaviest sample (a segment change that closes a rep:
 * its fits, its storing, the runner's count) then has the VM's whole 128 K
 * opcodes to itself. With 5, a run of 10-sample reports (the session-log
 * e2e) died with InfiniteLoop in `repFinished` in 2 of 4 runs once the shape
 * fits grew by a few percent (2026-11-27); a yield per sample costs little
 * against the sample's own work (bench "probe samples").
 */
const SAMPLES_PER_STRETCH = 1
/** [bytes] per queued sample (PROBE_QUEUE_SAMPLES of them): seq u32, pressure i32, EMG u32 (wire fixed point), lost before u32, end of report u8 */
const SLOT_BYTES = 20
/** [ms] how often an empty queue is looked at */
const QUEUE_POLL_MS = 5

/** One probe sample in wire units; `lostBefore` samples went missing just before it. */
export type SampleHandler = (seq: number, pressureHpa: number, emgMv: number, lostBefore: number) => boolean

export interface ProbeInput {
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
    let batchDone: () => Promise<void> = undefined
    // Samples wait in a ring that one loop works through SAMPLES_PER_STRETCH at a time,
    // yielding in between: the VM kills a synchronous stretch after 128 K
    // opcodes, and reports that pile up while the VM is busy must not be
    // handled in one stretch. A full ring drops the newest samples, counted
    // as lost (they become a gap before the next sample), never blocking.
    const ring = Buffer.alloc(PROBE_QUEUE_SAMPLES * SLOT_BYTES)
    let head = 0
    let size = 0
    let overrun = 0
    probe.report().subscribe(async pkt => {
        if (pkt.serviceCommand !== ds.PftPelvicProbeCodes.RegSamples) return
        const payload = pkt.payload
        const count = probeBatchCount(payload.length)
        // not a whole number of samples: dropped; the next batch counts its samples lost
        if (count < 0) return
        const firstSeq = payload.getAt(ProbeBatch.FirstSeqOffset, "u32")
        const interval = payload.getAt(ProbeBatch.IntervalOffset, "u32") / ProbeBatch.IntervalScale
        if (interval !== intervalMs && onInterval) onInterval(interval)
        intervalMs = interval
        const verdict = sequence.accept(firstSeq, count)
        for (let i = verdict.acceptFrom; i < count; i++) {
            const lost = i === verdict.acceptFrom ? verdict.lostBefore : 0
            if (size === PROBE_QUEUE_SAMPLES) {
                overrun += 1 + lost
                continue
            }
            const at = ProbeBatch.HeaderBytes + i * ProbeBatch.SampleBytes
            let slot = head + size
            if (slot >= PROBE_QUEUE_SAMPLES) slot -= PROBE_QUEUE_SAMPLES
            const o = slot * SLOT_BYTES
            ring.setAt(o, "u32", firstSeq + i)
            ring.setAt(o + 4, "i32", payload.getAt(at + ProbeBatch.PressureOffset, "i32"))
            ring.setAt(o + 8, "u32", payload.getAt(at + ProbeBatch.EmgOffset, "u32"))
            ring.setAt(o + 12, "u32", lost + overrun)
            ring.setAt(o + 16, "u8", i === count - 1 ? 1 : 0)
            overrun = 0
            size++
        }
    })
    setTimeout(async () => {
        for (;;) {
            if (size === 0) {
                await ds.sleep(QUEUE_POLL_MS)
                continue
            }
            let n = 0
            let endOfReport = false
            while (size > 0 && n < SAMPLES_PER_STRETCH && !endOfReport) {
                const o = head * SLOT_BYTES
                // a sample the handler says was heavy (a new segment) gets the batch's follow-up at once, as a report's end
                // does: the new cue's report and the fits it asked for
                const heavy = onSample(
                    ring.getAt(o, "u32"),
                    ring.getAt(o + 4, "i32") / ProbeBatch.PressureScale,
                    ring.getAt(o + 8, "u32") / ProbeBatch.EmgScale,
                    ring.getAt(o + 12, "u32")
                )
                endOfReport = heavy || ring.getAt(o + 16, "u8") === 1
                head = head + 1 === PROBE_QUEUE_SAMPLES ? 0 : head + 1
                size--
                n++
            }
            if (endOfReport && batchDone) await batchDone()
            await ds.sleep(0)
        }
    }, 0)
    return {
        onBatchDone: handler => {
            batchDone = handler
        },
    }
}
