// Smoke tests of the installed `pft` binary (bin/pft.mjs).
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"

const run = promisify(execFile)
const PFT = join(repoRoot(), "bin", "pft.mjs")

describe("pft binary", () => {
    test("--help lists the commands", async () => {
        const { stdout } = await run(process.execPath, [PFT, "--help"])
        expect(stdout).toContain("sim")
        expect(stdout).toContain("devices")
    })

    test("a bad option value is a usage error with exit code 2", async () => {
        const err = await run(process.execPath, [PFT, "sim", "--speed", "99"]).catch(e => e)
        expect(err.code).toBe(2)
        expect(err.stderr).toContain("--speed must be 1..20")
        const profile = await run(process.execPath, [PFT, "sim", "--profile", "nobody"]).catch(e => e)
        expect(profile.code).toBe(2)
        expect(profile.stderr).toContain("use one of typical, weak")
        const link = await run(process.execPath, [PFT, "sim", "--host-link", "wifi"]).catch(e => e)
        expect(link.code).toBe(2)
        expect(link.stderr).toContain("unknown --host-link 'wifi': use sim or serial")
    })

    test("a malformed replay file is a usage error naming the line", async () => {
        const { mkdtempSync, writeFileSync } = await import("node:fs")
        const { tmpdir } = await import("node:os")
        const file = join(mkdtempSync(join(tmpdir(), "pft-")), "bad.csv")
        writeFileSync(file, "time_ms,pressure_cmH2O,emg_uV\n0,15,3\n10,15,x\n")
        const err = await run(process.execPath, [PFT, "sim", "--replay", file]).catch(e => e)
        expect(err.code).toBe(2)
        expect(err.stderr).toContain(`${file}:3: not a number`)
    })

    test("devices with no simulator running says how to start one, exit code 3", async () => {
        const err = await run(process.execPath, [PFT, "devices", "--url", "ws://127.0.0.1:9/", "--wait", "200"]).catch(e => e)
        expect(err.code).toBe(3)
        expect(err.stderr).toContain("start one with `pft sim`")
    })
})
