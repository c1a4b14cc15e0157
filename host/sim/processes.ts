/**
 * Child processes of a simulation: the DeviceScript devtools bus and the
 * firmware VM. Each runs in its own process group so that stopping it also
 * stops what it spawned; every group is also killed when Node exits, so a
 * failed or timed-out test leaves nothing behind.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const require = createRequire(import.meta.url)

/** Path of the DeviceScript CLI entry script. */
export function devicescriptCli(): string {
    const pkg = require.resolve("@devicescript/cli/package.json")
    return join(dirname(pkg), "devicescript")
}

const live = new Set<ChildProcess>()
/** leaders that exited; their groups may still hold grandchildren */
const exitedGroups = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook() {
    if (exitHookInstalled) return
    exitHookInstalled = true
    process.on("exit", () => {
        for (const child of live) killGroup(child, "SIGKILL")
        for (const child of exitedGroups) killGroup(child, "SIGKILL")
    })
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals) {
    if (child.pid === undefined) return
    try {
        process.kill(-child.pid, signal)
    } catch {
        // already gone
    }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g

export interface ManagedProcess {
    readonly name: string
    readonly child: ChildProcess
    /** Every output line so far (ANSI colours removed). */
    readonly lines: string[]
    /** Resolves with the first line matching `pattern` (past or future). */
    waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>
    /** Resolves when the process exits with code 0; rejects on another code or after `timeoutMs`. */
    waitForExit(timeoutMs: number): Promise<void>
    /** SIGTERM the group, SIGKILL after `graceMs`; resolves when it has exited. */
    stop(graceMs?: number): Promise<void>
}

export interface StartOptions {
    name: string
    args: string[]
    cwd: string
    onLine?: (line: string) => void
}

/** Starts `devicescript <args>` in its own process group. */
export function startDevicescript(options: StartOptions): ManagedProcess {
    installExitHook()
    const child = spawn(process.execPath, [devicescriptCli(), ...options.args], {
        cwd: options.cwd,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, FORCE_COLOR: "0" },
    })
    live.add(child)
    const lines: string[] = []
    const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = []
    const onData = (buf: Buffer, carry: { rest: string }) => {
        const text = carry.rest + buf.toString("utf8")
        const parts = text.split(/\r?\n/)
        carry.rest = parts.pop() ?? ""
        for (const raw of parts) {
            const line = raw.replace(ANSI, "")
            lines.push(line)
            options.onLine?.(line)
            for (let i = waiters.length - 1; i >= 0; i--) {
                if (waiters[i].pattern.test(line)) {
                    waiters[i].resolve(line)
                    waiters.splice(i, 1)
                }
            }
        }
    }
    const outCarry = { rest: "" }
    const errCarry = { rest: "" }
    child.stdout!.on("data", b => onData(b, outCarry))
    child.stderr!.on("data", b => onData(b, errCarry))
    const exited = new Promise<void>(resolve =>
        child.on("exit", () => {
            live.delete(child)
            exitedGroups.add(child)
            resolve()
        })
    )

    return {
        name: options.name,
        child,
        lines,
        waitForLine(pattern, timeoutMs) {
            const seen = lines.find(l => pattern.test(l))
            if (seen) return Promise.resolve(seen)
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => {
                    const tail = lines.slice(-15).join("\n")
                    reject(new Error(`${options.name}: no line matching ${pattern} within ${timeoutMs} ms; last output:\n${tail}`))
                }, timeoutMs)
                const waiter = {
                    pattern,
                    resolve: (l: string) => {
                        clearTimeout(timer)
                        resolve(l)
                    },
                }
                waiters.push(waiter)
                exited.then(() => {
                    const i = waiters.indexOf(waiter)
                    if (i < 0) return
                    waiters.splice(i, 1)
                    clearTimeout(timer)
                    const tail = lines.slice(-15).join("\n")
                    reject(new Error(`${options.name} exited (code ${child.exitCode}) before printing ${pattern}:\n${tail}`))
                })
            })
        },
        waitForExit(timeoutMs) {
            return new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`${options.name}: still running after ${timeoutMs} ms`)), timeoutMs)
                exited.then(() => {
                    clearTimeout(timer)
                    if (child.exitCode === 0) resolve()
                    else reject(new Error(`${options.name} failed (code ${child.exitCode}):\n${lines.slice(-15).join("\n")}`))
                })
            })
        },
        async stop(graceMs = 2000) {
            if (child.exitCode === null && child.signalCode === null) {
                killGroup(child, "SIGTERM")
                const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs)
                await exited
                clearTimeout(timer)
            }
            // the group may still hold grandchildren
            killGroup(child, "SIGKILL")
            exitedGroups.delete(child)
        },
    }
}
