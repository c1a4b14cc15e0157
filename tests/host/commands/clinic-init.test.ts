// `pft clinic init` through the installed binary.
import { execFile } from "node:child_process"
import { mkdtempSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { expect, test } from "vitest"
import { repoRoot } from "../../../host/paths"
import { loadClinicKey } from "../../../host/program/clinic-key"

const run = promisify(execFile)
const PFT = join(repoRoot(), "bin", "pft.mjs")

test("creates a key in $PFT_HOME, refuses a second, replaces with --force", async () => {
    const home = mkdtempSync(join(tmpdir(), "pft-home-"))
    const env = { ...process.env, PFT_HOME: home }
    const file = join(home, "clinic-key.json")

    const first = await run(process.execPath, [PFT, "clinic", "init"], { env })
    expect(first.stdout).toMatch(new RegExp(`clinic key 0x[0-9a-f]{8} written to ${file}`))
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = loadClinicKey(file)

    const again = await run(process.execPath, [PFT, "clinic", "init"], { env }).catch(e => e)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("already exists")
    expect(again.stderr).toContain("--force")
    expect(loadClinicKey(file).key).toEqual(key.key)

    await run(process.execPath, [PFT, "clinic", "init", "--force"], { env })
    expect(loadClinicKey(file).key).not.toEqual(key.key)
})

test("--key-file writes where it is told", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "pft-kf-")), "deep", "k.json")
    await run(process.execPath, [PFT, "clinic", "init", "--key-file", file])
    expect(loadClinicKey(file).file).toBe(file)
})
