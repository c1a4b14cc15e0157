/**
 * The host's (and the simulated trainer's) side of the stim supervisor on the
 * stimulator module's microcontroller (services/stimcontrol.md).
 */
import * as jd from "jacdac-ts"
import { STIM_CONTROL_SERVICE, packetInfo } from "../spec"
import { currentService, findService, onRegisterReport, readRegisterValues } from "./jd-service"
import type { StimPhaseSettings } from "../../src/core/stim/plan"
import type { StimEventKind } from "../../src/core/stim/supervisor"
import type { StimReason } from "../../src/core/stim/reasons"

/** `rest_since_last_session` when no stim session is on record */
export const NO_SESSION_ON_RECORD = 0xffffffff

export interface StimSessionSetup {
    amplitudeMaxMa: number
    pulseWidthMaxUs: number
    frequencyMaxHz: number
    /** [s] stimulation time in the session (the program's cap is in minutes; seconds let a test reach it) */
    sessionStimMaxS: number
    /** bit 0 pregnant, bit 1 implanted device, bit 2 other */
    contraindications: number
    /** [cm^2] 0: unknown */
    electrodeAreaCm2: number
    /** [s] NO_SESSION_ON_RECORD: none */
    restSinceLastSessionS: number
}

export interface StimControlStatus {
    /** [mA] */
    levelMa: number
    /** [mA] */
    peakLevelMa: number
    /** [ms] */
    stimUsedMs: number
    running: boolean
    locked: boolean
    lastStop: StimReason
    /** why the last deliberate start was refused, None once one is taken */
    lastRefusal: StimReason
    /** deliberate starts refused since the module's boot, modulo 256 */
    refusedStarts: number
    /** [ms] Date.now() when it arrived */
    receivedAtMs: number
}

function decodeStatus(v: number[]): StimControlStatus {
    return { levelMa: v[0], peakLevelMa: v[1], stimUsedMs: v[2], running: v[3] !== 0, locked: v[4] !== 0, lastStop: v[5] as StimReason, lastRefusal: (v[6] ?? 0) as StimReason, refusedStarts: v[7] ?? 0, receivedAtMs: Date.now() }
}

export class StimControlClient {
    constructor(private readonly found: jd.JDService) {}

    /** The stim supervisor's service now (through a power cycle of the module: currentService). */
    get service(): jd.JDService {
        return currentService(this.found)
    }

    private async send(name: string, values: unknown[]): Promise<void> {
        const cmd = packetInfo(STIM_CONTROL_SERVICE, name, "command")
        await this.service.sendPacketAsync(jd.Packet.from(cmd.identifier, jd.jdpack(cmd.packFormat ?? "", values as any)))
    }

    /** The session's caps and flags (idempotent). */
    async sessionBegin(s: StimSessionSetup): Promise<void> {
        await this.send("session_begin", [
            s.amplitudeMaxMa,
            s.electrodeAreaCm2,
            s.restSinceLastSessionS,
            s.pulseWidthMaxUs,
            s.frequencyMaxHz,
            s.sessionStimMaxS,
            s.contraindications,
        ])
    }

    /** The stim phase to run (idempotent). */
    async phase(p: StimPhaseSettings): Promise<void> {
        await this.send("phase", [p.workMs, p.restMs, p.rampUpMs, p.rampDownMs, p.frequencyHz, p.pulseWidthUs, p.mode, p.triggerPct])
    }

    /** A button, the battery, the probe or the measured level: sent once, never retried (Start and the intensity buttons are not idempotent). */
    async signal(kind: StimEventKind, value = 0): Promise<void> {
        await this.send("signal", [value, kind])
    }

    private keepAliveSeq = 0

    /** A keep-alive, numbered: identical frames can be dropped as repeats (services/stimcontrol.md). */
    async keepAlive(): Promise<void> {
        this.keepAliveSeq = (this.keepAliveSeq + 1) >>> 0
        await this.send("keep_alive", [this.keepAliveSeq])
    }

    /** The supervisor's status now (read, not the last pushed). */
    async status(): Promise<StimControlStatus> {
        return decodeStatus((await readRegisterValues(() => this.service, STIM_CONTROL_SERVICE, "status", "the stim supervisor")) as number[])
    }

    /** Each pushed or read status. */
    onStatus(handler: (s: StimControlStatus) => void): () => void {
        return onRegisterReport(this.service, STIM_CONTROL_SERVICE, "status", v => handler(decodeStatus(v as number[])))
    }
}

/** Waits for the stim supervisor's service on the bus. */
export async function findStimControl(bus: jd.JDBus, timeoutMs: number): Promise<StimControlClient> {
    return new StimControlClient(
        await findService(bus, STIM_CONTROL_SERVICE, timeoutMs, `no stim supervisor found on the bus within ${timeoutMs} ms: is the stimulator module connected and running its firmware?`)
    )
}
