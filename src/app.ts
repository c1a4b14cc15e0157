import * as ds from "@devicescript/core"
import { cmH2OToHpa, uvToMv } from "./core/units"
import { DEFAULT_SIGNAL_CHAIN, SignalChain } from "./core/signal-chain"
import { startProbeInput } from "./sensing/probe-input"
import { startTrainerServer } from "./trainer/trainer-server"

/** [ms] period of the live report to the host (10 Hz is enough to watch). */
const LIVE_REPORT_INTERVAL_MS = 100

/**
 * Wires the firmware: probe samples -> signal chain -> trainer service.
 * The same wiring runs in the simulator and on the board.
 */
export function startApp() {
    const chain = new SignalChain(DEFAULT_SIGNAL_CHAIN)
    const trainer = startTrainerServer()
    let lastSeq = 0
    const input = startProbeInput((seq, pressureHpa, emgMv) => {
        chain.push(pressureHpa, emgMv)
        lastSeq = seq
    })
    setInterval(async () => {
        const s = chain.latest()
        trainer.setLive({
            lastSeq: lastSeq,
            samplesReceived: input.sequence.receivedCount(),
            samplesLost: input.sequence.lostCount(),
            pressureHpa: cmH2OToHpa(s.pressureCmH2O),
            emgMv: uvToMv(s.emgUv),
        })
        trainer.setState(
            input.sequence.receivedCount() > 0 ? ds.PftTrainerSessionState.Ready : ds.PftTrainerSessionState.Idle
        )
        await trainer.pushLive()
    }, LIVE_REPORT_INTERVAL_MS)
}
