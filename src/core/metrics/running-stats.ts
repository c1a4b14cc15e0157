/**
 * Streaming statistics for the metrics: O(1) per value, no arrays.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and the
 * host (Node).
 */
import type { RestMetrics } from "./types"

/**
 * Running mean and variance by Welford's method (B. P. Welford, "Note on a
 * method for calculating corrected sums of squares and products",
 * Technometrics 4(3):419-420, 1962; Knuth, TAOCP vol. 2, 4.2.2): numerically
 * stable over long runs, unlike sum and sum of squares.
 */
export class RunningStats {
    private n = 0
    private m = 0
    private m2 = 0

    add(x: number): void {
        this.n++
        const d = x - this.m
        this.m += d / this.n
        this.m2 += d * (x - this.m)
    }

    count(): number {
        return this.n
    }

    /** 0 before the first value */
    mean(): number {
        return this.m
    }

    /** Sample variance (n - 1 in the denominator), 0 below 2 values. */
    variance(): number {
        if (this.n < 2) return 0
        const v = this.m2 / (this.n - 1)
        return v > 0 ? v : 0
    }

    /** Sample standard deviation, 0 below 2 values. */
    sd(): number {
        return Math.sqrt(this.variance())
    }

    reset(): void {
        this.n = 0
        this.m = 0
        this.m2 = 0
    }

    copyFrom(other: RunningStats): void {
        this.n = other.n
        this.m = other.m
        this.m2 = other.m2
    }
}

/**
 * Rest statistics in the shape of RestMetrics; `sampleMs` is the duration one
 * sample stands for (1000 / sample rate).
 */
export function restMetricsOf(stats: RunningStats, sampleMs: number): RestMetrics {
    const mean = stats.mean()
    const sd = stats.sd()
    return {
        mean: mean,
        sd: sd,
        cv: mean !== 0 ? sd / mean : 0,
        durationMs: stats.count() * sampleMs,
    }
}
