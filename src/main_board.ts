// Hardware entry point for boards/pft_handheld.board.json (ESP32-S3): starts
// the on-board buttons and LED bar, then the same app the simulator runs.
// `npm run build` compiles this file; flashing is in docs/hardware.md.
import * as ds from "@devicescript/core"
import { board, pins } from "@dsboard/pft_handheld"
import { startLed } from "@devicescript/drivers"
import { startApp } from "./app"

/** Pixels on the feedback bar (docs/hardware.md). */
const LED_BAR_PIXELS = 8

// The session runner (programs issue) reads these roles; starting them here
// binds the physical buttons and bar to them.
board.startBtnStart("btnStart")
board.startBtnUp("btnUp")
board.startBtnDown("btnDown")
board.startBtnStop("btnStop")
await startLed({
    length: LED_BAR_PIXELS,
    variant: ds.LedVariant.Strip,
    hwConfig: { type: ds.LedStripLightType.WS2812B_GRB, pin: pins.LED_BAR },
})

await startApp()
