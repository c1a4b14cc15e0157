/**
 * Fault-to-off latency per stop cause: the stim supervisor's firmware
 * (src/main_stim.ts) in its own VM drives the simulated stimulator module;
 * each cause is injected REPEATS times while stimulating and timed at the
 * module, from the injection to zero output (host/sim/stim-rig.ts).
 *
 * `fault_to_off_max_ms` is the worst over the causes that act at once (a
 * button, a signal, a fault the module reports); the two silence causes are
 * timed from the injection too, so they include their 500 ms timeout.
 */
import { StimRig } from "../host/sim/stim-rig"
import { percentile } from "../host/sim/scoring"
import { StimEventKind } from "../src/core/stim/supervisor"
import { StimReason } from "../src/core/stim/reasons"
import { StimModuleFault } from "../src/core/stim-module"
import { LOAD_IMPEDANCE_MAX_OHM, STIM_STATUS_TIMEOUT_MS } from "../src/core/limits"
import type { Figures } from "./results"

const REPEATS = 5
/** [s] the session stim-time cap of the StimTimeOver runs (the program's is in minutes) */
const STIM_TIME_CAP_S = 4

interface Cause {
    key: string
    reason: StimReason
    /** a silence: the time includes its timeout */
    silence?: boolean
    inject: (rig: StimRig) => Promise<void> | void
    after?: (rig: StimRig) => void
}

const CAUSES: Cause[] = [
    { key: "stop_button", reason: StimReason.StopButton, inject: r => r.stim.signal(StimEventKind.StopButton) },
    { key: "battery_low", reason: StimReason.BatteryLow, inject: r => r.stim.signal(StimEventKind.BatteryLow) },
    { key: "probe_removed", reason: StimReason.ProbeRemoved, inject: r => r.stim.signal(StimEventKind.ProbeRemoved) },
    { key: "program_changed", reason: StimReason.ProgramChanged, inject: r => r.stim.signal(StimEventKind.ProgramChanged) },
    { key: "lead_off", reason: StimReason.LeadOff, inject: r => void r.module.leadOff() },
    { key: "module_fault", reason: StimReason.ModuleFault, inject: r => void r.module.fault(StimModuleFault.OverCurrent) },
    { key: "impedance_high", reason: StimReason.ImpedanceHigh, inject: r => void r.module.setLoad(LOAD_IMPEDANCE_MAX_OHM + 100) },
    { key: "contraindication", reason: StimReason.Contraindication, inject: r => r.stim.signal(StimEventKind.Contraindication) },
    // an event the supervisor does not know: the fail-safe path an exception in the stim path takes
    { key: "exception", reason: StimReason.Exception, inject: r => r.stim.signal(99 as StimEventKind) },
    { key: "module_silent", reason: StimReason.BusLost, silence: true, inject: r => r.module.muteReports(true), after: r => r.module.muteReports(false) },
    { key: "trainer_silent", reason: StimReason.BusLost, silence: true, inject: r => r.trainerAlive(false), after: r => r.trainerAlive(true) },
]

function record(figures: Figures, key: string, times: number[], extra: string): void {
    const max = Math.max(...times)
    const p50 = percentile(times, 50)
    const p95 = percentile(times, 95)
    console.log(`  ${key.padEnd(16)} p50 ${p50.toFixed(1)}  p95 ${p95.toFixed(1)}  max ${max.toFixed(1)} ms`)
    figures[`fault_to_off_${key}_ms`] = { value: max, unit: "ms", note: `max of ${times.length}; p50 ${p50.toFixed(1)}, p95 ${p95.toFixed(1)} ms${extra}` }
}

export async function benchFaultToOff(): Promise<Figures> {
    const rig = await StimRig.start()
    const figures: Figures = {}
    let immediateMax = 0
    try {
        for (const c of CAUSES) {
            const times: number[] = []
            for (let i = 0; i < REPEATS; i++) {
                try {
                    times.push(await rig.stopOn(c.reason, () => c.inject(rig)))
                } finally {
                    c.after?.(rig)
                }
            }
            if (!c.silence) immediateMax = Math.max(immediateMax, ...times)
            record(figures, c.key, times, c.silence ? `; includes the ${STIM_STATUS_TIMEOUT_MS} ms silence timeout` : "")
        }
        const overTimes: number[] = []
        for (let i = 0; i < REPEATS; i++) overTimes.push(await rig.stimTimeOverMs(STIM_TIME_CAP_S))
        immediateMax = Math.max(immediateMax, ...overTimes)
        record(figures, "stim_time_over", overTimes, `; from the ${STIM_TIME_CAP_S} s cap, counted from the Start's sending`)
    } finally {
        await rig.stop()
    }
    figures.fault_to_off_max_ms = {
        value: immediateMax,
        unit: "ms",
        note: `worst of the causes that act at once (button, battery, probe, program change, lead-off, module fault, impedance, contraindication, exception, stim time over), ${REPEATS} each, at the simulated module; stim supervisor firmware in its own VM`,
    }
    return figures
}
