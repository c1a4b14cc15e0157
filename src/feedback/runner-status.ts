import { ledFrame, type LedFrame } from "../core/feedback/led-bar"
import { PHASE_KINDS } from "../core/program/types"
import { emptyView, RunnerState, type RunnerView, type SessionRunner } from "../core/runner"

/** `phase_kind` outside a session (services/trainer.md) */
const NO_PHASE_KIND = 255

function sameFrame(a: LedFrame, b: LedFrame): boolean {
    if (a.blink !== b.blink || a.pixels.length !== b.pixels.length) return false
    for (let i = 0; i < a.pixels.length; i++) if (a.pixels[i] !== b.pixels[i]) return false
    return true
}

/**
 * The program runner as the trainer service shows it: the LED frame the
 * patient sees and the runner's status (services/trainer.md `led`,
 * `runner`). One view object is reused: the VM heap is ~64 KB.
 */
export class RunnerStatus {
    private readonly view: RunnerView = emptyView()
    /** the LED frame now (public, written only here: a getter costs device bytecode) */
    frame: LedFrame = { pixels: [], blink: 0 }
    private active = false
    /** the last statusChanged's runner status */
    private lastStatus: number[] = []
    private idle = false
    private frameTimeMs = 0

    /** Takes the runner's state now (null: no program runs: the idle frame, with `batteryLow`); true when the LED frame changed. */
    update(runner: SessionRunner | null, sampleTimeMs: number, batteryLow: boolean): boolean {
        this.active = runner !== null
        if (runner === null) {
            if (this.idle && this.view.batteryLow === batteryLow) return false
            this.idle = true
            this.view.state = RunnerState.Idle
            this.view.batteryLow = batteryLow
        } else {
            this.idle = false
            runner.view(this.view)
        }
        const frame = ledFrame(this.view)
        if (sameFrame(frame, this.frame)) return false
        this.frame = frame
        this.frameTimeMs = sampleTimeMs
        return true
    }

    led(): number[] {
        const px = this.frame.pixels
        const out = [Math.round(this.frameTimeMs), this.frame.blink, px.length]
        for (const c of px) out.push(c)
        return out
    }

    /**
     * True when the runner's status differs from the last call's in what the
     * host and the stim module act on (state, phase, flags, notice, rating,
     * fault, intensity steps); its level,
     * band and gate progress change with every sample and go out with the
     * periodic repeat.
     */
    statusChanged(): boolean {
        const r = this.runner()
        const last = this.lastStatus
        this.lastStatus = r
        for (let i = 0; i < 12; i++) if ((i < 8 ? i !== 4 : i > 10) && r[i] !== last[i]) return true
        return false
    }

    /** flags bit 4: the dilator-size step (RatingStep.Dilator = 2; Pain = 1 leaves it clear) */
    runner(): number[] {
        const v = this.view
        // no program runs: the battery flag alone (no session starts on a low battery)
        if (!this.active) return [0, -1, NO_PHASE_KIND, v.batteryLow ? 8 : 0, 0, 0, 0, 0, NaN, NaN, NaN, 0]
        const kind = v.phaseKind === "" ? NO_PHASE_KIND : PHASE_KINDS.indexOf(v.phaseKind as any)
        const flags = (v.gateWork ? 1 : 0) | (v.toning ? 2 : 0) | (v.gateMet ? 4 : 0) | (v.batteryLow ? 8 : 0) | ((v.ratingStep << 3) & 16) | (v.levelChannel === 1 ? 32 : 0)
        return [v.state, v.phaseIndex, kind, flags, Math.round(v.gateProgress * 100), v.notice, v.ratingValue, v.faultCause, v.level, v.bandLow, v.bandHigh, v.intensitySteps]
    }
}
