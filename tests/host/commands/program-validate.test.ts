// `pft program validate` and `pft program schema` through the installed binary.
import { execFile } from "node:child_process"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../../host/paths"

const run = promisify(execFile)
const PFT = join(repoRoot(), "bin", "pft.mjs")
const example = (name: string) => join(repoRoot(), "docs", "examples", name)

function writeTemp(text: string): string {
    const file = join(mkdtempSync(join(tmpdir(), "pft-prog-")), "program.json")
    writeFileSync(file, text)
    return file
}

function broken(): string {
    const p = JSON.parse(readFileSync(example("relax-then-tone.json"), "utf8"))
    p.phases[2].onS = 0
    p.patientRef = "Jane Doe"
    delete p.relaxation
    return writeTemp(JSON.stringify(p))
}

describe("pft program validate", () => {
    test("a valid program: exit 0 and a summary", async () => {
        const { stdout } = await run(process.execPath, [PFT, "program", "validate", example("relax-then-tone.json")])
        expect(stdout).toContain("relax-then-tone.json: valid")
        expect(stdout).toContain("relax-then-tone v1 for P-0003")
        expect(stdout).toContain("3. flicks 10 x 2 s on / 4 s off at 60 % MVC (gated)")
    })

    test("an invalid program: every error on its own line, exit code 2", async () => {
        const file = broken()
        const err = await run(process.execPath, [PFT, "program", "validate", file]).catch(e => e)
        expect(err.code).toBe(2)
        expect(err.stdout.trim().split("\n")).toEqual([
            "patientRef: \"Jane Doe\" has a character other than letters, digits, \".\", \"_\" and \"-\" (a pseudonymous code such as P-0042, never the patient's name)",
            "phases[2].onS: 0 is out of range 0.5..5 s in steps of 0.1",
            "relaxation: missing: phases[2] (flicks), phases[3] (holds) are toning phases, which start only once the patient has relaxed: add the relaxation criterion that gates them",
        ])
        expect(err.stderr).toContain(`pft: ${file} is not a valid program: 3 errors`)
    })

    test("--json on an invalid program", async () => {
        const err = await run(process.execPath, [PFT, "program", "validate", "--json", broken()]).catch(e => e)
        expect(err.code).toBe(2)
        const out = JSON.parse(err.stdout)
        expect(out.ok).toBe(false)
        expect(out.errors[1]).toEqual({ path: "phases[2].onS", value: "0", allowed: "0.5..5 s in steps of 0.1", message: "0 is out of range 0.5..5 s in steps of 0.1" })
    })

    test("--json on a valid program", async () => {
        const { stdout } = await run(process.execPath, [PFT, "program", "validate", "--json", example("pain-relief-stim.json")])
        const out = JSON.parse(stdout)
        expect(out.ok).toBe(true)
        expect(out.program.caps).toEqual({ amplitudeMaxMa: 40, pulseWidthMaxUs: 250, frequencyMaxHz: 10, sessionStimMaxMin: 20 })
    })

    test("a file that is not JSON says where", async () => {
        const err = await run(process.execPath, [PFT, "program", "validate", writeTemp('{\n  "formatVersion": 1,\n}\n')]).catch(e => e)
        expect(err.code).toBe(2)
        expect(err.stdout).toMatch(/^not JSON: .*line 3/)
    })

    test("a missing file is a usage error", async () => {
        const err = await run(process.execPath, [PFT, "program", "validate", "/nonexistent/p.json"]).catch(e => e)
        expect(err.code).toBe(2)
        expect(err.stderr).toContain("cannot read /nonexistent/p.json")
    })
})

test("pft program schema prints docs/program.schema.json", async () => {
    const { stdout } = await run(process.execPath, [PFT, "program", "schema"])
    expect(JSON.parse(stdout)).toEqual(JSON.parse(readFileSync(join(repoRoot(), "docs", "program.schema.json"), "utf8")))
})
