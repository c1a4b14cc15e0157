import { expect } from "vitest"
import { findTrainer, type TrainerClient } from "../../host/device/trainer-client"
import type { ClinicKey } from "../../host/program/clinic-key"
import { signProgram } from "../../host/program/sign"
import type { Simulation } from "../../host/sim/simulation"
import { ProgramStatus } from "../../src/core/program"
import type { Program } from "../../src/core/program/types"

/**
 * Provisions the clinic key on the simulated trainer and installs `program`
 * signed with it, as `pft device provision` and `pft program push` do; the
 * trainer restarts into it (services/trainer.md program_commit), then the
 * host sets its clock as on every connect, over the simulation's host link.
 * Returns the trainer found after the restart.
 */
export async function installProgram(sim: Simulation, key: ClinicKey, program: Program): Promise<TrainerClient> {
    const before = await findTrainer(sim.hostBus, 20000)
    expect((await before.provisionKey(Buffer.from(key.key))).status).toBe(ProgramStatus.KeyInstalled)
    const pushed = await before.pushProgram(signProgram(program, key.key).envelope)
    expect(pushed.status, pushed.message).toBe(ProgramStatus.Installed)
    await new Promise(r => setTimeout(r, 2000))
    const trainer = await findTrainer(sim.hostBus, 20000)
    await trainer.setWallClock(Math.floor(Date.now() / 1000))
    return trainer
}
