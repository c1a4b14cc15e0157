#!/usr/bin/env node
// `npm test`: vitest (core, host, e2e) and the firmware tests in the
// DeviceScript VM, then one plain summary line counting all of them:
//   tests: N passed, M failed
// Exits non-zero if anything failed or a runner could not run at all.
// `node scripts/test.mjs e2e` runs the e2e files alone, `node scripts/test.mjs vm` the VM entries alone.
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const require = createRequire(import.meta.url)
const ANSI = /\x1b\[[0-9;]*m/g

/** Runs a command, echoing its output (or holding it until the end: `quiet`); resolves with {code, output}. */
function run(cmd, args, quiet = false, env = {}) {
    return new Promise(resolve => {
        const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", ...env } })
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

/** Reads a vitest JSON report: {passed, failed, files: [{name, seconds}]}, or undefined if there is none. */
function vitestResults(jsonFile) {
    try {
        const r = JSON.parse(readFileSync(jsonFile, "utf8"))
        // a file that fails to load has no tests but is a failure
        const brokenFiles = (r.testResults ?? []).filter(f => f.status === "failed" && (f.assertionResults ?? []).length === 0).length
        const files = (r.testResults ?? []).map(f => ({ name: f.name, seconds: (f.endTime - f.startTime) / 1000 }))
        return { passed: r.numPassedTests, failed: r.numFailedTests + brokenFiles, files }
    } catch {
        return undefined
    }
}

/** One vitest run of `project` (vitest.config.ts), on `files` if given; `prefix` runs it through another command (a namespace). */
async function runVitest(project, { files = [], name = project, quiet = false, prefix = [], env = {} } = {}) {
    const outDir = join(root, ".test-results")
    mkdirSync(outDir, { recursive: true })
    const jsonFile = join(outDir, `vitest-${name}.json`)
    rmSync(jsonFile, { force: true })
    const vitest = join(dirname(require.resolve("vitest/package.json")), "vitest.mjs")
    const args = [vitest, "run", "--project", project, ...files, "--reporter=default", "--reporter=json", `--outputFile.json=${jsonFile}`]
    const [cmd, ...cmdArgs] = [...prefix, process.execPath, ...args]
    const { code, output } = await run(cmd, cmdArgs, quiet, env)
    if (quiet) process.stdout.write(output)
    const r = vitestResults(jsonFile)
    if (!r) {
        console.error(`vitest (${name}) wrote no results: counting it as 1 failed`)
        return { passed: 0, failed: 1, ok: false, files: [] }
    }
    return { ...r, ok: code === 0 }
}

/**
 * Whether this machine can give a command a network namespace of its own
 * (root, or unprivileged user namespaces): `unshare -n` then
 * scripts/netns-exec.py, which brings its loopback up.
 */
function namespacesWork() {
    const r = spawnSync("unshare", ["-n", "python3", join(root, "scripts", "netns-exec.py"), "true"], { stdio: "ignore" })
    return r.status === 0
}

/**
 * [s] each e2e file's duration in a clean-clone CI run (2026-11-27, 21:09): the
 * longest start first, so that the workers end together. A file not listed
 * starts after these; the last run's own figures (per file and link), when
 * present, come first.
 */
const E2E_SECONDS_HINT = {
    "patients.test.ts": 209,
    "runner.test.ts": 192,
    "session-log.test.ts": 100,
    "stim-session.test.ts": 75,
    "cli-sim.test.ts": 70,
    "stim-ets.test.ts": 56,
    "settings-binding.test.ts": 57,
    "stim.test.ts": 53,
    "probe-removal.test.ts": 44,
    "replay.test.ts": 35,
    "monitor.test.ts": 33,
    "programs.test.ts": 33,
}

/**
 * The e2e files, in workers that run side by side, each in a network
 * namespace of its own (every simulation's devtools bus takes the fixed ports
 * 8081-8083) with its own trainer flash directory ($PFT_SIM_HOME). A
 * simulation runs in real time and uses about a quarter of a core, so three
 * fit on two cores. Where namespaces are not available, one worker.
 * PFT_E2E_WORKERS overrides the count.
 */
async function runE2e() {
    const e2eDir = join(root, "tests", "e2e")
    const durationsFile = join(root, ".test-results", "e2e-seconds.json")
    let seconds = { ...E2E_SECONDS_HINT }
    try {
        seconds = { ...seconds, ...JSON.parse(readFileSync(durationsFile, "utf8")) }
    } catch {
        // first run here: the hints
    }
    const hasSocat = spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0
    // each file once per host link (tests/helpers/e2e-link.ts), unless it says it needs one run
    const jobs = readdirSync(e2eDir)
        .filter(f => f.endsWith(".test.ts"))
        .flatMap(file => {
            const oneLink = /^\/\/ e2e-one-link:/m.test(readFileSync(join(e2eDir, file), "utf8"))
            return (oneLink || !hasSocat ? ["sim"] : ["sim", "serial"]).map(link => ({ file, link, key: `${file} ${link}` }))
        })
        .sort((a, b) => (seconds[b.key] ?? seconds[b.file] ?? 0) - (seconds[a.key] ?? seconds[a.file] ?? 0) || a.key.localeCompare(b.key))
    if (!hasSocat) console.warn("e2e: socat is missing (apt-get install socat): the e2e files run over the simulator bus only, not also over USB serial")
    const canSplit = namespacesWork()
    const workers = Math.max(1, Math.min(jobs.length, Number(process.env.PFT_E2E_WORKERS) || (canSplit ? 3 : 1)))
    if (workers > 1 && !canSplit) throw new Error("PFT_E2E_WORKERS > 1 needs network namespaces (unshare -n), which this machine refuses")
    console.log(`e2e: ${jobs.length} runs of ${new Set(jobs.map(j => j.file)).size} files in ${workers} worker(s)${canSplit ? ", each in a network namespace of its own" : " (no network namespaces here: one at a time)"}`)
    const queue = [...jobs]
    const total = { passed: 0, failed: 0, ok: true }
    const measured = {}
    const worker = async index => {
        const home = join(root, ".devicescript", `e2e-worker-${index}`)
        mkdirSync(home, { recursive: true })
        for (let job = queue.shift(); job; job = queue.shift()) {
            const started = Date.now()
            const r = await runVitest("e2e", {
                files: [join("tests", "e2e", job.file)],
                name: `e2e-${job.file.replace(/\.test\.ts$/, "")}-${job.link}`,
                // one worker: the output as it comes; several: each file's whole output when it ends
                quiet: workers > 1,
                prefix: canSplit ? ["unshare", "-n", "python3", join(root, "scripts", "netns-exec.py")] : [],
                env: { PFT_SIM_HOME: home, PFT_E2E_LINK: job.link },
            })
            measured[job.key] = Math.round((Date.now() - started) / 1000)
            console.log(`e2e worker ${index}: ${job.file} over the ${job.link === "sim" ? "simulator bus" : "USB serial bridge"}: ${r.passed} passed, ${r.failed} failed in ${measured[job.key]} s`)
            total.passed += r.passed
            total.failed += r.failed
            total.ok &&= r.ok
        }
    }
    await Promise.all(Array.from({ length: workers }, (_, i) => worker(i + 1)))
    writeFileSync(durationsFile, JSON.stringify(measured, null, 1))
    return total
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

// `node scripts/test.mjs vm` (npm run test:vm) or `e2e`: that part alone, as npm test runs it
const onlyPart = { vm: runVm, e2e: runE2e }[process.argv[2]]
if (onlyPart) {
    const only = await onlyPart()
    console.log(`tests: ${only.passed} passed, ${only.failed} failed`)
    process.exit(only.failed > 0 || !only.ok ? 1 : 0)
}

// the firmware VM tests then the board builds (both write .devicescript/bin), and the unit tests side by side
// (one core each: neither is timed); then the e2e files (they are timed), in workers of their own
const [vm, unit] = await Promise.all([
    runVm().then(async vmTotal => {
        const build = await runVitest("build")
        return { passed: vmTotal.passed, failed: vmTotal.failed, ok: vmTotal.ok, build }
    }),
    runVitest("unit"),
])
const e2e = await runE2e()
for (const part of [vm.build, e2e]) {
    unit.passed += part.passed
    unit.failed += part.failed
    unit.ok &&= part.ok
}
const node = unit
const passed = vm.passed + node.passed
const failed = vm.failed + node.failed
console.log(`firmware VM: ${vm.passed} passed, ${vm.failed} failed; vitest: ${node.passed} passed, ${node.failed} failed`)
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed > 0 || !vm.ok || !node.ok ? 1 : 0)
