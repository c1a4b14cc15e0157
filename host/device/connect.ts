/**
 * Connects to the trainer for one command: the simulator bus for now (USB
 * serial comes with the transport issue), with errors that say what to do.
 */
import { CliError, EXIT } from "../errors"
import { closeBus, connectSimBus, SIM_BUS_URL } from "../transport/sim-bus"
import { findTrainer, type TrainerClient } from "./trainer-client"

export interface ConnectOptions {
    /** simulator bus websocket */
    url?: string
    /** [ms] how long to look for the trainer */
    waitMs?: number
}

/** Runs `fn` with the trainer and always disconnects. */
export async function withTrainer<T>(opts: ConnectOptions, fn: (t: TrainerClient) => Promise<T>): Promise<T> {
    const url = opts.url ?? SIM_BUS_URL
    let bus
    try {
        bus = await connectSimBus(url)
    } catch (e) {
        throw new CliError(`no device: nothing answers at ${url}. Start the simulated device with \`pft sim --serve\` (USB comes later). (${(e as Error).message})`, EXIT.noDevice)
    }
    try {
        let trainer: TrainerClient
        try {
            trainer = await findTrainer(bus, opts.waitMs ?? 5000)
        } catch (e) {
            throw new CliError(`no trainer on ${url}: ${(e as Error).message}`, EXIT.noDevice)
        }
        return await fn(trainer)
    } finally {
        await closeBus(bus)
    }
}
