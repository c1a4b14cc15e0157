// The shared core cases, run in the DeviceScript VM.
import { filterCases, filterThrowCases } from "../cases/filters.cases"
import { sequenceCases } from "../cases/sample-sequence.cases"
import { signalChainCases } from "../cases/signal-chain.cases"
import { unitCases } from "../cases/units.cases"
import { runNumericCases } from "./expect"

runNumericCases("core/units", unitCases)
runNumericCases("core/filters", filterCases, filterThrowCases)
runNumericCases("core/sample-sequence", sequenceCases)
runNumericCases("core/signal-chain", signalChainCases)
