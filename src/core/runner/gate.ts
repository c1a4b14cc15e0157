/**
 * The relaxation gate (docs/programs.md, "relaxation: the gate"): toning
 * starts only once the rest tone has been at or below the criterion's
 * level(s), with an SD at or below the criterion's SD(s), for `holdS`
 * without a break. With both a uV and a cmH2O level, both must hold.
 *
 * Rest tone = the mean of the smoothed level over a sliding window
 * (RestWindow, 5 s by default), its stability = the SD over the same
 * window. The hold starts at the first sample where every channel's window
 * is full and within the criterion, and the gate is met on the sample where
 * it has lasted `holdS` (held = now - start >= holdS): a sample outside the
 * criterion, an unknown level, or a break the caller reports (a
 * contraction, a pause, the probe out) starts it again.
 *
 * "At or below": a value equal to the level counts as relaxed. The levels
 * are set on a 0.1 grid by the therapist; which side the boundary falls has
 * no clinical meaning, and it must be one side, tested.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import type { RelaxationCriterion } from "../program/types"
import { RestWindow } from "./rest-window"
import { RunnerChannel, type Levels } from "./types"

/** [ms] from seconds on the program's 0.1 s grid, exactly */
export function msOfS(s: number): number {
    return Math.floor(s * 10 + 0.5) * 100
}

export class RelaxationGate {
    private readonly emg: RestWindow | null = null
    private readonly pressure: RestWindow | null = null
    private readonly emgMax: number = 0
    private readonly emgSdMax: number = 0
    private readonly pMax: number = 0
    private readonly pSdMax: number = 0
    private readonly hold: number = 0
    private readonly timeout: number = 0
    private inStreak = false
    private sinceMs = 0
    private held = 0
    private isMet = false
    private lowest = NaN

    constructor(criterion: RelaxationCriterion | undefined, windowMs: number, buckets: number) {
        if (!criterion) return
        if (criterion.restToneMaxUv !== undefined) {
            this.emg = new RestWindow(windowMs, buckets)
            this.emgMax = criterion.restToneMaxUv
            this.emgSdMax = criterion.restToneSdMaxUv ?? 0
        }
        if (criterion.restToneMaxCmH2O !== undefined) {
            this.pressure = new RestWindow(windowMs, buckets)
            this.pMax = criterion.restToneMaxCmH2O
            this.pSdMax = criterion.restToneSdMaxCmH2O ?? 0
        }
        this.hold = msOfS(criterion.holdS)
        this.timeout = msOfS(criterion.timeoutS)
    }

    /** A criterion with at least one level: without one the gate is never met (fail-safe). */
    usable(): boolean {
        return this.emg !== null || this.pressure !== null
    }

    /** [ms] */
    timeoutMs(): number {
        return this.timeout
    }

    /** The channel reported in events: EMG if the criterion has a uV level, else pressure. */
    channel(): RunnerChannel {
        if (this.emg !== null) return RunnerChannel.Emg
        if (this.pressure !== null) return RunnerChannel.Pressure
        return RunnerChannel.None
    }

    /** [channel units] the level of `channel()` */
    level(): number {
        if (this.emg !== null) return this.emgMax
        return this.pMax
    }

    /** [channel units] the level of one channel, NaN if the criterion has none */
    levelOf(channel: RunnerChannel): number {
        if (channel === RunnerChannel.Emg) return this.emg !== null ? this.emgMax : NaN
        if (channel === RunnerChannel.Pressure) return this.pressure !== null ? this.pMax : NaN
        return NaN
    }

    /** [channel units] the window mean of `channel()`, NaN if unknown */
    mean(): number {
        const w = this.emg !== null ? this.emg : this.pressure
        return w !== null ? w.mean() : NaN
    }

    private within(w: RestWindow | null, max: number, sdMax: number): boolean {
        if (w === null) return true
        if (!w.full()) return false
        return w.mean() <= max && w.sd() <= sdMax
    }

    /**
     * One sample of relaxation work at `tMs`. Returns true on the sample
     * where the criterion becomes met (once; `met()` stays true until
     * `rearm`).
     */
    push(tMs: number, levels: Levels): boolean {
        if (!this.usable()) return false
        if (this.emg !== null) this.emg.push(tMs, levels.emgUv)
        if (this.pressure !== null) this.pressure.push(tMs, levels.pressureCmH2O)
        const first = this.emg !== null ? this.emg : this.pressure
        if (first !== null && first.full()) {
            const m = first.mean()
            if (!(this.lowest <= m)) this.lowest = m
        }
        const ok = this.within(this.emg, this.emgMax, this.emgSdMax) && this.within(this.pressure, this.pMax, this.pSdMax)
        if (!ok) {
            this.inStreak = false
            this.held = 0
            return false
        }
        if (!this.inStreak) {
            this.inStreak = true
            this.sinceMs = tMs
        }
        this.held = tMs - this.sinceMs
        if (this.isMet || this.held < this.hold) return false
        this.isMet = true
        return true
    }

    /** A break in the rest (a contraction, a pause, the probe out): the hold and the windows start again. */
    breakStreak(): void {
        this.inStreak = false
        this.held = 0
        if (this.emg !== null) this.emg.reset()
        if (this.pressure !== null) this.pressure.reset()
    }

    /** The gate must be met again (a spasm sign). */
    rearm(): void {
        this.isMet = false
        this.breakStreak()
    }

    /** [ms] the current hold, 0 when not within the criterion */
    heldMs(): number {
        return this.held
    }

    /** 0..1 of the hold; 1 once met */
    progress(): number {
        if (this.isMet) return 1
        if (!(this.hold > 0)) return 0
        const p = this.held / this.hold
        return p < 1 ? p : 1
    }

    /** The lowest window mean of `channel()` since `resetLowest`, NaN if none measured. */
    lowestMean(): number {
        return this.lowest
    }

    resetLowest(): void {
        this.lowest = NaN
    }
}
