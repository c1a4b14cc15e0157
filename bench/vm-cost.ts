/**
 * vm_realtime_factor: seconds of 100 Hz two-channel probe data the firmware's
 * per-sample path processes per second of VM time (bench/vm/signal-cost.ts,
 * run in the simulator VM, outside test mode).
 */
import { startSimulation } from "../host/sim/simulation"
import type { Figures } from "./results"

export async function benchVmCost(): Promise<Figures> {
    const sim = await startSimulation({ firmware: "bench/vm/signal-cost.ts" })
    try {
        const line = await sim.vm.waitForLine(/BENCH vm_realtime_factor/, 120000)
        const busy = /busy_ms (\S+)/.exec(sim.vm.lines.find(l => l.includes("busy_ms")) ?? "")
        const factor = Number(/vm_realtime_factor (\S+)/.exec(line)![1])
        return {
            vm_realtime_factor: {
                value: factor,
                unit: "x",
                note: `120 s of 100 Hz two-channel data through the whole per-sample path (sensing, cues, metrics) in ${busy?.[1] ?? "?"} ms of VM time`,
            },
        }
    } finally {
        await sim.stop()
    }
}
