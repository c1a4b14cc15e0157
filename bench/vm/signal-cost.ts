// Runs in the DeviceScript VM (not test mode, so no GC stress): pushes
// synthetic 100 Hz two-channel probe data through the firmware's whole
// per-sample path (sequence accounting + MeasurementSession: sensing,
// smoothing, cues, metrics on both channels) as fast as it can and prints how
// many seconds of data one second of VM time processes.
import * as ds from "@devicescript/core"
import { SampleSequence } from "../../src/core/sample-sequence"
import { DEFAULT_MEASUREMENT, MeasurementSession } from "../../src/core/session/measurement-session"

const RATE_HZ = 100
const DATA_SECONDS = 120
/** samples between yields, to stay clear of the VM's InfiniteLoop guard */
const CHUNK = 20

/** Squeezes of 2 s every 4 s after a rest start; small deterministic ripple. */
function pressureHpa(seq: number): number {
    const inSqueeze = seq > 1500 && (seq - 1500) % 400 < 200
    return 19.6 + (inSqueeze ? 29.4 : 0) + ((seq * 7) % 11) * 0.02
}

function emgMv(seq: number): number {
    const inSqueeze = seq > 1500 && (seq - 1500) % 400 < 200
    return (inSqueeze ? 0.045 : 0.003) + ((seq * 13) % 7) * 0.0002
}

async function main() {
    const session = new MeasurementSession(DEFAULT_MEASUREMENT)
    const sequence = new SampleSequence()
    const total = DATA_SECONDS * RATE_HZ
    // wall time of the whole run, yields included (ds.millis() is too coarse
    // to time one chunk), so the factor is a lower bound
    const t0 = ds.millis()
    let started = false
    for (let start = 0; start < total; start += CHUNK) {
        for (let i = 0; i < CHUNK; i += 2) {
            const v = sequence.accept(start + i, 2)
            for (let k = v.acceptFrom; k < 2; k++) {
                const seq = start + i + k
                session.push(seq, pressureHpa(seq), emgMv(seq), 0)
            }
        }
        if (!started) started = session.start()
        session.takeFinishedReps()
        await ds.sleep(0)
    }
    const busyMs = ds.millis() - t0
    console.log("BENCH samples " + total + " busy_ms " + busyMs + " started " + started + " state " + session.sessionState())
    console.log("BENCH vm_realtime_factor " + DATA_SECONDS / (busyMs / 1000))
}

await main()
