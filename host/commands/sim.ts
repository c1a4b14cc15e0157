import { findTrainer, type LiveReport } from "../device/trainer-client"
import { CliError, EXIT } from "../errors"
import { startProbeFeed } from "../sim/probe-feed"
import { hostProbe } from "../sim/probe-server"
import { startSimulation } from "../sim/simulation"
import { contractionWave } from "../sim/waveforms"
import { roundTo } from "../../src/core/units"
import { PROBE_BATCH_MAX_SAMPLES } from "../../src/core/probe-batch"

export interface SimOptions {
    duration?: number
    rate: number
    batch: number
    json?: boolean
    verbose?: boolean
}

function formatLive(r: LiveReport, state: string): string {
    return (
        `seq ${r.lastSeq}  received ${r.samplesReceived}  lost ${r.samplesLost}  ` +
        `pressure ${roundTo(r.pressureCmH2O, 1)} cmH2O  EMG ${roundTo(r.emgUv, 1)} uV  ${state}`
    )
}

export async function runSim(opts: SimOptions): Promise<void> {
    if (!(opts.rate > 0 && opts.rate <= 1000)) throw new CliError("--rate must be 1..1000 Hz", EXIT.usage)
    if (!(opts.batch >= 1 && opts.batch <= PROBE_BATCH_MAX_SAMPLES))
        throw new CliError(`--batch must be 1..${PROBE_BATCH_MAX_SAMPLES} samples`, EXIT.usage)
    if (opts.duration !== undefined && !(opts.duration > 0)) throw new CliError("--duration must be > 0 s", EXIT.usage)

    console.error("pft sim: starting the devtools bus and the firmware VM...")
    const sim = await startSimulation({
        onVmLine: opts.verbose ? l => console.error(`vm: ${l}`) : undefined,
    }).catch(e => {
        throw new CliError(`could not start the simulation: ${(e as Error).message}`, EXIT.busy)
    })
    let finish: () => void = () => {}
    const finished = new Promise<void>(r => (finish = r))
    const onSignal = () => finish()
    process.once("SIGINT", onSignal)
    process.once("SIGTERM", onSignal)
    try {
        const probe = hostProbe(sim.bus, opts.rate)
        const feed = startProbeFeed({ server: probe, source: contractionWave(), sampleRateHz: opts.rate, batchSize: opts.batch })
        const trainer = await findTrainer(sim.bus, 20000)
        await trainer.setWallClock(Math.floor(Date.now() / 1000))
        console.error("pft sim: running; Ctrl-C to stop")
        let lastPrint = 0
        const off = trainer.onLive(r => {
            if (opts.json) {
                console.log(JSON.stringify(r))
                return
            }
            if (r.receivedAtMs - lastPrint < 1000) return
            lastPrint = r.receivedAtMs
            console.log(formatLive(r, "probe streaming"))
        })
        const timer = opts.duration ? setTimeout(finish, opts.duration * 1000) : undefined
        await finished
        if (timer) clearTimeout(timer)
        off()
        feed.stop()
        console.error(`pft sim: stopping (sent ${feed.sent()} samples per channel)`)
    } finally {
        process.off("SIGINT", onSignal)
        process.off("SIGTERM", onSignal)
        await sim.stop()
    }
}
