/**
 * `validateProgram`: the one check of a therapist's program, run by the
 * host before signing and by the device before installing. It reports every
 * problem at once, each with the field path, the value and what is allowed.
 *
 * Two passes:
 * 1. Fields (./fields.ts): types, units (a field name with another unit is
 *    an unknown field, with a hint), ranges, the fixed-point grid, unknown
 *    and missing fields. A field that fails is kept as INVALID so the second
 *    pass can tell "given but wrong" from "not given".
 * 2. Rules between fields, checked once the fields they read are valid on
 *    their own: stim parameters against the therapist's caps and the hard
 *    limits (charge per phase, average current, pulse energy), mode bands,
 *    work/rest cycles, contraindications (stim and probe locks),
 *    the relaxation gate for toning phases, levels against the channels in
 *    use, stimulation time and session length.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import {
    AMPLITUDE_STEP_MA,
    AVERAGE_CURRENT_MAX_MA,
    CHARGE_PER_PHASE_MAX_UC,
    PULSE_ENERGY_MAX_MJ,
    SESSION_STIM_MAX_MS,
    averageCurrentMa,
    chargePerPhaseUc,
    pulseEnergyMj,
} from "../limits"
import {
    PHASE_KIND_VALUES,
    SESSION_MAX_S,
    STIM_TRIGGER_KEYS,
    stimModeRule,
    type FieldSpec,
    type StimModeRule,
    programTables,
} from "./fields"
import { isToningPhase, lockingFlags, phaseDurationS } from "./phases"
import type { Contraindications, Phase, Program, ProgramError, ProgramValidation } from "./types"

type Rec = Record<string, unknown>

/** Stands in for a field that was given but failed its own check (already reported). */
const INVALID: Rec = {}

/** The longest string value printed in a message. */
const SHOW_MAX = 40

function isObject(v: unknown): boolean {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}

/** A value as printed in messages. */
function show(v: unknown): string {
    if (v === undefined) return "(missing)"
    if (v === null) return "null"
    if (typeof v === "string") {
        const s = JSON.stringify(v.length > SHOW_MAX ? v.slice(0, SHOW_MAX) + "..." : v)
        return s
    }
    if (typeof v === "number" || typeof v === "boolean") return "" + v
    if (Array.isArray(v)) return "a list"
    return "an object"
}

function join(path: string, key: string): string {
    return path === "" ? key : path + "." + key
}

function report(errors: ProgramError[], e: { path: string; value: string; allowed: string; message: string }) {
    errors.push({ path: e.path, value: e.value, allowed: e.allowed, message: e.message })
}

function unitText(f: FieldSpec): string {
    return f.unit ? " " + f.unit : ""
}

/** "0.5..5 s in steps of 0.1" */
export function rangeText(f: FieldSpec): string {
    const scale = f.scale ?? 1
    const steps = scale === 1 ? "" : " in steps of " + 1 / scale
    return f.min + ".." + f.max + unitText(f) + steps
}

function allowedText(f: FieldSpec): string {
    switch (f.kind) {
        case "num":
            return f.min === f.max ? "" + f.min : rangeText(f)
        case "enum":
            return "one of " + (f.values ?? []).join(", ")
        case "bool":
            return "true or false"
        case "str":
            return f.min + ".." + f.max + " letters, digits, \".\", \"_\" or \"-\""
        case "obj":
            return "an object with " + (f.fields ?? []).map(x => x.key).join(", ")
        case "phases":
            return f.min + ".." + f.max + " phases"
    }
    return ""
}

// Unit endings of field names, longest first: a name that differs from an
// allowed one only in its unit is a unit mistake, not a new field.
// (JSON text: the module's top level runs on the device too, and text is not bytecode)
const UNIT_SUFFIXES: string[] = JSON.parse('["Seconds","Minutes","PctMvc","CmH2O","Secs","Mins","Sec","Min","Pct","Hz","Ms","Us","Ma","Uv","Mv","Hpa","S"]')

function stem(key: string): string {
    for (const suffix of UNIT_SUFFIXES) {
        if (key.length > suffix.length && key.endsWith(suffix)) return key.slice(0, key.length - suffix.length).toLowerCase()
    }
    return key.toLowerCase()
}

function findField(fields: FieldSpec[], key: string): FieldSpec | undefined {
    for (const f of fields) if (f.key === key) return f
    return undefined
}

function reportUnknown(errors: ProgramError[], o: { path: string; key: string; value: unknown; fields: FieldSpec[] }) {
    const keys = o.fields.map(f => f.key)
    let hint: FieldSpec | undefined
    const s = stem(o.key)
    for (const f of o.fields) if (stem(f.key) === s) hint = f
    const message = hint
        ? "unknown field: did you mean " + hint.key + "? (the unit is part of the name: " + hint.key + " is in" + unitText(hint) + ")"
        : "unknown field (allowed here: " + keys.join(", ") + ")"
    report(errors, { path: join(o.path, o.key), value: show(o.value), allowed: keys.join(", "), message })
}

function checkNum(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    const allowed = allowedText(f)
    if (typeof v !== "number") {
        const quoted = typeof v === "string" && v !== "" && !isNaN(+v) ? " (write the number without quotes)" : ""
        report(errors, { path, value: show(v), allowed, message: show(v) + " is not a number: expected " + allowed + quoted })
        return INVALID
    }
    if (isNaN(v) || v === Infinity || v === -Infinity) {
        report(errors, { path, value: show(v), allowed, message: show(v) + " is not a finite number: expected " + allowed })
        return INVALID
    }
    const min = f.min ?? 0
    const max = f.max ?? 0
    if (min === max && v !== min) {
        report(errors, { path, value: show(v), allowed, message: v + " is not supported: it must be " + min })
        return INVALID
    }
    if (v < min || v > max) {
        const why = f.source ? " (" + max + unitText(f) + " is " + f.source + ")" : ""
        report(errors, { path, value: show(v), allowed, message: v + " is out of range " + rangeText(f) + why })
        return INVALID
    }
    const scale = f.scale ?? 1
    if (scale === 1 && Math.floor(v) !== v) {
        report(errors, { path, value: show(v), allowed, message: v + " is not a whole number: expected " + allowed })
        return INVALID
    }
    if (scale !== 1 && Math.floor(v * scale + 0.5) / scale !== v) {
        report(errors, { path, value: show(v), allowed, message: v + " is not a multiple of " + 1 / scale + unitText(f) + ": expected " + allowed })
        return INVALID
    }
    return v === 0 ? 0 : v // no -0
}

function isIdChar(c: number): boolean {
    return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 46 || c === 95 || c === 45
}

function checkStr(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    const allowed = allowedText(f)
    if (typeof v !== "string") {
        report(errors, { path, value: show(v), allowed, message: show(v) + " is not a string: expected " + allowed })
        return INVALID
    }
    const hint = f.key === "patientRef" ? " (a pseudonymous code such as P-0042, never the patient's name)" : ""
    if (v.length < (f.min ?? 0) || v.length > (f.max ?? 0)) {
        report(errors, { path, value: show(v), allowed, message: "length " + v.length + " is out of range " + f.min + ".." + f.max + hint })
        return INVALID
    }
    for (let i = 0; i < v.length; i++) {
        if (!isIdChar(v.charCodeAt(i))) {
            report(errors, { path, value: show(v), allowed, message: show(v) + " has a character other than letters, digits, \".\", \"_\" and \"-\"" + hint })
            return INVALID
        }
    }
    return v
}

function checkEnum(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    const values = f.values ?? []
    if (typeof v === "string" && values.indexOf(v) >= 0) return v
    report(errors, { path, value: show(v), allowed: allowedText(f), message: show(v) + " is not one of " + values.join(", ") })
    return INVALID
}

function checkBool(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    if (typeof v === "boolean") return v
    report(errors, { path, value: show(v), allowed: allowedText(f), message: show(v) + " is not true or false" })
    return INVALID
}

function checkField(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    switch (f.kind) {
        case "num":
            return checkNum(v, f, path, errors)
        case "str":
            return checkStr(v, f, path, errors)
        case "enum":
            return checkEnum(v, f, path, errors)
        case "bool":
            return checkBool(v, f, path, errors)
        case "obj":
            return checkObject(v, { fields: f.fields ?? [], path, errors })
        case "phases":
            return checkPhases(v, f, path, errors)
    }
    return INVALID
}

/** The object's valid fields in table order; INVALID for fields that failed. */
function checkObject(v: unknown, o: { fields: FieldSpec[]; path: string; errors: ProgramError[]; extraKeys?: string[] }): Rec {
    if (!isObject(v)) {
        const what = o.path === "" ? "a program (a JSON object)" : "an object with " + o.fields.map(x => x.key).join(", ")
        report(o.errors, { path: o.path, value: show(v), allowed: what, message: show(v) + " is not " + what })
        return INVALID
    }
    const input = v as Rec
    for (const k of Object.keys(input)) {
        if (findField(o.fields, k) || (o.extraKeys && o.extraKeys.indexOf(k) >= 0)) continue
        reportUnknown(o.errors, { path: o.path, key: k, value: input[k], fields: o.fields })
    }
    const out: Rec = {}
    for (const f of o.fields) {
        const path = join(o.path, f.key)
        const val = input[f.key]
        if (val === undefined) {
            if (!f.optional) report(o.errors, { path, value: "(missing)", allowed: allowedText(f), message: "missing: required, " + allowedText(f) })
            continue
        }
        out[f.key] = checkField(val, f, path, o.errors)
    }
    return out
}

function checkPhase(v: unknown, path: string, errors: ProgramError[]): Rec {
    if (!isObject(v)) {
        report(errors, { path, value: show(v), allowed: "a phase object", message: show(v) + " is not a phase: expected an object with a kind" })
        return INVALID
    }
    const kind = (v as Rec)["kind"]
    if (typeof kind !== "string" || PHASE_KIND_VALUES.indexOf(kind) < 0) {
        const allowed = "one of " + PHASE_KIND_VALUES.join(", ")
        report(errors, { path: path + ".kind", value: show(kind), allowed, message: (kind === undefined ? "missing: required, " : show(kind) + " is not ") + allowed })
        return INVALID
    }
    const fields = programTables().PHASE_FIELDS[kind]
    const checked = checkObject(v, { fields, path, errors, extraKeys: ["kind"] })
    const out: Rec = { kind }
    for (const k of Object.keys(checked)) out[k] = checked[k]
    return out
}

function checkPhases(v: unknown, f: FieldSpec, path: string, errors: ProgramError[]): unknown {
    if (!Array.isArray(v)) {
        report(errors, { path, value: show(v), allowed: allowedText(f), message: show(v) + " is not a list of phases" })
        return INVALID
    }
    const list = v as unknown[]
    if (list.length < (f.min ?? 0)) report(errors, { path, value: "[]", allowed: allowedText(f), message: "empty: a program needs at least one phase" })
    if (list.length > (f.max ?? 0))
        report(errors, { path, value: list.length + " phases", allowed: allowedText(f), message: list.length + " phases, more than the " + f.max + " a program may have" })
    const out: Rec[] = []
    for (let i = 0; i < list.length; i++) out.push(checkPhase(list[i], path + "[" + i + "]", errors))
    return out
}

// ---- pass 2: rules between fields ----

function num(o: Rec | undefined, key: string): number | undefined {
    if (!o) return undefined
    const v = o[key]
    return typeof v === "number" ? v : undefined
}

function str(o: Rec | undefined, key: string): string | undefined {
    if (!o) return undefined
    const v = o[key]
    return typeof v === "string" ? v : undefined
}

/** a valid nested object (not missing, not INVALID) */
function obj(o: Rec | undefined, key: string): Rec | undefined {
    if (!o) return undefined
    const v = o[key]
    return v !== undefined && v !== INVALID && isObject(v) ? (v as Rec) : undefined
}

function given(o: Rec, key: string): boolean {
    return o[key] !== undefined
}

/** x rounded to 2 decimals, for messages */
function r2(x: number): number {
    return Math.floor(x * 100 + 0.5) / 100
}

interface RuleContext {
    errors: ProgramError[]
    channels: string | undefined
    contraindications: Rec | undefined
    caps: Rec | undefined
}

/**
 * Rest-tone levels (uV, cmH2O): at least one, each for a channel in use;
 * with `withSd`, each level with its SD (rest must be stable too).
 */
function checkLevels(o: Rec, path: string, ctx: RuleContext, withSd: boolean) {
    const uv = given(o, "restToneMaxUv")
    const cm = given(o, "restToneMaxCmH2O")
    if (!uv && !cm)
        report(ctx.errors, {
            path,
            value: "(no level)",
            allowed: "restToneMaxUv and/or restToneMaxCmH2O",
            message: "needs a rest-tone level: restToneMaxUv (EMG) and/or restToneMaxCmH2O (pressure)",
        })
    if (uv && ctx.channels === "pressure")
        report(ctx.errors, {
            path: join(path, "restToneMaxUv"),
            value: show(o["restToneMaxUv"]),
            allowed: "only with channels emg or both",
            message: "the program's channels are \"pressure\", so there is no EMG to compare: use restToneMaxCmH2O, or channels \"emg\" or \"both\"",
        })
    if (cm && ctx.channels === "emg")
        report(ctx.errors, {
            path: join(path, "restToneMaxCmH2O"),
            value: show(o["restToneMaxCmH2O"]),
            allowed: "only with channels pressure or both",
            message: "the program's channels are \"emg\", so there is no pressure to compare: use restToneMaxUv, or channels \"pressure\" or \"both\"",
        })
    if (!withSd) return
    checkPair(o, { path, level: "restToneMaxUv", sd: "restToneSdMaxUv", errors: ctx.errors })
    checkPair(o, { path, level: "restToneMaxCmH2O", sd: "restToneSdMaxCmH2O", errors: ctx.errors })
}

function checkPair(o: Rec, p: { path: string; level: string; sd: string; errors: ProgramError[] }) {
    const level = given(o, p.level)
    const sd = given(o, p.sd)
    if (level && !sd)
        report(p.errors, { path: join(p.path, p.sd), value: "(missing)", allowed: "required with " + p.level, message: "missing: required with " + p.level + " (rest must be stable as well as low)" })
    if (sd && !level)
        report(p.errors, { path: join(p.path, p.level), value: "(missing)", allowed: "required with " + p.sd, message: "missing: " + p.sd + " is given, so the level it goes with is required" })
}

function checkRelaxation(relax: Rec, ctx: RuleContext) {
    checkLevels(relax, "relaxation", ctx, true)
    const hold = num(relax, "holdS")
    const timeout = num(relax, "timeoutS")
    if (hold !== undefined && timeout !== undefined && timeout < hold)
        report(ctx.errors, {
            path: "relaxation.timeoutS",
            value: "" + timeout,
            allowed: "at least holdS (" + hold + " s)",
            message: timeout + " s is shorter than holdS " + hold + " s: the criterion could never be met",
        })
}

function checkFrequency(f: Rec, errors: ProgramError[]) {
    const day = given(f, "sessionsPerDay")
    const week = given(f, "sessionsPerWeek")
    if (day && week)
        report(errors, { path: "frequency", value: "both", allowed: "sessionsPerDay or sessionsPerWeek", message: "give sessionsPerDay or sessionsPerWeek, not both" })
    if (!day && !week)
        report(errors, { path: "frequency", value: "(neither)", allowed: "sessionsPerDay or sessionsPerWeek", message: "missing: sessionsPerDay or sessionsPerWeek (adherence is measured against it)" })
}

function checkLocks(ph: Rec, path: string, ctx: RuleContext) {
    if (!ctx.contraindications) return
    const c = ctx.contraindications as unknown as Contraindications
    const kind = ph["kind"] as string
    const flags: string[] = []
    const add = (list: string[]) => {
        for (const x of list) if (flags.indexOf(x) < 0) flags.push(x)
    }
    if (kind === "stim") add(lockingFlags(c, "stim"))
    add(lockingFlags(c, "probe")) // every phase uses the intravaginal probe (phaseUsesProbe)
    if (!flags.length) return
    const names = flags.map(x => "contraindications." + x).join(", ")
    const what = kind === "stim" ? "stimulation" : "\"" + kind + "\" uses the intravaginal probe, which"
    report(ctx.errors, {
        path,
        value: show(kind),
        allowed: "no " + (kind === "stim" ? "stim" : "probe") + " phase with " + names,
        message: what + " is contraindicated for this patient (" + names + "): remove this phase",
    })
}

function checkHolds(ph: Rec, path: string, errors: ProgramError[]) {
    const fixed = given(ph, "targetPctMvc")
    const ramp = given(ph, "targetRamp")
    if (fixed && ramp)
        report(errors, { path, value: "both", allowed: "targetPctMvc or targetRamp", message: "give targetPctMvc or targetRamp, not both" })
    if (!fixed && !ramp)
        report(errors, { path: join(path, "targetPctMvc"), value: "(missing)", allowed: "targetPctMvc or targetRamp", message: "missing: a fixed targetPctMvc or a targetRamp" })
    const r = obj(ph, "targetRamp")
    const start = num(r, "startPctMvc")
    const max = num(r, "maxPctMvc")
    if (start !== undefined && max !== undefined && start > max)
        report(errors, {
            path: join(path, "targetRamp.startPctMvc"),
            value: "" + start,
            allowed: "at most maxPctMvc (" + max + " % MVC)",
            message: start + " % MVC is above maxPctMvc " + max + " % MVC",
        })
}

function checkStimCaps(ph: Rec, path: string, ctx: RuleContext) {
    const caps = ctx.caps
    const f = num(ph, "frequencyHz")
    const pw = num(ph, "pulseWidthUs")
    const capF = num(caps, "frequencyMaxHz")
    const capPw = num(caps, "pulseWidthMaxUs")
    const amp = num(caps, "amplitudeMaxMa")
    if (f !== undefined && capF !== undefined && f > capF)
        report(ctx.errors, { path: join(path, "frequencyHz"), value: "" + f, allowed: "at most " + capF + " Hz", message: f + " Hz is over the therapist's cap caps.frequencyMaxHz (" + capF + " Hz)" })
    if (pw !== undefined && capPw !== undefined && pw > capPw)
        report(ctx.errors, { path: join(path, "pulseWidthUs"), value: "" + pw, allowed: "at most " + capPw + " us", message: pw + " us is over the therapist's cap caps.pulseWidthMaxUs (" + capPw + " us)" })
    if (pw === undefined || amp === undefined) return
    // at the intensity the patient may reach: the amplitude cap
    const out = { amplitudeMa: amp, pulseWidthUs: pw, frequencyHz: f ?? 0 }
    const charge = chargePerPhaseUc(out)
    if (charge > CHARGE_PER_PHASE_MAX_UC) {
        const maxPw = Math.floor((CHARGE_PER_PHASE_MAX_UC * 1000) / amp)
        const maxAmp = Math.floor((CHARGE_PER_PHASE_MAX_UC * 1000) / pw / AMPLITUDE_STEP_MA) * AMPLITUDE_STEP_MA
        report(ctx.errors, {
            path: join(path, "pulseWidthUs"),
            value: "" + pw,
            allowed: "at most " + maxPw + " us at " + amp + " mA",
            message:
                pw + " us at the amplitude cap " + amp + " mA is " + r2(charge) + " uC per phase, over the hard limit of " + CHARGE_PER_PHASE_MAX_UC +
                " uC: lower pulseWidthUs to " + maxPw + " us or caps.amplitudeMaxMa to " + maxAmp + " mA",
        })
    }
    if (f !== undefined && averageCurrentMa(out) > AVERAGE_CURRENT_MAX_MA)
        report(ctx.errors, {
            path: join(path, "frequencyHz"),
            value: "" + f,
            allowed: "average current at most " + AVERAGE_CURRENT_MAX_MA + " mA",
            message: f + " Hz with " + pw + " us at " + amp + " mA averages " + r2(averageCurrentMa(out)) + " mA, over the hard limit of " + AVERAGE_CURRENT_MAX_MA + " mA",
        })
    if (pulseEnergyMj(out) > PULSE_ENERGY_MAX_MJ)
        report(ctx.errors, {
            path: join(path, "pulseWidthUs"),
            value: "" + pw,
            allowed: "pulse energy at most " + PULSE_ENERGY_MAX_MJ + " mJ",
            message: pw + " us at " + amp + " mA is " + r2(pulseEnergyMj(out)) + " mJ per pulse, over the hard limit of " + PULSE_ENERGY_MAX_MJ + " mJ",
        })
}

function checkStimCycle(ph: Rec, path: string, rule: StimModeRule, errors: ProgramError[]) {
    const work = given(ph, "workS")
    const rest = given(ph, "restS")
    if (rule.cycle === "required") {
        if (!work) report(errors, { path: join(path, "workS"), value: "(missing)", allowed: "required", message: "missing: mode \"" + rule.mode + "\" stimulates in work/rest cycles" })
        if (!rest) report(errors, { path: join(path, "restS"), value: "(missing)", allowed: "required", message: "missing: mode \"" + rule.mode + "\" stimulates in work/rest cycles" })
    } else if (work !== rest) {
        const missing = work ? "restS" : "workS"
        report(errors, { path: join(path, missing), value: "(missing)", allowed: "workS and restS together, or neither", message: "missing: give workS and restS together (cycled) or neither (continuous)" })
    }
    const ws = num(ph, "workS")
    const rs = num(ph, "restS")
    if (rule.restAtLeastWork && ws !== undefined && rs !== undefined && rs < ws)
        report(errors, {
            path: join(path, "restS"),
            value: "" + rs,
            allowed: "at least workS (" + ws + " s)",
            message: rs + " s is shorter than workS " + ws + " s: strengthening needs a rest at least as long as the work (muscle fatigue)",
        })
}

function checkStim(ph: Rec, path: string, ctx: RuleContext) {
    checkStimCaps(ph, path, ctx)
    const mode = str(ph, "mode")
    const rule = mode === undefined ? undefined : stimModeRule(mode)
    if (!rule) return
    const f = num(ph, "frequencyHz")
    if (f !== undefined && (f < rule.frequencyMinHz || f > rule.frequencyMaxHz))
        report(ctx.errors, {
            path: join(path, "frequencyHz"),
            value: "" + f,
            allowed: rule.frequencyMinHz + ".." + rule.frequencyMaxHz + " Hz for mode " + rule.mode,
            message: f + " Hz is outside the " + rule.mode + " band " + rule.frequencyMinHz + ".." + rule.frequencyMaxHz + " Hz",
        })
    checkStimCycle(ph, path, rule, ctx.errors)
    for (const key of STIM_TRIGGER_KEYS) {
        const has = given(ph, key)
        if (rule.trigger && !has)
            report(ctx.errors, { path: join(path, key), value: "(missing)", allowed: "required for mode ets", message: "missing: required for mode \"ets\"" })
        if (!rule.trigger && has)
            report(ctx.errors, { path: join(path, key), value: show(ph[key]), allowed: "only for mode ets", message: "only for mode \"ets\" (this phase is \"" + rule.mode + "\")" })
    }
    const tc = str(ph, "triggerChannel")
    if (tc !== undefined && ctx.channels !== undefined && ctx.channels !== "both" && ctx.channels !== tc)
        report(ctx.errors, {
            path: join(path, "triggerChannel"),
            value: show(tc),
            allowed: "a channel the program uses (" + ctx.channels + ")",
            message: show(tc) + " is not a channel this program uses (channels \"" + ctx.channels + "\")",
        })
}

function checkPhaseRules(ph: Rec, path: string, ctx: RuleContext) {
    checkLocks(ph, path, ctx)
    const kind = ph["kind"]
    if (kind === "relax") checkLevels(ph, path, ctx, false)
    else if (kind === "holds") checkHolds(ph, path, ctx.errors)
    else if (kind === "stim") checkStim(ph, path, ctx)
}

/** toning phases whose kind (and stim mode) are known, as "phases[2] (flicks)" */
function toningPhases(phases: Rec[]): string[] {
    const out: string[] = []
    for (let i = 0; i < phases.length; i++) {
        const ph = phases[i]
        if (ph === INVALID) continue
        if (ph["kind"] === "stim" && str(ph, "mode") === undefined) continue
        if (isToningPhase(ph as unknown as Phase)) out.push("phases[" + i + "] (" + ph["kind"] + ")")
    }
    return out
}

function checkStimTime(phases: Rec[], ctx: RuleContext) {
    const cap = num(ctx.caps, "sessionStimMaxMin")
    const hardS = SESSION_STIM_MAX_MS / 1000
    let total = 0
    for (let i = 0; i < phases.length; i++) {
        const d = phases[i] === INVALID ? undefined : phases[i]["kind"] === "stim" ? num(phases[i], "durationS") : undefined
        if (d === undefined) continue
        const before = total
        total += d
        const path = "phases[" + i + "].durationS"
        if (cap !== undefined && total > cap * 60 && before <= cap * 60)
            report(ctx.errors, {
                path,
                value: "" + d,
                allowed: "stim time at most caps.sessionStimMaxMin (" + cap + " min)",
                message: "stimulation adds up to " + r2(total / 60) + " min with this phase, over the therapist's cap caps.sessionStimMaxMin (" + cap + " min)",
            })
        else if (cap === undefined && total > hardS && before <= hardS)
            report(ctx.errors, {
                path,
                value: "" + d,
                allowed: "stim time at most " + hardS / 60 + " min",
                message: "stimulation adds up to " + r2(total / 60) + " min with this phase, over the hard limit of " + hardS / 60 + " min",
            })
    }
}

/** every required field present and no field INVALID (nested objects included) */
function complete(o: Rec, fields: FieldSpec[]): boolean {
    if (o === INVALID) return false
    for (const f of fields) {
        const v = o[f.key]
        if (v === INVALID || (v === undefined && !f.optional)) return false
        if (v !== undefined && f.kind === "obj" && !complete(v as Rec, f.fields ?? [])) return false
    }
    return true
}

function phaseComplete(ph: Rec): boolean {
    return ph !== INVALID && complete(ph, programTables().PHASE_FIELDS[ph["kind"] as string])
}

function checkSessionLength(root: Rec, phases: Rec[], errors: ProgramError[]) {
    let tenths = 0
    let gated = false
    for (const ph of phases) {
        if (!phaseComplete(ph)) return // a field it needs is missing or invalid (already reported)
        const d = phaseDurationS(ph as unknown as Phase)
        tenths += Math.floor(d * 10 + 0.5)
        if (isToningPhase(ph as unknown as Phase)) gated = true
    }
    const timeout = num(obj(root, "relaxation"), "timeoutS")
    const gate = gated && timeout !== undefined ? timeout : 0
    const totalS = tenths / 10 + gate
    if (totalS <= SESSION_MAX_S) return
    const gateText = gate ? " + up to " + r2(gate / 60) + " min waiting for the relaxation gate" : ""
    report(errors, {
        path: "phases",
        value: r2(totalS / 60) + " min",
        allowed: "at most " + SESSION_MAX_S / 60 + " min",
        message:
            "the session takes up to " + r2(totalS / 60) + " min (phases " + r2(tenths / 600) + " min" + gateText + "), over the " + SESSION_MAX_S / 60 +
            " min maximum: shorten phases or split the program",
    })
}

function checkRules(root: Rec, errors: ProgramError[]) {
    const ctx: RuleContext = {
        errors,
        channels: str(root, "channels"),
        contraindications: obj(root, "contraindications"),
        caps: obj(root, "caps"),
    }
    const relax = obj(root, "relaxation")
    if (relax) checkRelaxation(relax, ctx)
    const freq = obj(root, "frequency")
    if (freq) checkFrequency(freq, errors)
    const list = root["phases"]
    const phases: Rec[] = Array.isArray(list) ? (list as Rec[]) : []
    for (let i = 0; i < phases.length; i++) if (phases[i] !== INVALID) checkPhaseRules(phases[i], "phases[" + i + "]", ctx)
    const toning = toningPhases(phases)
    if (toning.length && root["relaxation"] === undefined)
        report(errors, {
            path: "relaxation",
            value: "(missing)",
            allowed: "a relaxation criterion",
            message:
                "missing: " + toning.join(", ") + (toning.length > 1 ? " are toning phases, which start" : " is a toning phase, which starts") +
                " only once the patient has relaxed: add the relaxation criterion that gates them",
        })
    let stim = false
    for (const ph of phases) if (ph !== INVALID && ph["kind"] === "stim") stim = true
    if (stim && root["caps"] === undefined)
        report(errors, {
            path: "caps",
            value: "(missing)",
            allowed: "the therapist's caps",
            message: "missing: stim phases need the therapist's caps (amplitudeMaxMa, pulseWidthMaxUs, frequencyMaxHz, sessionStimMaxMin)",
        })
    checkStimTime(phases, ctx)
    checkSessionLength(root, phases, errors)
}

/**
 * Checks a program (parsed JSON or a decoded program) and returns it typed,
 * in canonical field order, or every problem found.
 */
export function validateProgram(input: unknown): ProgramValidation {
    const errors: ProgramError[] = []
    const root = checkObject(input, { fields: programTables().ROOT_FIELDS, path: "", errors })
    if (root === INVALID) return { ok: false, errors }
    checkRules(root, errors)
    if (errors.length) return { ok: false, errors }
    return { ok: true, program: root as unknown as Program }
}
