// The effective caps and the choke point (src/core/stim/caps.ts): one named
// test per limit at its exact boundary, with the therapist override, plus a
// property over random requests and caps.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import {
    AMPLITUDE_MAX_MA,
    AMPLITUDE_RAMP_MAX_MA_PER_S,
    AVERAGE_CURRENT_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    CURRENT_DENSITY_MAX_MA_PER_CM2,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_ENERGY_MAX_MJ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    SESSION_STIM_MAX_MS,
    averageCurrentMa,
    chargePerPhaseUc,
    pulseEnergyMj,
    rmsCurrentDensityMaPerCm2,
    type StimOutput,
} from "../../../src/core/limits"
import {
    AMPLITUDE_RESOLUTION_MA,
    ClampReason,
    NO_CAPS,
    clampBit,
    clampOutput,
    effectiveCaps,
    maxAmplitude,
    type StimCaps,
} from "../../../src/core/stim/caps"
import { makeTherapistCaps } from "../../cases/stim-fixtures"

/** Therapist caps at or above every hard limit, big electrodes: only the hard limits act. */
function hardOnlyCaps(areaCm2 = 100): StimCaps {
    return effectiveCaps({
        therapist: makeTherapistCaps({ amplitudeMaxMa: 200, pulseWidthMaxUs: 1000, frequencyMaxHz: 500, sessionStimMaxMs: 10 * SESSION_STIM_MAX_MS }),
        electrodeAreaCm2: areaCm2,
    })
}

function out(amplitudeMa: number, pulseWidthUs = 200, frequencyHz = 10): StimOutput {
    return { amplitudeMa, pulseWidthUs, frequencyHz }
}

describe("effective caps = min(hard limits, therapist caps)", () => {
    test("therapist caps below the hard limits win, and say so", () => {
        const c = effectiveCaps({ therapist: makeTherapistCaps({ amplitudeMaxMa: 40, pulseWidthMaxUs: 300, frequencyMaxHz: 50, sessionStimMaxMs: 900000 }), electrodeAreaCm2: 8 })
        expect(c.usable).toBe(true)
        expect([c.amplitudeMaxMa, c.pulseWidthMaxUs, c.frequencyMaxHz, c.sessionStimMaxMs, c.electrodeAreaCm2]).toEqual([40, 300, 50, 900000, 8])
        expect([c.amplitudeByTherapist, c.pulseWidthByTherapist, c.frequencyByTherapist, c.sessionByTherapist]).toEqual([true, true, true, true])
    })

    test("therapist caps above the hard limits cannot raise them", () => {
        const c = hardOnlyCaps()
        expect([c.amplitudeMaxMa, c.pulseWidthMaxUs, c.frequencyMaxHz, c.sessionStimMaxMs]).toEqual([AMPLITUDE_MAX_MA, PULSE_WIDTH_MAX_US, FREQUENCY_MAX_HZ, SESSION_STIM_MAX_MS])
        expect([c.amplitudeByTherapist, c.pulseWidthByTherapist, c.frequencyByTherapist, c.sessionByTherapist]).toEqual([false, false, false, false])
        expect([c.chargePerPhaseMaxUc, c.averageCurrentMaxMa, c.currentDensityMaxMaPerCm2, c.pulseEnergyMaxMj]).toEqual([
            CHARGE_PER_PHASE_MAX_UC,
            AVERAGE_CURRENT_MAX_MA,
            CURRENT_DENSITY_MAX_MA_PER_CM2,
            PULSE_ENERGY_MAX_MJ,
        ])
    })

    test("a therapist cap equal to the hard limit is reported as the hard cap", () => {
        const c = effectiveCaps({ therapist: makeTherapistCaps({ amplitudeMaxMa: AMPLITUDE_MAX_MA }), electrodeAreaCm2: 10 })
        expect(c.amplitudeByTherapist).toBe(false)
    })

    const invalid: [string, object][] = [
        ["no therapist caps", { therapist: undefined, electrodeAreaCm2: 10 }],
        ["no electrode area", { therapist: makeTherapistCaps(), electrodeAreaCm2: undefined }],
        ["electrode area 0", { therapist: makeTherapistCaps(), electrodeAreaCm2: 0 }],
        ["electrode area NaN", { therapist: makeTherapistCaps(), electrodeAreaCm2: NaN }],
        ["amplitude cap 0", { therapist: makeTherapistCaps({ amplitudeMaxMa: 0 }), electrodeAreaCm2: 10 }],
        ["amplitude cap negative", { therapist: makeTherapistCaps({ amplitudeMaxMa: -5 }), electrodeAreaCm2: 10 }],
        ["pulse width cap NaN", { therapist: makeTherapistCaps({ pulseWidthMaxUs: NaN }), electrodeAreaCm2: 10 }],
        ["frequency cap Infinity", { therapist: makeTherapistCaps({ frequencyMaxHz: Infinity }), electrodeAreaCm2: 10 }],
        ["session cap 0", { therapist: makeTherapistCaps({ sessionStimMaxMs: 0 }), electrodeAreaCm2: 10 }],
        [`pulse width cap under PULSE_WIDTH_MIN_US (${PULSE_WIDTH_MIN_US - 1} us)`, { therapist: makeTherapistCaps({ pulseWidthMaxUs: PULSE_WIDTH_MIN_US - 1 }), electrodeAreaCm2: 10 }],
        [`frequency cap under FREQUENCY_MIN_HZ (0.99 Hz)`, { therapist: makeTherapistCaps({ frequencyMaxHz: 0.99 }), electrodeAreaCm2: 10 }],
    ]
    test.each(invalid)("%s: no stimulation (NO_CAPS, fail safe)", (_name, input) => {
        expect(effectiveCaps(input as Parameters<typeof effectiveCaps>[0])).toEqual(NO_CAPS)
    })

    test("pulse width cap exactly PULSE_WIDTH_MIN_US and frequency cap exactly FREQUENCY_MIN_HZ are usable", () => {
        const c = effectiveCaps({ therapist: makeTherapistCaps({ pulseWidthMaxUs: PULSE_WIDTH_MIN_US, frequencyMaxHz: FREQUENCY_MIN_HZ }), electrodeAreaCm2: 10 })
        expect(c.usable).toBe(true)
    })
})

describe("clampOutput: amplitude", () => {
    test(`exactly AMPLITUDE_MAX_MA (${AMPLITUDE_MAX_MA} mA) passes; 1/256 mA more is clamped (AmplitudeHardCap)`, () => {
        const caps = hardOnlyCaps()
        const at = clampOutput(out(AMPLITUDE_MAX_MA, 100), caps)
        expect(at.clamped).toBe(false)
        expect(at.output.amplitudeMa).toBe(AMPLITUDE_MAX_MA)
        const over = clampOutput(out(AMPLITUDE_MAX_MA + AMPLITUDE_RESOLUTION_MA, 100), caps)
        expect(over.output.amplitudeMa).toBe(AMPLITUDE_MAX_MA)
        expect(over.reason).toBe(ClampReason.AmplitudeHardCap)
    })

    test("the therapist amplitude cap binds below the hard one (AmplitudeTherapistCap)", () => {
        const caps = effectiveCaps({ therapist: makeTherapistCaps({ amplitudeMaxMa: 35 }), electrodeAreaCm2: 10 })
        expect(clampOutput(out(35), caps).clamped).toBe(false)
        const r = clampOutput(out(35.01), caps)
        expect(r.output.amplitudeMa).toBe(35)
        expect(r.reason).toBe(ClampReason.AmplitudeTherapistCap)
    })

    test("negative and NaN amplitudes become 0", () => {
        const caps = hardOnlyCaps()
        expect(clampOutput(out(-1), caps).output.amplitudeMa).toBe(0)
        expect(clampOutput(out(-1), caps).reason).toBe(ClampReason.AmplitudeNegative)
        expect(clampOutput(out(NaN), caps).output.amplitudeMa).toBe(0)
        expect(clampOutput(out(NaN), caps).reason).toBe(ClampReason.NotANumber)
        expect(clampOutput(out(Infinity), caps).output.amplitudeMa).toBe(0)
    })

    test("no caps: amplitude 0 whatever is asked (NoStimCaps)", () => {
        const r = clampOutput(out(10), NO_CAPS)
        expect(r.output.amplitudeMa).toBe(0)
        expect(r.reason).toBe(ClampReason.NoStimCaps)
    })

    test("quantized down to the module's u8.8 resolution, never up", () => {
        const r = clampOutput(out(10.003), hardOnlyCaps())
        expect(r.output.amplitudeMa).toBe(10)
        expect(r.clamped).toBe(false)
        expect(clampOutput(out(AMPLITUDE_RESOLUTION_MA * 0.99), hardOnlyCaps()).output.amplitudeMa).toBe(0)
    })

    test("a hand-made caps object above the hard limits cannot raise them", () => {
        const forged: StimCaps = { ...hardOnlyCaps(), amplitudeMaxMa: 500, pulseWidthMaxUs: 5000, frequencyMaxHz: 5000, chargePerPhaseMaxUc: 1e6, averageCurrentMaxMa: 1e6, currentDensityMaxMaPerCm2: 1e6, pulseEnergyMaxMj: 1e6 }
        const r = clampOutput({ amplitudeMa: 500, pulseWidthUs: 5000, frequencyHz: 5000 }, forged)
        expect(r.output.pulseWidthUs).toBe(PULSE_WIDTH_MAX_US)
        expect(r.output.frequencyHz).toBe(FREQUENCY_MAX_HZ)
        expect(chargePerPhaseUc(r.output)).toBeLessThanOrEqual(CHARGE_PER_PHASE_MAX_UC)
        expect(r.output.amplitudeMa).toBeLessThanOrEqual(AMPLITUDE_MAX_MA)
    })
})

describe("clampOutput: pulse width and frequency", () => {
    test(`pulse width: ${PULSE_WIDTH_MAX_US} us passes, ${PULSE_WIDTH_MAX_US + 1} us -> ${PULSE_WIDTH_MAX_US} (PulseWidthHardCap)`, () => {
        const caps = hardOnlyCaps()
        expect(clampOutput(out(1, PULSE_WIDTH_MAX_US), caps).clamped).toBe(false)
        const r = clampOutput(out(1, PULSE_WIDTH_MAX_US + 1), caps)
        expect(r.output.pulseWidthUs).toBe(PULSE_WIDTH_MAX_US)
        expect(r.reason).toBe(ClampReason.PulseWidthHardCap)
    })

    test("pulse width: the therapist cap binds below the hard one (PulseWidthTherapistCap)", () => {
        const caps = effectiveCaps({ therapist: makeTherapistCaps({ pulseWidthMaxUs: 300 }), electrodeAreaCm2: 10 })
        expect(clampOutput(out(1, 300), caps).clamped).toBe(false)
        const r = clampOutput(out(1, 301), caps)
        expect(r.output.pulseWidthUs).toBe(300)
        expect(r.reason).toBe(ClampReason.PulseWidthTherapistCap)
    })

    test(`pulse width: ${PULSE_WIDTH_MIN_US} us passes, ${PULSE_WIDTH_MIN_US - 1} us -> ${PULSE_WIDTH_MIN_US} (PulseWidthMin); NaN -> ${PULSE_WIDTH_MIN_US}`, () => {
        const caps = hardOnlyCaps()
        expect(clampOutput(out(1, PULSE_WIDTH_MIN_US), caps).clamped).toBe(false)
        expect(clampOutput(out(1, PULSE_WIDTH_MIN_US - 1), caps).reason).toBe(ClampReason.PulseWidthMin)
        expect(clampOutput(out(1, PULSE_WIDTH_MIN_US - 1), caps).output.pulseWidthUs).toBe(PULSE_WIDTH_MIN_US)
        expect(clampOutput(out(1, NaN), caps).output.pulseWidthUs).toBe(PULSE_WIDTH_MIN_US)
    })

    test(`frequency: ${FREQUENCY_MAX_HZ} Hz passes, ${FREQUENCY_MAX_HZ + 1} Hz -> ${FREQUENCY_MAX_HZ} (FrequencyHardCap)`, () => {
        const caps = hardOnlyCaps()
        expect(clampOutput(out(1, 100, FREQUENCY_MAX_HZ), caps).clamped).toBe(false)
        const r = clampOutput(out(1, 100, FREQUENCY_MAX_HZ + 1), caps)
        expect(r.output.frequencyHz).toBe(FREQUENCY_MAX_HZ)
        expect(r.reason).toBe(ClampReason.FrequencyHardCap)
    })

    test("frequency: the therapist cap binds below the hard one (FrequencyTherapistCap)", () => {
        const caps = effectiveCaps({ therapist: makeTherapistCaps({ frequencyMaxHz: 35 }), electrodeAreaCm2: 10 })
        expect(clampOutput(out(1, 100, 35), caps).clamped).toBe(false)
        expect(clampOutput(out(1, 100, 36), caps).reason).toBe(ClampReason.FrequencyTherapistCap)
    })

    test(`frequency: ${FREQUENCY_MIN_HZ} Hz passes, 0.5 Hz -> ${FREQUENCY_MIN_HZ} (FrequencyMin)`, () => {
        const caps = hardOnlyCaps()
        expect(clampOutput(out(1, 100, FREQUENCY_MIN_HZ), caps).clamped).toBe(false)
        const r = clampOutput(out(1, 100, 0.5), caps)
        expect(r.output.frequencyHz).toBe(FREQUENCY_MIN_HZ)
        expect(r.reason).toBe(ClampReason.FrequencyMin)
    })

    test("pulse width and frequency are whole numbers (u16 registers), rounded down", () => {
        const r = clampOutput(out(1, 250.9, 35.7), hardOnlyCaps())
        expect([r.output.pulseWidthUs, r.output.frequencyHz]).toEqual([250, 35])
    })
})

describe("clampOutput: derived limits", () => {
    test(`charge per phase: 40000/450 mA at 450 us is the boundary (CHARGE_PER_PHASE_MAX_UC = ${CHARGE_PER_PHASE_MAX_UC} uC)`, () => {
        const caps = hardOnlyCaps()
        const below = clampOutput(out(88.875, 450), caps) // 39.99 uC, a register value
        expect(below.clamped).toBe(false)
        const r = clampOutput(out(AMPLITUDE_MAX_MA, 450), caps)
        expect(r.reason).toBe(ClampReason.ChargePerPhase)
        expect(chargePerPhaseUc(r.output)).toBeLessThanOrEqual(CHARGE_PER_PHASE_MAX_UC)
        expect(r.output.amplitudeMa).toBe(Math.floor((40000 / 450) * 256) / 256)
    })

    test(`average current: at 100 Hz and 450 us it ties with the charge cap (AVERAGE_CURRENT_MAX_MA = ${AVERAGE_CURRENT_MAX_MA} mA)`, () => {
        const r = clampOutput(out(AMPLITUDE_MAX_MA, 450, 100), hardOnlyCaps())
        expect(averageCurrentMa(r.output)).toBeLessThanOrEqual(AVERAGE_CURRENT_MAX_MA)
        expect(r.limits & clampBit(ClampReason.AverageCurrent)).not.toBe(0)
        expect(r.reason).toBe(ClampReason.ChargePerPhase) // first of a tie
    })

    test("average current: a lower cap binds on its own (AverageCurrent)", () => {
        const caps: StimCaps = { ...hardOnlyCaps(), averageCurrentMaxMa: 2 }
        const r = clampOutput(out(80, 200, 100), caps)
        expect(r.reason).toBe(ClampReason.AverageCurrent)
        expect(averageCurrentMa(r.output)).toBeLessThanOrEqual(2)
        expect(averageCurrentMa({ ...r.output, amplitudeMa: r.output.amplitudeMa + AMPLITUDE_RESOLUTION_MA })).toBeGreaterThan(2)
    })

    test(`rms current density: ${CURRENT_DENSITY_MAX_MA_PER_CM2} mA/cm2 on a 2 cm2 electrode at 50 Hz, 250 us (CurrentDensity)`, () => {
        const caps = hardOnlyCaps(2)
        const r = clampOutput(out(60, 250, 50), caps)
        expect(r.reason).toBe(ClampReason.CurrentDensity)
        expect(rmsCurrentDensityMaPerCm2(r.output, 2)).toBeLessThanOrEqual(CURRENT_DENSITY_MAX_MA_PER_CM2)
        expect(rmsCurrentDensityMaPerCm2({ ...r.output, amplitudeMa: r.output.amplitudeMa + AMPLITUDE_RESOLUTION_MA }, 2)).toBeGreaterThan(CURRENT_DENSITY_MAX_MA_PER_CM2)
        // 4 mA rms / sqrt(2 x 250 us x 50 Hz) = 25.3 mA
        expect(r.output.amplitudeMa).toBeCloseTo(4 / Math.sqrt(0.025), 1)
    })

    test(`pulse energy: never binds at the hard corners (3.6 mJ << PULSE_ENERGY_MAX_MJ = ${PULSE_ENERGY_MAX_MJ} mJ)`, () => {
        expect(pulseEnergyMj({ amplitudeMa: AMPLITUDE_MAX_MA, pulseWidthUs: PULSE_WIDTH_MAX_US, frequencyHz: 1 })).toBeCloseTo(3.645, 3)
        const r = clampOutput(out(AMPLITUDE_MAX_MA, PULSE_WIDTH_MAX_US, 1), hardOnlyCaps())
        expect(r.limits & clampBit(ClampReason.PulseEnergy)).toBe(0)
    })

    test("pulse energy: a lower cap binds on its own (PulseEnergy)", () => {
        const caps: StimCaps = { ...hardOnlyCaps(), pulseEnergyMaxMj: 1 }
        const r = clampOutput(out(80, 400, 1), caps)
        expect(r.reason).toBe(ClampReason.PulseEnergy)
        expect(pulseEnergyMj(r.output)).toBeLessThanOrEqual(1)
    })

    test(`ramp: from 10 mA, 100 ms later at most 10 + ${AMPLITUDE_RAMP_MAX_MA_PER_S} x 0.1 = 13 mA (RampRate)`, () => {
        const caps = hardOnlyCaps()
        const r = clampOutput(out(50), caps, { fromMa: 10, elapsedMs: 100 })
        expect(r.output.amplitudeMa).toBe(13)
        expect(r.reason).toBe(ClampReason.RampRate)
        expect(clampOutput(out(13), caps, { fromMa: 10, elapsedMs: 100 }).clamped).toBe(false)
        expect(clampOutput(out(50), caps, { fromMa: 10, elapsedMs: 0 }).output.amplitudeMa).toBe(10)
        // going down is never limited
        expect(clampOutput(out(0), caps, { fromMa: 50, elapsedMs: 0 }).output.amplitudeMa).toBe(0)
    })

    test("maxAmplitude: what the up button can reach, with the limit that sets it", () => {
        const r = maxAmplitude(450, 10, hardOnlyCaps())
        expect(r.reason).toBe(ClampReason.ChargePerPhase)
        expect(maxAmplitude(100, 10, hardOnlyCaps()).output.amplitudeMa).toBe(AMPLITUDE_MAX_MA)
    })
})

describe("clampOutput: property", () => {
    const anyNumber = fc.oneof(
        { weight: 8, arbitrary: fc.double({ min: -50, max: 2000, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, 0, -0) }
    )
    const therapist = fc.record({
        amplitudeMaxMa: anyNumber,
        pulseWidthMaxUs: anyNumber,
        frequencyMaxHz: anyNumber,
        sessionStimMaxMs: fc.double({ min: 1, max: 1e8, noNaN: true }),
    })

    test("whatever is asked, every limit holds exactly on the output", () => {
        fc.assert(
            fc.property(
                therapist,
                fc.oneof(fc.double({ min: 0.01, max: 100, noNaN: true }), fc.constantFrom(NaN, 0)),
                anyNumber,
                anyNumber,
                anyNumber,
                fc.option(fc.record({ fromMa: anyNumber, elapsedMs: anyNumber }), { nil: undefined }),
                (t, area, a, pw, f, ramp) => {
                    const caps = effectiveCaps({ therapist: t, electrodeAreaCm2: area })
                    const r = clampOutput({ amplitudeMa: a, pulseWidthUs: pw, frequencyHz: f }, caps, ramp)
                    const o = r.output
                    expect(o.amplitudeMa).toBeGreaterThanOrEqual(0)
                    expect(o.pulseWidthUs).toBeGreaterThanOrEqual(PULSE_WIDTH_MIN_US)
                    expect(o.pulseWidthUs).toBeLessThanOrEqual(PULSE_WIDTH_MAX_US)
                    expect(o.frequencyHz).toBeGreaterThanOrEqual(FREQUENCY_MIN_HZ)
                    expect(o.frequencyHz).toBeLessThanOrEqual(FREQUENCY_MAX_HZ)
                    expect(Math.floor(o.amplitudeMa * 256)).toBe(o.amplitudeMa * 256)
                    if (!caps.usable) {
                        expect(o.amplitudeMa).toBe(0)
                        return
                    }
                    expect(o.amplitudeMa).toBeLessThanOrEqual(Math.min(AMPLITUDE_MAX_MA, t.amplitudeMaxMa))
                    expect(o.pulseWidthUs).toBeLessThanOrEqual(t.pulseWidthMaxUs)
                    expect(o.frequencyHz).toBeLessThanOrEqual(t.frequencyMaxHz)
                    expect(chargePerPhaseUc(o)).toBeLessThanOrEqual(CHARGE_PER_PHASE_MAX_UC)
                    expect(averageCurrentMa(o)).toBeLessThanOrEqual(AVERAGE_CURRENT_MAX_MA)
                    expect(rmsCurrentDensityMaPerCm2(o, area)).toBeLessThanOrEqual(CURRENT_DENSITY_MAX_MA_PER_CM2)
                    expect(pulseEnergyMj(o)).toBeLessThanOrEqual(PULSE_ENERGY_MAX_MJ)
                    if (ramp) {
                        const from = Number.isFinite(ramp.fromMa) && ramp.fromMa > 0 ? ramp.fromMa : 0
                        const dt = Number.isFinite(ramp.elapsedMs) && ramp.elapsedMs > 0 ? ramp.elapsedMs : 0
                        expect(o.amplitudeMa - from).toBeLessThanOrEqual((AMPLITUDE_RAMP_MAX_MA_PER_S * dt) / 1000)
                    }
                    // never more than asked
                    if (Number.isFinite(a)) expect(o.amplitudeMa).toBeLessThanOrEqual(Math.max(0, a))
                }
            ),
            { numRuns: 5000 }
        )
    })
})
