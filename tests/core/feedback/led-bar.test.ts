// The LED bar (src/core/feedback/led-bar.ts): one named test per rule of
// the legend in docs/feedback.md, at its edges. Views are built by a
// factory from the runner's empty view.
import { describe, expect, test } from "vitest"
import {
    Blink,
    LedColour,
    ledPalette,
    ledFrame,
    ledFrameKey,
    NOTICE_MS,
    type LedFrame,
} from "../../../src/core/feedback/led-bar"
import { emptyView } from "../../../src/core/runner/session-runner"
import { BandKind, FaultCause, Guide, Notice, RatingStep, RunnerState, type RunnerView } from "../../../src/core/runner/types"
import { flicksPhase, makeOptions, makeProgram, RunnerRig } from "../../cases/runner-fixtures"

const OFF = LedColour.Off

function makeView(over: Partial<RunnerView> = {}): RunnerView {
    return { ...emptyView(), state: RunnerState.Running, ...over }
}

/** Relaxation at a level against a 4 uV target (scale 8: the target is the bottom half). */
function relaxView(level: number, over: Partial<RunnerView> = {}): RunnerView {
    return makeView({ guide: Guide.Rest, bandKind: BandKind.AtOrBelow, bandHigh: 4, scaleMax: 8, level, ...over })
}

/** Toning at a level against a 15..25 uV band (MVC 40 fills the bar: 5 uV a pixel). */
function toningView(level: number, over: Partial<RunnerView> = {}): RunnerView {
    return makeView({ guide: Guide.Contract, bandKind: BandKind.Between, bandLow: 15, bandHigh: 25, scaleMax: 40, level, ...over })
}

function lit(f: LedFrame, colour: number): number {
    return f.pixels.filter(p => p === colour).length
}

describe("relaxation: how low", () => {
    test("a level at the target lights the bottom half, green", () => {
        const f = ledFrame(relaxView(4))
        expect(f.pixels).toEqual([LedColour.OnTarget, LedColour.OnTarget, LedColour.OnTarget, LedColour.OnTarget, OFF, OFF, OFF, OFF])
        expect(f.blink).toBe(Blink.None)
    })

    test("a level just above the target reaches past the half, orange", () => {
        const f = ledFrame(relaxView(4.01))
        expect(f.pixels).toEqual([LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, OFF, OFF, OFF])
    })

    test("fewer pixels the more relaxed, at least one", () => {
        expect(lit(ledFrame(relaxView(3)), LedColour.OnTarget)).toBe(3)
        expect(lit(ledFrame(relaxView(1)), LedColour.OnTarget)).toBe(1)
        expect(lit(ledFrame(relaxView(0)), LedColour.OnTarget)).toBe(1)
        expect(lit(ledFrame(relaxView(100)), LedColour.AboveTarget)).toBe(8)
    })

    test("the target's top pixel is marked while the level is below it", () => {
        expect(ledFrame(relaxView(1)).pixels[3]).toBe(LedColour.Marker)
    })

    test("an unknown level shows one dim pixel", () => {
        expect(ledFrame(relaxView(NaN)).pixels).toEqual([LedColour.Marker, OFF, OFF, LedColour.Marker, OFF, OFF, OFF, OFF])
    })

    test("without a target the level shows in white", () => {
        const f = ledFrame(makeView({ guide: Guide.Rest, scaleMax: 10, level: 5 }))
        expect(lit(f, LedColour.White)).toBe(4)
    })
})

describe("breathing and the gate", () => {
    test("the pacer fills the top half from the top: grows breathing in, shrinks breathing out, at least one pixel", () => {
        const at = (breath: number, guide = Guide.BreatheIn) => ledFrame(relaxView(1, { guide, breath })).pixels
        expect(at(0)).toEqual([LedColour.OnTarget, OFF, OFF, LedColour.Marker, OFF, OFF, OFF, LedColour.Breathe])
        expect(at(0.5)).toEqual([LedColour.OnTarget, OFF, OFF, LedColour.Marker, OFF, OFF, LedColour.Breathe, LedColour.Breathe])
        expect(at(1)).toEqual([LedColour.OnTarget, OFF, OFF, LedColour.Marker, LedColour.Breathe, LedColour.Breathe, LedColour.Breathe, LedColour.Breathe])
        expect(at(0.25, Guide.BreatheOut)).toEqual([LedColour.OnTarget, OFF, OFF, LedColour.Marker, OFF, OFF, OFF, LedColour.Breathe])
    })

    test("a tense level covers the pacer", () => {
        const f = ledFrame(relaxView(7, { guide: Guide.BreatheIn, breath: 1 }))
        expect(f.pixels).toEqual([LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.Breathe])
    })

    test("in gate work the hold's progress replaces the pacer while it counts", () => {
        const v = relaxView(2, { guide: Guide.BreatheIn, breath: 1, gateWork: true, gateProgress: 0.5 })
        expect(ledFrame(v).pixels.slice(4)).toEqual([OFF, OFF, LedColour.GateProgress, LedColour.GateProgress])
        v.gateProgress = 0
        expect(ledFrame(v).pixels.slice(4)).toEqual([LedColour.Breathe, LedColour.Breathe, LedColour.Breathe, LedColour.Breathe])
    })
})

describe("toning: how high", () => {
    test("at the band's lower edge the bar is green", () => {
        expect(ledFrame(toningView(15)).pixels).toEqual([LedColour.Contract, LedColour.OnTarget, LedColour.OnTarget, LedColour.Marker, LedColour.Marker, OFF, OFF, OFF])
    })

    test("just below the band it is the cue's colour", () => {
        expect(ledFrame(toningView(14.9)).pixels).toEqual([LedColour.Contract, LedColour.Contract, LedColour.Contract, LedColour.Marker, LedColour.Marker, OFF, OFF, OFF])
    })

    test("at the band's upper edge green, just above it orange", () => {
        expect(ledFrame(toningView(25)).pixels).toEqual([LedColour.Contract, LedColour.OnTarget, LedColour.OnTarget, LedColour.OnTarget, LedColour.OnTarget, OFF, OFF, OFF])
        expect(ledFrame(toningView(25.1)).pixels).toEqual([LedColour.Contract, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, LedColour.AboveTarget, OFF, OFF])
    })

    test("the band is marked by dim pixels; pixel 0 always shows the cue", () => {
        const f = ledFrame(toningView(0))
        expect(f.pixels).toEqual([LedColour.Contract, OFF, LedColour.Marker, LedColour.Marker, LedColour.Marker, OFF, OFF, OFF])
        expect(ledFrame(toningView(NaN, { guide: Guide.Hold })).pixels[0]).toBe(LedColour.Hold)
    })

    test("without a band the bar grows in the cue's colour", () => {
        const f = ledFrame(makeView({ guide: Guide.Hold, scaleMax: 40, level: 20 }))
        expect(f.pixels).toEqual([LedColour.Hold, LedColour.Hold, LedColour.Hold, LedColour.Hold, OFF, OFF, OFF, OFF])
    })
})

describe("cues, countdown, states", () => {
    test("each cue has its own frame at the same level", () => {
        const guides = [Guide.Rest, Guide.BreatheIn, Guide.Contract, Guide.Hold, Guide.LetGo, Guide.Stim]
        const keys = guides.map(g => ledFrameKey(ledFrame(toningView(10, { guide: g, segmentDurationMs: 4000, segmentRemainingMs: 2000 }))))
        expect(new Set(keys).size).toBe(guides.length)
        const colours = [LedColour.Breathe, LedColour.Contract, LedColour.Hold, LedColour.LetGo, LedColour.Stim]
        expect(new Set(colours).size).toBe(colours.length)
    })

    test("let go counts the rest down", () => {
        const at = (left: number) => lit(ledFrame(makeView({ guide: Guide.LetGo, segmentDurationMs: 4000, segmentRemainingMs: left })), LedColour.LetGo)
        expect([at(4000), at(3001), at(3000), at(1), at(0)]).toEqual([8, 7, 6, 1, 1])
    })

    test("paused: the running frame, blinking slowly", () => {
        const running = ledFrame(toningView(15))
        const paused = ledFrame(toningView(15, { state: RunnerState.Paused }))
        expect(paused.pixels).toEqual(running.pixels)
        expect(paused.blink).toBe(Blink.Slow)
    })

    test("idle blinks one dim pixel, ready shows one green pixel, done fills the bar green", () => {
        expect(ledFrame(makeView({ state: RunnerState.Idle }))).toEqual({ pixels: [LedColour.Marker, OFF, OFF, OFF, OFF, OFF, OFF, OFF], blink: Blink.Slow })
        expect(ledFrame(makeView({ state: RunnerState.Ready }))).toEqual({ pixels: [LedColour.Ready, OFF, OFF, OFF, OFF, OFF, OFF, OFF], blink: Blink.None })
        expect(lit(ledFrame(makeView({ state: RunnerState.Done })), LedColour.Done)).toBe(8)
    })

    test("battery low marks the top pixel while a session runs", () => {
        expect(ledFrame(relaxView(1, { batteryLow: true })).pixels[7]).toBe(LedColour.Battery)
    })

    test("battery low marks the top pixel before and after a session too (why start does nothing), not over a fault or the rating", () => {
        for (const state of [RunnerState.Idle, RunnerState.Ready, RunnerState.Done]) {
            const low = ledFrame(makeView({ state, batteryLow: true }))
            const fine = ledFrame(makeView({ state }))
            expect(low.pixels[7]).toBe(LedColour.Battery)
            expect(low.pixels.slice(0, 7)).toEqual(fine.pixels.slice(0, 7))
            expect(low.blink).toBe(fine.blink)
        }
        expect(ledFrame(makeView({ state: RunnerState.Fault, faultCause: 8, batteryLow: true }))).toEqual(ledFrame(makeView({ state: RunnerState.Fault, faultCause: 8 })))
        expect(ledFrame(makeView({ state: RunnerState.Rating, ratingValue: 10, batteryLow: true }))).toEqual(ledFrame(makeView({ state: RunnerState.Rating, ratingValue: 10 })))
    })
})

describe("faults", () => {
    test("cause k lights k red pixels, blinking fast: every cause its own pattern", () => {
        const frames = [1, 2, 3, 4, 5, 6, 7, 8].map(cause => ledFrame(makeView({ state: RunnerState.Fault, faultCause: cause })))
        frames.forEach((f, i) => {
            expect(lit(f, LedColour.Fault)).toBe(i + 1)
            expect(f.pixels[0]).toBe(LedColour.Fault)
            expect(f.blink).toBe(Blink.Fast)
        })
        expect(new Set(frames.map(ledFrameKey)).size).toBe(8)
        expect(FaultCause.Other).toBeLessThanOrEqual(8)
    })

    test("an unknown cause lights the whole bar", () => {
        for (const cause of [0, -1, 2.5, NaN]) expect(lit(ledFrame(makeView({ state: RunnerState.Fault, faultCause: cause })), LedColour.Fault)).toBe(8)
    })
})

describe("rating", () => {
    const pain = (value: number) => ledFrame(makeView({ state: RunnerState.Rating, ratingStep: RatingStep.Pain, ratingValue: value, ratingMax: 10 }))

    test("every pain rating 0..10 has its own frame", () => {
        const keys = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(v => ledFrameKey(pain(v)))
        expect(new Set(keys).size).toBe(11)
    })

    test("0 is one dim pixel; 1..8 that many orange; above 8 each white pixel counts two", () => {
        expect(pain(0).pixels).toEqual([LedColour.Marker, OFF, OFF, OFF, OFF, OFF, OFF, OFF])
        expect(lit(pain(5), LedColour.Pain)).toBe(5)
        expect(lit(pain(8), LedColour.Pain)).toBe(8)
        expect(pain(9).pixels).toEqual([LedColour.RatingOverflow, LedColour.Pain, LedColour.Pain, LedColour.Pain, LedColour.Pain, LedColour.Pain, LedColour.Pain, LedColour.Pain])
        expect(lit(pain(10), LedColour.RatingOverflow)).toBe(2)
    })

    test("the dilator size shows in its own colour", () => {
        const f = ledFrame(makeView({ state: RunnerState.Rating, ratingStep: RatingStep.Dilator, ratingValue: 3, ratingMax: 8 }))
        expect(lit(f, LedColour.Dilator)).toBe(3)
        expect(ledFrameKey(f)).not.toBe(ledFrameKey(pain(3)))
    })

    test("on a short bar a large scale shows in proportion", () => {
        const f = ledFrame(makeView({ state: RunnerState.Rating, ratingStep: RatingStep.Pain, ratingValue: 10, ratingMax: 10 }), { pixels: 4 })
        expect(lit(f, LedColour.Pain)).toBe(4)
    })
})

describe("notices", () => {
    const notice = (n: Notice, age: number, state = RunnerState.Running) => ledFrame(relaxView(1, { notice: n, noticeAgeMs: age, state }))

    test("gate met, gate not met and a spasm sign each have their own frame, for NOTICE_MS", () => {
        const keys = [Notice.GateMet, Notice.GateNotMet, Notice.SpasmSign].map(n => ledFrameKey(notice(n, 0)))
        expect(new Set([...keys, ledFrameKey(notice(Notice.None, 0))]).size).toBe(4)
        expect(lit(notice(Notice.GateMet, 0), LedColour.OnTarget)).toBe(8)
        expect(notice(Notice.GateNotMet, NOTICE_MS - 1).blink).toBe(Blink.Slow)
        expect(ledFrameKey(notice(Notice.GateMet, NOTICE_MS))).toBe(ledFrameKey(notice(Notice.None, -1)))
    })

    test("a pause shows the pause, not the notice", () => {
        expect(notice(Notice.SpasmSign, 0, RunnerState.Paused).pixels).toEqual(notice(Notice.None, -1, RunnerState.Paused).pixels)
    })

    test("a notice given as the session ended (gate not met: toning was the rest of it) shows before the rating", () => {
        const rating = (n: Notice, age: number) =>
            ledFrame(makeView({ state: RunnerState.Rating, ratingStep: RatingStep.Pain, ratingValue: 0, ratingMax: 10, notice: n, noticeAgeMs: age }))
        const notMet = rating(Notice.GateNotMet, 500)
        expect(lit(notMet, LedColour.AboveTarget)).toBe(8)
        expect(notMet.blink).toBe(Blink.Slow)
        // once the notice is over: the rating (0: one dim pixel)
        expect(rating(Notice.GateNotMet, NOTICE_MS).pixels).toEqual(rating(Notice.None, -1).pixels)
        expect(rating(Notice.None, -1).pixels[0]).toBe(LedColour.Marker)
    })
})

describe("ledFrameKey", () => {
    test("equal frames have equal keys; any pixel or blink change changes it", () => {
        const a = ledFrame(toningView(15))
        expect(ledFrameKey(a)).toBe(ledFrameKey(ledFrame(toningView(15))))
        for (let i = 0; i < 8; i++) {
            for (const c of ledPalette()) {
                if (c === a.pixels[i]) continue
                const b = { pixels: a.pixels.slice(), blink: a.blink }
                b.pixels[i] = c
                expect(ledFrameKey(b)).not.toBe(ledFrameKey(a))
            }
        }
        expect(ledFrameKey({ pixels: a.pixels, blink: Blink.Fast })).not.toBe(ledFrameKey(a))
    })

    test("bars longer than 12 pixels and other colours get a hash, never equal to an exact key", () => {
        const long = ledFrame(toningView(15), { pixels: 16 })
        expect(long.pixels.length).toBe(16)
        const k = ledFrameKey(long)
        expect(k).toBeGreaterThanOrEqual(2 ** 52)
        expect(ledFrameKey({ pixels: [0x123456], blink: Blink.None })).toBeGreaterThanOrEqual(2 ** 52)
        expect(ledFrameKey(ledFrame(toningView(15)))).toBeLessThan(2 ** 52)
    })
})

describe("with a runner", () => {
    test("gate work shows the pacer and the level; a 4-pixel bar works too", () => {
        const r = new RunnerRig(makeProgram({ phases: [flicksPhase()] }), makeOptions()).start()
        r.feedTo(3000, 3)
        const v = r.runner.view()
        expect(v.gateWork).toBe(true)
        const f = ledFrame(v)
        expect(lit(f, LedColour.OnTarget)).toBe(3)
        expect(f.pixels.filter(p => p === LedColour.Breathe || p === LedColour.GateProgress).length).toBeGreaterThan(0)
        expect(ledFrame(v, { pixels: 4 }).pixels.length).toBe(4)
    })
})
