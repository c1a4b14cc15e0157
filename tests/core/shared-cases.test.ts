// The shared core cases, run under Node. tests/vm/core.vm.ts runs the very
// same tables in the DeviceScript VM.
import { filterCases, filterThrowCases } from "../cases/filters.cases"
import { sequenceCases } from "../cases/sample-sequence.cases"
import { signalChainCases } from "../cases/signal-chain.cases"
import { unitCases } from "../cases/units.cases"
import { runCases } from "../helpers/run-cases"

runCases("core/units", unitCases)
runCases("core/filters", filterCases, filterThrowCases)
runCases("core/sample-sequence", sequenceCases)
runCases("core/signal-chain", signalChainCases)
