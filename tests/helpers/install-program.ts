import type { TrainerClient } from "../../host/device/trainer-client"
import type { ClinicKey } from "../../host/program/clinic-key"
import { installProgramOnSim } from "../../host/sim/install-program"
import type { Simulation } from "../../host/sim/simulation"
import type { Program } from "../../src/core/program/types"

/** installProgramOnSim with a clinic key file's key (createClinicKey). */
export function installProgram(sim: Simulation, key: ClinicKey, program: Program): Promise<TrainerClient> {
    return installProgramOnSim(sim, Buffer.from(key.key), program)
}
