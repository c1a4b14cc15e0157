// Runs in the DeviceScript VM (not test mode, so no GC stress): pushes
// simulated 100 Hz two-channel data through the firmware's per-sample path
// (sequence accounting + signal chain) as fast as it can and prints how many
// seconds of data one second of VM time processes.
import * as ds from "@devicescript/core"
import { SampleSequence } from "../../src/core/sample-sequence"
import { DEFAULT_SIGNAL_CHAIN, SignalChain } from "../../src/core/signal-chain"

const RATE_HZ = 100
const DATA_SECONDS = 120
/** samples between yields, to stay clear of the VM's InfiniteLoop guard */
const CHUNK = 100

async function main() {
    const chain = new SignalChain(DEFAULT_SIGNAL_CHAIN)
    const sequence = new SampleSequence()
    const total = DATA_SECONDS * RATE_HZ
    // wall time of the whole run, yields included (ds.millis() is too coarse
    // to time one chunk), so the factor is a lower bound
    const t0 = ds.millis()
    for (let start = 0; start < total; start += CHUNK) {
        for (let i = 0; i < CHUNK; i += 2) {
            const v = sequence.accept(start + i, 2)
            for (let k = v.acceptFrom; k < 2; k++) {
                const phase = (start + i + k) % 300
                chain.push(phase < 150 ? 30 : 12, phase < 150 ? 0.05 : 0.004)
            }
        }
        await ds.sleep(0)
    }
    const busyMs = ds.millis() - t0
    console.log("BENCH samples " + total + " busy_ms " + busyMs)
    console.log("BENCH vm_realtime_factor " + DATA_SECONDS / (busyMs / 1000))
}

await main()
