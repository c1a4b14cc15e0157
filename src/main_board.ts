// Hardware entry point for boards/pft_handheld.board.json (ESP32-S3): the
// on-board buttons and LED bar, then the same app the simulator runs.
// `npm run build` compiles this file; flashing is in docs/hardware.md.
import { board, pins } from "@dsboard/pft_handheld"
import { startApp } from "./app"
import { LedBarOutput } from "./feedback/led-bar-output"

/** Pixels on the feedback bar (docs/hardware.md). */
const LED_BAR_PIXELS = 8

// the board's button services (boards/pft_handheld.board.json), in ButtonKind order
const buttons = [board.startBtnStart("btnStart"), board.startBtnUp("btnUp"), board.startBtnDown("btnDown"), board.startBtnStop("btnStop")]

await startApp({ ledBar: new LedBarOutput(pins.LED_BAR, LED_BAR_PIXELS), buttons: buttons })
