// Hardware entry point of the trainer's log module, boards/pft_logger.board.json
// (ESP32-C3): the session log (src/logger/log-module.ts, services/sessionlog.md)
// on the W25Q128JV that the module drives over SPI (src/logger/w25q-flash.ts).
// In the simulator, src/main_log.ts reaches a simulated chip over the bus instead.
// Build: `npx devicescript build src/main_log_board.ts`; wiring in docs/hardware.md, "Log module".
import { pins } from "@dsboard/pft_logger"
import { startLogModule } from "./logger/log-module"
import { startW25qFlash } from "./logger/w25q-flash"

await startLogModule(async () => await startW25qFlash({ cs: pins.FLASH_CS, sck: pins.FLASH_SCK, mosi: pins.FLASH_MOSI, miso: pins.FLASH_MISO }))
