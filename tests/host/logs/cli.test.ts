// `pft logs list|show|pull` and `pft export` through the installed binary,
// on an archive filled by an in-process pull from the firmware's store.
import { execFile } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { promisify } from "node:util"
import { beforeAll, describe, expect, test } from "vitest"
import { pullLogs } from "../../../host/logs/pull"
import { repoRoot } from "../../../host/paths"
import { StoreLogSource } from "../../../host/logs/source"
import { appendSession, cipher, DEVICE_ID, homeSession, makeDevice, tempArchive, tempDir } from "./fixtures"

const run = promisify(execFile)
const PFT = join(repoRoot(), "bin", "pft.mjs")
const pft = (...args: string[]) => run(process.execPath, [PFT, ...args], { env: { ...process.env, PFT_HOME: tempDir("pft-home-"), TZ: "UTC" } })

let archiveFile = ""

beforeAll(async () => {
    const dev = await makeDevice()
    await appendSession(dev, homeSession({}, 1))
    await appendSession(dev, homeSession({ startWallMs: Date.UTC(2026, 10, 21, 18, 5) }, 2))
    const archive = tempArchive()
    const source = new StoreLogSource(dev.store, { deviceId: DEVICE_ID, program: { programId: "relax-then-tone", programVersion: 3, patientRef: "P-0042" } })
    await pullLogs({ archive, connect: async () => source, cipherFor: () => cipher() })
    archiveFile = archive.file
    archive.close()
}, 30_000)

describe("pft logs and export", () => {
    test("logs list prints one line per session, oldest first", async () => {
        const { stdout } = await pft("logs", "list", "--archive", archiveFile, "--utc")
        const lines = stdout.trim().split("\n")
        expect(lines[0]).toMatch(/^id\s+patient\s+start\s+device\/session\s+program\s+length\s+reps\s+status$/)
        expect(lines[1]).toMatch(/^1\s+P-0042\s+2026-11-20 09:30Z\s+e1daef9b\/1\s+relax-then-tone v3\s+2\.0 min\s+6\s+completed, acknowledged$/)
        expect(lines[2]).toContain("2026-11-21 18:05Z")
        const json = JSON.parse((await pft("logs", "list", "--archive", archiveFile, "--json", "--since", "2026-11-21")).stdout)
        expect(json.map((r: { sessionNo: number }) => r.sessionNo)).toEqual([2])
    }, 30_000)

    test("logs show prints the session; an unknown id says where to look", async () => {
        const { stdout } = await pft("logs", "show", "1", "--archive", archiveFile, "--utc")
        expect(stdout).toContain("session 1: device e1daef9b9723f6da")
        expect(stdout).toContain("patient P-0042, program relax-then-tone v3")
        expect(stdout).toContain("relaxation gate met: rest tone 18.50 cmH2O, held 10.0 s")
        expect(stdout).toMatch(/EMG\s+block 1 # 1/)
        const err = await pft("logs", "show", "99", "--archive", archiveFile).catch(e => e)
        expect(err.code).toBe(1)
        expect(err.stderr).toContain("no session 99 in")
        const bad = await pft("logs", "show", "x", "--archive", archiveFile).catch(e => e)
        expect(bad.code).toBe(2)
    }, 30_000)

    test("export writes one file per session", async () => {
        const out = tempDir("pft-out-")
        const { stdout } = await pft("export", "--format", "edf", "--patient", "P-0042", "--out", out, "--archive", archiveFile, "--utc")
        expect(stdout).toContain("2 session(s) of patient P-0042 exported as edf")
        const files = readdirSync(out).sort()
        expect(files).toEqual(["P-0042_20261120-0930_e1daef9b-s1.edf", "P-0042_20261121-1805_e1daef9b-s2.edf"])
        expect(readFileSync(join(out, files[0])).toString("latin1", 0, 20)).toBe("0       P-0042 X X X")
        await pft("export", "--format", "csv", "--rows", "reps", "--patient", "P-0042", "--since", "2026-11-21", "--out", out, "--archive", archiveFile)
        expect(readdirSync(out).filter(f => f.endsWith("_reps.csv"))).toEqual(["P-0042_20261121-1805_e1daef9b-s2_reps.csv"])
        const none = await pft("export", "--format", "json", "--patient", "P-9", "--out", out, "--archive", archiveFile).catch(e => e)
        expect(none.code).toBe(1)
        expect(none.stderr).toContain("no sessions of patient P-9")
        const badFormat = await pft("export", "--format", "xml", "--patient", "P-0042", "--out", out, "--archive", archiveFile).catch(e => e)
        expect(badFormat.code).toBe(2)
    }, 30_000)

    test("logs pull with no trainer connected says so, exit code 3", async () => {
        const err = await pft("logs", "pull", "--archive", join(tempDir(), "a.sqlite")).catch(e => e)
        expect(err.code).toBe(3)
        expect(err.stderr).toContain("no trainer found")
        expect(err.stderr).toContain("connect failed")
    }, 30_000)
})
