// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one):
// the session runner (relaxation gate, spasm signs, buttons, battery, rating) and the LED bar.
import { runNumericCases } from "./expect"
import { runnerCases } from "../cases/runner.cases"

runNumericCases("runner", runnerCases)
