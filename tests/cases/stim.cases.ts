/**
 * The stim supervisor's stop rules, ramp and caps, shared by vitest
 * (tests/core/stim/shared-cases.test.ts) and the DeviceScript VM
 * (tests/vm/stim.vm.ts): the supervisor runs on the device, so the very same
 * scenarios must give the very same numbers there. DeviceScript subset.
 *
 * Each case is a short scenario (at most ~100 supervisor steps: the VM
 * stops a synchronous stretch that runs too long) returning one number:
 * an amplitude [mA], 1/0 for on/off, or a StimReason / StimAction code.
 * Rules that need minutes of steps (the adjust window, an hour of stim
 * time) are tested under Node only (tests/core/stim/supervisor.test.ts).
 */
import { SESSION_REST_MIN_MS, STIM_STATUS_TIMEOUT_MS, STIM_WATCHDOG_TIMEOUT_MS } from "../../src/core/limits"
import { NO_CAPS, clampOutput, effectiveCaps, maxAmplitude } from "../../src/core/stim/caps"
import { EtsStage, cycleEnvelope, etsNext, etsStart } from "../../src/core/stim/plan"
import { StimAction, StimReason } from "../../src/core/stim/reasons"
import { StimEventKind as K, type StimStep } from "../../src/core/stim/supervisor"
import { restBeforeBootMs, restRecordOf, restRecordOfText, restRecordText, storedRestRecord } from "../../src/core/stim/rest-record"
import { makeEtsPhase, makePhase, makeSession, makeStrengthenPhase, makeTherapistCaps, StimRig } from "./stim-fixtures"
import type { NumericCase } from "./types"

/** the level the scenarios run at [mA]: small, so reaching it takes few steps */
const LEVEL_MA = 5

function on(s: StimStep): number {
    return s.command.enabled ? 1 : 0
}

/** running at LEVEL_MA on the default continuous phase */
function running(): StimRig {
    const rig = new StimRig()
    rig.reach(LEVEL_MA)
    return rig
}

function hardOnlyCaps(areaCm2: number) {
    return effectiveCaps({ therapist: makeTherapistCaps({ amplitudeMaxMa: 200, pulseWidthMaxUs: 1000, frequencyMaxHz: 500 }), electrodeAreaCm2: areaCm2 })
}

export const stimCases: NumericCase[] = [
    // --- stops: zero in the same step, latched
    { name: "running at the test level", actual: () => running().last.command.amplitudeMa, expected: LEVEL_MA, tolerance: 0 },
    { name: "stop button: amplitude 0 in the same step", actual: () => running().ev(K.StopButton).command.amplitudeMa, expected: 0, tolerance: 0 },
    { name: "stop button: output disabled in the same step", actual: () => on(running().ev(K.StopButton)), expected: 0, tolerance: 0 },
    {
        name: "stop button: still off a second later",
        actual: () => {
            const rig = running()
            rig.ev(K.StopButton)
            return on(rig.run(1000))
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "stop button: logged once with its cause",
        actual: () => {
            const rig = running()
            rig.ev(K.StopButton)
            rig.ev(K.StopButton)
            const stops = rig.sup.drainStops()
            return stops.length === 1 ? stops[0].cause : -1
        },
        expected: StimReason.StopButton,
        tolerance: 0,
    },
    { name: "lead-off stops (reason)", actual: () => running().ev(K.LeadOff).reason, expected: StimReason.LeadOff, tolerance: 0 },
    { name: "module fault stops (reason)", actual: () => running().ev(K.ModuleFault, 4).reason, expected: StimReason.ModuleFault, tolerance: 0 },
    { name: "module fault code 0 is only a status", actual: () => running().ev(K.ModuleFault, 0).command.amplitudeMa, expected: LEVEL_MA, tolerance: 0 },
    { name: "exception in the stim path stops (reason)", actual: () => running().ev(K.Exception).reason, expected: StimReason.Exception, tolerance: 0 },
    { name: "unknown event kind stops (fail safe)", actual: () => on(running().ev(77 as K)), expected: 0, tolerance: 0 },
    {
        name: "program changed: stops, and a start is refused for want of caps",
        actual: () => {
            const rig = running()
            rig.ev(K.ProgramChanged)
            return rig.start().reason
        },
        expected: StimReason.NoStimCaps,
        tolerance: 0,
    },
    // --- impedance boundaries
    { name: "impedance exactly 100 Ohm keeps stimulating", actual: () => running().ev(K.Impedance, 100).command.amplitudeMa, expected: LEVEL_MA, tolerance: 0 },
    { name: "impedance 99.999 Ohm stops", actual: () => running().ev(K.Impedance, 99.999).reason, expected: StimReason.ImpedanceLow, tolerance: 0 },
    { name: "impedance exactly 2500 Ohm keeps stimulating", actual: () => running().ev(K.Impedance, 2500).command.amplitudeMa, expected: LEVEL_MA, tolerance: 0 },
    { name: "impedance 2500.001 Ohm stops", actual: () => running().ev(K.Impedance, 2500.001).reason, expected: StimReason.ImpedanceHigh, tolerance: 0 },
    // --- liveness boundaries
    {
        name: "module silent exactly STIM_STATUS_TIMEOUT_MS: still on",
        actual: () => {
            const rig = running()
            const heard = rig.now
            for (let t = 100; t < STIM_STATUS_TIMEOUT_MS; t += 100) rig.send({ kind: K.Tick, now: heard + t })
            return on(rig.send({ kind: K.Tick, now: heard + STIM_STATUS_TIMEOUT_MS }))
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "module silent 1 ms longer: stops (BusLost)",
        actual: () => {
            const rig = running()
            const heard = rig.now
            for (let t = 100; t <= STIM_STATUS_TIMEOUT_MS; t += 100) rig.send({ kind: K.Tick, now: heard + t })
            return rig.send({ kind: K.Tick, now: heard + STIM_STATUS_TIMEOUT_MS + 1 }).reason
        },
        expected: StimReason.BusLost,
        tolerance: 0,
    },
    { name: "step gap exactly the module watchdog: still on", actual: () => on(running().ev(K.ModuleStatus, undefined, STIM_WATCHDOG_TIMEOUT_MS)), expected: 1, tolerance: 0 },
    { name: "step gap 1 ms longer: stops (KeepAliveGap)", actual: () => running().ev(K.ModuleStatus, undefined, STIM_WATCHDOG_TIMEOUT_MS + 1).reason, expected: StimReason.KeepAliveGap, tolerance: 0 },
    { name: "clock going backwards stops", actual: () => running().ev(K.Tick, undefined, -1).reason, expected: StimReason.ClockFault, tolerance: 0 },
    // --- conditions that persist
    {
        name: "battery low: a restart is refused",
        actual: () => {
            const rig = running()
            rig.ev(K.BatteryLow)
            return rig.start().reason
        },
        expected: StimReason.BatteryLow,
        tolerance: 0,
    },
    {
        name: "probe removed: a restart is refused",
        actual: () => {
            const rig = running()
            rig.ev(K.ProbeRemoved)
            return rig.start().reason
        },
        expected: StimReason.ProbeRemoved,
        tolerance: 0,
    },
    {
        name: "contraindication raised: stops at once",
        actual: () => {
            const rig = running()
            return rig.send({ kind: K.Contraindication, now: rig.now, contraindications: { pregnant: true, implantedDevice: false, other: false } }).command.amplitudeMa
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "session flagged implanted device: start refused",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession({ contraindications: { pregnant: false, implantedDevice: true, other: false } }))
            return rig.start().reason
        },
        expected: StimReason.Contraindication,
        tolerance: 0,
    },
    {
        name: "rest between sessions 1 ms short: start refused",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession({ restSinceLastSessionMs: SESSION_REST_MIN_MS - 1 }))
            return rig.start().reason
        },
        expected: StimReason.SessionRestTooShort,
        tolerance: 0,
    },
    {
        name: "therapist stim time 10 s: on 1 ms before",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ sessionStimMaxMs: 10000 }) }))
            rig.start()
            const t0 = rig.now
            for (let t = 250; t < 10000; t += 250) rig.send({ kind: K.ModuleStatus, now: t0 + t })
            return on(rig.send({ kind: K.ModuleStatus, now: t0 + 9999 }))
        },
        expected: 1,
        tolerance: 0,
    },
    {
        name: "therapist stim time 10 s: off at exactly 10 s (StimTimeOver)",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ sessionStimMaxMs: 10000 }) }))
            rig.start()
            const t0 = rig.now
            for (let t = 250; t < 10000; t += 250) rig.send({ kind: K.ModuleStatus, now: t0 + t })
            return rig.send({ kind: K.ModuleStatus, now: t0 + 10000 }).reason
        },
        expected: StimReason.StimTimeOver,
        tolerance: 0,
    },
    // --- start and ramp
    {
        name: "restart begins at 0 mA",
        actual: () => {
            const rig = running()
            rig.ev(K.StopButton)
            const s = rig.start()
            return s.action === StimAction.Started ? s.command.amplitudeMa : -1
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "ramp: 100 ms after the level jumps to 5 mA the output is 3 mA",
        actual: () => {
            const rig = new StimRig()
            rig.ready()
            rig.start()
            rig.run(600)
            rig.press(10)
            return rig.ev(K.ModuleStatus, undefined, 100).command.amplitudeMa
        },
        expected: 3,
        tolerance: 0,
    },
    {
        name: "ramp: no rise within the same instant",
        actual: () => {
            const rig = new StimRig()
            rig.ready()
            rig.start()
            rig.run(600)
            return rig.press(10).command.amplitudeMa
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "up stops at the therapist cap (2 mA)",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession({ therapistCaps: makeTherapistCaps({ amplitudeMaxMa: 2 }) }))
            rig.start()
            rig.run(600)
            return rig.press(8).levelMa
        },
        expected: 2,
        tolerance: 0,
    },
    {
        name: "up refused during a strengthening rest",
        actual: () => {
            const rig = new StimRig()
            rig.ready(makeSession(), makeStrengthenPhase({ rampUpMs: 500, workMs: 500, rampDownMs: 500, restMs: 5000 }))
            rig.start()
            rig.run(1600)
            return rig.ev(K.IntensityUp).reason
        },
        expected: StimReason.NoStimNow,
        tolerance: 0,
    },
    {
        name: "mode change goes through zero in the same step",
        actual: () => {
            const rig = running()
            return rig.send({ kind: K.Phase, now: rig.now, phase: makeStrengthenPhase() }).command.amplitudeMa
        },
        expected: 0,
        tolerance: 0,
    },
    {
        name: "the same phase again changes nothing",
        actual: () => {
            const rig = running()
            return rig.send({ kind: K.Phase, now: rig.now, phase: makePhase() }).command.amplitudeMa
        },
        expected: LEVEL_MA,
        tolerance: 0,
    },
    // --- caps (the choke point)
    { name: "hard amplitude cap: 90 mA at 100 us", actual: () => maxAmplitude(100, 10, hardOnlyCaps(100)).output.amplitudeMa, expected: 90, tolerance: 0 },
    { name: "charge cap: 40 uC at 450 us -> 88.887 mA (u8.8, down)", actual: () => maxAmplitude(450, 10, hardOnlyCaps(100)).output.amplitudeMa, expected: 22755 / 256, tolerance: 0 },
    { name: "density cap: 2 mA/cm2 on 2 cm2 at 50 Hz, 250 us -> 25.297 mA", actual: () => maxAmplitude(250, 50, hardOnlyCaps(2)).output.amplitudeMa, expected: 6476 / 256, tolerance: 0 },
    { name: "therapist pulse width cap: 500 us -> 400 us", actual: () => clampOutput({ amplitudeMa: 1, pulseWidthUs: 500, frequencyHz: 10 }, effectiveCaps({ therapist: makeTherapistCaps(), electrodeAreaCm2: 10 })).output.pulseWidthUs, expected: 400, tolerance: 0 },
    { name: "frequency below 1 Hz -> 1 Hz", actual: () => clampOutput({ amplitudeMa: 1, pulseWidthUs: 100, frequencyHz: 0.5 }, hardOnlyCaps(10)).output.frequencyHz, expected: 1, tolerance: 0 },
    { name: "no caps: amplitude 0", actual: () => clampOutput({ amplitudeMa: 10, pulseWidthUs: 100, frequencyHz: 10 }, NO_CAPS).output.amplitudeMa, expected: 0, tolerance: 0 },
    { name: "ramp through the choke point: 10 mA + 30 mA/s x 100 ms", actual: () => clampOutput({ amplitudeMa: 50, pulseWidthUs: 100, frequencyHz: 10 }, hardOnlyCaps(100), { fromMa: 10, elapsedMs: 100 }).output.amplitudeMa, expected: 13, tolerance: 0 },
    // --- plan
    { name: "strengthen envelope: full at the end of the ramp up", actual: () => cycleEnvelope(makeStrengthenPhase(), 1000).factor, expected: 1, tolerance: 0 },
    { name: "strengthen envelope: 0 in the rest", actual: () => cycleEnvelope(makeStrengthenPhase(), 8000).factor, expected: 0, tolerance: 0 },
    { name: "ETS arms at exactly the trigger", actual: () => etsNext(etsStart(), 60, 10, makeEtsPhase({ triggerPct: 60 })).stage, expected: EtsStage.Armed, tolerance: 0 },
    {
        name: "ETS: an unknown level disarms (no assist)",
        actual: () => {
            const p = makeEtsPhase({ triggerPct: 60 })
            return etsNext(etsNext(etsStart(), 70, 0, p), NaN, 10, p).stage
        },
        expected: EtsStage.Waiting,
        tolerance: 0,
    },
    // --- the rest record across the module's power cycles (src/core/stim/rest-record.ts): settings JSON, Infinity, typeof
    { name: "rest record: none on record -> any rest", actual: () => (restBeforeBootMs(restRecordOf(null), 1000, 0) === Infinity ? 1 : 0), expected: 1, tolerance: 0 },
    {
        name: "rest record: the end 5 h ago by the clock -> 5 h",
        actual: () => restBeforeBootMs(restRecordOf(JSON.parse(JSON.stringify(storedRestRecord({ open: false, wallS: 1790000000 })))), 60000, 1790018000),
        expected: 18000000,
        tolerance: 0,
    },
    { name: "rest record: the clock not set now -> the uptime", actual: () => restBeforeBootMs(restRecordOf({ o: 0, w: 1790000000 }), 60000, 0), expected: 60000, tolerance: 0 },
    { name: "rest record: open (a power cut in the session) -> the uptime", actual: () => restBeforeBootMs(restRecordOf({ o: 1, w: 1780000000 }), 60000, 1790000000), expected: 60000, tolerance: 0 },
    { name: "rest record: a value that does not read -> the uptime", actual: () => restBeforeBootMs(restRecordOf("junk"), 60000, 1790000000), expected: 60000, tolerance: 0 },
    // the setting's raw text, as the module reads it (not readSetting: it reads a value that does not parse as none)
    { name: "rest record text: none stored -> any rest", actual: () => (restBeforeBootMs(restRecordOfText(""), 1000, 0) === Infinity ? 1 : 0), expected: 1, tolerance: 0 },
    {
        name: "rest record text: as stored, the end 5 h ago -> 5 h",
        actual: () => restBeforeBootMs(restRecordOfText(restRecordText({ open: false, wallS: 1790000000 })), 60000, 1790018000),
        expected: 18000000,
        tolerance: 0,
    },
    { name: "rest record text: cut short (does not parse) -> the uptime", actual: () => restBeforeBootMs(restRecordOfText('{"o":0,"w":17'), 60000, 1790018000), expected: 60000, tolerance: 0 },
    { name: "rest record text: a stored null -> the uptime", actual: () => restBeforeBootMs(restRecordOfText("null"), 60000, 1790018000), expected: 60000, tolerance: 0 },
]
