/**
 * Tracks the sequence numbers of probe sample batches so that lost samples
 * are counted and reported, never silently interpolated, and a batch that
 * arrives twice (a retried or duplicated packet) is not counted twice.
 *
 * Sequence numbers are u32 on the wire and count samples (not packets), so a
 * batch of n samples starting at s covers s .. s+n-1 (mod 2^32).
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

const SEQ_MODULO = 4294967296 // 2^32

/**
 * x mod 2^32 in [0, 2^32). Not `%`: DeviceScript 2.16.4 computes `%` in
 * 32-bit integers, so `5 % 4294967296` is 0 there (docs/engineering.md).
 */
function wrapSeq(x: number): number {
    return x - Math.floor(x / SEQ_MODULO) * SEQ_MODULO
}

/**
 * Serial-number arithmetic (RFC 1982): a batch less than 2^31 ahead of what
 * we expect is ahead (samples were lost in between), otherwise it is behind.
 */
const HALF_SEQ_SPACE = 2147483648

/**
 * A batch up to this many samples behind is a repeat (a retried packet is
 * never older than 2.5 s at 100 Hz); further behind, the probe restarted and
 * its counter began again, so we follow it.
 */
export const REPLAY_WINDOW_SAMPLES = 256

/** Verdict on one incoming batch. */
export interface BatchVerdict {
    /** samples of this batch that are new and should be processed */
    acceptFrom: number
    /** how many samples went missing just before this batch */
    lostBefore: number
    /** the batch (or part of it) was already seen */
    duplicate: boolean
    /** the probe's counter jumped back: it restarted */
    restarted: boolean
}

/** Forward distance from `from` to `to` on the u32 circle. */
export function seqDistance(from: number, to: number): number {
    return wrapSeq(to - from)
}

export class SampleSequence {
    /** sequence number expected next, or -1 before the first batch */
    private expected = -1
    // counters as fields, not getters: the board's image compiles in every method of a class it constructs
    /** Samples accepted so far (read them, do not write them). */
    received = 0
    /** Samples that never arrived, gaps in the sequence (read them, do not write them). */
    lost = 0
    /** batches that repeated samples already seen (public for tests, written only here: a getter costs bytecode) */
    duplicates = 0
    /** times the probe's counter started again */
    restarts = 0

    /**
     * Accounts for a batch of `count` samples starting at `firstSeq`.
     * Returns which of its samples are new (index into the batch).
     */
    accept(firstSeq: number, count: number): BatchVerdict {
        const gap = this.expected < 0 ? 0 : seqDistance(this.expected, firstSeq)
        if (gap < HALF_SEQ_SPACE) {
            // in order, possibly after a loss
            this.lost += gap
            return this.take(firstSeq, count, gap, false)
        }
        const behind = SEQ_MODULO - gap
        if (behind > REPLAY_WINDOW_SAMPLES) {
            this.restarts++
            return this.take(firstSeq, count, 0, true)
        }
        // a repeat, maybe overlapping new samples
        this.duplicates++
        if (behind >= count) return { acceptFrom: count, lostBefore: 0, duplicate: true, restarted: false }
        this.received += count - behind
        this.expected = wrapSeq(firstSeq + count)
        return { acceptFrom: behind, lostBefore: 0, duplicate: true, restarted: false }
    }

    private take(firstSeq: number, count: number, lostBefore: number, restarted: boolean): BatchVerdict {
        this.received += count
        this.expected = wrapSeq(firstSeq + count)
        return { acceptFrom: 0, lostBefore: lostBefore, duplicate: false, restarted: restarted }
    }

    reset(): void {
        this.expected = -1
        this.received = 0
        this.lost = 0
        this.duplicates = 0
        this.restarts = 0
    }
}
