/**
 * Seeded randomness for the simulated patient. No Math.random anywhere in the
 * patient: the same seed gives the same samples and the same ground truth.
 *
 * - mulberry32 (Tommy Ettinger, public domain, 2017): a 32-bit state PRNG,
 *   fast and good enough for simulation noise (passes gjrand/PractRand to
 *   a few GB, far more than a session draws).
 * - lowbias32 (Chris Wellons, "Prospecting for hash functions", 2018): an
 *   integer mixer used to derive independent stream seeds from one seed and
 *   to make packet loss a pure function of (seed, batch sequence number).
 */

/** Integer hash with good avalanche (lowbias32). Returns an unsigned 32-bit integer. */
export function mix32(x: number): number {
    x = x >>> 0
    x ^= x >>> 16
    x = Math.imul(x, 0x7feb352d)
    x ^= x >>> 15
    x = Math.imul(x, 0x846ca68b)
    x ^= x >>> 16
    return x >>> 0
}

/** Hash of two 32-bit integers, unsigned 32-bit. */
export function hash2(a: number, b: number): number {
    return mix32(mix32(a ^ 0x9e3779b9) ^ (b >>> 0))
}

/** Uniform in [0, 1) that depends only on (a, b). */
export function hashUniform(a: number, b: number): number {
    return hash2(a, b) / 4294967296
}

/** A seeded stream of uniform and normal variates. */
export class Rng {
    private state: number
    private spare = 0
    private hasSpare = false

    constructor(seed: number) {
        this.state = seed >>> 0
    }

    /** Uniform in [0, 1) (mulberry32). */
    uniform(): number {
        this.state = (this.state + 0x6d2b79f5) >>> 0
        let t = this.state
        t = Math.imul(t ^ (t >>> 15), t | 1)
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }

    /** Standard normal (Box-Muller, polar-free form; the second value is kept for the next call). */
    normal(): number {
        if (this.hasSpare) {
            this.hasSpare = false
            return this.spare
        }
        let u = this.uniform()
        while (u <= 0) u = this.uniform()
        const v = this.uniform()
        const r = Math.sqrt(-2 * Math.log(u))
        this.spare = r * Math.sin(2 * Math.PI * v)
        this.hasSpare = true
        return r * Math.cos(2 * Math.PI * v)
    }
}

/** An independent stream for one purpose (`stream` names it) of a seeded model. */
export function streamRng(seed: number, stream: number): Rng {
    return new Rng(hash2(seed >>> 0, stream))
}
