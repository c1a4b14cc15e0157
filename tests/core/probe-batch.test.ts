// The hand-written wire layout in src/core/probe-batch.ts must match what the
// spec tool generates from services/pelvicprobe.md.
import * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import { ProbeBatch, PROBE_BATCH_MAX_SAMPLES, probeBatchBytes, probeBatchCount } from "../../src/core/probe-batch"
import { PROBE_SERVICE, packetInfo } from "../../host/spec"

describe("probe batch layout", () => {
    const format = packetInfo(PROBE_SERVICE, "samples").packFormat!

    test("spec format is the documented one", () => {
        expect(format).toBe("u32 u16.16 r: i22.10 u16.16")
    })

    test("offsets and scales decode what jacdac-ts packs", () => {
        const payload = jd.jdpack(format, [4000000000, 10, [[-12.5, 0.004], [98.0665, 1.25]]] as any)
        const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
        expect(probeBatchCount(payload.length)).toBe(2)
        expect(view.getUint32(ProbeBatch.FirstSeqOffset, true)).toBe(4000000000)
        expect(view.getUint32(ProbeBatch.IntervalOffset, true) / ProbeBatch.IntervalScale).toBe(10)
        const second = ProbeBatch.HeaderBytes + ProbeBatch.SampleBytes
        expect(view.getInt32(ProbeBatch.HeaderBytes + ProbeBatch.PressureOffset, true) / ProbeBatch.PressureScale).toBe(-12.5)
        expect(view.getUint32(second + ProbeBatch.EmgOffset, true) / ProbeBatch.EmgScale).toBe(1.25)
        expect(Math.abs(view.getInt32(second + ProbeBatch.PressureOffset, true) / ProbeBatch.PressureScale - 98.0665)).toBeLessThan(1 / 1024)
    })

    test("the largest batch fits one Jacdac packet and one more does not", () => {
        expect(probeBatchBytes(PROBE_BATCH_MAX_SAMPLES)).toBeLessThanOrEqual(236)
        expect(probeBatchBytes(PROBE_BATCH_MAX_SAMPLES + 1)).toBeGreaterThan(236)
    })

    test("a payload that is not a whole batch is rejected", () => {
        expect(probeBatchCount(7)).toBe(-1)
        expect(probeBatchCount(8 + 5)).toBe(-1)
        expect(probeBatchCount(8)).toBe(0)
    })
})
