// The shared program cases under Node; tests/vm/all-program.vm.ts runs the
// very same table in the DeviceScript VM.
import { programCases, programThrowCases } from "../../cases/program.cases"
import { runCases } from "../../helpers/run-cases"

runCases("core/program (shared cases)", programCases, programThrowCases)
