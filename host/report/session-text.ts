/** A session as the terminal shows it: per-rep table and the session summary, units on every number. */
import type { DeviceRep, DeviceSummary } from "../device/trainer-client"
import { poorContactNotice, repFlagWords } from "../logs/names"
import type { AssessmentRunResult } from "../sim/assessment-run"
import { percentile, type SessionScore } from "../sim/scoring"

function n(v: number, digits = 1): string {
    return v < 0 ? "-" : v.toFixed(digits)
}

function repLine(r: DeviceRep, unit: string): string {
    return [
        `#${String(r.repIndex + 1).padStart(2)}`,
        `onset ${n(r.onsetLatencyMs, 0).padStart(5)} ms after cue`,
        `peak ${n(r.peak)} ${unit} (${n(r.peakPctMvc, 0)} %MVC)`,
        `hold ${n(r.holdAtTargetMs / 1000)} s, CV ${n(r.holdCv, 2)}`,
        `release ${n(r.releaseLatencyMs, 0)} ms`,
        repFlagWords(r.flags),
    ]
        .filter(Boolean)
        .join("  ")
}

function summaryLines(s: DeviceSummary, unit: string): string[] {
    return [
        `  rest tone before ${n(s.preBaseline.mean, 2)} ${unit} (SD ${n(s.preBaseline.sd, 2)}, CV ${n(s.preBaseline.cv, 2)}), after ${n(s.postBaseline.mean, 2)} ${unit} (SD ${n(s.postBaseline.sd, 2)})`,
        `  MVC ${n(s.mvc)} ${unit}; contractions ${s.repsDone} of ${s.repsPlanned}; fatigue over holds ${n(s.holdFatiguePct)} %, endurance decline ${n(s.enduranceDeclinePct)} %`,
        `  time on task ${n(s.timeOnTaskMs / 1000)} s of ${n(s.durationMs / 1000)} s; samples lost ${s.samplesLost}`,
    ]
}

export function formatSessionReport(result: AssessmentRunResult, score?: SessionScore): string {
    const out: string[] = []
    out.push("", "EMG (uV)")
    for (const r of result.reps.emg) out.push("  " + repLine(r, "uV"))
    const poor = poorContactNotice(result.reps.emg.map(r => r.flags))
    if (poor) out.push("  " + poor)
    out.push(...summaryLines(result.summary.emg, "uV"))
    out.push("", "Pressure (cmH2O, relative to the zero taken at rest)")
    for (const r of result.reps.pressure) out.push("  " + repLine(r, "cmH2O"))
    out.push(...summaryLines(result.summary.pressure, "cmH2O"))
    if (score) {
        const onset = score.emg.reps.map(r => Math.abs(r.onsetErrorMs))
        const offset = score.emg.reps.map(r => Math.abs(r.offsetErrorMs)).filter(Number.isFinite)
        const peak = score.emg.reps.map(r => r.peakErrorPct)
        const poorScored = score.emg.reps.filter(r => r.poorContact).length
        out.push(
            "",
            `Against the patient model's ground truth (EMG): onset error median ${n(percentile(onset, 50), 0)} ms, p95 ${n(percentile(onset, 95), 0)} ms; ` +
                `offset error median ${n(percentile(offset, 50), 0)} ms, p95 ${n(percentile(offset, 95), 0)} ms; ` +
                `peak error max ${n(Math.max(0, ...peak))} %; reps ${score.emg.repsDone} counted, ${score.emg.repsExpected} true` +
                (poorScored > 0 ? `; ${poorScored} flagged poor EMG contact` : "")
        )
    }
    return out.join("\n")
}
