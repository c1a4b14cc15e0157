/**
 * A fixed-size histogram of positive values whose range doubles as larger
 * values arrive (neighbouring bins merge), so it answers "how much weight lies
 * at or above x" for an x that is only known later, in bounded memory.
 * Resolution: the bin width is at most 2 x (largest value) / binCount.
 *
 * Used for the time at the hold target when the target depends on the peak
 * of the contraction still in progress (channel-analyzer.ts).
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */
/** smallest bin width (channel units) */
const MIN_WIDTH = 1e-9

export class ValueHistogram {
    private readonly bins: number[] = []
    /** 0 until the first positive value */
    private width = 0

    /** `binCount`: an even number >= 2 */
    constructor(readonly binCount: number) {
        if (!(binCount >= 2) || Math.floor(binCount / 2) * 2 !== binCount)
            throw new RangeError("binCount must be an even integer >= 2, got " + binCount)
        for (let i = 0; i < binCount; i++) this.bins.push(0)
    }

    reset(): void {
        for (let i = 0; i < this.binCount; i++) this.bins[i] = 0
        this.width = 0
    }

    /** Adds `weight` at `value`; values <= 0 (and NaN, infinities) are not kept. */
    add(value: number, weight: number): void {
        if (!(value > 0) || value - value !== 0) return
        if (this.width === 0) {
            this.width = (2 * value) / this.binCount
            // a tiny first value: keep the width a normal number
            if (this.width < MIN_WIDTH) this.width = MIN_WIDTH
        }
        if (value >= this.width * this.binCount) {
            // widen by 2^k at once: one pass over the bins whatever k is
            let k = 0
            let w = this.width
            while (value >= w * this.binCount) {
                w *= 2
                k++
            }
            this.widen(k, w)
        }
        let i = Math.floor(value / this.width)
        if (i >= this.binCount) i = this.binCount - 1
        this.bins[i] += weight
    }

    /**
     * Weight of the values >= x (x > 0), interpolating linearly inside the
     * bin that holds x.
     */
    weightAtOrAbove(x: number): number {
        if (this.width === 0) return 0
        if (!(x > 0)) x = 0
        const i = Math.floor(x / this.width)
        if (i >= this.binCount) return 0
        let sum = 0
        for (let k = i + 1; k < this.binCount; k++) sum += this.bins[k]
        const upper = (i + 1) * this.width
        return sum + (this.bins[i] * (upper - x)) / this.width
    }

    /** New width `width` = old width x 2^k: old bin j goes to bin floor(j / 2^k). */
    private widen(k: number, width: number): void {
        const factor = Math.pow(2, k)
        for (let j = 0; j < this.binCount; j++) {
            const c = this.bins[j]
            if (c === 0) continue
            this.bins[j] = 0
            this.bins[Math.floor(j / factor)] += c
        }
        this.width = width
    }
}
