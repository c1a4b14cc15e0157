// The log module's session log over a Jacdac bus (host/device/session-log-client.ts,
// host/logs/bus-source.ts, host/logs/connect.ts): an in-process jacdac-ts
// bus, no VM, with a Node server of the sessionlog spec over the firmware's
// own LogStore on a MemoryNor (./session-log-test-server.ts). The server can
// drop, repeat and delay answers as a link without ACKs does.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as jd from "jacdac-ts"
import { afterEach, describe, expect, test, vi } from "vitest"
import { archiveTotals, listSessions as archivedSessions, sessionFrames } from "../../../host/archive/queries"
import {
    AckResultCode,
    decodeSessionEntry,
    KeyStatus,
    LogState,
    maxReadBytes,
    ReadStatus,
    SessionLogClient,
    sessionEntryBytes,
    type SessionLogClientOptions,
} from "../../../host/device/session-log-client"
import { runDeviceProvision } from "../../../host/commands/device-provision"
import { CliError, EXIT } from "../../../host/errors"
import { createClinicKey } from "../../../host/program/clinic-key"
import { hex32 } from "../../../src/core/program/envelope"
import { openSessionLogSource, SessionLogSource } from "../../../host/logs/bus-source"
import { connectLogSource, type LogConnectDeps } from "../../../host/logs/connect"
import { pullLogs } from "../../../host/logs/pull"
import { LogSourceError, LogSourceErrorCode, MAX_READ_BYTES } from "../../../host/logs/source"
import { repoRoot } from "../../../host/paths"
import { clinicKeyId, signProgram } from "../../../host/program/sign"
import { projectServices, serviceInfo, SESSION_LOG_SERVICE } from "../../../host/spec"
import { TransportError, type Transport } from "../../../host/transport"
import { Rng } from "../../../host/sim/patient/prng"
import { TimeSync } from "../../../src/core/log/records"
import { makeProgram } from "../../core/program/fixtures"
import { appendSession, cipher, CLINIC_KEY, homeSession, makeDevice, STORE_ID, tempArchive, tempDir, weekOfSessions, type Device } from "./fixtures"
import { encodeEntry, hostSessionLog, hostTrainer, State, type SessionLogTestServer } from "./session-log-test-server"

/** fast enough for tests, slow enough for a loaded machine (the in-process bus answers in well under 1 ms) */
const FAST: SessionLogClientOptions = { timeoutMs: 40, retries: 2 }

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 3000): Promise<T> {
    const until = Date.now() + timeoutMs
    for (;;) {
        const v = get()
        if (v !== undefined) return v
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
        await sleep(5)
    }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
    try {
        await p
    } catch (e) {
        return e
    }
    throw new Error("expected a rejection")
}

async function sourceError(p: Promise<unknown>): Promise<LogSourceError> {
    const e = await rejection(p)
    if (e instanceof LogSourceError) return e
    throw e
}

interface Rig {
    dev: Device
    bus: jd.JDBus
    server: SessionLogTestServer
    provider: jd.JDServerServiceProvider
    service: jd.JDService
    client: SessionLogClient
}

const cleanups: (() => Promise<void> | void)[] = []
const debug = console.debug

afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    console.debug = debug
})

/** A bus with a log module over a fresh store holding `sessions`, and a client of it. */
async function rig(o: { sessions?: number; records?: (i: number) => ReturnType<typeof homeSession>; key?: Uint8Array | null; state?: number; client?: SessionLogClientOptions } = {}): Promise<Rig> {
    projectServices()
    console.debug = () => {} // jacdac-ts reports every connect on console.debug
    const dev = await makeDevice({ sectors: 64 })
    for (let i = 0; i < (o.sessions ?? 0); i++) await appendSession(dev, o.records ? o.records(i) : homeSession({ minutes: 0.2, reps: 2 }, i + 1))
    const bus = new jd.JDBus([], { disableRoleManager: true } as any)
    const { server, provider } = hostSessionLog(bus, { store: dev.store, key: o.key === null ? undefined : (o.key ?? CLINIC_KEY), state: o.state })
    bus.start()
    void provider.controlService.announce() // now, not at the next 500 ms announce round
    cleanups.push(async () => {
        server.stop()
        bus.stop()
        await jd.JDBus.prototype.dispose.call(bus) // fakeTransport makes bus.dispose a no-op
    })
    const classId = serviceInfo(SESSION_LOG_SERVICE).classIdentifier
    const service = await waitFor("the sessionlog service", () => bus.services({ serviceClass: classId })[0])
    const client = new SessionLogClient(service, o.client ?? FAST)
    cleanups.push(() => client.close())
    return { dev, bus, server, provider, service, client }
}

/**
 * A transport that hands out an existing bus (commands open their link
 * through it); `drop()` pulls the cable. Closing the link is recorded and
 * leaves the bus as it is, so a test can connect again (the rig disposes it).
 */
function fakeTransport(bus: jd.JDBus): { transport: Transport; drop: () => void; closed: () => boolean } {
    let drop!: (e: TransportError) => void
    const lost = new Promise<TransportError>(r => (drop = r))
    let closed = false
    bus.disconnect = async () => {
        closed = true
    }
    bus.dispose = async () => undefined
    return {
        transport: { kind: "sim", describe: () => "test bus", connect: async () => bus, lost: () => lost },
        drop: () => drop(new TransportError("unplugged", "the test bus closed in the middle of the transfer", "test bus")),
        closed: () => closed,
    }
}

function deps(transport: Transport, more: Partial<LogConnectDeps> = {}): LogConnectDeps {
    return { open: () => transport, client: FAST, source: { pollMs: 20, trainerWaitMs: 300 }, ...more }
}

/** Every byte of a session as the store serves it. */
async function storeBytes(dev: Device, session: number): Promise<number[]> {
    const size = dev.store.sessionInfo(session)!.sizeBytes
    const out: number[] = []
    while (out.length < size) out.push(...(await dev.store.readSession(session, out.length, 200)))
    return out
}

describe("the client against the spec", () => {
    test("its enums are the spec's, and sizes come from the pack formats: 227 data bytes per read, 36 bytes per list entry", () => {
        projectServices()
        const specs = JSON.parse(readFileSync(join(repoRoot(), ".devicescript", "services.json"), "utf8")) as any[]
        const enums = specs.find(s => s.shortId === SESSION_LOG_SERVICE).enums
        expect(enums.LogState.members).toEqual(LogState)
        expect(enums.ReadStatus.members).toEqual(ReadStatus)
        expect(enums.AckResult.members).toEqual(AckResultCode)
        expect(enums.KeyStatus.members).toEqual(KeyStatus)
        expect(maxReadBytes()).toBe(227)
        expect(sessionEntryBytes()).toBe(36)
    })

    const base = [7, 100, 180, 5000, 600_000, 1_795_000_000, 12, 0, 250, 0b000101, 0]
    test.each([
        ["wall clock set: s x 1000 + ms", {}, { startWallMs: 1_795_000_000_250, timeSync: 1, hasHeader: true }],
        ["start_wall 0: the clock was not set", { 5: 0, 8: 0, 9: 0b000100 }, { startWallMs: 0, timeSync: 0 }],
        ["start_wall all ones: unknown", { 5: 0xffffffff, 9: 0b000011 }, { startWallMs: -1, timeSync: -1, hasHeader: false }],
        ["start_mono and boot_count all ones: unknown", { 4: 0xffffffff, 6: 0xffffffff }, { startMonoMs: -1, bootCount: -1 }],
        ["flags: complete, open, archived", { 7: 180, 9: 0b111101 }, { complete: true, open: true, archived: true, ackedSeq: 180 }],
        ["flags: none but the header", {}, { complete: false, open: false, archived: false }],
    ])("list entry: %s", (_, change, expected) => {
        const v = base.slice()
        for (const [i, x] of Object.entries(change)) v[Number(i)] = x as number
        expect(decodeSessionEntry(v)).toMatchObject({ session: 7, firstSeq: 100, lastSeq: 180, sizeBytes: 5000, ...expected })
    })
})

describe("the client on a bus", () => {
    test("lists more than one report holds (8 sessions, 6 a page) exactly as the store does: wall clock unset, open, archived", async () => {
        const week = weekOfSessions(0.2)
        const r = await rig({ sessions: 8, records: i => (i < 7 ? week[i] : homeSession({ minutes: 0.2, close: false }, 9)) })
        await r.dev.store.acknowledge(2, r.dev.store.sessionInfo(2)!.lastSeq)
        const listed = await r.client.listSessions()
        expect(listed).toEqual(r.dev.store.listSessions())
        expect(listed).toHaveLength(8)
        expect(r.server.received.list_sessions).toBe(2)
        expect(listed[0]).toMatchObject({ timeSync: TimeSync.None, startWallMs: 0 })
        expect(listed[1]).toMatchObject({ archived: true })
        expect(listed[7]).toMatchObject({ open: true, complete: false })
        // the fixture encodes as the spec says; the client decodes it back
        for (const s of listed) expect(decodeSessionEntry(encodeEntry(s))).toEqual(s)
    })

    test("a session begun between two pages: the list is read again from the start", async () => {
        const r = await rig({ sessions: 7 })
        let appended: Promise<number> | undefined
        r.server.behave = (name, v) => {
            if (name !== "list_sessions" || v[0] !== 0 || appended) return undefined
            appended = appendSession(r.dev, homeSession({ minutes: 0.1, close: false }, 20))
            return { delayMs: 30 }
        }
        const listed = await r.client.listSessions()
        await appended
        expect(listed.map(s => s.session)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
        expect(r.server.received.list_sessions).toBe(4)
    })

    test("reads with 4 in flight, answers out of order: each read gets its own bytes", async () => {
        const r = await rig({ sessions: 2 })
        const all = await storeBytes(r.dev, 1)
        const n = r.client.maxReadBytes
        // later offsets answered sooner
        r.server.behave = (name, v) => (name === "read_session" ? { delayMs: 30 - (v[1] as number) / n * 8 } : undefined)
        const reads = [0, 1, 2, 3].map(k => r.client.read(1, k * n, n))
        const got = await Promise.all(reads)
        expect(r.server.maxReadsOpen).toBe(4)
        expect(got.flat()).toEqual(all.slice(0, 4 * n))
        // at the end: fewer, then none
        const size = all.length
        expect(await r.client.read(1, size - 5, n)).toEqual(all.slice(size - 5))
        expect(await r.client.read(1, size, n)).toEqual([])
    })

    test("duplicated answers and a late answer after the resend are ignored", async () => {
        const r = await rig({ sessions: 1, client: { timeoutMs: 100, retries: 2 } })
        const all = await storeBytes(r.dev, 1)
        r.server.behave = name => (name === "read_session" ? { twice: true } : undefined)
        expect(await r.client.read(1, 0, 100)).toEqual(all.slice(0, 100))
        expect(await r.client.read(1, 100, 100)).toEqual(all.slice(100, 200))
        await sleep(10)
        expect(r.client.stats.ignored).toBe(2)

        // the first answer comes after the client sent again: the second answers, the first is dropped when it comes
        let first = true
        r.server.behave = name => {
            if (name !== "read_session" || !first) return undefined
            first = false
            return { delayMs: 150 }
        }
        expect(await r.client.read(1, 200, 50)).toEqual(all.slice(200, 250))
        expect(r.client.stats.resends).toBe(1)
        await sleep(100)
        expect(r.client.stats.ignored).toBe(3)
        // and the module is still answered correctly afterwards
        r.server.behave = () => undefined
        expect(await r.client.read(1, 0, 10)).toEqual(all.slice(0, 10))
    })

    test.each(["read_session", "list_sessions", "acknowledge", "read_status"] as const)("%s with no answer: timeout after 1 + 2 sends", async name => {
        const r = await rig({ sessions: 1 })
        r.server.behave = n => (n === name ? { drop: true } : undefined)
        const call =
            name === "read_session"
                ? r.client.read(1, 0, 50)
                : name === "list_sessions"
                  ? r.client.listSessions()
                  : name === "acknowledge"
                    ? r.client.acknowledge(1, r.dev.store.sessionInfo(1)!.lastSeq)
                    : r.client.readStatus()
        const e = await sourceError(call)
        expect(e.code).toBe(LogSourceErrorCode.Timeout)
        expect(e.transient).toBe(true)
        expect(e.message).toContain(`did not answer ${name}`)
        expect(r.server.received[name]).toBe(3)
        expect(r.client.stats.timeouts).toBe(1)
    })

    test.each([
        ["no such session", 9, 0, "session 9 at offset 0: NoSession"],
        ["an offset past the end", 1, 1_000_000, "session 1 at offset 1000000: BadOffset"],
    ])("a read of %s is refused, naming session, offset and status", async (_, session, offset, message) => {
        const r = await rig({ sessions: 1 })
        const e = await sourceError(r.client.read(session, offset, 10))
        expect(e.code).toBe(LogSourceErrorCode.Refused)
        expect(e.message).toContain(message)
        expect(r.server.received.read_session).toBe(1) // a refusal is an answer: not asked again
    })

    test("a module not ready refuses reads and acknowledgements", async () => {
        const r = await rig({ sessions: 1, state: State.Recovering })
        const read = await sourceError(r.client.read(1, 0, 10))
        expect(read.code).toBe(LogSourceErrorCode.Refused)
        expect(read.message).toContain("NotReady")
        const ack = await sourceError(r.client.acknowledge(1, 1))
        expect(ack.code).toBe(LogSourceErrorCode.Refused)
        expect(ack.message).toContain("session 1 up to seq 1: NotReady")
    })

    test("acknowledge: written, then already (a repeat); an unknown session is refused", async () => {
        const r = await rig({ sessions: 2 })
        const last = r.dev.store.sessionInfo(1)!.lastSeq
        expect(await r.client.acknowledge(1, last)).toBe("written")
        expect(await r.client.acknowledge(1, last)).toBe("already")
        expect(r.dev.store.sessionInfo(1)!.archived).toBe(true)
        const e = await sourceError(r.client.acknowledge(99, 5))
        expect(e.code).toBe(LogSourceErrorCode.Refused)
        expect(e.message).toContain("session 99 up to seq 5: NoSession")
        // an acknowledgement whose answer is lost is sent again and answers "already": harmless
        r.server.behave = (name, v) => (name === "acknowledge" && v[0] === 2 && r.server.received.acknowledge === 4 ? { drop: true } : undefined)
        expect(await r.client.acknowledge(2, r.dev.store.sessionInfo(2)!.lastSeq)).toBe("already")
        expect(r.dev.store.sessionInfo(2)!.archived).toBe(true)
    })

    test("provision_key: installed once, the same key unchanged, another key a conflict, a short key invalid", async () => {
        const r = await rig({ key: null })
        expect((await r.client.readStatus()).state).toBe(LogState.NoKey)
        const first = await r.client.provisionKey(CLINIC_KEY)
        expect(first.status).toBe(KeyStatus.Installed)
        expect(first.clinicKeyId).not.toBe(0)
        expect(await r.client.provisionKey(CLINIC_KEY)).toEqual({ clinicKeyId: first.clinicKeyId, status: KeyStatus.Unchanged })
        expect((await r.client.provisionKey(Buffer.alloc(32, 7))).status).toBe(KeyStatus.Conflict)
        expect((await r.client.provisionKey(Buffer.alloc(16, 7))).status).toBe(KeyStatus.Invalid)
        expect(await r.client.readStatus()).toMatchObject({ state: LogState.Ready, clinicKeyId: first.clinicKeyId, storeId: STORE_ID })
    })

    test("the module leaving the bus fails the reads in flight and later ones with 'disconnected'", async () => {
        const r = await rig({ sessions: 1 })
        r.server.behave = () => ({ drop: true })
        const pending = r.client.read(1, 0, 10)
        await sleep(10)
        r.bus.removeServiceProvider(r.provider)
        const e = await sourceError(pending)
        expect(e.code).toBe(LogSourceErrorCode.Disconnected)
        expect(e.message).toContain("left the bus")
        expect((await sourceError(r.client.listSessions())).code).toBe(LogSourceErrorCode.Disconnected)
    })
})

describe("the SessionLogSource", () => {
    test("the pull's chunk (227) is one answer; a longer read is asked in two and put together; at the end, fewer", async () => {
        const r = await rig({ sessions: 1 })
        const src = await openSessionLogSource(r.client)
        const all = await storeBytes(r.dev, 1)
        expect(MAX_READ_BYTES).toBe(227)
        expect(await src.read(1, 0, MAX_READ_BYTES)).toEqual(all.slice(0, MAX_READ_BYTES))
        expect(r.server.received.read_session).toBe(1)
        expect(await src.read(1, 0, 300)).toEqual(all.slice(0, 300))
        expect(r.server.received.read_session).toBe(3)
        expect(await src.read(1, all.length - 100, MAX_READ_BYTES)).toEqual(all.slice(-100))
        expect(await src.read(1, all.length - 227, MAX_READ_BYTES)).toEqual(all.slice(-227))
        expect(src).toMatchObject({ deviceId: r.service.device.deviceId, storeId: STORE_ID })
    })

    test.each([
        ["no clinic key", { key: null }, /no clinic key.*pft device provision/],
        ["its flash failed", { state: State.Failed }, /flash failed.*power the trainer off and on/],
    ])("a module with %s cannot be opened: a CliError says what to do", async (_, o, message) => {
        const r = await rig(o)
        const e = await rejection(openSessionLogSource(r.client, { pollMs: 20 }))
        expect(e).toBeInstanceOf(CliError)
        expect((e as CliError).message).toMatch(message)
        expect((await sourceError(r.client.readStatus())).code).toBe(LogSourceErrorCode.Disconnected) // closed
    })

    test("a recovering module is waited for until it is ready; one that stays recovering is a CliError", async () => {
        const r = await rig({ sessions: 1, state: State.Recovering })
        setTimeout(() => (r.server.state = State.Ready), 150)
        const src = await openSessionLogSource(r.client, { pollMs: 20 })
        expect(src.status.state).toBe(LogState.Ready)
        expect(r.server.received.read_status).toBeGreaterThan(3)

        const stuck = await rig({ state: State.Recovering })
        const e = await rejection(openSessionLogSource(stuck.client, { pollMs: 20, readyWaitMs: 100 }))
        expect((e as CliError).message).toMatch(/still recovering/)
    })
})

describe("connectLogSource", () => {
    test("finds the log module on the link and closes the bus with the source", async () => {
        const r = await rig({ sessions: 1 })
        const link = fakeTransport(r.bus)
        const src = await connectLogSource({ url: "ws://test" }, deps(link.transport))
        expect(src).toBeInstanceOf(SessionLogSource)
        expect(src.deviceId).toBe(r.service.device.deviceId)
        expect(src.storeId).toBe(STORE_ID)
        expect(await src.currentProgram()).toBeNull() // no trainer on this bus
        await src.close()
        expect(link.closed()).toBe(true)
    })

    test("no log module on the link: a CliError saying so, exit 'no device'", async () => {
        projectServices()
        console.debug = () => {}
        const bus = new jd.JDBus([], { disableRoleManager: true } as any)
        bus.start()
        cleanups.push(() => jd.JDBus.prototype.dispose.call(bus))
        const e = await rejection(connectLogSource({ url: "ws://test", waitMs: 200 }, deps(fakeTransport(bus).transport)))
        expect(e).toBeInstanceOf(CliError)
        expect((e as CliError).message).toMatch(/^no log module answered on the test bus within 200 ms/)
        expect((e as CliError).exitCode).toBe(EXIT.noDevice)
    })

    test("the link dropping fails the reads in flight with 'disconnected'", async () => {
        const r = await rig({ sessions: 1 })
        const link = fakeTransport(r.bus)
        const src = await connectLogSource({ url: "ws://test" }, deps(link.transport))
        r.server.behave = () => ({ drop: true })
        const pending = src.read(1, 0, 100)
        await sleep(5)
        link.drop()
        const e = await sourceError(pending)
        expect(e.code).toBe(LogSourceErrorCode.Disconnected)
        expect(e.message).toContain("closed in the middle of the transfer")
        await src.close()
    })
})

describe("a pull through the log module", () => {
    test("a week of sessions over a flaky bus: archived once, acknowledged, placed with the trainer's patient; a second pull adds nothing", async () => {
        const week = weekOfSessions(2)
        const r = await rig({ sessions: 7, records: i => week[i] })
        const program = makeProgram({ rest: { programId: "relax-then-tone", programVersion: 3, patientRef: "P-0042" } })
        void hostTrainer(r.bus, { envelope: signProgram(program, CLINIC_KEY).envelope }).provider.controlService.announce()
        const rng = new Rng(7)
        r.server.behave = name => {
            if (name !== "read_session") return undefined
            const x = rng.uniform()
            return x < 0.03 ? { drop: true } : x < 0.06 ? { twice: true } : x < 0.09 ? { delayMs: 60 } : undefined
        }
        const totalRecords = week.reduce((n, s) => n + s.length, 0)
        const archive = tempArchive()
        cleanups.push(() => archive.close())
        let source: SessionLogSource | undefined
        const pull = () => {
            const link = fakeTransport(r.bus)
            return pullLogs({
                archive,
                connect: async () => (source = await connectLogSource({ url: "ws://test" }, deps(link.transport, { source: { pollMs: 20, trainerWaitMs: 1000 } }))),
                cipherFor: () => cipher(),
                readTimeoutMs: 200,
                keepOpen: true,
            })
        }

        const started = Date.now()
        const first = await pull()
        expect(first.deviceId).toBe(r.service.device.deviceId)
        expect(first.storeId).toBe(STORE_ID)
        expect(first.quarantined).toBe(0)
        expect(first.acknowledged).toEqual([1, 2, 3, 4, 5, 6, 7])
        expect(first.fetch.short).toBe(0) // reads come back whole
        // the link misbehaved, and the client took it: reads sent again, answers dropped as repeats
        expect(source!.client.stats.resends).toBeGreaterThan(3)
        expect(source!.client.stats.ignored).toBeGreaterThan(3)
        source!.client.close() // the pull kept it open (keepOpen): the bus is the rig's
        expect(r.server.maxReadsOpen).toBeGreaterThanOrEqual(4)
        const totals = archiveTotals(archive)
        expect(totals).toMatchObject({ sessions: 7, quarantined: 0, patients: 1, devices: 1 })
        expect(totals.records).toBe(totalRecords)
        const rows = archivedSessions(archive, { patientRef: "P-0042" })
        expect(rows.map(s => s.sessionNo)).toEqual([1, 2, 3, 4, 5, 6, 7])
        for (const row of rows) {
            const seqs = sessionFrames(archive, row.id).map(f => f.seq)
            expect(new Set(seqs).size).toBe(seqs.length)
            expect(row.ackedSeq).toBe(row.deviceLastSeq)
        }
        expect(r.dev.store.listSessions().every(s => s.archived)).toBe(true)
        expect(r.dev.store.usage().unarchivedSessions).toBe(0)

        const readsBefore = r.server.received.read_session
        const acksBefore = r.server.received.acknowledge
        const second = await pull()
        expect(second.recordsAdded).toBe(0)
        expect(second.bytes).toBe(0)
        expect(second.acknowledged).toEqual([])
        expect(r.server.received.read_session).toBe(readsBefore)
        expect(r.server.received.acknowledge).toBe(acksBefore)
        expect(archiveTotals(archive)).toEqual(totals)
        expect(Date.now() - started).toBeLessThan(15000)
    }, 20000)
})

describe("pft device provision", () => {
    function keyFile(key: Buffer): string {
        const file = join(tempDir("pft-key-"), "clinic-key.json")
        createClinicKey({ file, random: () => key })
        return file
    }

    async function provision(bus: jd.JDBus, file: string): Promise<string[]> {
        const lines: string[] = []
        const log = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void lines.push(a.join(" ")))
        try {
            await runDeviceProvision({ url: "ws://test", keyFile: file, waitMs: 2000 }, { open: () => fakeTransport(bus).transport })
        } finally {
            log.mockRestore()
        }
        return lines
    }

    test("gives the log module the trainer's key; again: already installed on both", async () => {
        const r = await rig({ key: null })
        const trainer = hostTrainer(r.bus)
        void trainer.provider.controlService.announce()
        const file = keyFile(CLINIC_KEY)
        const id = hex32(clinicKeyId(CLINIC_KEY))
        expect(await provision(r.bus, file)).toEqual([`clinic key ${id} on the device: clinic key installed`, `clinic key ${id} on the log module: installed`])
        expect(r.server.key).toEqual(Uint8Array.from(CLINIC_KEY))
        expect(r.server.state).toBe(State.Ready)
        expect(await provision(r.bus, file)).toEqual([`clinic key ${id} on the device: this clinic key is already installed`, `clinic key ${id} on the log module: already installed`])
    })

    test("a log module holding another key: a CliError naming the log module", async () => {
        const r = await rig({ key: Buffer.alloc(32, 9) })
        void hostTrainer(r.bus).provider.controlService.announce()
        const e = await rejection(provision(r.bus, keyFile(CLINIC_KEY)))
        expect(e).toBeInstanceOf(CliError)
        expect((e as CliError).message).toContain(`the log module refused the key: it holds another clinic key (${hex32(clinicKeyId(Buffer.alloc(32, 9)))})`)
    })

    test("no log module on the bus: the trainer gets the key, and the output says the log module did not", async () => {
        projectServices()
        console.debug = () => {}
        const bus = new jd.JDBus([], { disableRoleManager: true } as any)
        bus.start()
        cleanups.push(() => jd.JDBus.prototype.dispose.call(bus))
        void hostTrainer(bus).provider.controlService.announce()
        const lines = await provision(bus, keyFile(CLINIC_KEY))
        expect(lines[0]).toContain("on the device: clinic key installed")
        expect(lines[1]).toMatch(/^no log module answered on the bus/)
    })
})
