import { describe, expect, test } from "vitest"
import { parseReplayCsv, ReplayFormatError, replaySource } from "../../host/sim/replay"

const HEADER = "time_ms,pressure_cmH2O,emg_uV"

describe("replay CSV", () => {
    test("reads samples and the rate from the time column", () => {
        const t = parseReplayCsv(`${HEADER}\n0,15,3\n10,15.5,3.5\n20,16,4\n`)
        expect(t.sampleRateHz).toBe(100)
        expect(t.samples).toEqual([
            { pressureCmH2O: 15, emgUv: 3 },
            { pressureCmH2O: 15.5, emgUv: 3.5 },
            { pressureCmH2O: 16, emgUv: 4 },
        ])
        // plays once, then holds the last sample
        expect(replaySource(t)(5, 50)).toEqual({ pressureCmH2O: 16, emgUv: 4 })
    })

    test.each([
        ["wrong header", "time,p,e\n0,1,2\n10,1,2", /:1: the header must be/],
        ["missing value", `${HEADER}\n0,1,2\n10,1`, /:3: expected 3 values/],
        ["not a number", `${HEADER}\n0,1,2\n10,x,2`, /:3: not a number/],
        ["negative EMG", `${HEADER}\n0,1,2\n10,1,-2`, /:3: emg_uV is an envelope/],
        ["time going back", `${HEADER}\n0,1,2\n10,1,2\n5,1,2`, /:4: time_ms must increase/],
        ["uneven spacing", `${HEADER}\n0,1,2\n10,1,2\n20,1,2\n60,1,2\n70,1,2`, /evenly spaced/],
        ["too short", `${HEADER}\n0,1,2`, /at least 2 samples/],
    ])("%s is refused with the line and what is expected", (_name, text, message) => {
        expect(() => parseReplayCsv(text, "trace.csv")).toThrow(ReplayFormatError)
        expect(() => parseReplayCsv(text, "trace.csv")).toThrow(message)
    })
})
