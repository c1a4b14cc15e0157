// Firmware (not a VM test) for tests/e2e/settings-binding.test.ts: at each boot it reads its
// store's "owner" (writing its own device id there on the first boot) and
// says whose id it found, then restarts itself within 1-2 s.
import * as ds from "@devicescript/core"
import { readSettingBytes, writeSettingBytes } from "../../src/platform/own-settings"

const self = ds.deviceIdentifier("self")
let owner = (await readSettingBytes("owner")).toString()
if (owner === "") {
    await writeSettingBytes("owner", Buffer.from(self))
    owner = self
}
console.log("probe: self " + self + " owner " + owner)
setTimeout(() => ds.restart(), 1000 + Math.random() * 1000)
