/** `pft program schema`: prints the program JSON Schema (docs/program.schema.json is this output). */
import { programJsonSchema } from "../program/schema"

export async function runProgramSchema(): Promise<void> {
    console.log(JSON.stringify(programJsonSchema(), null, 2))
}
