// The stimulator's contract in numbers (src/core/stim-module.ts) against
// what the spec tool generates from services/stimulator.md, and against the
// supervisor that writes to it: the firmware decodes and encodes by hand
// with these numbers, so they must be the spec's.
import * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import {
    AMPLITUDE_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    FREQUENCY_MAX_HZ,
    FREQUENCY_MIN_HZ,
    PULSE_WIDTH_MAX_US,
    PULSE_WIDTH_MIN_US,
    STIM_WATCHDOG_TIMEOUT_MS,
} from "../../../src/core/limits"
import { AMPLITUDE_RESOLUTION_MA } from "../../../src/core/stim/caps"
import { MODULE_RAMP_DOWN_MS, MODULE_RAMP_UP_MS } from "../../../src/core/stim/supervisor"
import {
    amplitudeToRaw,
    StimModuleFault,
    StimStatusFlags,
    STIM_AMPLITUDE_SCALE,
    STIM_HARDWARE_LIMITS,
    STIM_MODULE_WATCHDOG_MS,
    STIM_STATUS,
    STIM_STATUS_INTERVAL_MS,
} from "../../../src/core/stim-module"
import { packetInfo, serviceInfo, STIM_SERVICE } from "../../../host/spec"
import { SimStimServer } from "../../../host/sim/stim-server"

type Members = Record<string, number>

function specEnum(name: string): Members {
    const enums = (serviceInfo(STIM_SERVICE) as unknown as { enums: Record<string, { members: Members }> }).enums
    return enums[name].members
}

function coreEnum(e: object): Members {
    return Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v === "number")) as Members
}

const format = (name: string) => packetInfo(STIM_SERVICE, name).packFormat

describe("services/stimulator.md and src/core/stim-module.ts agree", () => {
    test("Fault and StatusFlags are the same numbers", () => {
        expect(specEnum("Fault")).toEqual(coreEnum(StimModuleFault))
        expect(specEnum("StatusFlags")).toEqual(coreEnum(StimStatusFlags))
    })

    test("status: format f32 u16 u8 u8, and the offsets decode what jacdac-ts packs", () => {
        expect(format("status")).toBe("f32 u16 u8 u8")
        const data = jd.jdpack(format("status")!, [88.88671875, 65535, StimModuleFault.WatchdogExpired, 0x05])
        expect(data.length).toBe(STIM_STATUS.bytes)
        const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
        expect(v.getFloat32(STIM_STATUS.deliveredOffset, true)).toBe(88.88671875)
        expect(v.getUint16(STIM_STATUS.loadOffset, true)).toBe(65535)
        expect(v.getUint8(STIM_STATUS.faultOffset)).toBe(StimModuleFault.WatchdogExpired)
        expect(v.getUint8(STIM_STATUS.flagsOffset)).toBe(StimStatusFlags.Enabled | StimStatusFlags.Clamped)
    })

    test("amplitude is u8.8: amplitudeToRaw gives the bytes jacdac-ts packs, at the supervisor's resolution", () => {
        expect(format("amplitude")).toBe("u8.8")
        expect(AMPLITUDE_RESOLUTION_MA).toBe(1 / STIM_AMPLITUDE_SCALE)
        for (const ma of [0, 1 / 256, 0.5, 12.75, 88.88671875, AMPLITUDE_MAX_MA, 255 + 255 / 256]) {
            const packed = jd.jdpack<[number]>("u8.8", [ma])
            expect(packed[0] | (packed[1] << 8)).toBe(amplitudeToRaw(ma))
        }
    })

    test("amplitudeToRaw never rounds up, and NaN / negative give 0", () => {
        expect(amplitudeToRaw(12.3)).toBe(3148)
        expect(amplitudeToRaw(0.0039)).toBe(0)
        expect(amplitudeToRaw(NaN)).toBe(0)
        expect(amplitudeToRaw(-1)).toBe(0)
        expect(amplitudeToRaw(1000)).toBe(0xffff)
    })

    test("the firmware's writes fit their registers: pulse width and frequency u16, ramps u16 ms, enabled bool", () => {
        expect(format("pulse_width")).toBe("u16")
        expect(format("frequency")).toBe("u16")
        expect(format("ramp_up")).toBe("u16")
        expect(format("ramp_down")).toBe("u16")
        expect(format("enabled")).toBe("u8")
        expect(packetInfo(STIM_SERVICE, "enabled").identifier).toBe(0x01)
        expect(packetInfo(STIM_SERVICE, "keep_alive", "command").identifier).toBe(0x80)
    })
})

describe("the module's numbers match the device's limits and the supervisor", () => {
    test("hardware limits = the hard limits of limits.ts; min_ramp_up = the supervisor's MODULE_RAMP_UP_MS", () => {
        expect(STIM_HARDWARE_LIMITS).toMatchObject({
            maxAmplitudeMa: AMPLITUDE_MAX_MA,
            minPulseWidthUs: PULSE_WIDTH_MIN_US,
            maxPulseWidthUs: PULSE_WIDTH_MAX_US,
            minFrequencyHz: FREQUENCY_MIN_HZ,
            maxFrequencyHz: FREQUENCY_MAX_HZ,
            maxChargePerPhaseNc: CHARGE_PER_PHASE_MAX_UC * 1000,
            minRampUpMs: MODULE_RAMP_UP_MS,
        })
        expect(MODULE_RAMP_DOWN_MS).toBe(0)
    })

    test("the simulated module publishes watchdog_timeout 250 ms, status_interval 50 ms and its hardware limits", () => {
        const s = new SimStimServer()
        const reg = (name: string) => s.register(packetInfo(STIM_SERVICE, name).identifier)!.values()
        expect(STIM_MODULE_WATCHDOG_MS).toBe(STIM_WATCHDOG_TIMEOUT_MS)
        expect(reg("watchdog_timeout")).toEqual([STIM_WATCHDOG_TIMEOUT_MS])
        expect(reg("status_interval")).toEqual([STIM_STATUS_INTERVAL_MS])
        expect(reg("hardware_limits")).toEqual([90, 50, 450, 1, 100, 40000, 3000, 10000])
        expect(reg("ramp_up")).toEqual([MODULE_RAMP_UP_MS])
        expect(reg("enabled")).toEqual([0])
        expect(reg("amplitude")).toEqual([0])
    })

    test("the status report is pushed at least 10 times a second (the supervisor's 500 ms silence is 10 missed reports)", () => {
        expect(1000 / STIM_STATUS_INTERVAL_MS).toBeGreaterThanOrEqual(10)
    })
})
