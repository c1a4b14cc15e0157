// Firmware of the stimulator module's own microcontroller: the e-stim safety
// supervisor next to the output stage (services/stimcontrol.md). It follows
// the trainer's session (src/stim/trainer-link.ts: the program in force, the
// runner's status, the probe) and takes the stimcontrol commands (the host,
// the tests); the supervisor decides every output and drives the output
// stage (services/stimulator.md) through src/stim/stim-output.ts.
import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"
import { startStimOutput, type StimOutputDriver } from "./stim/stim-output"
import { commandArgs } from "./platform/command-args"
import { StimEventKind } from "./core/stim/supervisor"
import { STIM_STATUS_TIMEOUT_MS } from "./core/limits"
import { PROBE_STIM_ELECTRODE_AREA_CM2 } from "./core/stim-module"
import { TrainerLink } from "./stim/trainer-link"

/** [ms] how often the trainer's silence and the status are looked at */
const WATCH_MS = 50
/**
 * [ms] the status goes out again this often when nothing changed: a push
 * lost on the way (the host's wait for a pause once timed out with the
 * output already off) is mended within this, as the trainer repeats its
 * runner report every 500 ms (services/trainer.md). Listeners act on
 * changes only, so a repeat is harmless.
 */
const STATUS_REPEAT_MS = 500
/** `rest_since_last_session` when no stim session is on record */
const NO_SESSION_ON_RECORD = 0xffffffff


class StimControlServer extends Server implements ds.PftStimControlServerSpec {
    /** [ms] the trainer's last command; 0: none yet */
    lastTrainerMs = 0

    constructor(private readonly out: StimOutputDriver) {
        super(ds.PftStimControl.spec)
    }

    sessionBegin(amplitudeMax: number, electrodeArea: number, restSinceLastSession: number, pulseWidthMax: number, frequencyMax: number, sessionStimMax: number, contraindications: number) {
        const a = commandArgs(amplitudeMax)
        const flags = a[6]
        this.out.step({
            kind: StimEventKind.SessionBegin,
            now: 0,
            session: {
                therapistCaps: { amplitudeMaxMa: a[0], pulseWidthMaxUs: a[3], frequencyMaxHz: a[4], sessionStimMaxMs: a[5] * 1000 },
                electrodeAreaCm2: a[1] > 0 ? a[1] : undefined,
                contraindications: { pregnant: (flags & 1) !== 0, implantedDevice: (flags & 2) !== 0, other: (flags & 4) !== 0 },
                restSinceLastSessionMs: a[2] === NO_SESSION_ON_RECORD ? Infinity : a[2] * 1000,
            },
        })
        this.lastTrainerMs = ds.millis()
    }

    phase(work: number, rest: number, rampUp: number, rampDown: number, frequency: number, pulseWidth: number, mode: number, trigger: number) {
        const a = commandArgs(work)
        this.out.step({
            kind: StimEventKind.Phase,
            now: 0,
            phase: { mode: a[6], frequencyHz: a[4], pulseWidthUs: a[5], workMs: a[0], restMs: a[1], rampUpMs: a[2], rampDownMs: a[3], triggerPct: a[7] },
        })
        this.lastTrainerMs = ds.millis()
    }

    signal(value: number, kind: number) {
        const a = commandArgs(value)
        // any kind goes to the supervisor: one it does not expect stops the output (fail safe)
        this.out.signal(a[1], a[0])
        this.lastTrainerMs = ds.millis()
    }

    keepAlive(seq: number) {
        this.lastTrainerMs = ds.millis()
    }

    status(): [number, number, number, number, number, number, number, number] {
        const s = this.out.status()
        return [s.levelMa, s.peakLevelMa, Math.round(s.stimUsedMs), s.running ? 1 : 0, s.locked ? 1 : 0, s.lastStop, s.lastRefusal, s.refusedStarts]
    }

    async pushStatus() {
        await this._send(this.spec.lookup("status").encode(this.status()))
    }
}

const out = startStimOutput()
const server = new StimControlServer(out)
startServer(server, { roleName: "stimControl" })
new TrainerLink(out, PROBE_STIM_ELECTRODE_AREA_CM2, () => {
    server.lastTrainerMs = ds.millis()
}).start()

// the trainer's silence stops the output (it alone sees the stop button), and the status goes out when it
// changes, and again every STATUS_REPEAT_MS
let running = false
let lastStop = 0
let refusedStarts = 0
let pushedMs = 0
setInterval(async () => {
    let s = out.status()
    const silentMs = ds.millis() - server.lastTrainerMs
    if (s.running && silentMs > STIM_STATUS_TIMEOUT_MS) {
        console.log("stim: the trainer has been silent " + silentMs + " ms: output off")
        out.signal(StimEventKind.TrainerLost, silentMs)
        s = out.status()
    }
    if (s.running !== running || s.lastStop !== lastStop || s.refusedStarts !== refusedStarts || ds.millis() - pushedMs >= STATUS_REPEAT_MS) {
        running = s.running
        lastStop = s.lastStop
        refusedStarts = s.refusedStarts
        pushedMs = ds.millis()
        await server.pushStatus()
    }
}, WATCH_MS)
