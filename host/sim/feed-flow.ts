/**
 * What the simulated probe feed waits for: the newest probe sample the
 * firmware says it handled (the trainer's `live.last_seq`, services/trainer.md).
 * A firmware that handles nothing (booting, nothing received since boot) or
 * whose handled sample stopped moving (crashed, restarted, or no longer
 * taking samples) is not waited for, so flow control can slow a simulation
 * but never hang it.
 */

/** [ms] a firmware whose handled sample has not moved for this long is not waited for (10 live reports) */
export const FEED_STALLED_AFTER_MS = 1000

export class FeedFlowControl {
    private seq = -1
    private movedAtMs = -Infinity

    constructor(private readonly nowMs: () => number = Date.now) {}

    /** a live report came */
    live(report: { lastSeq: number; samplesReceived: number }): void {
        if (report.samplesReceived === 0) {
            this.seq = -1
            return
        }
        if (report.lastSeq !== this.seq) {
            this.seq = report.lastSeq
            this.movedAtMs = this.nowMs()
        }
    }

    /** the sample to stay within reach of, or undefined: do not wait */
    handledSeq(): number | undefined {
        if (this.seq < 0 || this.nowMs() - this.movedAtMs > FEED_STALLED_AFTER_MS) return undefined
        return this.seq
    }
}
