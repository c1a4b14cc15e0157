/**
 * Feedback latency on the device, as the programs issue defines it: from the
 * moment the patient model's true (noise-free) EMG reaches the target band
 * of a toning contraction to the first LED frame seen on the bus that shows
 * "on target" (a bluish-green pixel on the squeeze bar). The real firmware
 * runs in the VM at real time against a simulated typical patient, so the
 * smoothing filters, the runner, the LED bar and the bus all count.
 *
 * Both ends are read on the probe feed's clock (its newest sample when the
 * LED report arrives; the truth crossing in feed samples), so the latency
 * includes the wait for the probe's batch (20 ms) and the bus.
 */
import { LedColour } from "../src/core/feedback/led-bar"
import type { Program } from "../src/core/program/types"
import { Cue } from "../src/core/protocol/assessment"
import { ProgramStatus } from "../src/core/program"
import { findTrainer, type CueReport, type RunnerReport } from "../host/device/trainer-client"
import { createClinicKey } from "../host/program/clinic-key"
import { signProgram } from "../host/program/sign"
import type { ProbeFeed } from "../host/sim/probe-feed"
import { runPatient } from "../host/sim/patient-run"
import { percentile } from "../host/sim/scoring"
import { shortProgram } from "../host/sim/short-program"
import { startSimulation } from "../host/sim/simulation"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Figures } from "./results"

/** shortProgram with 12 flicks: more contractions to time in one real-time session (about 2.5 minutes) */
function benchProgram(): Program {
    const p = shortProgram()
    return {
        ...p,
        phases: [
            { kind: "baseline", durationS: 10 },
            { kind: "relax", durationS: 30, breathPeriodS: 10, restToneMaxUv: 4 },
            { kind: "flicks", reps: 12, onS: 2, offS: 4, targetPctMvc: 60 },
            { kind: "relax", durationS: 30, breathPeriodS: 10, restToneMaxUv: 4 },
        ],
    }
}

interface LedSeen {
    /** [ms] the feed's newest sample when the report arrived */
    feedMs: number
    /** [ms] session sample time the device computed the frame at */
    sampleTimeMs: number
    onTarget: boolean
}

export async function benchFeedbackLatencyDevice(): Promise<Figures> {
    const dir = mkdtempSync(join(tmpdir(), "pft-bench-latency-"))
    const sim = await startSimulation()
    try {
        const key = createClinicKey({ file: join(dir, "clinic.json") })
        const trainer = await findTrainer(sim.bus, 20000)
        await trainer.provisionKey(Buffer.from(key.key))
        const pushed = await trainer.pushProgram(signProgram(benchProgram(), key.key).envelope)
        if (pushed.status !== ProgramStatus.Installed) throw new Error(`the bench program was refused: ${pushed.message}`)
        let feed: ProbeFeed | undefined
        const leds: LedSeen[] = []
        const runners: { feedMs: number; r: RunnerReport }[] = []
        const cues: CueReport[] = []
        const feedNow = () => (feed ? feed.lastSampleTimeMs() : -1)
        const offs = [
            trainer.onLed(l => leds.push({ feedMs: feedNow(), sampleTimeMs: l.sampleTimeMs, onTarget: l.pixels.includes(LedColour.OnTarget) && l.pixels[0] !== LedColour.OnTarget })),
            trainer.onRunner(r => runners.push({ feedMs: feedNow(), r })),
            // the cue is pushed on change and again with each live report: keep each segment's first
            trainer.onCue(c => {
                const last = cues[cues.length - 1]
                if (!last || last.segmentIndex !== c.segmentIndex || last.cue !== c.cue) cues.push(c)
            }),
        ]
        const started = Date.now()
        const run = await runPatient({
            sim,
            profile: "typical",
            seed: 1,
            speed: 1,
            endWhen: s => s === "rating" || s === "done",
            maxSessionMs: 200_000,
            onFeed: f => (feed = f),
        })
        for (const off of offs) off()
        const wallS = (Date.now() - started) / 1000
        const start = run.run.sessionStartMs
        const interval = run.trace.intervalMs
        // each contraction: its cue in feed time, the band's low edge the device showed, the truth crossing, the first green frame
        const latencies: number[] = []
        // the two legs: truth to the frame's sample (filters, runner, LED bar), and that sample to the report's arrival (probe batch, VM queue, bus)
        const computeMs: number[] = []
        const deliverMs: number[] = []
        let missed = 0
        const contractions = cues.filter(c => c.cue === Cue.Contract)
        for (const c of contractions) {
            const from = c.startedAtMs + start
            const next = cues.find(x => x.startedAtMs > c.startedAtMs)
            const to = next ? next.startedAtMs + start : Infinity
            // the first toning rep has no band: it measures the MVC the targets are a share of
            const band = runners.find(x => x.feedMs >= from && x.feedMs < to && x.r.toning && x.r.bandLow > 0)?.r.bandLow
            if (band === undefined) continue
            let trueAt = -1
            for (let seq = Math.ceil(from / interval); seq * interval < to && seq < run.trace.emgUv.length; seq++)
                if (run.trace.emgUv[seq] >= band) {
                    trueAt = seq * interval
                    break
                }
            if (trueAt < 0) continue
            const green = leds.find(l => l.onTarget && l.feedMs >= from && l.feedMs < to + 1000)
            if (green) {
                latencies.push(Math.max(0, green.feedMs - trueAt))
                computeMs.push(green.sampleTimeMs + start - trueAt)
                deliverMs.push(green.feedMs - (green.sampleTimeMs + start))
            } else missed++
            if (process.env.BENCH_VERBOSE) console.log(`  cue ${c.startedAtMs} ms: band ${band.toFixed(1)} uV, true crossing +${(trueAt - from).toFixed(0)} ms, green on the bus +${green ? (green.feedMs - from).toFixed(0) : "-"} ms (computed at +${green ? (green.sampleTimeMs + start - from).toFixed(0) : "-"} ms)`)
        }
        const note = `short relax-then-tone with 12 flicks, typical patient, seed 1, real time; firmware in the VM, LED reports on the simulated bus; ${latencies.length} contractions`
        console.log(`  ${latencies.length} of ${contractions.length} contractions timed (${missed} never green on the bus), ${wallS.toFixed(0)} s`)
        const legNote = `${note}; the legs of each latency`
        return {
            feedback_latency_p50_ms: { value: percentile(latencies, 50), unit: "ms", note },
            feedback_latency_p95_ms: { value: percentile(latencies, 95), unit: "ms", note },
            feedback_latency_p99_ms: { value: percentile(latencies, 99), unit: "ms", note },
            feedback_latency_contractions: { value: latencies.length, unit: "count", note },
            feedback_latency_compute_p95_ms: { value: percentile(computeMs, 95), unit: "ms", note: `${legNote}: true crossing to the sample the device computed the green frame at (smoothing, runner, LED bar)` },
            feedback_latency_deliver_p95_ms: { value: percentile(deliverMs, 95), unit: "ms", note: `${legNote}: that sample to the frame's report on the bus (probe batch, VM queue, bus)` },
        }
    } finally {
        await sim.stop()
        rmSync(dir, { recursive: true, force: true })
    }
}
