/**
 * `pft monitor`'s screen, as a pure function of what the trainer and the
 * stim module reported: EMG and pressure as scrolling traces (Unicode block
 * sparklines), the session state, the cue, the rep, the program's phase,
 * its target and the gate, the stimulation (level, time used, last stop),
 * faults, the probe and electrode, the samples lost and the marks the
 * therapist set. The command (host/commands/
 * monitor.ts) only feeds reports in and writes the lines out, so the screen
 * is tested without a device.
 */
import { Block, Cue } from "../../src/core/protocol/assessment"
import { Notice } from "../../src/core/runner/types"
import { faultCauseOfStimStop } from "../../src/core/runner/stim-fault"
import { StimReason, stimReasonName } from "../../src/core/stim/reasons"
import type { StimControlStatus } from "../device/stim-control-client"
import type { CueReport, LiveReport, RunnerReport, SessionState } from "../device/trainer-client"
import { faultCauseName, mmss } from "../logs/names"

/** Eight levels, bottom to top. */
const BLOCKS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

export const CUE_NAMES: Record<number, string> = {
    [Cue.Idle]: "-",
    [Cue.Rest]: "rest / breathe",
    [Cue.Contract]: "SQUEEZE",
    [Cue.Release]: "let go",
}

export const BLOCK_NAMES: Record<number, string> = {
    [Block.PreBaseline]: "pre-baseline",
    [Block.Flicks]: "quick flicks",
    [Block.Holds]: "holds",
    [Block.Endurance]: "endurance",
    [Block.PostBaseline]: "post-baseline",
    5: "relaxation",
    6: "stimulation",
}

/** The monitor's memory: the last reports, newest last, bounded. */
export class MonitorState {
    readonly emgUv: number[] = []
    readonly pressureCmH2O: number[] = []
    live: LiveReport | undefined
    cue: CueReport | undefined
    /** the program runner's last status (services/trainer.md `runner`) */
    runner: RunnerReport | undefined
    /** the stim supervisor's last status (services/stimcontrol.md `status`); undefined: none heard */
    stim: StimControlStatus | undefined
    /** a stimulator module is on the bus */
    stimFound = false
    state: SessionState = "idle"
    /** [ms] session sample times the therapist marked */
    readonly marks: number[] = []
    /** the last thing the therapist did or the device answered */
    message = ""

    constructor(readonly capacity: number) {}

    addLive(r: LiveReport): void {
        this.live = r
        this.emgUv.push(r.emgUv)
        this.pressureCmH2O.push(r.pressureCmH2O)
        if (this.emgUv.length > this.capacity) this.emgUv.shift()
        if (this.pressureCmH2O.length > this.capacity) this.pressureCmH2O.shift()
    }

    mark(): number {
        const t = this.live?.sampleTimeMs ?? 0
        this.marks.push(t)
        this.message = `mark ${this.marks.length} at ${(t / 1000).toFixed(1)} s`
        return t
    }
}

/** A sparkline of the last `width` values scaled to [lo, hi] (hi > lo); missing values are blank. */
export function sparkline(values: number[], width: number, lo: number, hi: number): string {
    const out: string[] = []
    const from = Math.max(0, values.length - width)
    for (let i = 0; i < width - (values.length - from); i++) out.push(" ")
    for (let i = from; i < values.length; i++) {
        const v = values[i]
        if (!Number.isFinite(v)) {
            out.push(" ")
            continue
        }
        const f = (v - lo) / (hi - lo)
        const k = Math.max(0, Math.min(BLOCKS.length - 1, Math.floor(f * BLOCKS.length)))
        out.push(BLOCKS[k])
    }
    return out.join("")
}

/** Scale of a trace: 0 to a round number above the largest value seen (at least `min`). */
export function scaleTop(values: number[], min: number): number {
    let top = min
    for (const v of values) if (Number.isFinite(v) && v > top) top = v
    const steps = [1, 2, 5]
    let base = 1
    for (;;) {
        for (const s of steps) if (s * base >= top) return s * base
        base *= 10
    }
}

const NOTICES: Record<number, string> = {
    [Notice.GateMet]: "relaxed enough: toning on",
    [Notice.GateNotMet]: "not relaxed enough today: no toning",
    [Notice.SpasmSign]: "tension rose: back to relaxation",
}

const fmt = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "-")

/** The program line: phase, gate or toning, the level against its target (in the band's channel units). */
export function programLine(r: RunnerReport | undefined): string {
    if (!r || r.phaseIndex < 0) return "program: - (none running)"
    const unit = r.levelChannel === "pressure" ? "cmH2O" : "uV"
    const parts = [`program: phase ${r.phaseIndex + 1} ${r.phaseKind || "?"}`]
    if (r.gateWork) parts.push(`relaxation first, gate ${r.gateProgressPct}%`)
    else if (r.toning) parts.push("toning")
    let target = ""
    if (Number.isFinite(r.bandLow) && Number.isFinite(r.bandHigh)) target = `   target ${fmt(r.bandLow)}-${fmt(r.bandHigh)} ${unit}`
    else if (Number.isFinite(r.bandHigh)) target = `   target <= ${fmt(r.bandHigh)} ${unit}`
    parts.push(`level ${fmt(r.level)} ${unit}${target}`)
    if (NOTICES[r.notice]) parts.push(NOTICES[r.notice])
    return parts.join("   ")
}

/** The stimulation line: on or off, the level, the time used, the last stop (faults called so). */
export function stimLine(s: StimControlStatus | undefined, found: boolean): string {
    if (!s) return found ? "stim: module found, no status yet" : "stim: no stimulator module on the bus"
    const head = s.running ? `stim: ON ${fmt(s.levelMa)} mA` : "stim: off"
    const parts = [head, `peak ${fmt(s.peakLevelMa)} mA`, `used ${mmss(s.stimUsedMs)}`]
    if (s.locked) parts.push("LOCKED (contraindication)")
    if (!s.running && s.lastRefusal !== StimReason.None) parts.push(`start refused: ${stimReasonName(s.lastRefusal)}`)
    // a fault as the trainer shows it on the LED bar (the stimulator, the electrodes); the others are the session's own
    if (s.lastStop !== StimReason.None) parts.push(`last stop: ${stimReasonName(s.lastStop)}${faultCauseOfStimStop(s.lastStop) > 0 ? " (FAULT)" : ""}`)
    return parts.join("   ")
}

/** The fault and battery line, empty when all is well. */
export function alertLine(r: RunnerReport | undefined): string {
    if (!r) return ""
    const parts: string[] = []
    if (r.faultCause > 0) parts.push(`FAULT ${r.faultCause}: ${faultCauseName(r.faultCause) ?? "unknown"}`)
    if (r.batteryLow) parts.push("battery low")
    return parts.join("   ")
}

/** The screen as lines of at most `width` characters. */
export function renderMonitor(s: MonitorState, width: number): string[] {
    const w = Math.max(20, width - 18)
    const l = s.live
    const emgTop = scaleTop(s.emgUv, 10)
    const pTop = scaleTop(s.pressureCmH2O.map(Math.abs), 5)
    const cue = s.cue
    const cueText = cue ? `${CUE_NAMES[cue.cue] ?? "?"}${cue.cue === Cue.Idle ? "" : ` (${BLOCK_NAMES[cue.block] ?? "block " + cue.block}${cue.repIndex >= 0 ? `, rep ${cue.repIndex + 1}` : ""})`}` : "-"
    const lines = [
        `pft monitor   session ${s.state}   t ${l ? (l.sampleTimeMs / 1000).toFixed(1) : "-"} s   cue: ${cueText}`,
        `probe ${l?.probeState ?? "-"}   electrode ${l?.emgContact ?? "-"}   samples lost ${l?.samplesLost ?? 0} of ${l?.samplesReceived ?? 0}`,
        programLine(s.runner),
        stimLine(s.stim, s.stimFound),
        alertLine(s.runner),
        `EMG ${l ? l.emgUv.toFixed(1).padStart(7) : "      -"} uV  0-${emgTop} uV`,
        `  ${sparkline(s.emgUv, w, 0, emgTop)}`,
        `pressure ${l ? l.pressureCmH2O.toFixed(1).padStart(6) : "     -"} cmH2O  -${pTop}..${pTop} cmH2O`,
        `  ${sparkline(s.pressureCmH2O, w, -pTop, pTop)}`,
        "",
        `marks: ${s.marks.length ? s.marks.map(t => (t / 1000).toFixed(1) + " s").join(", ") : "none"}`,
        `keys: s start   x stop   p pause/resume   m mark   q quit${s.message ? "   | " + s.message : ""}`,
    ]
    return lines.map(x => (x.length > width ? x.slice(0, width) : x))
}
