import { findTrainer, type TrainerClient } from "../device/trainer-client"
import { signProgram } from "../program/sign"
import { ProgramStatus } from "../../src/core/program"
import type { Program } from "../../src/core/program/types"
import type { Simulation } from "./simulation"

/** The simulated trainer refused the clinic key or the program; the message is the trainer's. */
export class InstallRefused extends Error {}

/** [ms] the trainer restarts into a newly installed program (services/trainer.md program_commit) within this */
const RESTART_MS = 2000

/**
 * Provisions the clinic key `key` on the simulated trainer and installs
 * `program` signed with it, as `pft device provision` and `pft program push`
 * do to a real trainer. The trainer restarts into the program; the host then
 * sets its clock, as on every connect. All over the simulation's host link.
 * Returns the trainer found after the restart; throws InstallRefused with
 * the trainer's message if it refuses the key or the program.
 */
export async function installProgramOnSim(sim: Simulation, key: Buffer, program: Program): Promise<TrainerClient> {
    const before = await findTrainer(sim.hostBus, 20000)
    const provisioned = await before.provisionKey(key)
    if (provisioned.status !== ProgramStatus.KeyInstalled) throw new InstallRefused(`the simulated trainer refused the clinic key: ${provisioned.message}`)
    const pushed = await before.pushProgram(signProgram(program, key).envelope)
    if (pushed.status !== ProgramStatus.Installed)
        throw new InstallRefused(`the simulated trainer refused ${program.programId} version ${program.programVersion}: ${pushed.message}`)
    await new Promise(r => setTimeout(r, RESTART_MS))
    const trainer = await findTrainer(sim.hostBus, 20000)
    await trainer.setWallClock(Math.floor(Date.now() / 1000))
    return trainer
}
