/**
 * Feedback latency: from the moment the patient model's true (noise-free)
 * EMG reaches the target band of a toning contraction to the first LED
 * frame that shows "on target" (the squeeze bar turns bluish green), over
 * simulated sessions of the relax-then-tone example program.
 *
 * Measured on the firmware's core in Node (host/sim/offline-run.ts: the
 * MeasurementSession with the session runner and the LED bar, sample by
 * sample), so it counts the smoothing filters' delay, the runner and the
 * bar, over many seeds of the full example program; the bus and the VM
 * are in ./feedback-latency-device.ts (`feedback_latency_p95_ms`).
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ledFrame, LedColour } from "../src/core/feedback/led-bar"
import type { Program } from "../src/core/program/types"
import { Cue } from "../src/core/protocol/assessment"
import { BandKind, emptyView } from "../src/core/runner"
import { repoRoot } from "../host/paths"
import { runOffline } from "../host/sim/offline-run"
import { percentile } from "../host/sim/scoring"
import type { Figures } from "./results"

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8]

export async function benchFeedbackLatency(): Promise<Figures> {
    const program = JSON.parse(readFileSync(join(repoRoot(), "docs", "examples", "relax-then-tone.json"), "utf8")) as Program
    const latencies: number[] = []
    let missed = 0
    for (const seed of SEEDS) {
        const view = emptyView()
        let repKey = -1
        let trueAt = -1
        let ledAt = -1
        const close = () => {
            if (trueAt >= 0 && ledAt >= 0) latencies.push(ledAt - trueAt)
            else if (trueAt >= 0) missed++
        }
        runOffline({
            profile: "typical",
            seed,
            program,
            maxSessionMs: 12 * 60_000,
            onSample: (_seq, session, model) => {
                const runner = session.programRunner()
                if (!runner) return
                runner.view(view)
                const t = session.sampleTimeMs()
                if (view.cue !== Cue.Contract || !view.toning || view.bandKind !== BandKind.Between) return
                const key = runner.segment()?.repIndex ?? -1
                if (key !== repKey) {
                    close()
                    repKey = key
                    trueAt = -1
                    ledAt = -1
                }
                if (trueAt < 0 && model.state().emgUv >= view.bandLow) trueAt = t
                if (ledAt < 0 && ledFrame(view).pixels.includes(LedColour.BluishGreen)) ledAt = t
            },
        })
        close()
    }
    const note = `relax-then-tone, typical patient, ${SEEDS.length} seeds, ${latencies.length} contractions; core in Node: smoothing + runner + LED bar, bus not included`
    console.log(`  feedback latency over ${latencies.length} contractions (${missed} never reached the band on the LEDs)`)
    return {
        feedback_latency_core_p50_ms: { value: percentile(latencies, 50), unit: "ms", note },
        feedback_latency_core_p95_ms: { value: percentile(latencies, 95), unit: "ms", note },
        feedback_latency_core_p99_ms: { value: percentile(latencies, 99), unit: "ms", note },
    }
}
