/**
 * `pft device provision`: installs the clinic key on the device, once. The
 * device refuses another key afterwards (nothing on it can replace the key),
 * so a device stays bound to the clinic that provisioned it.
 *
 * The trainer's log module (services/sessionlog.md) gets the same key when
 * it is on the bus: it encrypts the session log with a key derived from it
 * and records nothing until it has one. Its key is installed once too (the
 * same key again is harmless, another one refused).
 */
import { ProgramStatus } from "../../src/core/program"
import { hex32 } from "../../src/core/program/envelope"
import { withTrainer, type ConnectOptions, type TrainerDeps } from "../device/connect"
import { findSessionLog, KeyStatus, type KeyResult } from "../device/session-log-client"
import { CliError, EXIT } from "../errors"
import { loadClinicKey } from "../program/clinic-key"

export interface ProvisionOptions extends ConnectOptions {
    keyFile?: string
}

/** [ms] how long to look for the log module once the trainer answered (both announce every 500 ms) */
const LOG_MODULE_WAIT_MS = 1500

export async function runDeviceProvision(opts: ProvisionOptions, deps: TrainerDeps = {}): Promise<void> {
    const key = loadClinicKey(opts.keyFile)
    const { r, logModule } = await withTrainer(opts, async t => {
        const r = await t.provisionKey(Buffer.from(key.key))
        if (r.status !== ProgramStatus.KeyInstalled) return { r, logModule: undefined }
        const log = await findSessionLog(t.service.device.bus, LOG_MODULE_WAIT_MS).catch(() => undefined)
        if (!log) return { r, logModule: null }
        try {
            return { r, logModule: await log.provisionKey(Buffer.from(key.key)) }
        } catch (e) {
            throw new CliError(
                `the trainer has the key, but the log module did not take it (${(e as Error).message}): run \`pft device provision\` again (the same key again is harmless)`,
                EXIT.failure
            )
        } finally {
            log.close()
        }
    }, deps)
    if (r.status !== ProgramStatus.KeyInstalled) throw new CliError(`the device refused the key: ${r.message}`, EXIT.failure)
    console.log(`clinic key ${hex32(key.keyId)} on the device: ${r.message}`)
    console.log(logModuleLine(logModule ?? null, key.keyId))
}

/** What the log module did with the key, as the output line; a refusal is a CliError. */
function logModuleLine(result: KeyResult | null, keyId: number): string {
    if (result === null) return "no log module answered on the bus: sessions are recorded only once it has the key (connect it and run `pft device provision` again)"
    switch (result.status) {
        case KeyStatus.Installed:
            return `clinic key ${hex32(keyId)} on the log module: installed`
        case KeyStatus.Unchanged:
            return `clinic key ${hex32(keyId)} on the log module: already installed`
        case KeyStatus.Conflict:
            throw new CliError(
                `the log module refused the key: it holds another clinic key (${hex32(result.clinicKeyId)}), which nothing on it can replace; the trainer has key ${hex32(keyId)}, so this log module cannot record its sessions`,
                EXIT.failure
            )
        default:
            throw new CliError(`the log module refused the key as invalid (status ${result.status}): the clinic key file must hold a 32-byte key`, EXIT.failure)
    }
}
