/** A program in a few lines of text, for `pft program validate` (and later `show`). */
import {
    encodeProgram,
    expandAssessment,
    isToningPhase,
    lockingFlags,
    phaseDurationS,
    sessionMaxDurationS,
    sessionStimS,
    type Phase,
    type Program,
    type RelaxationCriterion,
} from "../../src/core/program"

/** "17.4 min", "5 min" */
function minutes(s: number): string {
    return `${Number((s / 60).toFixed(1))} min`
}

function levels(o: { restToneMaxUv?: number; restToneMaxCmH2O?: number }): string {
    const parts: string[] = []
    if (o.restToneMaxUv !== undefined) parts.push(`< ${o.restToneMaxUv} uV`)
    if (o.restToneMaxCmH2O !== undefined) parts.push(`< ${o.restToneMaxCmH2O} cmH2O`)
    return parts.join(" and ")
}

function gate(r: RelaxationCriterion): string {
    const parts: string[] = []
    if (r.restToneMaxUv !== undefined) parts.push(`EMG rest < ${r.restToneMaxUv} uV (SD < ${r.restToneSdMaxUv} uV)`)
    if (r.restToneMaxCmH2O !== undefined) parts.push(`pressure rest < ${r.restToneMaxCmH2O} cmH2O (SD < ${r.restToneSdMaxCmH2O} cmH2O)`)
    return `${parts.join(" and ")} for ${r.holdS} s, waiting at most ${r.timeoutS} s`
}

/** One phase in words. */
export function describePhase(p: Phase): string {
    const gated = isToningPhase(p) ? " (gated)" : ""
    switch (p.kind) {
        case "baseline":
            return `baseline ${p.durationS} s`
        case "relax":
            return `relax ${p.durationS} s, breathing every ${p.breathPeriodS} s, target rest ${levels(p)}`
        case "flicks":
            return `flicks ${p.reps} x ${p.onS} s on / ${p.offS} s off at ${p.targetPctMvc} % MVC${gated}`
        case "holds": {
            const r = p.targetRamp
            const target = r ? `${r.startPctMvc} % MVC +${r.stepPctPerSession} a session up to ${r.maxPctMvc} %` : `${p.targetPctMvc} % MVC`
            return `holds ${p.reps} x ${p.workS} s / ${p.restS} s rest at ${target}${gated}`
        }
        case "assessment":
            return `assessment ${phaseDurationS(p)} s: ` + expandAssessment(p).map(s => (s.reps && s.block !== "endurance" ? `${s.reps} ${s.block} ${s.workS}/${s.restS} s` : `${s.block} ${s.durationS} s`)).join(", ")
        case "stim": {
            const cycle = p.workS !== undefined ? `${p.workS} s on / ${p.restS} s off` : "continuous"
            const trigger = p.mode === "ets" ? `, triggered by ${p.triggerChannel} at ${p.triggerPctOfTarget} % of ${p.targetPctMvc} % MVC` : ""
            return `stim ${p.mode} ${p.frequencyHz} Hz ${p.pulseWidthUs} us ${p.waveform}, ${cycle}, ramps ${p.rampUpS}/${p.rampDownS} s, ${p.durationS} s${trigger}${gated}`
        }
    }
}

/** The program in a few lines: who, what, how long, the gate, the caps, then one line per phase. */
export function describeProgram(p: Program): string[] {
    const n = p.frequency.sessionsPerDay ?? p.frequency.sessionsPerWeek ?? 0
    const freq = `${n} session${n === 1 ? "" : "s"} a ${p.frequency.sessionsPerDay !== undefined ? "day" : "week"}`
    const lines = [`${p.programId} v${p.programVersion} for ${p.patientRef}: channels ${p.channels}, ${freq}${p.usesDilators ? ", uses dilators" : ""}`]
    const set = Object.keys(p.contraindications).filter(k => (p.contraindications as unknown as Record<string, boolean>)[k])
    const locked = [lockingFlags(p.contraindications, "probe").length ? "probe" : "", lockingFlags(p.contraindications, "stim").length ? "stim" : ""].filter(Boolean)
    lines.push(`contraindications: ${set.length ? set.join(", ") : "none"}${locked.length ? ` (locks ${locked.join(" and ")})` : ""}`)
    if (p.caps) lines.push(`caps: ${p.caps.amplitudeMaxMa} mA, ${p.caps.pulseWidthMaxUs} us, ${p.caps.frequencyMaxHz} Hz, ${p.caps.sessionStimMaxMin} min of stim a session`)
    if (p.relaxation) lines.push(`relaxation gate: ${gate(p.relaxation)}`)
    const total = sessionMaxDurationS(p)
    const phases = p.phases.reduce((s, ph) => s + phaseDurationS(ph), 0)
    const wait = total - phases > 0.05 ? ` (${minutes(phases)} of phases + up to ${minutes(total - phases)} waiting for the gate)` : ""
    const stim = sessionStimS(p)
    lines.push(`${p.phases.length} phase${p.phases.length === 1 ? "" : "s"}, up to ${minutes(total)} a session${wait}${stim ? `, ${minutes(stim)} of stim` : ""}; ${encodeProgram(p).length} canonical bytes`)
    p.phases.forEach((ph, i) => lines.push(`  ${i + 1}. ${describePhase(ph)}`))
    return lines
}
