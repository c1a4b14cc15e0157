/**
 * Words for the log's codes (src/core/log/records.ts), for `pft logs show`
 * and the exports: one table per enum, so a new code is one line here.
 */
import { EventCode, JoinedLateCause, LogChannel, PhaseOutcome, SessionOutcome, StopCause } from "../../src/core/log/records"
import { RepFlag } from "../../src/core/metrics/types"
import { PHASE_KINDS } from "../../src/core/program/types"
import { FaultCause } from "../../src/core/runner/types"
import { stimReasonName } from "../../src/core/stim/reasons"

function lookup(table: Record<number, string>, code: number, what: string): string {
    return table[code] ?? `${what} ${code}`
}

const EVENT_NAMES: Record<number, string> = {
    [EventCode.Pause]: "pause",
    [EventCode.Resume]: "resume",
    [EventCode.Stop]: "stop",
    [EventCode.GateMet]: "relaxation gate met",
    [EventCode.GateNotMet]: "relaxation gate not met",
    [EventCode.SpasmSign]: "spasm sign",
    [EventCode.StimLevel]: "stim level",
    [EventCode.StimStop]: "stim stop",
    [EventCode.Fault]: "fault",
    [EventCode.StoreDroppedArchived]: "archived sessions dropped from the device",
    [EventCode.PainRating]: "pain rating",
    [EventCode.DilatorSize]: "dilator size",
    [EventCode.StimRefused]: "stim start refused",
    [EventCode.JoinedLate]: "recording began late",
}

const STOP_CAUSE_NAMES: Record<number, string> = {
    [StopCause.None]: "none",
    [StopCause.Button]: "stop button",
    [StopCause.Completed]: "completed",
    [StopCause.SessionTimeOver]: "session time over",
    [StopCause.LeadOff]: "lead off",
    [StopCause.ImpedanceOutOfRange]: "impedance out of range",
    [StopCause.ProbeMissing]: "probe missing",
    [StopCause.StimHeartbeatLost]: "stimulator heartbeat lost",
    [StopCause.LowBattery]: "low battery",
    [StopCause.Fault]: "fault",
    [StopCause.Contraindication]: "contraindication",
    [StopCause.Host]: "stopped from the computer",
}

const PHASE_OUTCOME_NAMES: Record<number, string> = {
    [PhaseOutcome.Completed]: "completed",
    [PhaseOutcome.GateNotMet]: "not started: relaxation gate not met",
    [PhaseOutcome.Stopped]: "stopped",
    [PhaseOutcome.Fault]: "fault",
}

const SESSION_OUTCOME_NAMES: Record<number, string> = {
    [SessionOutcome.Completed]: "completed",
    [SessionOutcome.Stopped]: "stopped",
    [SessionOutcome.Fault]: "fault",
}

const FAULT_CAUSE_NAMES: Record<number, string> = {
    [FaultCause.Stimulator]: "stimulator module fault or silent",
    [FaultCause.Electrodes]: "electrode contact (lead-off or impedance)",
    [FaultCause.ProbeSilent]: "probe module silent",
    [FaultCause.Storage]: "session log could not be written",
    [FaultCause.Software]: "firmware error",
    [FaultCause.Clock]: "clock error",
    [FaultCause.Other]: "other fault",
}

export const CHANNEL_UNITS: Record<number, string> = { [LogChannel.Emg]: "uV", [LogChannel.Pressure]: "cmH2O" }
const CHANNEL_NAMES: Record<number, string> = { [LogChannel.Emg]: "EMG", [LogChannel.Pressure]: "pressure" }

const REP_FLAG_NAMES: [number, string][] = [
    [RepFlag.NoContraction, "no contraction"],
    [RepFlag.Interrupted, "interrupted"],
    [RepFlag.Dropout, "samples lost"],
    [RepFlag.Saturated, "saturated"],
    [RepFlag.StartedHigh, "started high"],
    [RepFlag.NoRelease, "no release"],
    [RepFlag.PoorContact, "poor EMG contact"],
]

export const eventName = (code: number) => lookup(EVENT_NAMES, code, "event")
export const stopCauseName = (code: number) => lookup(STOP_CAUSE_NAMES, code, "cause")
/** [ms] as m:ss, for stimulation and session times on the therapist's screens */
export const mmss = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, "0")}`

/** A runner fault (src/core/runner/types.ts FaultCause) in words; undefined for 0 (none) and unknown numbers. */
export const faultCauseName = (cause: number): string | undefined => FAULT_CAUSE_NAMES[cause]
export const phaseOutcomeName = (code: number) => lookup(PHASE_OUTCOME_NAMES, code, "outcome")
export const sessionOutcomeName = (code: number) => lookup(SESSION_OUTCOME_NAMES, code, "outcome")
export const channelName = (c: number) => lookup(CHANNEL_NAMES, c, "channel")
export const channelUnit = (c: number) => lookup(CHANNEL_UNITS, c, "unit")
/** the program's phase kind (its index in PHASE_KINDS, as the program codec writes it) */
export const phaseKindName = (k: number) => (k >= 0 && k < PHASE_KINDS.length ? PHASE_KINDS[k] : `phase kind ${k}`)

export function repFlagWords(flags: number): string {
    return REP_FLAG_NAMES.filter(([bit]) => flags & bit)
        .map(([, w]) => w)
        .join(", ")
}

/**
 * The therapist's warning when the EMG electrode's contact was poor
 * (RepFlag.PoorContact) in any of these reps' flags; null when it never was.
 */
export function poorContactNotice(repFlags: number[]): string | null {
    const poor = repFlags.filter(f => f & RepFlag.PoorContact).length
    if (poor === 0) return null
    return `EMG contact was poor in ${poor} of ${repFlags.length} reps: their amplitudes (peak, %MVC, hold CV) carry electrode noise, timings stand; re-seat or moisten the probe before the next session`
}

/** An event in words: "stop (stop button)", "pain rating 4/10", "stim level 12.0 mA (was 10.0 mA)". */
export function describeEvent(e: { code: number; cause: number; value: number; extra: number }): string {
    const name = eventName(e.code)
    switch (e.code) {
        case EventCode.Stop:
        case EventCode.StimStop:
            return `${name} (${stopCauseName(e.cause)})`
        case EventCode.GateMet:
            return `${name}: rest tone ${(e.value / 100).toFixed(2)} ${channelUnit(e.cause)}, held ${(e.extra / 1000).toFixed(1)} s`
        case EventCode.GateNotMet:
            return `${name}: lowest rest tone ${(e.value / 100).toFixed(2)} ${channelUnit(e.cause)} (phase ${e.extra + 1} not started)`
        case EventCode.SpasmSign:
            return `${name}: rest tone up ${(e.value / 100).toFixed(2)} ${channelUnit(e.cause)}`
        case EventCode.StimLevel:
            return `${name} ${(e.value / 1000).toFixed(1)} mA (was ${(e.extra / 1000).toFixed(1)} mA)`
        case EventCode.Fault:
            return `${name} ${e.cause} (detail ${e.value})`
        case EventCode.StoreDroppedArchived:
            return `${name}: sessions ${e.value}..${e.extra}`
        case EventCode.PainRating:
            return `${name} ${e.value}/10`
        case EventCode.StimRefused:
            return `${name}${e.value > 1 ? ` ${e.value} times` : ""} (${stimReasonName(e.cause)})`
        case EventCode.JoinedLate:
            if (e.cause === JoinedLateCause.AfterEnd)
                return `recorded after the session ended: the log module started after its end at ${(e.value / 1000).toFixed(1)} s; its reps and summary were read back from the trainer, its trace and events after the last recorded are not`
            return `${name}: the log module started ${(e.value / 1000).toFixed(1)} s into the session; the trace and events before are not recorded, the reps are`
        case EventCode.DilatorSize:
            return `${name} ${e.value}${e.extra > 0 ? ` (${(e.extra / 10).toFixed(1)} mm)` : ""}`
        default:
            return name
    }
}
