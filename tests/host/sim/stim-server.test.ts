// The simulated stimulator module on a Jacdac bus (host/sim/stim-server.ts):
// an in-process jacdac-ts bus holds the server and a client, no devtools and
// no firmware. The client does what the firmware's driver does (register
// writes, keep-alives) and reads what it reads (pushed status, events).
import * as jd from "jacdac-ts"
import { afterEach, beforeEach, describe, expect, test } from "vitest"
import { AMPLITUDE_MAX_MA, STIM_WATCHDOG_TIMEOUT_MS } from "../../../src/core/limits"
import { StimModuleFault, StimStatusFlags, STIM_STATUS, STIM_STATUS_INTERVAL_MS } from "../../../src/core/stim-module"
import { packetInfo, projectServices, serviceInfo, STIM_SERVICE } from "../../../host/spec"
import { hostStimulator, type SimStimServer } from "../../../host/sim/stim-server"

const code = (name: string, kind?: string) => packetInfo(STIM_SERVICE, name, kind).identifier

interface Status {
    atMs: number
    deliveredMa: number
    loadOhm: number
    fault: number
    flags: number
}

/** Decodes a status payload with the offsets the firmware uses. */
function decodeStatus(data: Uint8Array, atMs: number): Status {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
    return {
        atMs,
        deliveredMa: v.getFloat32(STIM_STATUS.deliveredOffset, true),
        loadOhm: v.getUint16(STIM_STATUS.loadOffset, true),
        fault: v.getUint8(STIM_STATUS.faultOffset),
        flags: v.getUint8(STIM_STATUS.flagsOffset),
    }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 3000): Promise<T> {
    const until = performance.now() + timeoutMs
    for (;;) {
        const v = get()
        if (v !== undefined && v !== null && v !== false) return v
        if (performance.now() > until) throw new Error(`timed out waiting for ${what}`)
        await sleep(5)
    }
}

/** What a client on the bus sees of the module. */
class Client {
    readonly statuses: Status[] = []
    readonly events: { code: number; fault: number; atMs: number }[] = []
    constructor(
        readonly srv: jd.JDService,
        private readonly server: SimStimServer
    ) {
        const statusReport = jd.CMD_GET_REG | code("status")
        srv.on(jd.PACKET_RECEIVE, (pkt: jd.Packet) => {
            if (pkt.isEvent) {
                if (!pkt.isRepeatedEvent) this.events.push({ code: pkt.eventCode, fault: pkt.data.length ? pkt.data[0] : 0, atMs: server.now() })
            } else if (pkt.isReport && pkt.serviceCommand === statusReport) this.statuses.push(decodeStatus(pkt.data, server.now()))
        })
    }
    async write(name: string, value: number): Promise<void> {
        await this.srv.register(code(name)).sendSetPackedAsync([value])
    }
    async keepAlive(): Promise<void> {
        await this.srv.sendPacketAsync(jd.Packet.from(code("keep_alive", "command"), new Uint8Array(0)))
    }
    /** writes as the firmware does on a start: settings, amplitude, then enabled */
    async start(amplitudeMa: number): Promise<void> {
        await this.write("pulse_width", 250)
        await this.write("frequency", 50)
        await this.write("ramp_up", 3000)
        await this.write("ramp_down", 0)
        await this.write("amplitude", amplitudeMa)
        await this.write("enabled", 1)
    }
}

describe("simulated stimulator on an in-process bus", () => {
    let bus: jd.JDBus
    let server: SimStimServer
    let client: Client
    let keepAliveTimer: ReturnType<typeof setInterval> | undefined
    const debug = console.debug

    beforeEach(async () => {
        projectServices()
        // jacdac-ts reports every connect on console.debug
        console.debug = () => {}
        bus = new jd.JDBus([], { disableRoleManager: true } as any)
        server = hostStimulator(bus)
        bus.start()
        const classId = serviceInfo(STIM_SERVICE).classIdentifier
        const srv = await waitFor("the stimulator service", () => bus.services({ serviceClass: classId })[0])
        client = new Client(srv, server)
    })

    afterEach(() => {
        if (keepAliveTimer) clearInterval(keepAliveTimer)
        keepAliveTimer = undefined
        server.stop()
        bus.stop()
        bus.dispose()
        console.debug = debug
    })

    test("pushes status every status_interval (50 ms) while disabled, decodable at the firmware's offsets", async () => {
        const first = await waitFor("two status reports", () => (client.statuses.length >= 2 ? client.statuses.length : undefined))
        const from = client.statuses[first - 1].atMs
        await sleep(500)
        const since = client.statuses.filter(s => s.atMs > from)
        expect(since.length).toBeGreaterThanOrEqual(8) // 10 expected at 20 Hz; timers may slip
        expect(since.at(-1)).toMatchObject({ deliveredMa: 0, loadOhm: 0, fault: StimModuleFault.None, flags: 0 })
        for (let i = 1; i < since.length; i++) expect(since[i].atMs - since[i - 1].atMs).toBeLessThan(4 * STIM_STATUS_INTERVAL_MS)
    })

    test("register writes reach the module and hold the clamped value: 120 mA is held as 90 mA", async () => {
        await client.write("amplitude", 120)
        await client.write("pulse_width", 9)
        await waitFor("the writes", () => server.module.registers().pulseWidthUs === 50)
        expect(server.module.registers().amplitudeMa).toBe(AMPLITUDE_MAX_MA)
        const reg = client.srv.register(code("amplitude"))
        await reg.refresh(true)
        expect(reg.unpackedValue[0]).toBe(AMPLITUDE_MAX_MA)
        expect(server.module.clamps().map(c => c.register)).toEqual(["amplitude", "pulse_width"])
    })

    test("kept alive it stimulates; when keep-alives stop it switches off by itself at watchdog_timeout", async () => {
        await client.start(6)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        await sleep(300)
        expect(server.module.status(server.now()).fault).toBe(StimModuleFault.None)
        clearInterval(keepAliveTimer)
        keepAliveTimer = undefined
        const lastKeepAlive = server.module.lastKeepAlive()
        await waitFor("the watchdog event", () => client.events.find(e => e.fault === StimModuleFault.WatchdogExpired), 1000)
        expect(server.timeToZeroMs(lastKeepAlive)).toBe(STIM_WATCHDOG_TIMEOUT_MS)
        // the module's timer noticed within a few ms of the deadline, and the status says so
        const cutAt = lastKeepAlive + STIM_WATCHDOG_TIMEOUT_MS
        const report = await waitFor("a status with the fault", () => client.statuses.find(s => s.fault === StimModuleFault.WatchdogExpired))
        expect(report.atMs - cutAt).toBeLessThan(30)
        expect(report.deliveredMa).toBe(0)
        expect(report.flags & StimStatusFlags.OutputOn).toBe(0)
        expect(report.flags & StimStatusFlags.Enabled).toBe(StimStatusFlags.Enabled)
    })

    test("commands lost on the way (keep-alives included): the module's own watchdog cuts the output", async () => {
        await client.start(4)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        server.ignoreCommands(true)
        const lostFrom = server.now()
        await waitFor("the cut", () => server.timeToZeroMs(lostFrom) !== undefined, 1000)
        expect(server.timeToZeroMs(lostFrom)).toBeLessThanOrEqual(STIM_WATCHDOG_TIMEOUT_MS)
        expect(server.ignoredCommandCount()).toBeGreaterThan(0)
        expect(server.timeline().at(-1)!.cause).toBe("watchdog")
    })

    test("lead-off: output at zero in the same instant, lead_off event and LeadOff in the status", async () => {
        await client.start(8)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        const at = server.leadOff()
        expect(server.timeToZeroMs(at)).toBe(0)
        await waitFor("the lead_off event", () => client.events.find(e => e.code === code("lead_off", "event")), 1000)
        const report = await waitFor("the status", () => client.statuses.find(s => s.atMs >= at && s.fault === StimModuleFault.LeadOff))
        expect(report.atMs - at).toBeLessThan(30) // pushed at once, not at the next interval
    })

    test("an injected fault is raised as fault_raised with its code and latches until enabled off and on", async () => {
        await client.start(8)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        const at = server.fault(StimModuleFault.OverCurrent)
        expect(server.timeToZeroMs(at)).toBe(0)
        const ev = await waitFor("fault_raised", () => client.events.find(e => e.code === code("fault_raised", "event")), 1000)
        expect(ev.fault).toBe(StimModuleFault.OverCurrent)
        await client.write("enabled", 1)
        await sleep(60)
        expect(server.module.status(server.now()).fault).toBe(StimModuleFault.OverCurrent)
        await client.write("enabled", 0)
        await client.write("enabled", 1)
        await waitFor("the restart", () => server.module.status(server.now()).fault === StimModuleFault.None)
        await waitFor("output on again", () => server.deliveredNow() > 0)
    })

    test("a load out of the firmware's range is pushed at once (the module itself keeps stimulating)", async () => {
        await client.start(5)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        await sleep(20)
        const at = server.setLoad(3000)
        const report = await waitFor("the new load", () => client.statuses.find(s => s.atMs >= at && s.loadOhm === 3000))
        expect(report.atMs - at).toBeLessThan(30)
        expect(server.deliveredNow()).toBeGreaterThan(0)
    })

    test("muted, the module reports nothing but still works and still cuts by itself", async () => {
        await client.start(5)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        await waitFor("output on", () => server.deliveredNow() > 0)
        server.muteReports(true)
        const n = client.statuses.length
        const reportsBefore = server.statusReportCount()
        await sleep(300)
        expect(client.statuses.length - n).toBeLessThanOrEqual(1) // one may have been on its way
        expect(server.statusReportCount()).toBe(reportsBefore)
        expect(server.deliveredNow()).toBeGreaterThan(0)
        clearInterval(keepAliveTimer)
        keepAliveTimer = undefined
        const last = server.module.lastKeepAlive()
        await waitFor("the cut", () => server.timeToZeroMs(last) !== undefined, 1000)
        expect(server.timeToZeroMs(last)).toBe(STIM_WATCHDOG_TIMEOUT_MS)
        expect(client.events).toEqual([])
    })

    test("the measured load is reported while pulses flow", async () => {
        server.setLoad(730)
        await client.start(3)
        keepAliveTimer = setInterval(() => client.keepAlive(), 50)
        const report = await waitFor("a measured load", () => client.statuses.find(s => s.loadOhm > 0))
        expect(report.loadOhm).toBe(730)
    })
})
