// The probe sensing conditioner cases (src/core/sensing/), run in the
// DeviceScript VM. tests/core/sensing.test.ts runs the very same tables
// under vitest.
import { emgCases, emgThrowCases, pressureCases, pressureThrowCases } from "../cases/sensing.cases"
import { runNumericCases } from "./expect"

runNumericCases("core/sensing/pressure", pressureCases, pressureThrowCases)
runNumericCases("core/sensing/emg-contact", emgCases, emgThrowCases)
