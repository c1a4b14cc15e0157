/**
 * `pft device provision`: installs the clinic key on the device, once. The
 * device refuses another key afterwards (nothing on it can replace the key),
 * so a device stays bound to the clinic that provisioned it.
 */
import { ProgramStatus } from "../../src/core/program"
import { hex32 } from "../../src/core/program/envelope"
import { withTrainer, type ConnectOptions } from "../device/connect"
import { CliError, EXIT } from "../errors"
import { loadClinicKey } from "../program/clinic-key"

export interface ProvisionOptions extends ConnectOptions {
    keyFile?: string
}

export async function runDeviceProvision(opts: ProvisionOptions): Promise<void> {
    const key = loadClinicKey(opts.keyFile)
    const r = await withTrainer(opts, t => t.provisionKey(Buffer.from(key.key)))
    if (r.status !== ProgramStatus.KeyInstalled) throw new CliError(`the device refused the key: ${r.message}`, EXIT.failure)
    console.log(`clinic key ${hex32(key.keyId)} on the device: ${r.message}`)
}
