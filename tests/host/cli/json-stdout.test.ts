// `--json` commands: stdout carries the JSON alone, whatever else prints while they run.
import { execFile } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { expect, test } from "vitest"
import { repoRoot } from "../../../host/paths"

const run = promisify(execFile)

test("while keepStdoutForJson holds, console.log/info/debug go to stderr; restored after", async () => {
    // a child process: vitest's own console capture must not stand in for the real streams
    const file = join(mkdtempSync(join(tmpdir(), "pft-json-")), "probe.ts")
    writeFileSync(
        file,
        `import { keepStdoutForJson } from ${JSON.stringify(join(repoRoot(), "host", "cli", "json-stdout.ts"))}
const restore = keepStdoutForJson()
console.log("a note")
console.info("assessment-run: a late cue report")
console.debug("debug")
process.stdout.write(JSON.stringify({ ok: true }) + "\\n")
restore()
console.log("after")
`
    )
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", file], { cwd: repoRoot() })
    expect(stdout).toBe('{"ok":true}\nafter\n')
    expect(stderr).toBe("a note\nassessment-run: a late cue report\ndebug\n")
})
