// Compiles the simulation's firmware images into .devicescript/cache before
// scripts/test.mjs starts the e2e workers side by side (host/sim/simulation.ts).
import { buildSimFirmware } from "../host/sim/simulation"

const images = await buildSimFirmware()
console.log(`simulation firmware ready: ${images.length} images in .devicescript/cache`)
