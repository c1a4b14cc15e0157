// Flash budget: bytes per session from the format, checked against a real
// session written to the store, and the chip choice (docs/engineering.md,
// "Session log storage").
import { describe, expect, test } from "vitest"
import { w25qGeometry, W25Q128_SECTORS, W25Q64_SECTORS } from "../../../src/core/log/block-device"
import { logCapacity, sessionBytes, TYPICAL_SESSION, type SessionPlan } from "../../../src/core/log/capacity"
import { MemoryNor } from "../../../src/core/log/memory-nor"
import { EventCode, PhaseOutcome, RecordKind } from "../../../src/core/log/records"
import { LogStore } from "../../../src/core/log/store"
import { makeEvent, makeHeader, makeRep, makeSummary, makeTrace } from "../../cases/log.cases"
import { CCM_TAG_BYTES, ccmCipher } from "./helpers"

const W25Q128 = w25qGeometry(W25Q128_SECTORS)
const W25Q64 = w25qGeometry(W25Q64_SECTORS)

describe("capacity", () => {
    test("the estimate is exactly what the store writes for that session", async () => {
        const plan: SessionPlan = {
            durationMin: 2,
            traceRateHz: 10,
            traceSamplesPerChunk: 50,
            repRecords: 6,
            events: 4,
            phases: 2,
            summaryChannels: 2,
            headerStringBytes: "e1daef9b9723f6da".length + "0.1.0".length + "relax-first".length,
            cipherOverheadBytes: CCM_TAG_BYTES,
        }
        const nor = new MemoryNor({ geometry: { sectorSize: 4096, pageSize: 256, sectorCount: 8 } })
        const store = new LogStore(nor, { cipher: ccmCipher("k") })
        await store.recover()
        const { session } = await store.append(makeHeader(1))
        for (let p = 0; p < plan.phases; p++) await store.append({ kind: RecordKind.PhaseStart, phaseIndex: p, phaseKind: 1, timeMs: 0 })
        for (let k = 0; k < 24; k++) await store.append(makeTrace(50, k * 5000)) // 2 min at 10 Hz
        for (let k = 0; k < plan.repRecords; k++) await store.append(makeRep(k))
        for (let k = 0; k < plan.events; k++) await store.append(makeEvent(EventCode.Pause, 0))
        for (let p = 0; p < plan.phases; p++)
            await store.append({ kind: RecordKind.PhaseEnd, phaseIndex: p, phaseKind: 1, timeMs: 0, outcome: PhaseOutcome.Completed, repsDone: 0 })
        await store.append(makeSummary())
        const before = store.usage().usedBytes
        await store.acknowledge(session, store.sessionInfo(session)!.lastSeq)
        const ackBytes = store.usage().usedBytes - before
        expect(store.sessionInfo(session)!.sizeBytes + ackBytes).toBe(sessionBytes(plan).total)
    })

    test("the handheld's W25Q128 holds 90 daily sessions of 30 min with margin; a W25Q64 would not", () => {
        const thirty = { ...TYPICAL_SESSION, durationMin: 30 }
        expect(logCapacity(W25Q128, thirty).sessions).toBeGreaterThanOrEqual(1.8 * 90)
        expect(logCapacity(W25Q64, thirty).sessions).toBeLessThan(90)
        expect(logCapacity(W25Q128, TYPICAL_SESSION).sessions).toBeGreaterThanOrEqual(2 * 90)
    })

    test("the trace dominates and scales with rate and length", () => {
        const base = sessionBytes(TYPICAL_SESSION)
        expect(base.trace / base.total).toBeGreaterThan(0.8)
        expect(sessionBytes({ ...TYPICAL_SESSION, traceRateHz: 20 }).trace).toBeGreaterThan(1.9 * base.trace)
        expect(sessionBytes({ ...TYPICAL_SESSION, durationMin: 50 }).total).toBeGreaterThan(1.8 * base.total)
    })

    test("the figures in docs/engineering.md", () => {
        const rows = [20, 25, 30].map(min => {
            const plan = { ...TYPICAL_SESSION, durationMin: min }
            return [min, sessionBytes(plan).total, logCapacity(W25Q64, plan).sessions, logCapacity(W25Q128, plan).sessions]
        })
        console.log("min, bytes/session, sessions in W25Q64, sessions in W25Q128: " + JSON.stringify(rows))
        expect(rows).toEqual([
            [20, 68280, 120, 241],
            [25, 82260, 100, 200],
            [30, 96240, 85, 171],
        ])
    })
})
