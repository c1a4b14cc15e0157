// Firmware of the trainer's log module in the simulator: the session log
// (src/logger/log-module.ts, services/sessionlog.md) on the simulated flash
// chip that the host serves (services/logflash.md, host/sim/flash-server.ts).
// On the board, src/main_log_board.ts drives the real chip over SPI.
import { startBusFlash } from "./logger/bus-flash"
import { startLogModule } from "./logger/log-module"

await startLogModule(startBusFlash)
