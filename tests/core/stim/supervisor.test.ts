// One named test per safety rule of the stim supervisor
// (src/core/stim/supervisor.ts), at its exact boundary and with each
// override. docs/safety.md points at these names.
import { describe, expect, test } from "vitest"
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    AMPLITUDE_START_MA,
    AMPLITUDE_STEP_MA,
    CHARGE_PER_PHASE_MAX_UC,
    CURRENT_DENSITY_MAX_MA_PER_CM2,
    LOAD_IMPEDANCE_MAX_OHM,
    LOAD_IMPEDANCE_MIN_OHM,
    SESSION_REST_MIN_MS,
    SESSION_STIM_MAX_MS,
    STIM_STATUS_TIMEOUT_MS,
    STIM_WATCHDOG_TIMEOUT_MS,
    chargePerPhaseUc,
    rmsCurrentDensityMaPerCm2,
} from "../../../src/core/limits"
import { StimMode } from "../../../src/core/stim/plan"
import { StimAction, StimReason } from "../../../src/core/stim/reasons"
import {
    MODULE_RAMP_DOWN_MS,
    STIM_ADJUST_WINDOW_MS,
    STOP_LOG_MAX,
    StimEventKind as K,
    StimSupervisor,
    type StimEvent,
    type StimStep,
} from "../../../src/core/stim/supervisor"
import {
    makeEtsPhase,
    makePhase,
    makeSession,
    makeStrengthenPhase,
    makeTherapistCaps,
    noContraindications,
    StimRig,
} from "../../cases/stim-fixtures"

function expectOff(s: StimStep, cause?: StimReason) {
    expect(s.command.enabled).toBe(false)
    expect(s.command.amplitudeMa).toBe(0)
    if (cause !== undefined) expect(s.reason).toBe(cause)
}

function expectStoppedBy(s: StimStep, cause: StimReason) {
    expectOff(s, cause)
    expect(s.action).toBe(StimAction.Stopped)
}

/** Running at 20 mA, continuous phase. */
function runningRig(): StimRig {
    const rig = new StimRig()
    const s = rig.reach(20)
    expect(s.command.enabled).toBe(true)
    expect(s.command.amplitudeMa).toBe(20)
    return rig
}

/** After a stop: a second later (healthy module) still off; the stop log holds the cause. */
function expectLatched(rig: StimRig, cause: StimReason) {
    expectOff(rig.run(1000))
    const stops = rig.sup.drainStops()
    expect(stops.map(r => r.cause)).toEqual([cause])
    expect(stops[0].levelMa).toBe(20)
}

describe("stop causes: output to zero in the same step, latched until a deliberate start", () => {
    const causes: [string, StimReason, (rig: StimRig) => StimStep][] = [
        ["stop button", StimReason.StopButton, rig => rig.ev(K.StopButton)],
        ["the stim phase ended", StimReason.PhaseEnded, rig => rig.ev(K.PhaseEnded)],
        ["lead-off", StimReason.LeadOff, rig => rig.ev(K.LeadOff)],
        ["module fault (over-current)", StimReason.ModuleFault, rig => rig.ev(K.ModuleFault, 4)],
        ["module fault without a code", StimReason.ModuleFault, rig => rig.ev(K.ModuleFault)],
        ["exception in the stim path", StimReason.Exception, rig => rig.ev(K.Exception)],
        ["program changed mid-session", StimReason.ProgramChanged, rig => rig.ev(K.ProgramChanged)],
        ["new session mid-session", StimReason.ProgramChanged, rig => rig.send({ kind: K.SessionBegin, now: rig.now, session: makeSession() })],
        ["invalid phase settings", StimReason.InvalidPhase, rig => rig.send({ kind: K.Phase, now: rig.now, phase: makePhase({ workMs: NaN }) })],
        ["unknown event kind", StimReason.Exception, rig => rig.send({ kind: 99 as K, now: rig.now })],
    ]
    test.each(causes)("%s stops at once and stays off until a start", (_name, cause, fire) => {
        const rig = runningRig()
        expectStoppedBy(fire(rig), cause)
        expectLatched(rig, cause)
    })

    test("stop button: a start afterwards turns it on again, from AMPLITUDE_START_MA with the level reset", () => {
        const rig = runningRig()
        rig.ev(K.StopButton)
        const s = rig.start()
        expect(s.action).toBe(StimAction.Started)
        expect(s.command.enabled).toBe(true)
        expect(s.command.amplitudeMa).toBe(AMPLITUDE_START_MA)
        expect(s.levelMa).toBe(AMPLITUDE_START_MA)
        expect(rig.run(2000).command.amplitudeMa).toBe(0) // nothing until she presses up again
    })

    test("stop while already off is noted, not logged as a stop", () => {
        const rig = new StimRig()
        rig.ready()
        const s = rig.ev(K.StopButton)
        expect(s.action).toBe(StimAction.Off)
        expect(s.reason).toBe(StimReason.StopButton)
        expect(rig.sup.drainStops()).toEqual([])
    })
})

describe("impedance", () => {
    test(`${LOAD_IMPEDANCE_MIN_OHM} Ohm keeps stimulating, just under stops (ImpedanceLow)`, () => {
        const rig = runningRig()
        expect(rig.ev(K.Impedance, LOAD_IMPEDANCE_MIN_OHM).command.enabled).toBe(true)
        expectStoppedBy(rig.ev(K.Impedance, LOAD_IMPEDANCE_MIN_OHM - 0.001), StimReason.ImpedanceLow)
        expectLatched(rig, StimReason.ImpedanceLow)
    })

    test(`${LOAD_IMPEDANCE_MAX_OHM} Ohm keeps stimulating, just over stops (ImpedanceHigh)`, () => {
        const rig = runningRig()
        expect(rig.ev(K.Impedance, LOAD_IMPEDANCE_MAX_OHM).command.enabled).toBe(true)
        expectStoppedBy(rig.ev(K.Impedance, LOAD_IMPEDANCE_MAX_OHM + 0.001), StimReason.ImpedanceHigh)
        expectLatched(rig, StimReason.ImpedanceHigh)
    })

    test("0 Ohm means not measured and changes nothing", () => {
        const rig = runningRig()
        expect(rig.ev(K.Impedance, 0).command.amplitudeMa).toBe(20)
    })

    test("an unreadable impedance (NaN) counts as an open circuit and stops", () => {
        const rig = runningRig()
        expectStoppedBy(rig.ev(K.Impedance, NaN), StimReason.ImpedanceHigh)
    })
})

describe("module and firmware liveness", () => {
    test(`module silent for exactly STIM_STATUS_TIMEOUT_MS (${STIM_STATUS_TIMEOUT_MS} ms) keeps stimulating, 1 ms more stops (BusLost)`, () => {
        const rig = runningRig()
        const heard = rig.now
        for (let t = 100; t <= STIM_STATUS_TIMEOUT_MS; t += 100) expect(rig.send({ kind: K.Tick, now: heard + t }).command.enabled).toBe(true)
        expectStoppedBy(rig.send({ kind: K.Tick, now: heard + STIM_STATUS_TIMEOUT_MS + 1 }), StimReason.BusLost)
        expectLatched(rig, StimReason.BusLost)
    })

    test("a status arriving after the silence still stops: the bus was lost in between", () => {
        const rig = runningRig()
        rig.send({ kind: K.Tick, now: rig.now + 200 })
        rig.send({ kind: K.Tick, now: rig.now + 200 })
        expectStoppedBy(rig.send({ kind: K.ModuleStatus, now: rig.now + 101 }), StimReason.BusLost)
    })

    test(`a step exactly STIM_WATCHDOG_TIMEOUT_MS (${STIM_WATCHDOG_TIMEOUT_MS} ms) after the last keeps stimulating, 1 ms more stops (KeepAliveGap)`, () => {
        const rig = runningRig()
        expect(rig.ev(K.ModuleStatus, undefined, STIM_WATCHDOG_TIMEOUT_MS).command.enabled).toBe(true)
        expectStoppedBy(rig.ev(K.ModuleStatus, undefined, STIM_WATCHDOG_TIMEOUT_MS + 1), StimReason.KeepAliveGap)
        expectLatched(rig, StimReason.KeepAliveGap)
    })

    test("module fault code 0 (None) is a status report, not a fault", () => {
        const rig = runningRig()
        expect(rig.ev(K.ModuleFault, 0).command.amplitudeMa).toBe(20)
    })

    test("the stop command asks the module for no ramp down: off is immediate", () => {
        const rig = runningRig()
        expect(rig.ev(K.StopButton).command.rampDownMs).toBe(MODULE_RAMP_DOWN_MS)
        expect(MODULE_RAMP_DOWN_MS).toBe(0)
    })
})

describe("battery and probe", () => {
    test("battery low stops; a restart is refused until the battery is reported OK", () => {
        const rig = runningRig()
        expectStoppedBy(rig.ev(K.BatteryLow), StimReason.BatteryLow)
        const refused = rig.start()
        expect(refused.action).toBe(StimAction.Refused)
        expectOff(refused, StimReason.BatteryLow)
        rig.ev(K.BatteryOk)
        expect(rig.start().action).toBe(StimAction.Started)
    })

    test("probe removed stops; a restart is refused until it is inserted again", () => {
        const rig = runningRig()
        expectStoppedBy(rig.ev(K.ProbeRemoved), StimReason.ProbeRemoved)
        expectOff(rig.start(), StimReason.ProbeRemoved)
        rig.ev(K.ProbeInserted)
        expect(rig.start().action).toBe(StimAction.Started)
    })
})

describe("session stim time", () => {
    function runFor(rig: StimRig, untilMs: number): StimStep {
        // 250 ms steps with a status each: as fast as the rules allow
        while (rig.now + 250 < untilMs) rig.ev(K.ModuleStatus, undefined, 250)
        return rig.send({ kind: K.ModuleStatus, now: untilMs })
    }

    test("therapist cap: on at 1 ms short of the cap, off at exactly the cap (StimTimeOver), no restart", () => {
        const cap = 20 * 60 * 1000
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ sessionStimMaxMs: cap }) }))
        const startedAt = rig.start().command.enabled ? rig.now : NaN
        expect(runFor(rig, startedAt + cap - 1).command.enabled).toBe(true)
        expectStoppedBy(runFor(rig, startedAt + cap), StimReason.StimTimeOver)
        expectOff(rig.start(), StimReason.StimTimeOver)
    })

    test(`hard cap SESSION_STIM_MAX_MS (${SESSION_STIM_MAX_MS} ms) wins over a longer therapist cap`, () => {
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ sessionStimMaxMs: 2 * SESSION_STIM_MAX_MS }) }))
        rig.start()
        const startedAt = rig.now
        expect(runFor(rig, startedAt + SESSION_STIM_MAX_MS - 1).command.enabled).toBe(true)
        expectStoppedBy(runFor(rig, startedAt + SESSION_STIM_MAX_MS), StimReason.StimTimeOver)
    })

    test("stim time adds up over stops and restarts within a session", () => {
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ sessionStimMaxMs: 10000 }) }))
        rig.start()
        rig.run(6000)
        rig.ev(K.StopButton)
        rig.run(60000) // off time does not count
        rig.start()
        expect(rig.run(3999).command.enabled).toBe(true)
        expectStoppedBy(rig.run(1), StimReason.StimTimeOver)
    })

    test(`rest between sessions: SESSION_REST_MIN_MS - 1 ms refused, exactly SESSION_REST_MIN_MS accepted`, () => {
        const early = new StimRig()
        early.ready(makeSession({ restSinceLastSessionMs: SESSION_REST_MIN_MS - 1 }))
        expectOff(early.start(), StimReason.SessionRestTooShort)
        const onTime = new StimRig()
        onTime.ready(makeSession({ restSinceLastSessionMs: SESSION_REST_MIN_MS }))
        expect(onTime.start().action).toBe(StimAction.Started)
        const unknown = new StimRig()
        unknown.ready(makeSession({ restSinceLastSessionMs: NaN }))
        expectOff(unknown.start(), StimReason.SessionRestTooShort)
    })
})

describe("contraindications lock stimulation", () => {
    const flags: [string, { pregnant: boolean; implantedDevice: boolean; other: boolean }][] = [
        ["pregnant", { pregnant: true, implantedDevice: false, other: false }],
        ["implanted device / pacemaker", { pregnant: false, implantedDevice: true, other: false }],
        ["other stim contraindication", { pregnant: false, implantedDevice: false, other: true }],
    ]
    test.each(flags)("%s raised mid-session stops at once; starts refused until a session without it", (_name, f) => {
        const rig = runningRig()
        expectStoppedBy(rig.send({ kind: K.Contraindication, now: rig.now, contraindications: f }), StimReason.Contraindication)
        expectOff(rig.start(), StimReason.Contraindication)
        expect(rig.sup.status().locked).toBe(true)
        rig.ready() // a new (signed) session without the flag
        expect(rig.start().action).toBe(StimAction.Started)
    })

    test.each(flags)("a session flagged %s never starts", (_name, f) => {
        const rig = new StimRig()
        rig.ready(makeSession({ contraindications: f }))
        expectOff(rig.start(), StimReason.Contraindication)
    })

    test("missing contraindication flags count as contraindicated (fail safe)", () => {
        const rig = new StimRig()
        const session = makeSession()
        session.contraindications = undefined
        rig.ready(session)
        expectOff(rig.start(), StimReason.Contraindication)
    })

    test("a contraindication event with no flag set changes nothing", () => {
        const rig = runningRig()
        expect(rig.send({ kind: K.Contraindication, now: rig.now, contraindications: noContraindications() }).command.amplitudeMa).toBe(20)
    })
})

describe("start: refused while a condition persists, always from zero", () => {
    test("a new supervisor refuses to start (no caps: fail-safe defaults)", () => {
        const sup = new StimSupervisor()
        const s = sup.step({ kind: K.Start, now: 0 })
        expectOff(s)
        expect(s.action).toBe(StimAction.Refused)
    })

    const blockers: [string, StimReason, (rig: StimRig) => void][] = [
        ["no session", StimReason.NoStimCaps, rig => rig.ev(K.ProgramChanged)],
        ["invalid therapist caps", StimReason.NoStimCaps, rig => rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ amplitudeMaxMa: NaN }) }))],
        ["electrode area unknown", StimReason.NoStimCaps, rig => rig.ready(makeSession({ electrodeAreaCm2: 0 }))],
        ["no phase", StimReason.NoPhase, rig => rig.send({ kind: K.SessionBegin, now: rig.now, session: makeSession() })],
        ["battery not yet reported", StimReason.BatteryLow, rig => rig.ev(K.BatteryLow)],
        ["probe not inserted", StimReason.ProbeRemoved, rig => rig.ev(K.ProbeRemoved)],
    ]
    test.each(blockers)("%s", (_name, why, block) => {
        const rig = new StimRig()
        rig.ready()
        block(rig)
        rig.ev(K.ModuleStatus)
        const s = rig.start()
        expect(s.action).toBe(StimAction.Refused)
        expectOff(s, why)
    })

    test(`module last heard exactly STIM_STATUS_TIMEOUT_MS ago: start accepted; 1 ms more: refused (BusLost)`, () => {
        const a = new StimRig()
        a.ready()
        expect(a.send({ kind: K.Start, now: a.now + STIM_STATUS_TIMEOUT_MS }).action).toBe(StimAction.Started)
        const b = new StimRig()
        b.ready()
        expectOff(b.send({ kind: K.Start, now: b.now + STIM_STATUS_TIMEOUT_MS + 1 }), StimReason.BusLost)
        const never = new StimSupervisor()
        never.step({ kind: K.SessionBegin, now: 0, session: makeSession() })
        never.step({ kind: K.Phase, now: 0, phase: makePhase() })
        never.step({ kind: K.BatteryOk, now: 0 })
        never.step({ kind: K.ProbeInserted, now: 0 })
        expectOff(never.step({ kind: K.Start, now: 0 }), StimReason.BusLost)
    })

    test("a retried start while running changes nothing", () => {
        const rig = runningRig()
        const s = rig.start()
        expect(s.action).toBe(StimAction.Refused)
        expect(s.reason).toBe(StimReason.AlreadyRunning)
        expect(s.command.amplitudeMa).toBe(20)
        expect(s.levelMa).toBe(20)
    })
})

describe("ramp rate", () => {
    test(`the amplitude rises by exactly AMPLITUDE_RAMP_MAX_MA_PER_S (${AMPLITUDE_RAMP_MAX_MA_PER_S} mA/s) x dt, never more`, () => {
        const rig = new StimRig()
        rig.ready()
        rig.start()
        rig.run(600) // past the phase's own 500 ms ramp
        expect(rig.press(40).command.amplitudeMa).toBe(0) // level 20 mA at once, but no time has passed
        expect(rig.ev(K.ModuleStatus, undefined, 100).command.amplitudeMa).toBe(3)
        expect(rig.ev(K.ModuleStatus, undefined, 100).command.amplitudeMa).toBe(6)
        expect(rig.ev(K.ModuleStatus, undefined, 0).command.amplitudeMa).toBe(6) // same instant: no rise
        expect(rig.ev(K.ModuleStatus, undefined, 200).command.amplitudeMa).toBe(12)
        expect(rig.run(1000).command.amplitudeMa).toBe(20) // and not beyond the level
    })

    test("a steep program ramp is stretched to the ramp rate", () => {
        const rig = new StimRig()
        // strengthen with the shortest ramp (500 ms) to 40 mA would be 80 mA/s
        rig.ready(makeSession(), makeStrengthenPhase({ rampUpMs: 500, workMs: 5000 }))
        rig.start()
        rig.run(100)
        rig.press(80)
        rig.ev(K.StopButton)
        rig.start()
        rig.run(20)
        rig.press(80) // level 40 mA
        let prev = rig.last
        for (let i = 0; i < 100; i++) {
            const s = rig.ev(K.ModuleStatus, undefined, 20)
            expect(s.command.amplitudeMa - prev.command.amplitudeMa).toBeLessThanOrEqual((AMPLITUDE_RAMP_MAX_MA_PER_S * 20) / 1000)
            prev = s
        }
    })
})

describe("intensity buttons", () => {
    test("up stops at the therapist amplitude cap (AtMaximum)", () => {
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ amplitudeMaxMa: 10 }) }))
        rig.start()
        rig.run(600)
        expect(rig.press(20).levelMa).toBe(10)
        const s = rig.ev(K.IntensityUp)
        expect(s.action).toBe(StimAction.Refused)
        expect(s.reason).toBe(StimReason.AtMaximum)
        expect(s.levelMa).toBe(10)
        expect(rig.run(1000).command.amplitudeMa).toBe(10)
    })

    test(`up stops at the hard cap AMPLITUDE_MAX_MA (${AMPLITUDE_MAX_MA} mA) when the therapist allows more`, () => {
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ amplitudeMaxMa: 120 }) }))
        rig.start()
        rig.run(600)
        expect(rig.press(200).levelMa).toBe(AMPLITUDE_MAX_MA)
        expect(rig.run(4000).command.amplitudeMa).toBe(AMPLITUDE_MAX_MA)
    })

    test(`up stops where the charge per phase reaches CHARGE_PER_PHASE_MAX_UC (${CHARGE_PER_PHASE_MAX_UC} uC) at 450 us`, () => {
        const rig = new StimRig()
        rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ amplitudeMaxMa: 90, pulseWidthMaxUs: 450 }), electrodeAreaCm2: 20 }), makePhase({ pulseWidthUs: 450 }))
        rig.start()
        rig.run(600)
        const level = rig.press(200).levelMa
        expect(level).toBeLessThan(AMPLITUDE_MAX_MA)
        const s = rig.run(4000)
        expect(chargePerPhaseUc(s.command)).toBeLessThanOrEqual(CHARGE_PER_PHASE_MAX_UC)
        expect(chargePerPhaseUc({ ...s.command, amplitudeMa: s.command.amplitudeMa + 1 / 256 })).toBeGreaterThan(CHARGE_PER_PHASE_MAX_UC)
    })

    test(`up stops where the rms current density reaches CURRENT_DENSITY_MAX_MA_PER_CM2 (${CURRENT_DENSITY_MAX_MA_PER_CM2} mA/cm2) on a 2 cm2 electrode`, () => {
        const rig = new StimRig()
        rig.ready(makeSession({ electrodeAreaCm2: 2 }), makePhase({ frequencyHz: 50, pulseWidthUs: 250 }))
        rig.start()
        rig.run(600)
        rig.press(200)
        const s = rig.run(4000)
        expect(s.command.amplitudeMa).toBeGreaterThan(25)
        expect(rmsCurrentDensityMaPerCm2(s.command, 2)).toBeLessThanOrEqual(CURRENT_DENSITY_MAX_MA_PER_CM2)
        expect(rmsCurrentDensityMaPerCm2({ ...s.command, amplitudeMa: s.command.amplitudeMa + 1 / 256 }, 2)).toBeGreaterThan(CURRENT_DENSITY_MAX_MA_PER_CM2)
    })

    test(`up accepted exactly STIM_ADJUST_WINDOW_MS after the start, refused 1 ms later (AdjustWindowClosed)`, () => {
        const rig = new StimRig()
        rig.ready()
        rig.start()
        const startedAt = rig.now
        rig.run(STIM_ADJUST_WINDOW_MS)
        expect(rig.ev(K.IntensityUp).reason).toBe(StimReason.LevelUp)
        rig.ev(K.ModuleStatus, undefined, 1)
        expect(rig.now).toBe(startedAt + STIM_ADJUST_WINDOW_MS + 1)
        const s = rig.ev(K.IntensityUp)
        expect(s.action).toBe(StimAction.Refused)
        expect(s.reason).toBe(StimReason.AdjustWindowClosed)
        expect(s.levelMa).toBe(AMPLITUDE_STEP_MA)
    })

    test("up refused while no stimulation is delivered (a rest period)", () => {
        const rig = new StimRig()
        rig.ready(makeSession(), makeStrengthenPhase()) // 1 s up, 5 s work, 1 s down, 10 s rest
        rig.start()
        rig.run(2000)
        expect(rig.ev(K.IntensityUp).reason).toBe(StimReason.LevelUp)
        rig.run(6000) // t = 8 s: rest
        const s = rig.ev(K.IntensityUp)
        expect(s.action).toBe(StimAction.Refused)
        expect(s.reason).toBe(StimReason.NoStimNow)
    })

    test("down works any time while running, also after the adjust window; refused at zero", () => {
        const rig = new StimRig()
        rig.ready()
        rig.start()
        rig.run(600)
        rig.press(4)
        rig.run(STIM_ADJUST_WINDOW_MS)
        expect(rig.ev(K.IntensityDown).levelMa).toBe(1.5)
        rig.press(0)
        for (let i = 0; i < 3; i++) rig.ev(K.IntensityDown)
        const s = rig.ev(K.IntensityDown)
        expect(s.reason).toBe(StimReason.AtZero)
        expect(rig.run(100).command.amplitudeMa).toBe(0)
    })

    test("down lowers the output in the same step (no ramp on the way down)", () => {
        const rig = runningRig()
        expect(rig.ev(K.IntensityDown).command.amplitudeMa).toBe(19.5)
    })

    test("presses while off are refused (NotRunning)", () => {
        const rig = new StimRig()
        rig.ready()
        expect(rig.ev(K.IntensityUp).reason).toBe(StimReason.NotRunning)
        expect(rig.ev(K.IntensityDown).reason).toBe(StimReason.NotRunning)
    })

    test("the highest level chosen is kept for the session log", () => {
        const rig = runningRig()
        rig.ev(K.IntensityDown)
        expect(rig.sup.status().peakLevelMa).toBe(20)
    })
})

describe("phase changes", () => {
    test("a mode change while running goes through zero in the same step and resets the level", () => {
        const rig = runningRig()
        const s = rig.send({ kind: K.Phase, now: rig.now, phase: makeStrengthenPhase() })
        expect(s.action).toBe(StimAction.PhaseSet)
        expect(s.command.enabled).toBe(true)
        expect(s.command.amplitudeMa).toBe(0)
        expect(s.levelMa).toBe(0)
        expect(rig.run(3000).command.amplitudeMa).toBe(0)
    })

    test("a frequency change within the same mode also goes through zero", () => {
        const rig = runningRig()
        expect(rig.send({ kind: K.Phase, now: rig.now, phase: makePhase({ frequencyHz: 5 }) }).command.amplitudeMa).toBe(0)
    })

    test("the same phase sent again (a retried command) changes nothing", () => {
        const rig = runningRig()
        const s = rig.send({ kind: K.Phase, now: rig.now, phase: makePhase() })
        expect(s.reason).toBe(StimReason.Unchanged)
        expect(s.command.amplitudeMa).toBe(20)
        // ramps out of range are clamped first: 100 ms and 500 ms are the same ramp
        expect(rig.send({ kind: K.Phase, now: rig.now, phase: makePhase({ rampUpMs: 100 }) }).command.amplitudeMa).toBe(20)
    })

    test("an ETS phase never stimulates while the patient does not contract", () => {
        const rig = new StimRig()
        rig.ready(makeSession(), makeEtsPhase())
        rig.start()
        for (let i = 0; i < 100; i++) {
            rig.ev(K.MeasuredLevel, 10, 20)
            expect(rig.ev(K.ModuleStatus).command.amplitudeMa).toBe(0)
        }
    })

    test("an ETS assist fires when the contraction reaches the trigger but is not held", () => {
        const rig = new StimRig()
        rig.ready(makeSession(), makeEtsPhase({ triggerPct: 60 }))
        rig.start()
        rig.ev(K.MeasuredLevel, 60, 20) // reaches the trigger: armed
        expect(rig.ev(K.ModuleStatus).reason).toBe(StimReason.EtsArmed)
        rig.run(400)
        rig.ev(K.MeasuredLevel, 70, 20)
        rig.ev(K.ModuleStatus)
        rig.ev(K.MeasuredLevel, 40, 20) // falls back under the trigger: assist
        const s = rig.ev(K.ModuleStatus, undefined, 20)
        expect(s.reason).toBe(StimReason.EtsAssist)
        rig.press(10) // level 5 mA, set during the assist
        expect(rig.run(1500).command.amplitudeMa).toBe(5)
    })
})

describe("clock and exceptions", () => {
    test("time going backwards stops (ClockFault) and needs a fresh module status to restart", () => {
        const rig = runningRig()
        expectStoppedBy(rig.send({ kind: K.Tick, now: rig.now - 1 }), StimReason.ClockFault)
        expectOff(rig.start(), StimReason.BusLost)
        rig.ev(K.ModuleStatus)
        expect(rig.start().action).toBe(StimAction.Started)
    })

    test("a clock that is not a number stops (ClockFault)", () => {
        const rig = runningRig()
        expectStoppedBy(rig.send({ kind: K.Tick, now: NaN }), StimReason.ClockFault)
    })

    test("an exception inside the supervisor zeroes the output in the same step and latches (Exception)", () => {
        const rig = runningRig()
        const poisoned = {
            get mode(): number {
                throw new Error("boom")
            },
        }
        const ev = { kind: K.Phase, now: rig.now, phase: poisoned } as unknown as StimEvent
        expectStoppedBy(rig.send(ev), StimReason.Exception)
        expectLatched(rig, StimReason.Exception)
    })

    test("a null event does not throw and leaves the output off", () => {
        const rig = runningRig()
        expectOff(rig.sup.step(null as unknown as StimEvent), StimReason.Exception)
    })
})

describe("stop log", () => {
    test("every stop is logged once with its cause, time, level and stim time, oldest first", () => {
        const rig = runningRig()
        const at = rig.now
        rig.ev(K.LeadOff)
        rig.ev(K.LeadOff) // already off: no second record
        rig.ready()
        rig.start()
        rig.run(100)
        rig.ev(K.StopButton)
        const stops = rig.sup.drainStops()
        expect(stops.map(r => r.cause)).toEqual([StimReason.LeadOff, StimReason.StopButton])
        expect(stops[0].atMs).toBe(at)
        expect(stops[0].levelMa).toBe(20)
        expect(stops[1].stimUsedMs).toBe(100)
        expect(rig.sup.drainStops()).toEqual([])
    })

    test(`the log keeps the last STOP_LOG_MAX (${STOP_LOG_MAX}) stops and counts the dropped`, () => {
        const rig = new StimRig()
        rig.ready()
        for (let i = 0; i < STOP_LOG_MAX + 3; i++) {
            rig.start()
            rig.run(40)
            rig.ev(K.StopButton)
        }
        expect(rig.sup.drainStops().length).toBe(STOP_LOG_MAX)
        expect(rig.sup.status().droppedStops).toBe(3)
    })
})

describe("modes", () => {
    test("strengthen: stimulates in work periods only", () => {
        const rig = new StimRig()
        rig.ready(makeSession(), makeStrengthenPhase())
        rig.start()
        rig.run(1500)
        rig.press(20) // 10 mA
        expect(rig.run(1000).command.amplitudeMa).toBe(10) // t = 2.5 s, work
        expect(rig.run(5000).reason).toBe(StimReason.Rest) // t = 7.5 s
        expect(rig.last.command.amplitudeMa).toBe(0)
        expect(rig.last.command.enabled).toBe(true)
        expect(rig.run(11000).reason).toBe(StimReason.Work) // t = 18.5 s, next cycle (17 s period)
        expect(rig.last.command.amplitudeMa).toBe(10)
        expect(rig.last.command.frequencyHz).toBe(50)
        expect(rig.last.command.pulseWidthUs).toBe(250)
    })

    test("a phase beyond the therapist caps runs at the caps (clamped, reason given)", () => {
        const rig = new StimRig()
        rig.ready(makeSession(), makePhase({ mode: StimMode.Strengthen, frequencyHz: 150, pulseWidthUs: 600, restMs: 1000 }))
        rig.start()
        const s = rig.run(100)
        expect(s.command.frequencyHz).toBe(80)
        expect(s.command.pulseWidthUs).toBe(400)
    })
})
