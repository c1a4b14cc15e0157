/**
 * pull_device_throughput_kbps, pull_device_90_sessions_s: `pft logs pull`
 * through the log module's own firmware (src/main_log.ts) in the VM on the
 * devtools bus, not a model of the link. The module's flash image is
 * written first with typical home sessions (the firmware's LogStore on a
 * MemoryNor in Node, encrypted with the key the module derives from the
 * clinic key), the module is given that clinic key, recovers the store from
 * the image, and the host pulls everything (SessionLogSource, reads of
 * MAX_READ_BYTES, 4 in flight) into a SQLite archive.
 *
 * In the simulator every read of a session is two bus round trips (host to
 * the module, the module to its simulated chip, host/sim/flash-server.ts);
 * on the board the chip is on the module's own SPI bus, so this is a lower
 * bound for the device.
 *
 * Run alone: npx tsx bench/run.ts "log module"
 */
import { rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { w25qGeometry } from "../src/core/log/block-device"
import { sessionBytes, TYPICAL_SESSION } from "../src/core/log/capacity"
import { MemoryNor } from "../src/core/log/memory-nor"
import { LogStore } from "../src/core/log/store"
import { Archive } from "../host/archive/archive"
import { findSessionLog, KeyStatus } from "../host/device/session-log-client"
import { openSessionLogSource } from "../host/logs/bus-source"
import { logCipher } from "../host/logs/cipher"
import { pullLogs } from "../host/logs/pull"
import { MAX_READ_BYTES } from "../host/logs/source"
import { SIM_FLASH_SECTORS, startSimulation } from "../host/sim/simulation"
import { tempDir } from "../tests/host/logs/fixtures"
import { typicalSessionRecords } from "./log-pull"
import type { Figures } from "./results"

const SESSIONS = 2
const IN_FLIGHT = 4
const STORE_ID = 0x0b0e0c12
const KEY = Buffer.alloc(32, 0x6b)

export async function benchLogPullDevice(): Promise<Figures> {
    const plan = TYPICAL_SESSION
    const dir = tempDir("pft-bench-logvm-")
    const nor = new MemoryNor({ geometry: w25qGeometry(SIM_FLASH_SECTORS) })
    const store = new LogStore(nor, { cipher: logCipher(KEY, STORE_ID), newStoreId: STORE_ID })
    await store.recover()
    for (let d = 0; d < SESSIONS; d++) for (const r of typicalSessionRecords(plan, d)) await store.append(r)
    writeFileSync(join(dir, "flash.img"), Uint8Array.from(nor.exportImage()))

    const sim = await startSimulation({ logFirmware: true, logDir: dir, flashSectors: SIM_FLASH_SECTORS })
    try {
        const log = await findSessionLog(sim.bus, 20000)
        const key = await log.provisionKey(KEY)
        if (key.status !== KeyStatus.Installed) throw new Error(`the log module took no key: status ${key.status}`)
        const source = await openSessionLogSource(log, { readyWaitMs: 120_000 })
        const listed = await source.listSessions()
        const bytes = listed.reduce((n, s) => n + s.sizeBytes, 0)
        const archive = Archive.open(join(dir, "archive.sqlite"))
        const started = performance.now()
        const report = await pullLogs({ archive, connect: async () => source, cipherFor: id => logCipher(KEY, id), inFlight: IN_FLIGHT, readTimeoutMs: 3000 })
        const seconds = (performance.now() - started) / 1000
        archive.close()
        if (report.quarantined !== 0 || report.acknowledged.length !== SESSIONS) throw new Error(`bench pull went wrong: ${JSON.stringify(report.sessions)}`)
        const kbps = bytes / 1000 / seconds
        const link = `the log module's firmware in the VM, its chip served from Node; ${IN_FLIGHT} reads of ${MAX_READ_BYTES} B in flight`
        return {
            pull_device_throughput_kbps: { value: kbps, unit: "kB/s", note: `${SESSIONS} typical sessions (${(bytes / 1000).toFixed(0)} kB, encrypted); ${link}` },
            pull_device_90_sessions_s: {
                value: (90 * sessionBytes(plan).total) / 1000 / kbps,
                unit: "s",
                note: `90 typical ${plan.durationMin}-min sessions at that rate (the board reads its chip over SPI: faster)`,
            },
        }
    } finally {
        await sim.stop()
        rmSync(dir, { recursive: true, force: true })
    }
}
