/**
 * Streaming filters over a fixed window of the most recent samples:
 * O(1) per sample, no allocation after construction, so they run per sample
 * on the device at 100+ samples/s per channel.
 *
 * The EMG front end delivers a rectified/RMS envelope; the firmware smooths
 * it with a moving window (50-250 ms is the usual range: SENIAM
 * recommendations, Hermens et al. 1999; Basmajian & De Luca, "Muscles Alive",
 * 1985, ch. 3). A moving RMS over the raw envelope is the other common choice.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/**
 * Running sums drift when samples are added and removed for hours; recompute
 * the sum from the ring every this many samples to bound the error.
 */
const RESUM_EVERY_SAMPLES = 256

/** A ring of the last `length` samples with its running sum. */
class WindowRing {
    private readonly values: number[] = []
    private next = 0
    private count = 0
    private sum = 0
    private sinceResum = 0

    constructor(readonly length: number) {
        if (!(length >= 1) || Math.floor(length) !== length)
            throw new RangeError("window length must be an integer >= 1, got " + length)
        for (let i = 0; i < length; i++) this.values.push(0)
    }

    /** Adds a sample, dropping the oldest once full. */
    push(value: number): void {
        if (this.count === this.length) this.sum -= this.values[this.next]
        else this.count++
        this.values[this.next] = value
        this.sum += value
        this.next = this.next + 1 === this.length ? 0 : this.next + 1
        if (++this.sinceResum >= RESUM_EVERY_SAMPLES) this.resum()
    }

    /** Mean of the samples in the window (0 before the first sample). */
    mean(): number {
        return this.count === 0 ? 0 : this.sum / this.count
    }

    /** Samples currently in the window (< length until it fills). */
    size(): number {
        return this.count
    }

    reset(): void {
        this.next = 0
        this.count = 0
        this.sum = 0
        this.sinceResum = 0
    }

    private resum(): void {
        let s = 0
        for (let i = 0; i < this.count; i++) s += this.values[i]
        this.sum = s
        this.sinceResum = 0
    }
}

/** Moving average over the last `windowLength` samples. */
export class MovingAverage {
    private readonly ring: WindowRing

    constructor(windowLength: number) {
        this.ring = new WindowRing(windowLength)
    }

    /** Adds a sample and returns the mean of the window. */
    push(value: number): number {
        this.ring.push(value)
        return this.ring.mean()
    }

    value(): number {
        return this.ring.mean()
    }

    /** True once the window holds `windowLength` samples. */
    isFull(): boolean {
        return this.ring.size() === this.ring.length
    }

    reset(): void {
        this.ring.reset()
    }
}

/** Moving root-mean-square over the last `windowLength` samples. */
export class MovingRms {
    private readonly squares: WindowRing

    constructor(windowLength: number) {
        this.squares = new WindowRing(windowLength)
    }

    /** Adds a sample and returns the RMS of the window. */
    push(value: number): number {
        this.squares.push(value * value)
        return this.value()
    }

    value(): number {
        const meanSquare = this.squares.mean()
        // the running sum can dip a hair below zero through rounding
        return meanSquare > 0 ? Math.sqrt(meanSquare) : 0
    }

    isFull(): boolean {
        return this.squares.size() === this.squares.length
    }

    reset(): void {
        this.squares.reset()
    }
}
