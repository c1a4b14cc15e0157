import { SampleSequence, seqDistance } from "../../src/core/sample-sequence"
import type { NumericCase } from "./types"

/** Feeds batches [firstSeq, count] and returns the tracker. */
function feed(batches: number[][]): SampleSequence {
    const s = new SampleSequence()
    for (const b of batches) s.accept(b[0], b[1])
    return s
}

/** Batches 0..3 then 2..5: samples 4 and 5 are new, from index 2 of the batch. */
function feedOverlap(): number {
    const s = new SampleSequence()
    s.accept(0, 4)
    return s.accept(2, 4).acceptFrom
}

export const sequenceCases: NumericCase[] = [
    { name: "in-order batches lose nothing", actual: () => feed([[0, 2], [2, 2], [4, 2]]).lost, expected: 0, tolerance: 0 },
    { name: "in-order batches are all received", actual: () => feed([[0, 2], [2, 2], [4, 2]]).received, expected: 6, tolerance: 0 },
    { name: "a missing batch counts its samples as lost", actual: () => feed([[0, 5], [10, 5]]).lost, expected: 5, tolerance: 0 },
    { name: "the first batch may start anywhere", actual: () => feed([[1000, 4]]).lost, expected: 0, tolerance: 0 },
    { name: "a repeated batch is not received twice", actual: () => feed([[0, 4], [4, 4], [4, 4]]).received, expected: 8, tolerance: 0 },
    { name: "a repeated batch is counted as a duplicate", actual: () => feed([[0, 4], [4, 4], [4, 4]]).duplicates, expected: 1, tolerance: 0 },
    { name: "a repeated batch is not a loss", actual: () => feed([[0, 4], [4, 4], [0, 4], [8, 4]]).lost, expected: 0, tolerance: 0 },
    {
        name: "an overlapping batch hands over only its new samples",
        actual: feedOverlap,
        expected: 2,
        tolerance: 0,
    },
    { name: "sequence numbers wrap at 2^32 without loss", actual: () => feed([[4294967294, 2], [0, 2]]).lost, expected: 0, tolerance: 0 },
    { name: "a loss across the wrap is counted", actual: () => feed([[4294967294, 2], [3, 2]]).lost, expected: 3, tolerance: 0 },
    { name: "after the wrap the next batch follows on without loss", actual: () => feed([[4294967294, 2], [0, 2], [2, 2]]).lost, expected: 0, tolerance: 0 },
    { name: "a jump far back is a probe restart", actual: () => feed([[50000, 2], [0, 2]]).restarts, expected: 1, tolerance: 0 },
    { name: "after a restart the new counter is followed", actual: () => feed([[50000, 2], [0, 2], [2, 2]]).lost, expected: 0, tolerance: 0 },
    { name: "seqDistance forward", actual: () => seqDistance(10, 15), expected: 5, tolerance: 0 },
    { name: "seqDistance across the wrap", actual: () => seqDistance(4294967295, 1), expected: 2, tolerance: 0 },
]
