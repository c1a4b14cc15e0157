import { runNumericCases } from "./expect"
import { bytesCases, bytesThrowCases } from "../cases/bytes.cases"

runNumericCases("bytes", bytesCases, bytesThrowCases)
