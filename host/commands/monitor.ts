/**
 * `pft monitor`: the trainer live in the terminal for the clinic visit (the
 * screen: host/monitor/render.ts). Keys: s start a session, x stop, p pause
 * or resume, m mark an event (kept in the marks list and, with --marks, in
 * a CSV file), q quit. The trainer pushes its live values 10 times a
 * second; the screen redraws at most that often, whatever the sample rate.
 * The program runner's status comes with every change and every 500 ms;
 * the stim supervisor's, when a stimulator module is on the bus, with
 * every change (read once when found).
 */
import { appendFileSync } from "node:fs"
import { ButtonKind } from "../../src/core/runner/types"
import { withTrainer, type ConnectOptions } from "../device/connect"
import { findStimControl } from "../device/stim-control-client"
import type { TrainerClient } from "../device/trainer-client"
import { MonitorState, renderMonitor } from "../monitor/render"

export interface MonitorOptions extends ConnectOptions {
    /** [s] stop after this long (for scripts and tests); interactive until q otherwise */
    duration?: number
    /** append marks to this CSV file (session_time_ms,wall_time) */
    marks?: string
}

const REDRAW_MS = 100
/** [ms] how long the monitor looks for a stimulator module on the bus (it runs on without one) */
const STIM_FIND_MS = 5000

export async function runMonitor(opts: MonitorOptions): Promise<void> {
    await withTrainer(opts, t => monitor(t, opts))
}

async function monitor(t: TrainerClient, opts: MonitorOptions): Promise<void> {
    const width = process.stdout.columns ?? 100
    const state = new MonitorState(Math.max(20, width - 18))
    const tty = process.stdout.isTTY === true && opts.duration === undefined
    let dirty = true
    const offLive = t.onLive(r => {
        state.addLive(r)
        dirty = true
    })
    const offCue = t.onCue(c => {
        state.cue = c
        dirty = true
    })
    const offRunner = t.onRunner(r => {
        state.runner = r
        dirty = true
    })
    let offStim = () => {}
    let quitting = false
    findStimControl(t.service.device.bus, STIM_FIND_MS)
        .then(async stim => {
            if (quitting) return
            state.stimFound = true
            offStim = stim.onStatus(s => {
                state.stim = s
                dirty = true
            })
            const now = await stim.status()
            // a status pushed meanwhile is newer than the one read
            if (!state.stim) state.stim = now
            dirty = true
        })
        .catch(() => {})
    const poll = setInterval(() => {
        t.sessionState()
            .then(s => {
                if (s !== state.state) dirty = true
                state.state = s
            })
            .catch(() => (state.message = "the trainer does not answer"))
    }, 500)
    const draw = () => {
        if (!dirty || !tty) return
        dirty = false
        process.stdout.write("\x1b[H\x1b[2J" + renderMonitor(state, width).join("\n") + "\n")
    }
    const redraw = setInterval(draw, REDRAW_MS)
    let quit: () => void = () => {}
    const done = new Promise<void>(resolve => (quit = resolve))
    const act = async (key: string) => {
        try {
            if (key === "q" || key === "\u0003") quit()
            else if (key === "s") {
                await t.startSession()
                state.message = "start sent"
            } else if (key === "x") {
                await t.stopSession()
                state.message = "stop sent"
            } else if (key === "p") {
                await t.pressButton(ButtonKind.StartPause)
                state.message = "pause/resume sent"
            } else if (key === "m") {
                const at = state.mark()
                if (opts.marks) appendFileSync(opts.marks, `${Math.round(at)},${new Date().toISOString()}\n`)
            }
        } catch (e) {
            state.message = `failed: ${(e as Error).message}`
        }
        dirty = true
    }
    const onKey = (buf: Buffer) => void act(buf.toString())
    if (tty && process.stdin.isTTY) {
        process.stdin.setRawMode(true)
        process.stdin.resume()
        process.stdin.on("data", onKey)
    }
    const timer = opts.duration !== undefined ? setTimeout(quit, opts.duration * 1000) : undefined
    process.once("SIGINT", quit)
    await done
    quitting = true
    if (timer) clearTimeout(timer)
    clearInterval(redraw)
    clearInterval(poll)
    offLive()
    offCue()
    offRunner()
    offStim()
    if (tty && process.stdin.isTTY) {
        process.stdin.off("data", onKey)
        process.stdin.setRawMode(false)
        process.stdin.pause()
    }
    // the last screen stays (or is the output, without a terminal)
    console.log(renderMonitor(state, width).join("\n"))
}
