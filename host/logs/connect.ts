/**
 * The pull's connect step: opens the link the way every device command does
 * (host/device/connect.ts: the USB trainer, or the simulator bus), finds the
 * log module's sessionlog service on it (services/sessionlog.md) and returns
 * its LogSource (./bus-source.ts), ready to pull from. close() closes the
 * bus; a link that drops meanwhile fails every request in flight with
 * LogSourceError("disconnected").
 *
 * The log module is a microcontroller of its own on the trainer's bus
 * (docs/logs.md, "The log module's service"); the trainer itself is only
 * asked for the program it runs.
 */
import { openTrainerLink, setTrainerClock, type ConnectOptions, type TrainerDeps } from "../device/connect"
import { TrainerClient } from "../device/trainer-client"
import { SessionLogClient, type SessionLogClientOptions } from "../device/session-log-client"
import { findService } from "../device/jd-service"
import { CliError, EXIT } from "../errors"
import { serviceInfo, SESSION_LOG_SERVICE, TRAINER_SERVICE } from "../spec"
import { closeBus } from "../transport/sim-bus"
import { openSessionLogSource, type SessionLogSource, type SessionLogSourceOptions } from "./bus-source"

export type LogConnectOptions = ConnectOptions

/** What tests (and the bench) change: the link, the client's timeouts, the waits. */
export interface LogConnectDeps extends TrainerDeps {
    client?: SessionLogClientOptions
    source?: Omit<SessionLogSourceOptions, "onClose">
}

/** Opens the link and returns the log module's LogSource, or throws a CliError saying what is wrong. */
export async function connectLogSource(opts: LogConnectOptions, deps: LogConnectDeps = {}): Promise<SessionLogSource> {
    const { transport, bus } = await openTrainerLink(opts, deps)
    const where = transport.describe()
    try {
        const waitMs = opts.waitMs ?? 5000
        const service = await findService(bus, SESSION_LOG_SERVICE, waitMs, "").catch(() => {
            throw new CliError(
                `no log module answered on the ${where} within ${waitMs} ms: is the trainer's log module fitted and running its firmware? (\`pft devices\` lists what is on the bus)`,
                EXIT.noDevice
            )
        })
        const trainer = bus.services({ serviceClass: serviceInfo(TRAINER_SERVICE).classIdentifier })[0]
        if (trainer) await setTrainerClock(new TrainerClient(trainer))
        const client = new SessionLogClient(service, deps.client)
        void transport.lost().then(e => client.disconnect(e.message))
        return await openSessionLogSource(client, {
            onWarning: m => console.warn(`warning: ${m}`),
            ...deps.source,
            onClose: () => closeBus(bus),
        })
    } catch (e) {
        await closeBus(bus).catch(() => {})
        throw e
    }
}
