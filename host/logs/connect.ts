/**
 * The LogSource of the trainer on the bus: the trainer service's log
 * commands (list sessions, read a session at an offset, acknowledge). Not
 * in the firmware yet; the pull pipeline, the archive and the exports work
 * against any LogSource meanwhile (StoreLogSource in tests and the bench).
 *
 * What the device implementation has to provide is in docs/logs.md,
 * "What the trainer's log service must provide".
 */
import type { ConnectOptions } from "../device/connect"
import { CliError, EXIT } from "../errors"
import type { LogSource } from "./source"

export type LogConnectOptions = ConnectOptions

export async function connectLogSource(opts: LogConnectOptions): Promise<LogSource> {
    void opts
    throw new CliError("pulling from the device needs the trainer's log service: not yet available in this firmware", EXIT.noDevice)
}
