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
 * No imports outside src/core: shared by the firmware (DeviceScript) and the
 * host (Node).
 */

import { WindowStats } from "./window-stats"

/** Moving average over the last `windowLength` samples. */
export class MovingAverage {
    private readonly ring: WindowStats

    constructor(windowLength: number) {
        this.ring = new WindowStats(windowLength)
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
        return this.ring.isFull()
    }

    reset(): void {
        this.ring.reset()
    }
}

/** Moving root-mean-square over the last `windowLength` samples. */
export class MovingRms {
    private readonly squares: WindowStats

    constructor(windowLength: number) {
        this.squares = new WindowStats(windowLength)
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
        return this.squares.isFull()
    }

    reset(): void {
        this.squares.reset()
    }
}
