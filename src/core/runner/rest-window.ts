/**
 * Mean and standard deviation of a level over the last `windowMs`, O(1)
 * per sample with bounded memory: the window is cut into `buckets`
 * time-aligned buckets (count, sum, sum of squares each); a sample goes
 * into the bucket of its time and buckets older than the window are
 * cleared as time moves on. The window therefore covers between
 * (buckets - 1) and `buckets` bucket lengths: with the defaults (5 s, 10
 * buckets) 4.5 to 5 s. Values are taken relative to the first value after
 * a reset, so the sums of squares stay small and the variance exact enough
 * over a long rest.
 *
 * Why not a ring of samples: 5 s at 100 Hz is 500 numbers per channel,
 * too many for the device's ~64 KB heap; 10 buckets are 30.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** [ms] default window: the shortest relaxation hold a program may ask (holdS 5 s, docs/programs.md) */
export const REST_WINDOW_MS = 5000
export const REST_WINDOW_BUCKETS = 10

export class RestWindow {
    private readonly bucketMs: number
    private readonly nb: number
    private readonly bn: number[] = []
    private readonly bs: number[] = []
    private readonly bq: number[] = []
    private totN = 0
    private totS = 0
    private totQ = 0
    /** reference subtracted from every value */
    private ref = 0
    private started = false
    private firstId = 0
    private curId = 0

    constructor(windowMs: number, buckets: number) {
        const nb = buckets >= 2 ? Math.floor(buckets) : 2
        this.nb = nb
        this.bucketMs = windowMs > 0 ? windowMs / nb : 1
        for (let i = 0; i < nb; i++) {
            this.bn.push(0)
            this.bs.push(0)
            this.bq.push(0)
        }
    }

    /** Forget everything (a break in the rest). */
    reset(): void {
        for (let i = 0; i < this.nb; i++) {
            this.bn[i] = 0
            this.bs[i] = 0
            this.bq[i] = 0
        }
        this.totN = 0
        this.totS = 0
        this.totQ = 0
        this.started = false
    }

    /**
     * One value at `tMs`. A value that is not a number resets the window
     * (the level is unknown, so the rest is broken); a time before the
     * latest bucket is ignored.
     */
    push(tMs: number, value: number): void {
        if (value - value !== 0 || tMs - tMs !== 0) {
            this.reset()
            return
        }
        const id = Math.floor(tMs / this.bucketMs)
        if (!this.started) {
            this.started = true
            this.ref = value
            this.firstId = id
            this.curId = id
        } else if (id < this.curId) return
        else if (id > this.curId) this.rotate(id)
        const slot = this.slot(id)
        const x = value - this.ref
        this.bn[slot] += 1
        this.bs[slot] += x
        this.bq[slot] += x * x
        this.totN += 1
        this.totS += x
        this.totQ += x * x
    }

    private slot(id: number): number {
        return id - this.nb * Math.floor(id / this.nb)
    }

    /** Clears the buckets between the current one and `id`, then recomputes the totals from the buckets (no drift). */
    private rotate(id: number): void {
        const gap = id - this.curId
        if (gap >= this.nb) {
            // nothing of the old window is left: start again from here
            const v = this.ref
            this.reset()
            this.started = true
            this.ref = v
            this.firstId = id
            this.curId = id
            return
        }
        for (let k = 1; k <= gap; k++) {
            const s = this.slot(this.curId + k)
            this.bn[s] = 0
            this.bs[s] = 0
            this.bq[s] = 0
        }
        this.curId = id
        let n = 0
        let sum = 0
        let sq = 0
        for (let i = 0; i < this.nb; i++) {
            n += this.bn[i]
            sum += this.bs[i]
            sq += this.bq[i]
        }
        this.totN = n
        this.totS = sum
        this.totQ = sq
    }

    /** The window spans its full length (every bucket has had its time since the first value). */
    full(): boolean {
        return this.started && this.curId - this.firstId >= this.nb - 1 && this.totN >= 2
    }

    count(): number {
        return this.totN
    }

    /** NaN when empty */
    mean(): number {
        if (this.totN <= 0) return NaN
        return this.ref + this.totS / this.totN
    }

    /** Sample standard deviation (n - 1), 0 below 2 values. */
    sd(): number {
        const n = this.totN
        if (n < 2) return 0
        const v = (this.totQ - (this.totS * this.totS) / n) / (n - 1)
        return v > 0 ? Math.sqrt(v) : 0
    }
}
