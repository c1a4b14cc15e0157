import * as ds from "@devicescript/core"
import { Blink, type LedFrame } from "../core/feedback/led-bar"

/**
 * [1/256] brightness of the bar. A WS2812B draws up to ~60 mA per pixel at
 * full white (docs/hardware.md); a bar read at arm's length indoors needs
 * a fraction of it, and a dim bar does not glare in a dark bedroom.
 */
const BRIGHTNESS_256 = 48

/**
 * [ms] blink periods: slow 1 Hz, fast 2.5 Hz, both under three flashes a
 * second (WCAG 2.x success criterion 2.3.1, docs/feedback.md).
 */
const SLOW_PERIOD_MS = 1000
const FAST_PERIOD_MS = 400

type DsLedStrip = typeof ds & { ledStripSend(gpio: number, data: Buffer): Promise<void> }

/**
 * Drives the board's WS2812B bar straight from a frame (GRB order, dimmed,
 * blinking by the frame's mode) with the runtime's RMT strip sender. Not
 * the drivers' LED server: that costs 4 KB of the 64 KB bytecode image and
 * the trainer service already carries the frame on the bus (`led`).
 */
export class LedBarOutput {
    private readonly buf: Buffer
    private lastKey = ""

    constructor(
        private readonly pin: ds.OutputPin,
        private readonly pixels: number
    ) {
        this.buf = Buffer.alloc(3 * pixels)
    }

    /** Shows `frame` as of now; call on each new frame and at least every 100 ms while it blinks. */
    async show(frame: LedFrame): Promise<void> {
        const period = frame.blink === Blink.Fast ? FAST_PERIOD_MS : frame.blink === Blink.Slow ? SLOW_PERIOD_MS : 0
        const dark = period > 0 && ds.millis() % period >= period / 2
        const b = this.buf
        b.fillAt(0, b.length, 0)
        if (!dark)
            for (let i = 0; i < this.pixels && i < frame.pixels.length; i++) {
                const c = frame.pixels[i]
                b[3 * i] = (((c >> 8) & 0xff) * BRIGHTNESS_256) >> 8
                b[3 * i + 1] = (((c >> 16) & 0xff) * BRIGHTNESS_256) >> 8
                b[3 * i + 2] = ((c & 0xff) * BRIGHTNESS_256) >> 8
            }
        // the strip keeps its colours: send only changes
        const key = b.toString("hex")
        if (key === this.lastKey) return
        this.lastKey = key
        await (ds as DsLedStrip).ledStripSend(this.pin.gpio, b)
    }
}
