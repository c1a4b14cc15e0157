/**
 * The LogSource of a trainer's log module on the bus: the sessionlog
 * service (services/sessionlog.md) through SessionLogClient
 * (host/device/session-log-client.ts), plus the program the trainer runs
 * (its `read_program`), which places the sessions with a patient.
 *
 * Opening it reads the module's status: its store id (sessions are unique
 * per device and store id, and it salts the records' key) and its state. A
 * module without a clinic key or whose flash failed cannot be pulled from,
 * and says so as a CliError with what to do; a recovering one is waited for.
 *
 * The device id is the log module's own, as jacdac-ts gives it (the session
 * headers carry the trainer's).
 */
import type * as jd from "jacdac-ts"
import { decodeEnvelope, decodeProgram } from "../../src/core/program"
import { enumName, LogState, type LogModuleStatus, type SessionLogClient } from "../device/session-log-client"
import { TrainerClient } from "../device/trainer-client"
import { CliError, EXIT } from "../errors"
import { serviceInfo, TRAINER_SERVICE } from "../spec"
import type { AckOutcome, LogSource, ProgramInfo, SessionInfo } from "./source"

export interface SessionLogSourceOptions {
    /** [ms] how long a recovering module (it scans its flash after a restart) is waited for (default 30000) */
    readyWaitMs?: number
    /** [ms] between two status reads while it recovers (default 500) */
    pollMs?: number
    /** [ms] how long to look for the trainer's service for currentProgram() (default 1000) */
    trainerWaitMs?: number
    /** told when the program cannot be read (the pull goes on without it) */
    onWarning?: (message: string) => void
    /** closes what the caller opened for this source (the bus) */
    onClose?: () => Promise<void>
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

/** Why a module in `state` cannot be pulled from, as the CLI error to show; null when it can (Ready). */
export function stateProblem(status: LogModuleStatus): CliError | null {
    switch (status.state) {
        case LogState.Ready:
            return null
        case LogState.NoKey:
            return new CliError(
                "the log module has no clinic key, so it records nothing and its log cannot be read: run `pft device provision` with the trainer connected (it gives the trainer and the log module the clinic key)",
                EXIT.failure
            )
        case LogState.Failed:
            return new CliError(
                `the log module's flash failed (${status.recordsLost} records lost since it started): power the trainer off and on, then pull again; if it stays failed, the log module needs service (its flash chip), and the sessions on it may be lost`,
                EXIT.failure
            )
        default:
            return new CliError(`the log module is in state ${enumName(LogState, status.state)}, which this pft does not know: update pft`, EXIT.wrongFirmware)
    }
}

export class SessionLogSource implements LogSource {
    readonly deviceId: string
    readonly storeId: number
    private readonly o: SessionLogSourceOptions
    private closed = false

    /** Use openSessionLogSource: the status must be read first. */
    constructor(
        readonly client: SessionLogClient,
        readonly status: LogModuleStatus,
        options: SessionLogSourceOptions = {}
    ) {
        this.deviceId = client.deviceId
        this.storeId = status.storeId
        this.o = options
    }

    async listSessions(): Promise<SessionInfo[]> {
        return await this.client.listSessions()
    }

    /**
     * `length` bytes from `offset`. One answer carries at most
     * client.maxReadBytes (227); a longer read (the pull's default chunk is
     * 232) is asked as several reads at once and put together, so the caller
     * still gets `length` bytes, fewer only at the session's end.
     */
    async read(session: number, offset: number, length: number): Promise<number[]> {
        const max = this.client.maxReadBytes
        if (length <= max) return await this.client.read(session, offset, length)
        const parts: Promise<number[]>[] = []
        for (let at = 0; at < length; at += max) parts.push(this.client.read(session, offset + at, Math.min(max, length - at)))
        for (const p of parts) p.catch(() => undefined) // awaited below, in order; a later part may fail first
        const out: number[] = []
        for (let i = 0; i < parts.length; i++) {
            const bytes = await parts[i]
            out.push(...bytes)
            if (bytes.length < Math.min(max, length - i * max)) {
                break // the session ends here: the later parts read past its end (refused or empty)
            }
        }
        return out
    }

    async acknowledge(session: number, lastSeq: number): Promise<AckOutcome> {
        return await this.client.acknowledge(session, lastSeq)
    }

    /** The program the trainer on the bus runs; null without a trainer or a program, or when it cannot be read (with a warning). */
    async currentProgram(): Promise<ProgramInfo | null> {
        const trainer = await findOnBus(this.client.bus, serviceInfo(TRAINER_SERVICE).classIdentifier, this.o.trainerWaitMs ?? 1000)
        if (!trainer) return null
        try {
            const bytes = await new TrainerClient(trainer).readProgram()
            if (bytes.length === 0) return null
            const env = decodeEnvelope(Array.from(bytes))
            const program = decodeProgram(env.programBytes)
            return { programId: program.programId, programVersion: env.programVersion, patientRef: program.patientRef, programJson: JSON.stringify(program) }
        } catch (e) {
            this.o.onWarning?.(
                `could not read the program the trainer runs (${(e as Error).message}): sessions of programs the archive does not know need --patient`
            )
            return null
        }
    }

    async close(): Promise<void> {
        if (this.closed) return
        this.closed = true
        this.client.close()
        await this.o.onClose?.()
    }
}

async function findOnBus(bus: jd.JDBus, serviceClass: number, waitMs: number): Promise<jd.JDService | undefined> {
    const deadline = Date.now() + waitMs
    for (;;) {
        const found = bus.services({ serviceClass })[0]
        if (found || Date.now() >= deadline) return found
        await sleep(50)
    }
}

/**
 * Reads the module's status and returns its LogSource once it is Ready
 * (a recovering module is waited for, up to readyWaitMs); throws a
 * CliError saying what to do when it has no key, its flash failed, or it
 * stays recovering. The client is closed on failure.
 */
export async function openSessionLogSource(client: SessionLogClient, options: SessionLogSourceOptions = {}): Promise<SessionLogSource> {
    const waitMs = options.readyWaitMs ?? 30000
    const deadline = Date.now() + waitMs
    try {
        for (;;) {
            const status = await client.readStatus()
            if (status.state !== LogState.Recovering) {
                const problem = stateProblem(status)
                if (problem) throw problem
                return new SessionLogSource(client, status, options)
            }
            if (Date.now() >= deadline)
                throw new CliError(
                    `the log module was still recovering its flash after ${Math.round(waitMs / 1000)} s (it scans the log after a restart): leave the trainer on and pull again in a minute`,
                    EXIT.failure
                )
            await sleep(options.pollMs ?? 500)
        }
    } catch (e) {
        client.close()
        throw e
    }
}
