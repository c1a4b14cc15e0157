/**
 * The simulated constant-current stimulator module (services/stimulator.md)
 * as a jacdac-ts server hosted from Node on the simulation bus. The
 * behaviour is `SimStimModule` (stim-module.ts); this file puts it on the bus
 * and drives its time:
 *
 * - register writes and `keep_alive` go to the module the moment they
 *   arrive (stamped with `now()`); the register then holds what the module
 *   took (clamped to its hardware limits);
 * - a timer wakes the module at its next deadline (watchdog expiry, ramp
 *   end), so it **switches its output off by itself** when keep-alives stop,
 *   whatever the firmware does;
 * - `status` is pushed every `status_interval` (jacdac-ts' stock streaming
 *   runs on the 50 ms bus refresh) and at once on any change of enabled,
 *   output state or fault; `lead_off` / `fault_raised` events when a fault
 *   latches.
 *
 * Tests inject the world around the module (`setLoad`, `leadOff`, `fault`,
 * `ignoreCommands`, `muteReports`) and read the module's timeline: `timeToZeroMs(t)` is the
 * fault-to-off latency at the module for a fault injected at `t`.
 */
import * as jd from "jacdac-ts"
import { StimModuleFault, STIM_STATUS_INTERVAL_MS } from "../../src/core/stim-module"
import { packetInfo, serviceInfo, STIM_SERVICE } from "../spec"
import { SimStimModule, timeToZeroMs, type SimStimModuleOptions, type StimTimelineEntry } from "./stim-module"

export interface SimStimServerOptions extends SimStimModuleOptions {
    /** [ms] period of the pushed status report; default STIM_STATUS_INTERVAL_MS (50) */
    statusIntervalMs?: number
    /** [ms] monotonic clock; default performance.now() */
    now?: () => number
}

/** The registers the firmware writes, by their spec names. */
const WRITABLE = ["enabled", "amplitude", "pulse_width", "frequency", "ramp_up", "ramp_down", "waveform"] as const
type Writable = (typeof WRITABLE)[number]

type One = [number]
type StatusValues = [number, number, number, number]

export class SimStimServer extends jd.JDServiceServer {
    readonly module: SimStimModule
    readonly statusIntervalMs: number
    private readonly clock: () => number
    private readonly byId = new Map<number, Writable>()
    private readonly regs = {} as Record<Writable, jd.JDRegisterServer<One>>
    private readonly statusReg: jd.JDRegisterServer<StatusValues>
    private readonly leadOffEvent: number
    private readonly faultRaisedEvent: number
    private statusTimer: ReturnType<typeof setInterval> | undefined
    private deadlineTimer: ReturnType<typeof setTimeout> | undefined
    private deaf = false
    private mute = false
    private commandsIgnored = 0
    private statusReports = 0

    constructor(options: SimStimServerOptions = {}) {
        super(serviceInfo(STIM_SERVICE).classIdentifier)
        this.clock = options.now ?? (() => performance.now())
        this.statusIntervalMs = options.statusIntervalMs ?? STIM_STATUS_INTERVAL_MS
        const m = (this.module = new SimStimModule(options))
        const held = m.registers()
        const initial: Record<Writable, number> = {
            enabled: 0,
            amplitude: held.amplitudeMa,
            pulse_width: held.pulseWidthUs,
            frequency: held.frequencyHz,
            ramp_up: held.rampUpMs,
            ramp_down: held.rampDownMs,
            waveform: held.waveform,
        }
        for (const name of WRITABLE) {
            const id = packetInfo(STIM_SERVICE, name).identifier
            this.byId.set(id, name)
            this.regs[name] = this.addRegister<One>(id, [initial[name]])
        }
        const lim = m.limits
        this.addRegister<One>(packetInfo(STIM_SERVICE, "watchdog_timeout").identifier, [m.watchdogTimeoutMs])
        this.addRegister<One>(packetInfo(STIM_SERVICE, "status_interval").identifier, [this.statusIntervalMs])
        this.addRegister(packetInfo(STIM_SERVICE, "hardware_limits").identifier, [
            lim.maxAmplitudeMa,
            lim.minPulseWidthUs,
            lim.maxPulseWidthUs,
            lim.minFrequencyHz,
            lim.maxFrequencyHz,
            lim.maxChargePerPhaseNc,
            lim.minRampUpMs,
            Math.min(lim.leadOffOhm, 0xffff),
        ])
        this.statusReg = this.addRegister<StatusValues>(packetInfo(STIM_SERVICE, "status").identifier, [0, 0, 0, 0])
        this.leadOffEvent = packetInfo(STIM_SERVICE, "lead_off", "event").identifier
        this.faultRaisedEvent = packetInfo(STIM_SERVICE, "fault_raised", "event").identifier
        this.addCommand(packetInfo(STIM_SERVICE, "keep_alive", "command").identifier, () => {
            this.module.keepAlive(this.clock())
            this.schedule()
        })
        m.listener = {
            fault: code => this.announceFault(code),
            changed: () => this.pushStatus(),
        }
        this.refreshStatus()
    }

    /** Starts pushing status reports and keeping time (hostStimulator calls it). */
    start(): void {
        if (!this.statusTimer) this.statusTimer = setInterval(() => this.pushStatus(), this.statusIntervalMs)
        this.schedule()
    }

    /** Stops the timers (the module's time stands still until the next input). */
    stop(): void {
        if (this.statusTimer) clearInterval(this.statusTimer)
        if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
        this.statusTimer = undefined
        this.deadlineTimer = undefined
    }

    override async handlePacket(pkt: jd.Packet): Promise<void> {
        if (this.deaf && pkt.isCommand) {
            this.commandsIgnored++
            return
        }
        const name = pkt.isRegisterSet ? this.byId.get(pkt.registerIdentifier) : undefined
        if (name) return this.write(name, pkt)
        await super.handlePacket(pkt)
    }

    // ---- test hooks

    /** [ms] the module's clock */
    now(): number {
        return this.clock()
    }

    /** The load between the electrodes [Ohm]; >= the lead-off impedance opens the circuit. Returns `now()`. */
    setLoad(ohm: number): number {
        const t = this.clock()
        this.module.setLoad(ohm, t)
        this.afterInput()
        return t
    }

    /** An electrode comes off (lead-off). Returns the time it happened [ms]. */
    leadOff(): number {
        const t = this.clock()
        this.module.leadOff(t)
        this.afterInput()
        return t
    }

    /** A fault inside the module (cuts the output, latches). Returns the time it happened [ms]. */
    fault(code: StimModuleFault): number {
        const t = this.clock()
        this.module.injectFault(code, t)
        this.afterInput()
        return t
    }

    /**
     * While true, every command to the module is lost on the way (register
     * writes and keep-alives alike); the module still reports. Models a
     * broken command path: its watchdog must cut the output by itself.
     */
    ignoreCommands(on: boolean): void {
        this.deaf = on
    }

    /**
     * While true, the module sends nothing (no status, no events) but goes
     * on working: models a module whose reports are lost, which the
     * firmware must treat as a lost module after STIM_STATUS_TIMEOUT_MS.
     */
    muteReports(on: boolean): void {
        this.mute = on
    }

    /** Commands dropped by `ignoreCommands`. */
    ignoredCommandCount(): number {
        return this.commandsIgnored
    }

    /** Status reports pushed so far. */
    statusReportCount(): number {
        return this.statusReports
    }

    /** [mA] delivered now */
    deliveredNow(): number {
        return this.module.deliveredAt(this.module.advance(this.clock()))
    }

    timeline(): readonly StimTimelineEntry[] {
        this.module.advance(this.clock())
        return this.module.timeline()
    }

    /** [ms] from `fromMs` until the output was at zero (undefined: not yet). */
    timeToZeroMs(fromMs: number): number | undefined {
        return timeToZeroMs(this.timeline(), fromMs)
    }

    // ---- internals

    private write(name: Writable, pkt: jd.Packet): void {
        const reg = this.regs[name]
        let asked: number
        try {
            asked = Number(jd.jdunpack<One>(pkt.data, reg.packFormat)[0])
        } catch {
            return
        }
        const t = this.clock()
        const m = this.module
        let held: number
        switch (name) {
            case "enabled":
                m.setEnabled(asked !== 0, t)
                held = asked !== 0 ? 1 : 0
                break
            case "amplitude":
                held = m.setAmplitude(asked, t)
                break
            case "pulse_width":
                held = m.setPulseWidth(asked, t)
                break
            case "frequency":
                held = m.setFrequency(asked, t)
                break
            case "ramp_up":
                held = m.setRampUp(asked, t)
                break
            case "ramp_down":
                held = m.setRampDown(asked, t)
                break
            case "waveform":
                held = m.setWaveform(asked, t)
                break
        }
        reg.setValues([held], true)
        this.afterInput()
    }

    private afterInput(): void {
        this.refreshStatus()
        this.schedule()
    }

    /** One timer at the module's next deadline; it advances the module, which cuts the output itself. */
    private schedule(): void {
        if (this.deadlineTimer) clearTimeout(this.deadlineTimer)
        this.deadlineTimer = undefined
        if (!this.statusTimer) return
        const next = this.module.nextDeadlineMs()
        if (next === undefined) return
        const wait = Math.max(0, Math.ceil(next - this.clock()))
        this.deadlineTimer = setTimeout(() => {
            this.deadlineTimer = undefined
            this.module.advance(this.clock())
            this.refreshStatus()
            this.schedule()
        }, wait)
    }

    private refreshStatus(): void {
        const s = this.module.status(this.clock())
        this.statusReg.setValues([s.deliveredMa, s.loadOhm, s.fault, s.flags], true)
    }

    private pushStatus(): void {
        this.refreshStatus()
        if (this.mute || !this.device?.bus) return
        this.statusReports++
        this.statusReg.sendGetAsync().catch(() => {})
    }

    private announceFault(code: StimModuleFault): void {
        if (this.mute || !this.device?.bus) return
        const send =
            code === StimModuleFault.LeadOff
                ? this.sendEvent(this.leadOffEvent)
                : this.sendEvent(this.faultRaisedEvent, jd.jdpack<[number]>("u8", [code]))
        send.catch(() => {})
    }
}

/** Hosts a simulated stimulator module on `bus` as its own device and starts its clock. */
export function hostStimulator(bus: jd.JDBus, options: SimStimServerOptions = {}): SimStimServer {
    const server = new SimStimServer(options)
    bus.addServiceProvider(new jd.JDServerServiceProvider("pft-stimulator", [server]))
    server.start()
    return server
}
