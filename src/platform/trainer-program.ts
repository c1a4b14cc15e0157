import * as ds from "@devicescript/core"
import { decodeEnvelope } from "../core/program/envelope"
import { decodeProgram } from "../core/program/codec"
import type { Program } from "../core/program/types"

/** [bytes] the trainer's read_program chunk (services/trainer.md) */
const PROGRAM_CHUNK_BYTES = 200

/** Sends one command to the trainer and returns the matching report's payload (undefined: no answer). */
export type TrainerRead = (code: number, cmd: Buffer, match: (answer: Buffer) => boolean) => Promise<Buffer>

/** One `read_program` answer from byte `at` (a function of its own: DeviceScript closures over loop variables break). */
async function readChunk(read: TrainerRead, at: number): Promise<Buffer> {
    const cmd = Buffer.alloc(2)
    cmd.setAt(0, "u16", at)
    return await read(ds.PftTrainerCodes.CmdReadProgram, cmd, a => a.getAt(0, "u16") === at)
}

/**
 * The program in force on the trainer, read with `read_program` and
 * decoded (services/trainer.md); null when none is installed (version 0:
 * the built-in assessment), when the trainer does not answer or when the
 * envelope does not decode. The trainer checked its signature when it was
 * installed; the log module and the stim module only read it.
 */
export async function readTrainerProgram(read: TrainerRead, version: number): Promise<Program> {
    if (version === 0) return null
    const bytes: number[] = []
    let total = 1
    while (bytes.length < total) {
        const r = await readChunk(read, bytes.length)
        if (r === undefined || r.length <= 4 || r.length > 4 + PROGRAM_CHUNK_BYTES) return null
        total = r.getAt(2, "u16")
        for (let i = 4; i < r.length; i++) bytes.push(r.getAt(i, "u8"))
    }
    try {
        return decodeProgram(decodeEnvelope(bytes).programBytes)
    } catch (e) {
        console.log("program unreadable: " + e)
        return null
    }
}
