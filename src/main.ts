// Simulator / default entry point: the app with no board pins.
import { startApp } from "./app"

await startApp()
