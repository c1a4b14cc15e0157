/**
 * A deterministic synthetic patient for the step meter (bench/vm-steps.ts),
 * simple enough for the DeviceScript VM (no trigonometry): an EMG envelope
 * [uV] that follows the cues 250 ms late, rising in 300 ms to `peakUv` and
 * falling back to a wandering rest tone in `releaseMs` (smoothstep ramps),
 * with uniform noise of +/-0.8 uV from a seeded LCG.
 */
export class SynthPatient {
    private s: number
    private fromUv = 8
    private toUv = 8
    private startMs = 0
    private durMs = 1
    private toneUv = 8
    private pendingCue = 0
    private pendingAtMs = -1

    constructor(seed: number, private readonly peakUv: number, private readonly releaseMs: number) {
        this.s = seed
    }

    private random(): number {
        this.s = (this.s * 1103515245 + 12345) % 2147483648
        return this.s / 2147483648
    }

    private level(tMs: number): number {
        let u = (tMs - this.startMs) / this.durMs
        if (u < 0) u = 0
        if (u > 1) u = 1
        return this.fromUv + (this.toUv - this.fromUv) * u * u * (3 - 2 * u)
    }

    /** the device's cue (Cue: 2 contract, anything else relax) */
    seeCue(cue: number, tMs: number): void {
        this.pendingCue = cue
        this.pendingAtMs = tMs + 250
    }

    /** [uV] the envelope at `tMs` (call in time order) */
    sample(tMs: number): number {
        if (this.pendingAtMs >= 0 && tMs >= this.pendingAtMs) {
            this.fromUv = this.level(tMs)
            this.startMs = tMs
            this.toUv = this.pendingCue === 2 ? this.peakUv : this.toneUv
            this.durMs = this.pendingCue === 2 ? 300 : this.releaseMs
            this.pendingAtMs = -1
        }
        this.toneUv += (this.random() - 0.5) * 0.05
        if (this.toneUv < 5) this.toneUv = 5
        if (this.toneUv > 11) this.toneUv = 11
        return this.level(tMs) + (this.random() - 0.5) * 1.6
    }
}
