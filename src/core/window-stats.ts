/**
 * Mean and standard deviation over a ring of the last `length` samples,
 * O(1) amortised per sample: the moving filters (filters.ts) and the
 * sensing conditioners ("stable" for the pressure auto-zero, "flat" for EMG
 * lead-off) all use it.
 *
 * Numerics: the running sums are kept about a reference value (the shifted
 * data algorithm), so a small SD on top of a large mean (0.5 cmH2O of
 * noise on a 40 cmH2O resting pressure, or 0.05 uV on a railed EMG
 * envelope) does not cancel catastrophically. Every `length` samples (at
 * least every 256) the sums are recomputed from the ring about the current
 * mean, which bounds both the rounding drift of hours of add/remove and
 * the distance between the reference and the data: O(length) work every
 * >= length samples is O(1) amortised. What remains is the cancellation
 * floor of any streaming variance: after a large step the SD is off by
 * about sqrt(eps) ~ 1e-8 (up to ~1e-6 after a full re-sum period) times
 * the spread of the values seen since the last re-sum, e.g. ~1e-4 for a
 * window of zeros that held 8000 a few samples earlier. Against the
 * thresholds used here (0.05 uV, 0.75 cmH2O) on physiological ranges
 * that is negligible.
 *
 * Population SD (divides by n): the window is the whole population we
 * judge, not a sample of a larger one.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the host (Node).
 */

import { newNumberStore, type NumberStore } from "./number-store"

/** Recompute the sums at least this often (samples). */
const MIN_RESUM_EVERY_SAMPLES = 256

export class WindowStats {
    private readonly values: NumberStore
    private readonly resumEvery: number
    private next = 0
    private count = 0
    private ref = 0
    /** sum of (v - ref) over the window */
    private sum = 0
    /** sum of (v - ref)^2 over the window */
    private sumSq = 0
    private sinceResum = 0

    constructor(readonly length: number) {
        if (!(length >= 1) || Math.floor(length) !== length)
            throw new RangeError("window length must be an integer >= 1, got " + length)
        this.values = newNumberStore(length)
        this.resumEvery = length > MIN_RESUM_EVERY_SAMPLES ? length : MIN_RESUM_EVERY_SAMPLES
    }

    /** Adds a sample, dropping the oldest once the window is full. */
    push(value: number): void {
        if (this.count === 0) this.ref = value
        if (this.count === this.length) {
            const old = this.values.get(this.next) - this.ref
            this.sum -= old
            this.sumSq -= old * old
        } else this.count++
        this.values.set(this.next, value)
        const d = value - this.ref
        this.sum += d
        this.sumSq += d * d
        this.next = this.next + 1 === this.length ? 0 : this.next + 1
        this.sinceResum++
        if (this.sinceResum >= this.resumEvery) this.resum()
    }

    isFull(): boolean {
        return this.count === this.length
    }

    /** Mean of the window, 0 when empty. */
    mean(): number {
        return this.count === 0 ? 0 : this.ref + this.sum / this.count
    }

    /** Population SD of the window, 0 when empty. */
    sd(): number {
        if (this.count === 0) return 0
        const variance = (this.sumSq - (this.sum * this.sum) / this.count) / this.count
        // rounding can leave a hair below zero for a constant signal
        return variance > 0 ? Math.sqrt(variance) : 0
    }

    reset(): void {
        this.next = 0
        this.count = 0
        this.ref = 0
        this.sum = 0
        this.sumSq = 0
        this.sinceResum = 0
    }

    /**
     * Recomputes the sums about the current mean. The filled slots are
     * 0..count-1: a reset ring fills from slot 0.
     */
    private resum(): void {
        const ref = this.mean()
        let s = 0
        let s2 = 0
        for (let i = 0; i < this.count; i++) {
            const d = this.values.get(i) - ref
            s += d
            s2 += d * d
        }
        this.ref = ref
        this.sum = s
        this.sumSq = s2
        this.sinceResum = 0
    }
}

/**
 * True for a sample the conditioners can use: finite and inside +-1e9 (no
 * transducer in this product reads near that; the wire formats top out at
 * about 2e6 hPa and 6.6e7 uV). A NaN or an infinity pushed into a running
 * sum would poison it for the rest of the session, so such samples are
 * counted and skipped instead.
 */
export function isUsableSample(value: number): boolean {
    // NaN and +-Infinity fail both comparisons; no Number.isFinite in DeviceScript
    return value > -1e9 && value < 1e9
}
