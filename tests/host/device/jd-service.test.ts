// A client's report subscriptions outlive jacdac-ts replacing its objects
// (host/device/jd-service.ts onServiceReport): a device restart replaces its
// service objects, and a device silent for 3 s is dropped and comes back as
// a new object. An in-process bus holds a stim supervisor's service (a bare
// server pushing `status` reports) and the host's client.
import * as jd from "jacdac-ts"
import { afterEach, beforeEach, describe, expect, test } from "vitest"
import { findStimControl, type StimControlClient, type StimControlStatus } from "../../../host/device/stim-control-client"
import { packetInfo, projectServices, registerReportCode, serviceInfo, STIM_CONTROL_SERVICE } from "../../../host/spec"

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms))

async function waitFor(what: string, ok: () => boolean, timeoutMs = 3000): Promise<void> {
    const until = Date.now() + timeoutMs
    while (!ok()) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
        await sleep(5)
    }
}

describe("a client's report subscription", () => {
    let bus: jd.JDBus
    let server: jd.JDServiceServer
    let client: StimControlClient
    const statuses: StimControlStatus[] = []
    const debug = console.debug

    /** the server pushes a status whose level is `levelMa` */
    const push = async (levelMa: number) => {
        const format = packetInfo(STIM_CONTROL_SERVICE, "status").packFormat!
        await server.sendPacketAsync(jd.Packet.from(registerReportCode(STIM_CONTROL_SERVICE, "status"), jd.jdpack(format, [levelMa, levelMa, 0, 1, 0, 0, 0, 0])))
    }
    const levelArrives = async (levelMa: number) => {
        await push(levelMa)
        await waitFor(`the status of ${levelMa} mA`, () => statuses.some(s => s.levelMa === levelMa))
    }

    beforeEach(async () => {
        projectServices()
        // jacdac-ts reports every connect on console.debug
        console.debug = () => {}
        statuses.length = 0
        bus = new jd.JDBus([], { disableRoleManager: true } as any)
        server = new jd.JDServiceServer(serviceInfo(STIM_CONTROL_SERVICE).classIdentifier)
        bus.addServiceProvider(new jd.JDServerServiceProvider("pft-stimcontrol", [server]))
        bus.start()
        client = await findStimControl(bus, 3000)
        client.onStatus(s => statuses.push(s))
        await levelArrives(3)
    })

    afterEach(() => {
        bus.stop()
        bus.dispose()
        console.debug = debug
    })

    test("still hears the device after jacdac-ts replaced its service objects (as on a restart)", async () => {
        const before = client.service
        // what jacdac-ts does on an announce with a lower restart counter (JDDevice.processAnnouncement)
        ;(before.device as unknown as { initServices(force: boolean): void }).initServices(true)
        expect(client.service).not.toBe(before)
        await levelArrives(5)
    })

    test("still hears the device after jacdac-ts dropped it for silence and made a new object for it", async () => {
        const before = client.service.device
        before.lastSeen = -1e9
        // what the bus's own sweep does every few seconds
        ;(bus as unknown as { gcDevices(): void }).gcDevices()
        expect(bus.devices().includes(before)).toBe(false)
        // its next announce makes it anew
        await waitFor("the device again", () => bus.device(before.deviceId, true) !== undefined && bus.device(before.deviceId, true) !== before)
        await levelArrives(7)
    })

    test("hears nothing once unsubscribed", async () => {
        const seen: number[] = []
        const off = client.onStatus(s => seen.push(s.levelMa))
        await levelArrives(4)
        off()
        await levelArrives(6)
        expect(seen).toEqual([4])
    })
})
