import * as ds from "@devicescript/core"

/**
 * This device's own settings store: the trainer's program, clinic key and
 * session count, the log module's key and boot count, the stim module's
 * rest record.
 *
 * @devicescript/settings binds its role to the first settings service the
 * role manager knows, and every DeviceScript device serves one. With the
 * trainer, the stim module and the log module on one bus, a boot that has
 * not yet seen itself binds to a neighbour's store: 3 of 153 boots of three
 * simulator VMs on one bus did (docs/engineering.md, "Settings"), and that
 * device then read and wrote the other's program, key or rest record.
 * "[int:0]" asks for this device's first settings service (jacdac-c
 * client/rolemgr.c: on hardware hints are forced, so the role binds there
 * only; in the simulator a hint is a preference), and each access checks
 * which device answered: another device's store is never used.
 */
const store = new ds.Settings("settings[int:0]")

/** Key `key`'s raw value from this device's store (empty when missing). */
export async function readSettingBytes(key: string): Promise<Buffer> {
    const pkt = await ds.actionReport(store, "get", async () => await store.get(key), p => p.decode()[0] === key)
    if (pkt.deviceIdentifier !== ds.deviceIdentifier("self")) {
        // bound to a neighbour's store: start again and bind anew, touching nothing
        console.log("settings: store of " + pkt.deviceIdentifier + " is not ours: restart")
        ds.restart()
        throw new Error("settings")
    }
    const value = pkt.decode()[1] as Buffer
    return value ? value : Buffer.alloc(0)
}

/** Writes `value` under `key` in this device's store (checked to be its own first). */
export async function writeSettingBytes(key: string, value: Buffer): Promise<void> {
    await readSettingBytes(key)
    await store.set(key, value)
}

/** Key `key`'s JSON value, `missing` when absent or unreadable. */
export async function readSetting(key: string, missing: any): Promise<any> {
    const b = await readSettingBytes(key)
    if (b.length === 0) return missing
    try {
        return JSON.parse(b.toString())
    } catch (e) {
        return missing
    }
}

/** Writes `value` as JSON under `key` (keys <= 13 characters). */
export async function writeSetting(key: string, value: any): Promise<void> {
    await writeSettingBytes(key, Buffer.from(JSON.stringify(value)))
}
