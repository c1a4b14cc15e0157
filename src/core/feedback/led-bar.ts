/**
 * The LED bar: what the patient sees, as one pure function of the session
 * runner's view (src/core/runner) to a frame of N pixels (0xRRGGBB each,
 * pixel 0 at the bottom of the bar) and a blink mode. docs/feedback.md has
 * the legend for patients; each rule below has a test in
 * tests/core/feedback/led-bar.test.ts.
 *
 * Colours are the Okabe-Ito palette (M. Okabe, K. Ito, "Color Universal
 * Design: how to make figures and presentations that are friendly to
 * colorblind people", 2008), chosen to stay distinguishable with the
 * common colour-vision deficiencies (protan, deutan, tritan); and no
 * meaning rests on colour alone: "on target" versus "too much" also differ
 * in position (how far the bar reaches, against a dim target marker),
 * faults blink, a pause blinks slowly.
 *
 * | meaning | colour |
 * |---|---|
 * | on target | bluish green |
 * | above the target (too tense, too hard) | orange |
 * | breathe (pacer) | blue |
 * | contract (quick) | yellow |
 * | hold | reddish purple |
 * | let go (rest countdown) | sky blue |
 * | stimulation | white |
 * | fault, battery low | vermillion ("red") |
 * | target marker, waiting | dim white |
 *
 * Layout (N = 8 shown; any N >= 1 works, N >= 6 reads best):
 * - relaxation (baseline, relax, gate work): the level fills from the
 *   bottom, scaled so that the target is the bottom half: fewer lit = more
 *   relaxed; green at or below the target, orange above it; a dim marker
 *   at the target's top pixel. Breathing work also shows the pacer in the
 *   top half, from the top down: it grows breathing in and shrinks
 *   breathing out (at least one pixel). In gate work, while the patient
 *   holds the criterion, the top half shows the gate's progress in white
 *   instead.
 * - toning (flicks, holds, assessment contractions, stim): the level fills
 *   from the bottom, a full bar = 100 % MVC; the target band is marked by
 *   dim pixels; pixel 0 always shows the cue's colour; the rest of the bar
 *   is the cue's colour below the band, green inside it, orange above it.
 * - let go: a sky-blue countdown of the rest, shrinking to the next cue.
 *
 * No imports outside src/core: shared by the firmware (DeviceScript) and
 * the host (Node).
 */
import { BandKind, Guide, Notice, RatingStep, RunnerState, type RunnerView } from "../runner/types"

/**
 * Okabe-Ito colours as 0xRRGGBB, then what each meaning is drawn with (the
 * legend of docs/feedback.md). An enum, not a table object: DeviceScript
 * inlines enum members, where an object costs bytecode at start-up in the
 * 64 KB firmware image.
 */
export enum LedColour {
    Off = 0x000000,
    Blue = 0x0072b2,
    SkyBlue = 0x56b4e9,
    BluishGreen = 0x009e73,
    Yellow = 0xf0e442,
    Orange = 0xe69f00,
    Vermillion = 0xd55e00,
    ReddishPurple = 0xcc79a7,
    White = 0xffffff,
    /** a dim white for target marks and waiting */
    Marker = 0x303030,

    OnTarget = BluishGreen,
    AboveTarget = Orange,
    Breathe = Blue,
    Contract = Yellow,
    Hold = ReddishPurple,
    LetGo = SkyBlue,
    Stim = White,
    GateProgress = White,
    Fault = Vermillion,
    Battery = Vermillion,
    Pain = Orange,
    Dilator = Blue,
    /** rating values above N: each white pixel counts two */
    RatingOverflow = White,
    Done = BluishGreen,
    Ready = BluishGreen,
}

/** The colours a frame uses, in the order ledFrameKey numbers them (append only). */
export function ledPalette(): number[] {
    return [
        LedColour.Off,
        LedColour.Blue,
        LedColour.SkyBlue,
        LedColour.BluishGreen,
        LedColour.Yellow,
        LedColour.Orange,
        LedColour.Vermillion,
        LedColour.ReddishPurple,
        LedColour.White,
        LedColour.Marker,
    ]
}

/**
 * How the whole frame blinks; the wiring picks the rates (docs/feedback.md:
 * slow 1 Hz, fast 2.5 Hz, never more than three flashes a second: WCAG 2.x
 * success criterion 2.3.1, against photosensitive seizures).
 */
export enum Blink {
    None = 0,
    /** paused, waiting for the probe, gate not met */
    Slow = 1,
    /** fault, gate met, spasm sign */
    Fast = 2,
}

export interface LedFrame {
    /** 0xRRGGBB, pixel 0 at the bottom of the bar */
    pixels: number[]
    blink: Blink
}

export interface LedOptions {
    /** pixels on the bar */
    pixels: number
}

export const DEFAULT_LED: LedOptions = { pixels: 8 }

/** [ms] a notice (gate met, gate not met, spasm sign) replaces the live bar this long. */
export const NOTICE_MS = 2000

function clampInt(x: number, lo: number, hi: number): number {
    return x < lo ? lo : x > hi ? hi : x
}

function isNum(x: number): boolean {
    return x - x === 0
}

/** Pixels of a bar of `n` that a value reaches on a scale where `max` fills it (ceil: any value above a pixel's bottom lights it). */
function reach(value: number, max: number, n: number): number {
    if (!isNum(value) || !(max > 0)) return 0
    return clampInt(Math.ceil((value / max) * n), 0, n)
}

function fill(px: number[], from: number, to: number, colour: number): void {
    for (let i = from; i < to && i < px.length; i++) if (i >= 0) px[i] = colour
}

/** Relaxation: the level from the bottom, green at or below the target, orange above; the target's top pixel marked. */
function drawRelax(px: number[], v: RunnerView): void {
    const n = px.length
    if (v.bandKind === BandKind.AtOrBelow) {
        const m = reach(v.bandHigh, v.scaleMax, n) - 1
        if (m >= 0 && m < n && px[m] === LedColour.Off) px[m] = LedColour.Marker
    }
    if (!isNum(v.level)) {
        px[0] = LedColour.Marker
        return
    }
    const lit = clampInt(reach(v.level, v.scaleMax, n), 1, n)
    let colour: number = LedColour.White
    if (v.bandKind === BandKind.AtOrBelow) colour = v.level <= v.bandHigh ? LedColour.OnTarget : LedColour.AboveTarget
    fill(px, 0, lit, colour)
}

/** The top half, from the top down: `share` 0..1 of it in `colour`, at least one pixel. */
function drawTop(px: number[], share: number, colour: number): void {
    const n = px.length
    const zone = n - Math.floor(n / 2)
    const k = clampInt(Math.floor(share * zone + 0.5), 1, zone)
    fill(px, n - k, n, colour)
}

/** Toning: band marks, the level from the bottom, pixel 0 in the cue's colour. */
function drawToning(px: number[], v: RunnerView, cueColour: number): void {
    const n = px.length
    const band = v.bandKind === BandKind.Between
    if (band) {
        const lo = clampInt(reach(v.bandLow, v.scaleMax, n) - 1, 0, n - 1)
        const hi = clampInt(reach(v.bandHigh, v.scaleMax, n) - 1, 0, n - 1)
        fill(px, lo, hi + 1, LedColour.Marker)
    }
    const lit = clampInt(reach(v.level, v.scaleMax, n), 1, n)
    let colour = cueColour
    if (band && isNum(v.level)) {
        if (v.level > v.bandHigh) colour = LedColour.AboveTarget
        else if (v.level >= v.bandLow) colour = LedColour.OnTarget
    }
    fill(px, 1, lit, colour)
    px[0] = cueColour
}

function drawActive(px: number[], v: RunnerView): void {
    const n = px.length
    switch (v.guide) {
        case Guide.Rest:
            drawRelax(px, v)
            return
        case Guide.BreatheIn:
        case Guide.BreatheOut:
            if (v.gateWork && v.gateProgress > 0) drawTop(px, v.gateProgress, LedColour.GateProgress)
            else drawTop(px, v.breath, LedColour.Breathe)
            drawRelax(px, v)
            return
        case Guide.Contract:
            drawToning(px, v, LedColour.Contract)
            return
        case Guide.Hold:
            drawToning(px, v, LedColour.Hold)
            return
        case Guide.Stim:
            drawToning(px, v, LedColour.Stim)
            return
        case Guide.LetGo: {
            const d = v.segmentDurationMs
            const left = v.segmentRemainingMs
            const lit = d > 0 && left > 0 ? clampInt(Math.ceil((left / d) * n), 1, n) : 1
            fill(px, 0, lit, LedColour.LetGo)
            return
        }
    }
}

/** Rating: the value as lit pixels; above N each white pixel counts two; above 2N, in proportion; 0 is one dim pixel. */
function drawRating(px: number[], v: RunnerView): void {
    const n = px.length
    const colour = v.ratingStep === RatingStep.Dilator ? LedColour.Dilator : LedColour.Pain
    const value = v.ratingValue
    if (!(value > 0)) {
        px[0] = LedColour.Marker
        return
    }
    if (v.ratingMax > 2 * n) {
        fill(px, 0, clampInt(Math.ceil((value * n) / v.ratingMax), 1, n), colour)
        return
    }
    fill(px, 0, value < n ? value : n, colour)
    if (value > n) fill(px, 0, value - n, LedColour.RatingOverflow)
}

/** Fault cause k: k red pixels from the bottom, blinking fast; unknown causes light the whole bar. */
function drawFault(px: number[], cause: number): void {
    const n = px.length
    const k = isNum(cause) && cause >= 1 && Math.floor(cause) === cause ? (cause < n ? cause : n) : n
    fill(px, 0, k, LedColour.Fault)
}

/** A notice over the live bar: gate met (all green, fast), gate not met (all orange, slow), spasm sign (orange every other pixel, fast). */
function drawNotice(px: number[], notice: Notice): Blink {
    const n = px.length
    if (notice === Notice.GateMet) {
        fill(px, 0, n, LedColour.OnTarget)
        return Blink.Fast
    }
    if (notice === Notice.GateNotMet) {
        fill(px, 0, n, LedColour.AboveTarget)
        return Blink.Slow
    }
    for (let i = 0; i < n; i++) px[i] = Math.floor(i / 2) * 2 === i ? LedColour.AboveTarget : LedColour.Off
    return Blink.Fast
}

/** The frame for the runner's view on a bar of `options.pixels` pixels. */
export function ledFrame(v: RunnerView, options?: LedOptions): LedFrame {
    const o = options ?? DEFAULT_LED
    const n = o.pixels >= 1 ? Math.floor(o.pixels) : 1
    const px: number[] = []
    for (let i = 0; i < n; i++) px.push(LedColour.Off)
    let blink = Blink.None
    const noticeNow = v.notice !== Notice.None && v.noticeAgeMs >= 0 && v.noticeAgeMs < NOTICE_MS
    switch (v.state) {
        case RunnerState.Idle:
            px[0] = LedColour.Marker
            blink = Blink.Slow
            break
        case RunnerState.Ready:
            px[0] = LedColour.Ready
            break
        case RunnerState.Done:
            fill(px, 0, n, LedColour.Done)
            break
        case RunnerState.Fault:
            drawFault(px, v.faultCause)
            blink = Blink.Fast
            break
        case RunnerState.Rating:
            // a notice given as the session ended (gate not met: the toning phases were the rest of it) first
            if (noticeNow) blink = drawNotice(px, v.notice)
            else drawRating(px, v)
            break
        case RunnerState.Running:
        case RunnerState.Paused:
            if (v.state === RunnerState.Running && noticeNow) blink = drawNotice(px, v.notice)
            else drawActive(px, v)
            if (v.state === RunnerState.Paused) blink = Blink.Slow
            break
    }
    // the battery on the top pixel in every state but a fault's count and the rating's: before a session it
    // says why the start button does nothing
    if (v.batteryLow && v.state !== RunnerState.Fault && v.state !== RunnerState.Rating) px[n - 1] = LedColour.Battery
    return { pixels: px, blink: blink }
}

/** Index in ledPalette(), -1 if not there (a switch: indexOf runs as bytecode on the device, ~8x the steps). */
function paletteIndex(c: number): number {
    switch (c) {
        case LedColour.Off:
            return 0
        case LedColour.Blue:
            return 1
        case LedColour.SkyBlue:
            return 2
        case LedColour.BluishGreen:
            return 3
        case LedColour.Yellow:
            return 4
        case LedColour.Orange:
            return 5
        case LedColour.Vermillion:
            return 6
        case LedColour.ReddishPurple:
            return 7
        case LedColour.White:
            return 8
        case LedColour.Marker:
            return 9
    }
    return -1
}

/**
 * A number that changes whenever the frame does, to skip rewriting an
 * unchanged bar. For up to 12 pixels of ledPalette() colours it is exact
 * (4 bits per pixel and the blink mode: below 2^53); otherwise a 32-bit
 * FNV-1a hash (a change is then missed with odds of 1 in 4 billion).
 */
export function ledFrameKey(frame: LedFrame): number {
    const n = frame.pixels.length
    if (n <= 12) {
        let key: number = frame.blink
        let mult = 4
        let exact = true
        for (let i = 0; i < n; i++) {
            const idx = paletteIndex(frame.pixels[i])
            if (idx < 0) {
                exact = false
                break
            }
            key += idx * mult
            mult *= 16
        }
        if (exact) return key
    }
    let h = 0x811c9dc5
    h = Math.imul(h ^ frame.blink, 0x01000193)
    for (let i = 0; i < n; i++) h = Math.imul(h ^ (frame.pixels[i] | 0), 0x01000193)
    // above the exact keys' range, so a hash never equals an exact key
    return 0x10000000000000 + (h >>> 0)
}
