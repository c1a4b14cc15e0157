// An entry file `npm test` runs in the DeviceScript VM (every tests/vm/all*.vm.ts is one):
// therapist programs (validation, canonical bytes, signed envelope, install rule).
import { runNumericCases } from "./expect"
import { programCases, programThrowCases } from "../cases/program.cases"

runNumericCases("program", programCases, programThrowCases)
