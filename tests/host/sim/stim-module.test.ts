// The simulated stimulator module's behaviour (host/sim/stim-module.ts),
// driven with explicit times: no bus, no timers. One named test per rule of
// services/stimulator.md at its exact boundary.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { AMPLITUDE_MAX_MA, AMPLITUDE_RAMP_MAX_MA_PER_S, STIM_WATCHDOG_TIMEOUT_MS } from "../../../src/core/limits"
import { StimModuleFault, StimStatusFlags, STIM_HARDWARE_LIMITS } from "../../../src/core/stim-module"
import { amplitudeAt, SimStimModule, steepestRise, timeToZeroMs, type SimStimModuleOptions } from "../../../host/sim/stim-module"

/** [mA/ms] the module's fastest rise with the hardware limits: 30 mA/s */
const RISE = AMPLITUDE_RAMP_MAX_MA_PER_S / 1000

interface Heard {
    faults: { fault: StimModuleFault; atMs: number }[]
    changes: number[]
}

/** A module with a listener that records what it was told. */
function makeModule(options: SimStimModuleOptions = {}): { m: SimStimModule; heard: Heard } {
    const m = new SimStimModule(options)
    const heard: Heard = { faults: [], changes: [] }
    m.listener = {
        fault: (fault, atMs) => heard.faults.push({ fault, atMs }),
        changed: atMs => heard.changes.push(atMs),
    }
    return { m, heard }
}

/**
 * A module as the firmware leaves it once stimulating: 250 us, 50 Hz,
 * ramp up 3000 ms, ramp down 0, enabled at `atMs` and set to `amplitudeMa`,
 * kept alive until it got there.
 */
function stimulating(amplitudeMa: number, atMs = 0, options: SimStimModuleOptions = {}) {
    const made = makeModule(options)
    const m = made.m
    m.setPulseWidth(250, atMs)
    m.setFrequency(50, atMs)
    m.setRampUp(3000, atMs)
    m.setRampDown(0, atMs)
    m.setEnabled(true, atMs)
    m.setAmplitude(amplitudeMa, atMs)
    const reachedMs = atMs + Math.ceil(amplitudeMa / RISE)
    for (let t = atMs + 50; t <= reachedMs; t += 50) m.keepAlive(t)
    m.keepAlive(reachedMs)
    return { ...made, reachedMs }
}

describe("watchdog: the module switches off by itself", () => {
    test("on 1 us before watchdog_timeout (250 ms) after the last keep-alive, off at exactly 250 ms", () => {
        const { m, heard, reachedMs } = stimulating(20)
        const last = reachedMs
        expect(m.deliveredAt(m.advance(last + STIM_WATCHDOG_TIMEOUT_MS - 0.001))).toBe(20)
        m.advance(last + STIM_WATCHDOG_TIMEOUT_MS)
        expect(m.deliveredAt(last + STIM_WATCHDOG_TIMEOUT_MS)).toBe(0)
        const cut = m.timeline().find(e => e.cause === "watchdog")!
        expect(cut.atMs).toBe(last + STIM_WATCHDOG_TIMEOUT_MS)
        expect(cut.deliveredMa).toBe(0)
        expect(heard.faults).toEqual([{ fault: StimModuleFault.WatchdogExpired, atMs: last + STIM_WATCHDOG_TIMEOUT_MS }])
        expect(timeToZeroMs(m.timeline(), last)).toBe(STIM_WATCHDOG_TIMEOUT_MS)
    })

    test("the cut is dated at the deadline even when the module is only looked at later (a late timer)", () => {
        const { m, reachedMs } = stimulating(10)
        const s = m.status(reachedMs + 1000)
        expect(s.deliveredMa).toBe(0)
        expect(s.fault).toBe(StimModuleFault.WatchdogExpired)
        expect(m.timeline().find(e => e.cause === "watchdog")!.atMs).toBe(reachedMs + STIM_WATCHDOG_TIMEOUT_MS)
    })

    test("keep-alives 249 ms apart keep it on for a long time", () => {
        const { m, reachedMs } = stimulating(20)
        let t = reachedMs
        for (let i = 0; i < 100; i++) {
            t += STIM_WATCHDOG_TIMEOUT_MS - 1
            m.keepAlive(t)
        }
        expect(m.status(t).deliveredMa).toBe(20)
        expect(m.status(t).fault).toBe(StimModuleFault.None)
    })

    test("a keep-alive arriving exactly at the deadline is too late and does not revive it", () => {
        const { m, reachedMs } = stimulating(20)
        m.keepAlive(reachedMs + STIM_WATCHDOG_TIMEOUT_MS)
        m.keepAlive(reachedMs + STIM_WATCHDOG_TIMEOUT_MS + 10)
        expect(m.status(reachedMs + STIM_WATCHDOG_TIMEOUT_MS + 20).deliveredMa).toBe(0)
    })

    test("the enabling write arms the watchdog: never a keep-alive means off 250 ms after enable", () => {
        const { m } = makeModule()
        m.setEnabled(true, 1000)
        m.setAmplitude(5, 1000)
        expect(m.status(1249).flags & StimStatusFlags.OutputOn).toBe(StimStatusFlags.OutputOn)
        expect(m.status(1250).fault).toBe(StimModuleFault.WatchdogExpired)
    })

    test("while disabled a keep-alive does nothing: no output, no watchdog, no fault", () => {
        const { m } = makeModule()
        m.setAmplitude(20, 0)
        for (let t = 0; t < 2000; t += 50) m.keepAlive(t)
        const s = m.status(5000)
        expect(s.deliveredMa).toBe(0)
        expect(s.fault).toBe(StimModuleFault.None)
        expect(m.keepAliveCount()).toBe(0)
    })

    test("after a watchdog cut only enabled off then on restarts it, from 0 mA", () => {
        const { m, reachedMs } = stimulating(20)
        const cutAt = reachedMs + STIM_WATCHDOG_TIMEOUT_MS
        m.setAmplitude(30, cutAt + 10)
        m.setEnabled(true, cutAt + 20)
        expect(m.status(cutAt + 30).deliveredMa).toBe(0)
        m.setEnabled(false, cutAt + 40)
        expect(m.status(cutAt + 50).fault).toBe(StimModuleFault.WatchdogExpired)
        m.setEnabled(true, cutAt + 60)
        expect(m.status(cutAt + 60).fault).toBe(StimModuleFault.None)
        expect(m.deliveredAt(cutAt + 60)).toBe(0)
        expect(m.deliveredAt(cutAt + 160)).toBeCloseTo(100 * RISE, 9)
    })
})

describe("slopes: amplitude writes take effect at once, never faster than ramp_up / ramp_down", () => {
    test("a jump to 90 mA rises at max_amplitude / ramp_up = 30 mA/s and ends exactly at 3000 ms", () => {
        const { m } = makeModule()
        m.setEnabled(true, 0)
        m.setAmplitude(AMPLITUDE_MAX_MA, 0)
        for (let t = 50; t <= 3000; t += 50) m.keepAlive(t)
        expect(amplitudeAt(m.timeline(), 1000)).toBeCloseTo(30, 9)
        const end = m.timeline().find(e => e.cause === "ramp-end")!
        expect(end.atMs).toBeCloseTo(3000, 9)
        expect(end.deliveredMa).toBe(AMPLITUDE_MAX_MA)
        expect(steepestRise(m.timeline())).toBeCloseTo(RISE, 12)
    })

    test("the supervisor's own ramp (0.75 mA every 25 ms, 30 mA/s) passes: each write is reached before the next", () => {
        const { m } = makeModule()
        m.setEnabled(true, 0)
        for (let i = 1; i <= 40; i++) {
            const t = i * 25
            expect(m.deliveredAt(m.advance(t))).toBeCloseTo((i - 1) * 0.75, 9)
            m.setAmplitude(i * 0.75, t)
            m.keepAlive(t)
        }
        expect(m.deliveredAt(m.advance(1025))).toBe(30)
        expect(steepestRise(m.timeline())).toBeLessThanOrEqual(RISE)
    })

    test("ramp_up below the hardware minimum (3000 ms) is raised to it and flagged Clamped", () => {
        const { m } = makeModule()
        expect(m.setRampUp(100, 0)).toBe(STIM_HARDWARE_LIMITS.minRampUpMs)
        m.setEnabled(true, 0)
        m.setAmplitude(60, 0)
        expect(m.deliveredAt(100)).toBeCloseTo(3, 9)
        expect(m.clamps().map(c => c.register)).toEqual(["ramp_up"])
        expect(m.status(100).flags & StimStatusFlags.Clamped).toBe(0) // the enable cleared it
        m.setRampUp(10, 120)
        expect(m.status(120).flags & StimStatusFlags.Clamped).toBe(StimStatusFlags.Clamped)
    })

    test("a longer ramp_up is slower: 9000 ms gives 10 mA/s", () => {
        const { m } = makeModule()
        m.setRampUp(9000, 0)
        m.setEnabled(true, 0)
        m.setAmplitude(40, 0)
        expect(m.deliveredAt(1000)).toBeCloseTo(10, 9)
    })

    test("ramp_down 0: a lower amplitude and enabled false take effect at once", () => {
        const { m, reachedMs } = stimulating(30)
        m.setAmplitude(12, reachedMs + 1)
        expect(m.deliveredAt(reachedMs + 1)).toBe(12)
        m.setEnabled(false, reachedMs + 2)
        expect(m.deliveredAt(reachedMs + 2)).toBe(0)
        expect(timeToZeroMs(m.timeline(), reachedMs + 2)).toBe(0)
    })

    test("ramp_down 1000 ms: falls at 90 mA/s, and reaches 0 at the computed time", () => {
        const { m, reachedMs } = stimulating(45)
        m.setRampDown(1000, reachedMs)
        m.setEnabled(false, reachedMs)
        expect(m.deliveredAt(reachedMs + 250)).toBeCloseTo(45 - 22.5, 9)
        m.advance(reachedMs + 1000)
        expect(timeToZeroMs(m.timeline(), reachedMs)).toBeCloseTo(500, 9)
    })

    test("whatever is written when, the output never rises faster than the slope (property)", () => {
        const write = fc.record({
            dtMs: fc.integer({ min: 0, max: 400 }),
            what: fc.constantFrom("amplitude", "enable", "disable", "ramp_up", "ramp_down", "pulse_width", "keep_alive"),
            value: fc.double({ min: -10, max: 200, noNaN: true }),
        })
        fc.assert(
            fc.property(fc.array(write, { minLength: 1, maxLength: 60 }), writes => {
                const { m } = makeModule()
                let t = 0
                for (const w of writes) {
                    t += w.dtMs
                    if (w.what === "amplitude") m.setAmplitude(w.value, t)
                    else if (w.what === "enable") m.setEnabled(true, t)
                    else if (w.what === "disable") m.setEnabled(false, t)
                    else if (w.what === "ramp_up") m.setRampUp(w.value * 50, t)
                    else if (w.what === "ramp_down") m.setRampDown(w.value * 20, t)
                    else if (w.what === "pulse_width") m.setPulseWidth(w.value * 3, t)
                    else m.keepAlive(t)
                }
                m.advance(t + 5000)
                const timeline = m.timeline()
                expect(steepestRise(timeline)).toBeLessThanOrEqual(RISE + 1e-12)
                // and sampled every ms, no step up is larger than the slope allows
                let maxRise = 0
                let prev = 0
                for (let s = 1; s <= t + 5000; s++) {
                    const a = amplitudeAt(timeline, s)
                    maxRise = Math.max(maxRise, a - prev)
                    prev = a
                }
                expect(maxRise).toBeLessThanOrEqual(RISE + 1e-9)
            }),
            { numRuns: 150 }
        )
    })
})

describe("faults latch until enabled goes off and on", () => {
    test("an injected OverCurrent cuts the output in the same instant and is reported", () => {
        const { m, heard, reachedMs } = stimulating(25)
        m.injectFault(StimModuleFault.OverCurrent, reachedMs + 5)
        expect(timeToZeroMs(m.timeline(), reachedMs + 5)).toBe(0)
        const s = m.status(reachedMs + 5)
        expect(s.fault).toBe(StimModuleFault.OverCurrent)
        expect(s.flags).toBe(StimStatusFlags.Enabled) // enabled as written, output stage off
        expect(heard.faults).toEqual([{ fault: StimModuleFault.OverCurrent, atMs: reachedMs + 5 }])
        expect(heard.changes).toContain(reachedMs + 5)
    })

    test("latched: amplitude writes, keep-alives and writing enabled true again change nothing", () => {
        const { m, reachedMs } = stimulating(25)
        const t0 = reachedMs + 5
        m.injectFault(StimModuleFault.Internal, t0)
        m.setAmplitude(30, t0 + 10)
        m.keepAlive(t0 + 20)
        m.setEnabled(true, t0 + 30)
        m.injectFault(StimModuleFault.OverCurrent, t0 + 40)
        const s = m.status(t0 + 50)
        expect(s.deliveredMa).toBe(0)
        expect(s.fault).toBe(StimModuleFault.Internal) // the first fault stays
    })

    test("enabled off keeps the fault visible; on clears it and restarts from 0 mA", () => {
        const { m, reachedMs } = stimulating(25)
        const t0 = reachedMs + 5
        m.injectFault(StimModuleFault.OverCurrent, t0)
        m.setEnabled(false, t0 + 100)
        expect(m.status(t0 + 100).fault).toBe(StimModuleFault.OverCurrent)
        m.setEnabled(true, t0 + 200)
        expect(m.status(t0 + 200).fault).toBe(StimModuleFault.None)
        expect(m.deliveredAt(t0 + 200)).toBe(0)
        expect(m.deliveredAt(t0 + 300)).toBeCloseTo(100 * RISE, 9)
    })

    test("lead-off: the load opens, output off at once, LeadOff latched and told", () => {
        const { m, heard, reachedMs } = stimulating(25)
        m.leadOff(reachedMs + 7)
        expect(timeToZeroMs(m.timeline(), reachedMs + 7)).toBe(0)
        expect(m.timeline().at(-1)!.cause).toBe("lead-off")
        expect(m.status(reachedMs + 8).fault).toBe(StimModuleFault.LeadOff)
        expect(heard.faults.map(f => f.fault)).toEqual([StimModuleFault.LeadOff])
    })

    test("a restart with the electrode still off latches LeadOff again at once; reattached, it restarts", () => {
        const { m, reachedMs } = stimulating(25)
        const t0 = reachedMs + 7
        m.leadOff(t0)
        m.setEnabled(false, t0 + 10)
        m.setEnabled(true, t0 + 20)
        expect(m.status(t0 + 20).fault).toBe(StimModuleFault.LeadOff)
        m.setEnabled(false, t0 + 30)
        m.setLoad(480, t0 + 40)
        m.setEnabled(true, t0 + 50)
        expect(m.status(t0 + 50).fault).toBe(StimModuleFault.None)
    })

    test("lead-off threshold: 9999 Ohm is measured, 10000 Ohm is open", () => {
        const { m, reachedMs } = stimulating(10)
        m.setLoad(9999, reachedMs + 1)
        expect(m.status(reachedMs + 1).loadOhm).toBe(9999)
        m.setLoad(STIM_HARDWARE_LIMITS.leadOffOhm, reachedMs + 2)
        expect(m.status(reachedMs + 2).fault).toBe(StimModuleFault.LeadOff)
        expect(m.status(reachedMs + 2).loadOhm).toBe(0)
    })

    test("a load change of 10 % or more is reported at once, a smaller one waits for the next report", () => {
        const { m, heard, reachedMs } = stimulating(10, 0, { loadOhm: 1000 })
        const before = heard.changes.length
        m.setLoad(1099, reachedMs + 1)
        expect(heard.changes.length).toBe(before)
        m.setLoad(3000, reachedMs + 2)
        expect(heard.changes.slice(before)).toEqual([reachedMs + 2])
        expect(m.status(reachedMs + 2).loadOhm).toBe(3000)
        expect(m.status(reachedMs + 2).fault).toBe(StimModuleFault.None) // the 2500 Ohm band is the firmware's
    })

    test("the load is reported only while pulses flow: 0 when off or at 0 mA", () => {
        const { m } = makeModule({ loadOhm: 620 })
        expect(m.status(0).loadOhm).toBe(0)
        m.setEnabled(true, 0)
        expect(m.status(0).loadOhm).toBe(0)
        m.setAmplitude(1, 0)
        expect(m.status(10).loadOhm).toBe(620)
    })
})

describe("hardware limits: the module clamps to its own maximum", () => {
    test("amplitude: exactly max_amplitude (90 mA) is taken as is; 120 mA is held as 90 and flagged", () => {
        const { m } = makeModule()
        m.setEnabled(true, 0)
        expect(m.setAmplitude(AMPLITUDE_MAX_MA, 0)).toBe(AMPLITUDE_MAX_MA)
        expect(m.clamps()).toEqual([])
        expect(m.setAmplitude(120, 10)).toBe(AMPLITUDE_MAX_MA)
        expect(m.clamps()).toEqual([{ atMs: 10, register: "amplitude", asked: 120, applied: AMPLITUDE_MAX_MA }])
        expect(m.status(10).flags & StimStatusFlags.Clamped).toBe(StimStatusFlags.Clamped)
        for (let t = 50; t <= 4000; t += 50) m.keepAlive(t)
        expect(m.status(4000).deliveredMa).toBe(AMPLITUDE_MAX_MA)
    })

    test("1/256 mA resolution: 12.3 mA is held as 12.296875 (quantizing is not a clamp)", () => {
        const { m } = makeModule()
        expect(m.setAmplitude(12.3, 0)).toBe(3148 / 256)
        expect(m.clamps()).toEqual([])
    })

    test("charge per phase: at 450 us the output stops at 40 uC (88.88 mA) though 90 mA is set", () => {
        const { m } = makeModule()
        m.setPulseWidth(450, 0)
        m.setEnabled(true, 0)
        m.setAmplitude(90, 0)
        for (let t = 50; t <= 4000; t += 50) m.keepAlive(t)
        const delivered = m.status(4000).deliveredMa
        expect(delivered).toBe(Math.floor((40000 / 450) * 256) / 256)
        expect(delivered * 450).toBeLessThanOrEqual(STIM_HARDWARE_LIMITS.maxChargePerPhaseNc)
        expect(m.clamps().some(c => c.register === "amplitude (charge per phase)")).toBe(true)
    })

    test("charge per phase: at 444 us, 90 mA is 39.96 uC and passes unclamped", () => {
        const { m } = makeModule()
        m.setPulseWidth(444, 0)
        m.setEnabled(true, 0)
        m.setAmplitude(90, 0)
        for (let t = 50; t <= 4000; t += 50) m.keepAlive(t)
        expect(m.status(4000).deliveredMa).toBe(90)
        expect(m.clamps()).toEqual([])
    })

    test("a longer pulse width while running lowers the output at once (charge), never raises it", () => {
        const { m, reachedMs } = stimulating(89)
        m.setPulseWidth(450, reachedMs + 1)
        expect(m.deliveredAt(reachedMs + 1)).toBe(Math.floor((40000 / 450) * 256) / 256)
    })

    test.each([
        ["pulse_width", 500, 450],
        ["pulse_width", 49, 50],
        ["pulse_width", 450, 450],
        ["pulse_width", 50, 50],
        ["frequency", 101, 100],
        ["frequency", 0, 1],
        ["frequency", 100, 100],
        ["frequency", 1, 1],
    ] as const)("%s %d is held as %d", (register, asked, held) => {
        const { m } = makeModule()
        const got = register === "pulse_width" ? m.setPulseWidth(asked, 0) : m.setFrequency(asked, 0)
        expect(got).toBe(held)
        expect(m.clamps().length).toBe(asked === held ? 0 : 1)
    })

    test("NaN and negative amplitudes are held as 0 and flagged", () => {
        const { m } = makeModule()
        expect(m.setAmplitude(NaN, 0)).toBe(0)
        expect(m.setAmplitude(-3, 1)).toBe(0)
        expect(m.clamps().length).toBe(2)
    })
})

describe("timeline", () => {
    test("every change is recorded with time, delivered amplitude, enabled and cause, in time order", () => {
        const { m, reachedMs } = stimulating(6)
        m.leadOff(reachedMs + 3)
        const tl = m.timeline()
        expect(tl.map(e => e.cause)).toEqual(["settings", "enable", "amplitude", "ramp-end", "lead-off"])
        for (let i = 1; i < tl.length; i++) expect(tl[i].atMs).toBeGreaterThanOrEqual(tl[i - 1].atMs)
        expect(tl[1]).toMatchObject({ atMs: 0, deliveredMa: 0, enabled: true, outputOn: true })
        expect(tl.at(-1)).toMatchObject({ atMs: reachedMs + 3, deliveredMa: 0, enabled: true, outputOn: false, fault: StimModuleFault.LeadOff })
    })

    test("timeToZeroMs is undefined while the output never reached zero", () => {
        const { m, reachedMs } = stimulating(6)
        expect(timeToZeroMs(m.timeline(), reachedMs)).toBeUndefined()
    })

    test("beyond timelineMax the oldest tenth is dropped and counted", () => {
        const { m } = makeModule({ timelineMax: 100 })
        m.setEnabled(true, 0)
        for (let i = 1; i <= 150; i++) {
            m.setAmplitude(i % 2 ? 1 : 0, i)
            m.keepAlive(i)
        }
        expect(m.timeline().length).toBeLessThanOrEqual(100)
        expect(m.droppedTimelineEntries()).toBeGreaterThan(0)
    })
})
