import * as ds from "@devicescript/core"
import { Server, startServer } from "@devicescript/server"

/** What the trainer reports live, in wire units. */
export interface LiveValues {
    lastSeq: number
    samplesReceived: number
    samplesLost: number
    /** [hPa] */
    pressureHpa: number
    /** [mV] */
    emgMv: number
}

class TrainerServer extends Server implements ds.PftTrainerServerSpec {
    state = ds.PftTrainerSessionState.Idle
    current: LiveValues = { lastSeq: 0, samplesReceived: 0, samplesLost: 0, pressureHpa: 0, emgMv: 0 }
    /** [s] unix time at the moment `clockSetAtMs` (device monotonic) */
    private wallClockAtSetS = 0
    private clockSetAtMs = 0

    constructor() {
        super(ds.PftTrainer.spec)
    }

    sessionState() {
        return this.state
    }

    live(): [number, number, number, number, number] {
        const v = this.current
        return [v.lastSeq, v.samplesReceived, v.samplesLost, v.pressureHpa, v.emgMv]
    }

    wallClock() {
        if (this.wallClockAtSetS === 0) return 0
        return this.wallClockAtSetS + Math.floor((ds.millis() - this.clockSetAtMs) / 1000)
    }

    setWallClock(unixTime: number) {
        // fields arrive as one array from servercore (see shared notes)
        const t = Array.isArray(unixTime) ? (unixTime as any as number[])[0] : unixTime
        this.wallClockAtSetS = t
        this.clockSetAtMs = ds.millis()
    }

    /** Pushes the live register as an unsolicited report. */
    async pushLive() {
        await this._send(this.spec.lookup("live").encode(this.live()))
    }
}

export interface TrainerHandle {
    setState(state: ds.PftTrainerSessionState): void
    setLive(values: LiveValues): void
    pushLive(): Promise<void>
}

/** Starts the trainer service the host talks to. */
export function startTrainerServer(): TrainerHandle {
    const server = new TrainerServer()
    startServer(server, { roleName: "trainer" })
    return {
        setState: state => {
            server.state = state
        },
        setLive: values => {
            server.current = values
        },
        pushLive: async () => await server.pushLive(),
    }
}
