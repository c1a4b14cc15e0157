// The simulated probe's feed (host/sim/probe-feed.ts) and its flow control
// (host/sim/feed-flow.ts): a firmware that falls behind holds the feed back
// instead of overflowing its queue, and the wait is not caught up in a burst.
// Real timers, a recording server: the bounds below hold however late the
// timers run, since they compare what was sent with the wall time measured.
import { afterEach, describe, expect, test } from "vitest"
import { PROBE_QUEUE_SAMPLES } from "../../../src/core/probe-batch"
import { FEED_STALLED_AFTER_MS, FeedFlowControl } from "../../../host/sim/feed-flow"
import { startProbeFeed, type ProbeFeed } from "../../../host/sim/probe-feed"
import type { ProbeSample, SimProbeServer } from "../../../host/sim/probe-server"

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** Records each batch's first sequence number and size. */
function recordingServer() {
    const batches: { firstSeq: number; count: number }[] = []
    const server = {
        pushBatch: async (firstSeq: number, _intervalMs: number, batch: ProbeSample[]) => {
            batches.push({ firstSeq, count: batch.length })
        },
    } as unknown as SimProbeServer
    const lastSent = () => (batches.length ? batches[batches.length - 1].firstSeq + batches[batches.length - 1].count - 1 : -1)
    return { server, batches, lastSent }
}

const source = () => ({ pressureCmH2O: 0, emgUv: 3 })

describe("probe feed flow control", () => {
    let feed: ProbeFeed | undefined
    afterEach(() => feed?.stop())

    test("without flow control the feed keeps its rate, whatever the firmware does", async () => {
        const rec = recordingServer()
        const t0 = performance.now()
        feed = startProbeFeed({ server: rec.server, source, sampleRateHz: 1000, batchSize: 10 })
        await sleep(300)
        const wallMs = performance.now() - t0
        // every sample due by now, less the batch under way (timers only run late, so never more than due)
        expect(feed.generated()).toBeLessThanOrEqual(Math.floor(wallMs) + 10)
        expect(feed.generated()).toBeGreaterThan(150)
        expect(feed.heldMs()).toBe(0)
    })

    test("a firmware that handles nothing past sample 49 holds the feed within its queue of that sample", async () => {
        const rec = recordingServer()
        feed = startProbeFeed({ server: rec.server, source, sampleRateHz: 1000, batchSize: 10, handledSeq: () => 49 })
        await sleep(300)
        // 300 samples were due: the feed stopped where the firmware's queue would be full
        const limit = 49 + PROBE_QUEUE_SAMPLES - 10
        expect(rec.lastSent()).toBeLessThanOrEqual(limit)
        expect(rec.lastSent()).toBeGreaterThan(limit - 10)
        expect(feed.heldMs()).toBeGreaterThan(100)
        // batches still come whole and in order
        expect(rec.batches.every((b, i) => b.count === 10 && b.firstSeq === i * 10)).toBe(true)
    })

    test("released, the feed goes on at its rate: the wall time it waited is not sent in a burst", async () => {
        const rec = recordingServer()
        let handled: number | undefined = 0
        feed = startProbeFeed({ server: rec.server, source, sampleRateHz: 1000, batchSize: 10, handledSeq: () => handled })
        await sleep(400)
        const heldAt = feed.generated()
        expect(heldAt).toBeLessThanOrEqual(PROBE_QUEUE_SAMPLES)
        handled = undefined
        const t0 = performance.now()
        await sleep(100)
        const sinceMs = performance.now() - t0
        // without the hold's time moved out of the clock, ~400 samples would come at once
        expect(feed.generated() - heldAt).toBeLessThanOrEqual(Math.ceil(sinceMs) + 10)
        expect(feed.generated() - heldAt).toBeGreaterThan(0)
    })

    test("a firmware that keeps up is never waited for", async () => {
        const rec = recordingServer()
        // it handles each batch the moment it is sent
        feed = startProbeFeed({ server: rec.server, source, sampleRateHz: 1000, batchSize: 10, handledSeq: () => rec.lastSent() })
        await sleep(300)
        expect(feed.heldMs()).toBe(0)
        expect(feed.generated()).toBeGreaterThan(150)
    })
})

describe("what the feed waits for (FeedFlowControl)", () => {
    test("the newest sample handled, once the firmware has handled any", () => {
        let now = 0
        const flow = new FeedFlowControl(() => now)
        expect(flow.handledSeq()).toBeUndefined()
        flow.live({ lastSeq: 0, samplesReceived: 0 })
        expect(flow.handledSeq(), "nothing handled since boot").toBeUndefined()
        flow.live({ lastSeq: 120, samplesReceived: 121 })
        expect(flow.handledSeq()).toBe(120)
        now = 500
        flow.live({ lastSeq: 240, samplesReceived: 241 })
        expect(flow.handledSeq()).toBe(240)
    })

    test("a firmware whose handled sample stopped moving, or that went silent, is no longer waited for", () => {
        let now = 0
        const flow = new FeedFlowControl(() => now)
        flow.live({ lastSeq: 300, samplesReceived: 301 })
        now = FEED_STALLED_AFTER_MS
        flow.live({ lastSeq: 300, samplesReceived: 301 })
        expect(flow.handledSeq(), "still within the stall time").toBe(300)
        now = FEED_STALLED_AFTER_MS + 1
        expect(flow.handledSeq(), "stalled: live reports but no sample handled").toBeUndefined()
        flow.live({ lastSeq: 310, samplesReceived: 311 })
        expect(flow.handledSeq(), "moving again").toBe(310)
        now += FEED_STALLED_AFTER_MS + 1
        expect(flow.handledSeq(), "no report at all").toBeUndefined()
    })

    test("a firmware that restarted (nothing received since its boot) is not waited for until it handles a sample", () => {
        let now = 0
        const flow = new FeedFlowControl(() => now)
        flow.live({ lastSeq: 5000, samplesReceived: 5001 })
        flow.live({ lastSeq: 0, samplesReceived: 0 })
        expect(flow.handledSeq()).toBeUndefined()
        now = 10
        flow.live({ lastSeq: 5100, samplesReceived: 10 })
        expect(flow.handledSeq()).toBe(5100)
    })
})
