/**
 * A lock between processes on one machine: a directory made exclusively
 * (mkdir is atomic), with the holder's pid inside so that a lock whose
 * holder died is taken over rather than waited on forever. The e2e workers
 * (scripts/test.mjs) take it around a firmware build, which writes
 * .devicescript/bin.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"

/** [ms] how often a waiter looks again */
const RETRY_MS = 100

/**
 * Takes the lock `path` (a directory), waiting up to `timeoutMs` for its
 * holder; resolves with the release. Throws naming the holder on timeout.
 */
export async function lockDir(path: string, timeoutMs: number): Promise<() => void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
        try {
            mkdirSync(path)
            writeFileSync(join(path, "pid"), String(process.pid))
            return () => rmSync(path, { recursive: true, force: true })
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
        }
        const holder = Number(readFileOr(join(path, "pid"), ""))
        if (holder > 0 && !processAlive(holder)) rmSync(path, { recursive: true, force: true })
        else if (Date.now() > deadline) throw new Error(`${path} is held by process ${holder || "?"}: another build is running; try again once it ends`)
        else await sleep(RETRY_MS)
    }
}

function readFileOr(path: string, otherwise: string): string {
    try {
        return readFileSync(path, "utf8")
    } catch {
        return otherwise // the holder has made the directory but not yet written its pid
    }
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"
    }
}
