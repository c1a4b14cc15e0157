#!/usr/bin/env node
// `npm test`: vitest (core, host, e2e) and the firmware tests in the
// DeviceScript VM, then one plain summary line counting all of them:
//   tests: N passed, M failed
// Exits non-zero if anything failed or a runner could not run at all.
import { spawn } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(import.meta.url)
const ANSI = /\x1b\[[0-9;]*m/g

/** Runs a command, echoing its output (or holding it until the end: `quiet`); resolves with {code, output}. */
function run(cmd, args, quiet = false) {
    return new Promise(resolve => {
        const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" } })
        let output = ""
        const echo = stream => chunk => {
            output += chunk.toString()
            if (!quiet) stream.write(chunk)
        }
        child.stdout.on("data", echo(process.stdout))
        child.stderr.on("data", echo(process.stderr))
        child.on("close", code => resolve({ code: code ?? 1, output: output.replace(ANSI, "") }))
    })
}

/** One vitest project (vitest.config.ts: "unit" or "e2e"). */
async function runVitest(project) {
    const outDir = join(root, ".test-results")
    mkdirSync(outDir, { recursive: true })
    const jsonFile = join(outDir, `vitest-${project}.json`)
    rmSync(jsonFile, { force: true })
    const vitest = join(dirname(require.resolve("vitest/package.json")), "vitest.mjs")
    const { code } = await run(process.execPath, [vitest, "run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${jsonFile}`])
    try {
        const r = JSON.parse(readFileSync(jsonFile, "utf8"))
        // a file that fails to load has no tests but is a failure
        const brokenFiles = (r.testResults ?? []).filter(f => f.status === "failed" && (f.assertionResults ?? []).length === 0).length
        return { passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles, ok: code === 0 }
    } catch {
        console.error("vitest wrote no results: counting it as 1 failed")
        return { passed: 0, failed: 1, ok: false }
    }
}

/**
 * One VM run per entry file `tests/vm/all*.vm.ts`: devs run takes a single
 * file, and the simulator heap (~64 KB) holds only so many registered tests,
 * so each subsystem has its own aggregator. -T is the whole run's time limit
 * (a hang guard): test mode collects garbage at every allocation (GC
 * stress), and the heap entry's whole program session takes ~30 s.
 */
async function runVmEntry(entry) {
    const devs = join(dirname(require.resolve("@devicescript/cli/package.json")), "devicescript")
    // its output is printed when the entry is done: the unit tests run alongside
    const { code, output } = await run(process.execPath, [devs, "run", entry, "--test", "--test-self-exit", "-T", "60000"], true)
    process.stdout.write(output)
    const m = /tests: (\d+), pass: (\d+), error: (\d+)/.exec(output)
    if (!m) {
        console.error(`the firmware VM tests in ${entry} did not run to the end (compile error, crash or timeout): counting 1 failed`)
        return { passed: 0, failed: 1, ok: false }
    }
    const failed = Number(m[3])
    return { passed: Number(m[2]), failed: code !== 0 && failed === 0 ? 1 : failed, ok: code === 0 }
}

async function runVm() {
    const entries = readdirSync(join(root, "tests/vm")).filter(f => /^all[\w-]*\.vm\.ts$/.test(f)).sort()
    const total = { passed: 0, failed: 0, ok: true }
    for (const f of entries) {
        const r = await runVmEntry(`tests/vm/${f}`)
        total.passed += r.passed
        total.failed += r.failed
        total.ok &&= r.ok
    }
    return total
}

// the firmware VM tests and the unit tests side by side (one core each: neither is timed), then the e2e
// files alone (they share the devtools ports and are timed)
const [vm, unit] = await Promise.all([runVm(), runVitest("unit")])
const e2e = await runVitest("e2e")
const node = { passed: unit.passed + e2e.passed, failed: unit.failed + e2e.failed, ok: unit.ok && e2e.ok }
const passed = vm.passed + node.passed
const failed = vm.failed + node.failed
console.log(`firmware VM: ${vm.passed} passed, ${vm.failed} failed; vitest: ${node.passed} passed, ${node.failed} failed`)
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 || !vm.ok || !node.ok ? 1 : 0)
