// Properties of the streaming filters against a direct (non-streaming)
// computation, over random inputs. Node only: fast-check does not run in
// the VM; the shared cases cover the VM.
import fc from "fast-check"
import { describe, expect, test } from "vitest"
import { MovingAverage, MovingRms } from "../../src/core/filters"
import { SampleSequence } from "../../src/core/sample-sequence"

const samples = fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 3000 })
const windowLength = fc.integer({ min: 1, max: 64 })

function lastWindow(values: number[], n: number): number[] {
    return values.slice(Math.max(0, values.length - n))
}

describe("streaming filters match the direct formula", () => {
    test("moving average", () => {
        fc.assert(
            fc.property(samples, windowLength, (values, n) => {
                const f = new MovingAverage(n)
                let out = 0
                for (const v of values) out = f.push(v)
                const w = lastWindow(values, n)
                const direct = w.reduce((a, b) => a + b, 0) / w.length
                expect(Math.abs(out - direct)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(direct)) + 1e-7)
            })
        )
    })

    test("moving RMS", () => {
        fc.assert(
            fc.property(samples, windowLength, (values, n) => {
                const f = new MovingRms(n)
                let out = 0
                for (const v of values) out = f.push(v)
                const w = lastWindow(values, n)
                const direct = Math.sqrt(w.reduce((a, b) => a + b * b, 0) / w.length)
                // the running mean square keeps a rounding residue of ~1e-15 of the largest square
                // seen since the last re-sum; its square root dominates when the window is near 0
                const maxSquare = values.reduce((a, b) => Math.max(a, b * b), 0)
                expect(Math.abs(out - direct)).toBeLessThanOrEqual(1e-5 * (1 + direct) + Math.sqrt(1e-12 * maxSquare))
            })
        )
    })
})

describe("sample sequence accounting", () => {
    test("received + lost = span, whatever batches are dropped or repeated", () => {
        fc.assert(
            fc.property(
                fc.integer({ min: 0, max: 2 ** 32 - 1 }),
                fc.integer({ min: 1, max: 28 }),
                fc.array(fc.constantFrom("send", "drop", "repeat"), { minLength: 1, maxLength: 300 }),
                (start, batch, plan) => {
                    const seq = new SampleSequence()
                    let next = start
                    let last = -1
                    let sentAny = false
                    let firstSent = 0
                    let lastSentEnd = 0
                    for (const step of plan) {
                        if (step === "repeat" && last >= 0) seq.accept(last, batch)
                        if (step !== "drop") {
                            seq.accept(next % 2 ** 32, batch)
                            if (!sentAny) firstSent = next
                            sentAny = true
                            last = next % 2 ** 32
                            lastSentEnd = next + batch
                        }
                        next += batch
                    }
                    if (!sentAny) return
                    expect(seq.received + seq.lost).toBe(lastSentEnd - firstSent)
                    expect(seq.restarts).toBe(0)
                }
            )
        )
    })
})
