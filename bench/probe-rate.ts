/**
 * probe_sample_rate_hz: the highest per-channel sample rate the firmware
 * receives through the simulated bus with no sample lost, pushing batches as
 * reports (services/pelvicprobe.md). Also the rate reached with one sample
 * per report, which is what a plain sensor stream would do.
 */
import { findTrainer, type TrainerClient } from "../host/device/trainer-client"
import { startProbeFeed } from "../host/sim/probe-feed"
import { hostProbe, type SimProbeServer } from "../host/sim/probe-server"
import { startSimulation } from "../host/sim/simulation"
import { contractionWave } from "../host/sim/waveforms"
import { PROBE_BATCH_MAX_SAMPLES } from "../src/core/probe-batch"
import type { Figures } from "./results"

const MEASURE_MS = 4000

interface Trial {
    rateHz: number
    batch: number
    /** [samples/s] received by the firmware */
    receivedHz: number
    lost: number
}

async function trial(
    probe: SimProbeServer,
    trainer: TrainerClient,
    config: { rateHz: number; batch: number; startSeq: number }
): Promise<Trial & { nextSeq: number }> {
    const { rateHz, batch, startSeq } = config
    const feed = startProbeFeed({ server: probe, source: contractionWave(), sampleRateHz: rateHz, batchSize: batch, startSeq })
    try {
        // let the stream settle, then count over a fixed window
        await new Promise(r => setTimeout(r, 1000))
        const a = await trainer.nextLive(() => true, 5000)
        await new Promise(r => setTimeout(r, MEASURE_MS))
        const b = await trainer.nextLive(() => true, 5000)
        const seconds = (b.receivedAtMs - a.receivedAtMs) / 1000
        feed.stop()
        return {
            rateHz,
            batch,
            receivedHz: (b.samplesReceived - a.samplesReceived) / seconds,
            lost: b.samplesLost - a.samplesLost,
            nextSeq: startSeq + feed.generated(),
        }
    } finally {
        feed.stop()
    }
}

export async function benchProbeRate(): Promise<Figures> {
    const sim = await startSimulation()
    try {
        // one probe for all trials, its sequence numbers running on, so the
        // firmware stays bound to it and counts every sample
        const probe = hostProbe(sim.bus, 100)
        const trainer = await findTrainer(sim.bus, 20000)
        const results: Trial[] = []
        const configs: [number, number][] = [
            [100, 1],
            [100, 2],
            [200, 4],
            [400, 8],
            [800, 16],
            [1400, PROBE_BATCH_MAX_SAMPLES],
            [2800, PROBE_BATCH_MAX_SAMPLES],
            [5600, PROBE_BATCH_MAX_SAMPLES],
        ]
        let startSeq = 0
        for (const [rateHz, batch] of configs) {
            const t = await trial(probe, trainer, { rateHz, batch, startSeq })
            results.push(t)
            startSeq = t.nextSeq
        }
        for (const t of results)
            console.log(
                `  ${String(t.rateHz).padStart(5)} Hz in batches of ${String(t.batch).padStart(2)}: firmware received ${Math.round(t.receivedHz)} samples/s, lost ${t.lost}`
            )
        const clean = results.filter(t => t.batch > 1 && t.lost === 0 && t.receivedHz >= 0.97 * t.rateHz)
        const best = clean.reduce((a, t) => (t.receivedHz > a ? t.receivedHz : a), 0)
        const single = results[0]
        return {
            probe_sample_rate_hz: { value: best, unit: "Hz", note: "per channel, batched reports, no loss" },
            probe_sample_rate_unbatched_hz: { value: single.receivedHz, unit: "Hz", note: `one sample per report, lost ${single.lost}` },
        }
    } finally {
        await sim.stop()
    }
}
