// The lock the e2e workers take around a firmware build (host/sim/dir-lock.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, test } from "vitest"
import { lockDir } from "../../host/sim/dir-lock"

describe("lockDir", () => {
    const dir = mkdtempSync(join(tmpdir(), "pft-lock-"))
    const lock = join(dir, "build.lock")
    afterEach(() => rmSync(lock, { recursive: true, force: true }))

    test("one holder at a time: a second waits until the first releases", async () => {
        const release = await lockDir(lock, 1000)
        const order: string[] = []
        const second = lockDir(lock, 2000).then(r => {
            order.push("second")
            return r
        })
        await new Promise(r => setTimeout(r, 250))
        order.push("first releases")
        release()
        ;(await second)()
        expect(order).toEqual(["first releases", "second"])
    })

    test("a live holder past the timeout: an error that names it", async () => {
        const release = await lockDir(lock, 1000)
        await expect(lockDir(lock, 200)).rejects.toThrow(`held by process ${process.pid}`)
        release()
    })

    test("a holder that died is taken over at once", async () => {
        mkdirSync(lock)
        writeFileSync(join(lock, "pid"), "999999999") // no such process
        const started = Date.now()
        const release = await lockDir(lock, 5000)
        expect(Date.now() - started).toBeLessThan(1000)
        release()
    })
})
