/**
 * The host's view of the trainer service (services/trainer.md): finds it on
 * a bus and decodes its live reports. Formats come from the spec.
 */
import * as jd from "jacdac-ts"
import { hpaToCmH2O, mvToUv } from "../../src/core/units"
import { TRAINER_SERVICE, packetInfo, registerReportCode, serviceInfo } from "../spec"

/** A live report, in the units people read. */
export interface LiveReport {
    lastSeq: number
    samplesReceived: number
    samplesLost: number
    /** [cmH2O] */
    pressureCmH2O: number
    /** [uV] */
    emgUv: number
    /** [ms] host clock when it arrived */
    receivedAtMs: number
}

export const SESSION_STATES = ["idle", "ready", "running", "paused", "done", "fault"] as const
export type SessionState = (typeof SESSION_STATES)[number]

export class TrainerClient {
    constructor(readonly service: jd.JDService) {}

    /** Calls `handler` for every live report; returns an unsubscribe. */
    onLive(handler: (report: LiveReport) => void): () => void {
        const code = registerReportCode(TRAINER_SERVICE, "live")
        const format = packetInfo(TRAINER_SERVICE, "live").packFormat!
        return this.service.subscribe(jd.REPORT_RECEIVE, (pkt: jd.Packet) => {
            if (pkt.serviceCommand !== code) return
            const [lastSeq, samplesReceived, samplesLost, pressureHpa, emgMv] = jd.jdunpack<
                [number, number, number, number, number]
            >(pkt.data, format)
            handler({
                lastSeq,
                samplesReceived,
                samplesLost,
                pressureCmH2O: hpaToCmH2O(pressureHpa),
                emgUv: mvToUv(emgMv),
                receivedAtMs: Date.now(),
            })
        })
    }

    /** Resolves with the first live report that satisfies `accept`. */
    nextLive(accept: (r: LiveReport) => boolean, timeoutMs: number): Promise<LiveReport> {
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                off()
                reject(new Error(`no matching live report from the trainer within ${timeoutMs} ms`))
            }, timeoutMs)
            const off = this.onLive(r => {
                if (!accept(r)) return
                clearTimeout(timer)
                off()
                resolve(r)
            })
        })
    }

    async sessionState(): Promise<SessionState> {
        const reg = this.service.register(packetInfo(TRAINER_SERVICE, "session_state").identifier)
        await reg.refresh(true)
        const v = reg.unpackedValue?.[0] as number | undefined
        return SESSION_STATES[v ?? 0] ?? "idle"
    }

    /** Sets the device's wall clock (idempotent). */
    async setWallClock(unixSeconds: number): Promise<void> {
        const cmd = packetInfo(TRAINER_SERVICE, "set_wall_clock", "command")
        await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat!, [unixSeconds])))
    }

    /** [s] the device's wall clock, 0 if never set. */
    async wallClock(): Promise<number> {
        const reg = this.service.register(packetInfo(TRAINER_SERVICE, "wall_clock").identifier)
        await reg.refresh(true)
        return (reg.unpackedValue?.[0] as number) ?? 0
    }
}

/** Waits until a trainer service shows up on `bus`. */
export async function findTrainer(bus: jd.JDBus, timeoutMs: number): Promise<TrainerClient> {
    const serviceClass = serviceInfo(TRAINER_SERVICE).classIdentifier
    const deadline = Date.now() + timeoutMs
    for (;;) {
        const found = bus.services({ serviceClass })
        if (found.length) return new TrainerClient(found[0])
        if (Date.now() > deadline)
            throw new Error(
                `no trainer found on the bus within ${timeoutMs} ms: is the device connected and running its firmware?`
            )
        await new Promise(r => setTimeout(r, 100))
    }
}
