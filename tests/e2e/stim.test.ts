// The stim supervisor on the stimulator module's own firmware (src/main_stim.ts,
// services/stimcontrol.md) in a second VM, driving the simulated module
// (host/sim/stim-server.ts) on the same bus as the trainer's firmware. For each
// stop cause the test injects the fault while stimulating and measures, at the
// module, the time from the fault to zero output: within 50 ms in simulation,
// or within the timeout that defines the cause plus 50 ms.
// e2e-one-link: no host here: the stim rig (host/sim/stim-rig.ts) plays the trainer on the simulator bus, and the simulated output stage is hardware
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import { StimRig, waitFor } from "../../host/sim/stim-rig"
import { StimEventKind } from "../../src/core/stim/supervisor"
import { StimReason } from "../../src/core/stim/reasons"
import { StimModuleFault } from "../../src/core/stim-module"
import { AMPLITUDE_RAMP_MAX_MA_PER_S, LOAD_IMPEDANCE_MAX_OHM, LOAD_IMPEDANCE_MIN_OHM, STIM_STATUS_TIMEOUT_MS, STIM_TICK_MS, STIM_WATCHDOG_TIMEOUT_MS } from "../../src/core/limits"
import { steepestRise } from "../../host/sim/stim-module"

/** [ms] the bound from a stop cause to zero output at the module */
const FAULT_TO_OFF_MAX_MS = 50
/**
 * [ms] A silence timeout is a stop cause once the supervisor's tick sees it
 * expired: up to one tick (STIM_TICK_MS) after it, then the 50 ms to zero.
 * (A clean-clone CI run measured 555 ms for the trainer's silence.)
 */
const SILENCE_TO_OFF_MAX_MS = STIM_STATUS_TIMEOUT_MS + STIM_TICK_MS + FAULT_TO_OFF_MAX_MS

let rig: StimRig

beforeAll(async () => {
    rig = await StimRig.start()
}, 120_000)

afterAll(async () => {
    await rig?.stop()
})

describe("the stim supervisor on the stimulator module's firmware", () => {
    test("the stop button, battery low, probe removed, a program change: output at zero within 50 ms at the module", async () => {
        const s = rig.stim
        expect(await rig.stopOn(StimReason.StopButton, () => s.signal(StimEventKind.StopButton))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        expect(await rig.stopOn(StimReason.BatteryLow, () => s.signal(StimEventKind.BatteryLow))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        expect(await rig.stopOn(StimReason.ProbeRemoved, () => s.signal(StimEventKind.ProbeRemoved))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        expect(await rig.stopOn(StimReason.ProgramChanged, () => s.signal(StimEventKind.ProgramChanged))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        // and a stop stays a stop: nothing is delivered until a deliberate start
        await new Promise(r => setTimeout(r, 300))
        expect(rig.module.deliveredNow()).toBe(0)
        expect(rig.statuses[rig.statuses.length - 1].running).toBe(false)
    }, 120_000)

    test("lead-off and a fault at the module: output at zero within 50 ms, the stop logged with its cause", async () => {
        expect(await rig.stopOn(StimReason.LeadOff, () => void rig.module.leadOff())).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        expect(await rig.stopOn(StimReason.ModuleFault, () => void rig.module.fault(StimModuleFault.OverCurrent))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
    }, 60_000)

    test("a load outside the impedance band, above or below: output at zero within 50 ms of the module's next status report", async () => {
        const high = await rig.stopOn(StimReason.ImpedanceHigh, () => void rig.module.setLoad(LOAD_IMPEDANCE_MAX_OHM + 100))
        expect(high).toBeLessThanOrEqual(rig.module.statusIntervalMs + FAULT_TO_OFF_MAX_MS)
        const low = await rig.stopOn(StimReason.ImpedanceLow, () => void rig.module.setLoad(LOAD_IMPEDANCE_MIN_OHM - 10))
        expect(low).toBeLessThanOrEqual(rig.module.statusIntervalMs + FAULT_TO_OFF_MAX_MS)
    }, 60_000)

    test("after a stop only a deliberate start brings the output back, and from 0 mA", async () => {
        await rig.stopOn(StimReason.StopButton, () => rig.stim.signal(StimEventKind.StopButton))
        const stoppedAt = rig.module.now()
        await new Promise(r => setTimeout(r, 300))
        expect(rig.module.deliveredNow()).toBe(0)
        await rig.stim.signal(StimEventKind.Start)
        await waitFor("the output on again", () => rig.module.timeline().some(e => e.atMs > stoppedAt && e.outputOn))
        const on = rig.module.timeline().find(e => e.atMs > stoppedAt && e.outputOn)!
        expect(on.cause).toBe("enable")
        expect(on.deliveredMa).toBe(0)
        await rig.stim.signal(StimEventKind.StopButton)
        await waitFor("zero output", () => rig.module.deliveredNow() === 0)
    }, 60_000)

    test("with nothing changing the status still goes out every 500 ms, the same each time (a lost push is mended)", async () => {
        await new Promise(r => setTimeout(r, 600)) // the last stop's push is out
        const from = rig.statuses.length
        await new Promise(r => setTimeout(r, 2100))
        const repeats = rig.statuses.slice(from)
        // 4 in 2.1 s at 500 ms (one may fall at the edges): not a change-only push, not a flood
        expect(repeats.length).toBeGreaterThanOrEqual(3)
        expect(repeats.length).toBeLessThanOrEqual(6)
        const fields = repeats.map(({ receivedAtMs, ...s }) => JSON.stringify(s))
        expect(new Set(fields).size, fields.join("\n")).toBe(1)
        expect(repeats[0].running).toBe(false)
    }, 30_000)

    test("the module falls silent: stopped (BusLost) within a tick and 50 ms of the 500 ms status timeout", async () => {
        try {
            // (the supervisor counts from the last report it handled: reports reach the VM up to ~150 ms apart, so it can stop sooner)
            const ms = await rig.stopOn(StimReason.BusLost, () => rig.module.muteReports(true))
            expect(ms).toBeLessThanOrEqual(SILENCE_TO_OFF_MAX_MS)
        } finally {
            rig.module.muteReports(false)
        }
    }, 60_000)

    test("the trainer's firmware falls silent: stopped (BusLost) within a tick and 50 ms of the 500 ms timeout, since only the trainer sees the stop button", async () => {
        try {
            // the timeout counts from the last keep-alive the supervisor handled, before the injection
            const ms = await rig.stopOn(StimReason.BusLost, () => rig.trainerAlive(false))
            expect(ms).toBeLessThanOrEqual(SILENCE_TO_OFF_MAX_MS)
        } finally {
            rig.trainerAlive(true)
        }
    }, 60_000)

    test("a contraindication raised mid-session: output at zero within 50 ms, and no start until a session without one", async () => {
        expect(await rig.stopOn(StimReason.Contraindication, () => rig.stim.signal(StimEventKind.Contraindication))).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        await rig.stim.signal(StimEventKind.Start)
        await new Promise(r => setTimeout(r, 300))
        expect(rig.module.deliveredNow()).toBe(0)
        expect(rig.statuses[rig.statuses.length - 1].locked).toBe(true)
    }, 60_000)

    test("keep-alives lost on the way, firmware alive: the module cuts the output itself, the supervisor logs its watchdog fault", async () => {
        try {
            const ms = await rig.stopOn(StimReason.ModuleFault, () => rig.module.ignoreCommands(true))
            expect(ms).toBeLessThanOrEqual(STIM_WATCHDOG_TIMEOUT_MS + FAULT_TO_OFF_MAX_MS)
            expect(rig.module.timeline().some(e => e.cause === "watchdog")).toBe(true)
        } finally {
            rig.module.ignoreCommands(false)
        }
    }, 60_000)

    test("the stim firmware hangs: the module's own watchdog cuts the output; resumed, it stays off with the stop logged", async () => {
        await rig.stimulating()
        const at = rig.module.now()
        const from = rig.statuses.length
        const pid = rig.sim.stim!.vm().child.pid!
        process.kill(-pid, "SIGSTOP")
        try {
            await waitFor("zero output at the module", () => rig.module.deliveredNow() === 0, 2000)
        } finally {
            process.kill(-pid, "SIGCONT")
        }
        const ms = rig.module.timeToZeroMs(at)!
        expect(ms).toBeLessThanOrEqual(STIM_WATCHDOG_TIMEOUT_MS + FAULT_TO_OFF_MAX_MS)
        expect(rig.module.timeline().some(e => e.cause === "watchdog")).toBe(true)
        await waitFor("the stop in the supervisor's status", () => rig.statuses.slice(from).some(s => !s.running && s.lastStop !== StimReason.None))
        await new Promise(r => setTimeout(r, 300))
        expect(rig.module.deliveredNow()).toBe(0)
    }, 60_000)

    test("the session's stimulation time runs out: output at zero within 50 ms of the cap (StimTimeOver), and no start brings it back", async () => {
        const ms = await rig.stimTimeOverMs(5)
        console.info(`stim time over: zero ${ms.toFixed(1)} ms after the cap`)
        // never early (the cap is counted from the Start's sending, before the supervisor had it), at most 50 ms late
        expect(ms).toBeGreaterThanOrEqual(0)
        expect(ms).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
        await rig.stim.signal(StimEventKind.Start)
        await new Promise(r => setTimeout(r, 300))
        expect(rig.module.deliveredNow()).toBe(0)
    }, 60_000)

    test("an exception in the stim path (here an event the supervisor does not know: its fail-safe path): output at zero within 50 ms, logged as Exception", async () => {
        const ms = await rig.stopOn(StimReason.Exception, () => rig.stim.signal(99 as StimEventKind))
        expect(ms).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
    }, 60_000)

    test("a stop during the phase's ramp-in (stop button, lead-off, battery low): output at zero within 50 ms at the module", async () => {
        const s = rig.stim
        const ramp = { rampIn: true }
        const measured = {
            button: await rig.stopOn(StimReason.StopButton, () => s.signal(StimEventKind.StopButton), ramp),
            leadOff: await rig.stopOn(StimReason.LeadOff, () => void rig.module.leadOff(), ramp),
            battery: await rig.stopOn(StimReason.BatteryLow, () => s.signal(StimEventKind.BatteryLow), ramp),
        }
        console.info(`stop during the ramp-in, fault to zero at the module [ms]: ${JSON.stringify(measured)}`)
        for (const [cause, ms] of Object.entries(measured)) expect(ms, `${cause}: ${JSON.stringify(measured)}`).toBeLessThanOrEqual(FAULT_TO_OFF_MAX_MS)
    }, 60_000)

    test("over every run: the module never clamped a setting, and the output never rose faster than 30 mA/s", () => {
        expect(rig.module.module.clamps().length).toBe(0)
        expect(steepestRise(rig.module.timeline())).toBeLessThanOrEqual(AMPLITUDE_RAMP_MAX_MA_PER_S / 1000 + 1e-9)
        // a start that delivered nothing (docs/safety.md section 8): reported, so runs since the driver's fix can be counted
        if (rig.startRetries > 0) console.warn(`stim e2e: ${rig.startRetries} start(s) delivered no current and were tried again`)
    })
})
