// The runner's shared cases under Node; tests/vm/all-runner.vm.ts runs the
// very same table in the DeviceScript VM.
import { runnerCases } from "../../cases/runner.cases"
import { runCases } from "../../helpers/run-cases"

runCases("core/runner", runnerCases)
