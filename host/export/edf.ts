/**
 * EDF+ export (European Data Format plus, Kemp & Olivan 2003,
 * https://www.edfplus.info/specs/edfplus.html): one continuous (EDF+C)
 * file per session, readable by EDFbrowser, MNE, EDFlib and the like.
 *
 * File layout (every header field is space-padded printable US-ASCII):
 *
 *     header      256 bytes: version "0", patient (80), recording (80),
 *                 start date dd.mm.yy, start time hh.mm.ss, header bytes,
 *                 reserved "EDF+C" (44), number of data records, record
 *                 duration [s], number of signals ns
 *     signals     ns x 256 bytes, field by field over all signals: label (16),
 *                 transducer (80), physical dimension (8), physical min/max,
 *                 digital min/max (8 each), prefiltering (80), samples per
 *                 data record (8), reserved (32)
 *     data        records x (for each signal: its samples as int16 little-endian)
 *
 * Signals: pressure [cmH2O] and EMG [uV] at the trace's own rate (10 Hz by
 * default: what the device logs), then "EDF Annotations". The device logs
 * both channels x 10 as integers, so digital = that integer and physical =
 * digital / 10: exact. Digital min/max are the data's own extremes; when
 * samples are missing, the digital minimum is one below the lowest sample
 * and marks them (annotated "Signal missing").
 *
 * Annotations (time-stamped annotation lists, TALs, "+onset\x15duration\x14text\x14\x00")
 * carry phases, cues, reps, events (faults, stops, gate, stim levels, pain
 * ratings) and damaged stretches of the log; every data record starts with
 * its time-keeping TAL ("+t\x14\x14\x00"). The header's start time is a whole
 * second; a session that started 0.123 s past it has its first record at
 * "+0.123" and every onset counted from the header's second, as EDF+ says.
 *
 * Patient field, EDF+ subfields code, sex, birthdate, name: the pseudonym is
 * a code (the program's patientRef), so it goes in the code subfield and the
 * others stay X ("P-0042 X X X"): no name-like data leaves the archive.
 * Recording field: "Startdate dd-MMM-yyyy pft-s<session> X pft-<device id> <program>_v<version> fw-<firmware>".
 */
import type { SessionData } from "../archive/queries"
import { annotations, sessionDurationMs, traceGrid, type Annotation } from "./timeline"

export const EDF_HEADER_FIELDS = [
    ["version", 8],
    ["patient", 80],
    ["recording", 80],
    ["startDate", 8],
    ["startTime", 8],
    ["headerBytes", 8],
    ["reserved", 44],
    ["records", 8],
    ["recordDuration", 8],
    ["signals", 4],
] as const

export const EDF_SIGNAL_FIELDS = [
    ["label", 16],
    ["transducer", 80],
    ["dimension", 8],
    ["physicalMin", 8],
    ["physicalMax", 8],
    ["digitalMin", 8],
    ["digitalMax", 8],
    ["prefiltering", 80],
    ["samplesPerRecord", 8],
    ["reserved", 32],
] as const

const sum = (fields: readonly (readonly [string, number])[]) => fields.reduce((n, [, w]) => n + w, 0)
/** [bytes] the fixed header */
export const EDF_HEADER_BYTES = sum(EDF_HEADER_FIELDS)
/** [bytes] header per signal */
export const EDF_SIGNAL_HEADER_BYTES = sum(EDF_SIGNAL_FIELDS)
export const EDF_ANNOTATIONS_LABEL = "EDF Annotations"
const DIGITAL_LIMIT = 32767
const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

export class EdfError extends Error {
    constructor(message: string) {
        super(message)
        this.name = "EdfError"
    }
}

export interface EdfSignal {
    label: string
    transducer: string
    dimension: string
    physicalMin: number
    physicalMax: number
    digitalMin: number
    digitalMax: number
    prefiltering: string
    samplesPerRecord: number
    /** digital values, records x samplesPerRecord */
    digital: number[]
}

export interface EdfTal {
    /** [s] from the start of the file */
    onsetS: number
    /** [s] */
    durationS: number | null
    text: string
}

export interface EdfFile {
    patient: string
    recording: string
    /** dd.mm.yy */
    startDate: string
    /** hh.mm.ss */
    startTime: string
    records: number
    /** [s] */
    recordDurationS: number
    /** [s] 0 <= x < 1: the first record starts this long after startTime (EDF+ sub-second start, in the time-keeping TALs) */
    startOffsetS: number
    signals: EdfSignal[]
    annotations: EdfTal[]
}

/** A header field: printable ASCII, space padded; throws if it does not fit. */
function ascii(value: string, width: number, what: string): string {
    if (!/^[\x20-\x7e]*$/.test(value)) throw new EdfError(`${what} "${value}": only printable US-ASCII is allowed in an EDF header`)
    if (value.length > width) throw new EdfError(`${what} "${value}" is ${value.length} characters, the field holds ${width}`)
    return value.padEnd(width, " ")
}

/** A number in an 8-character field, as short as it reads exactly. */
export function edfNumber(v: number, width = 8): string {
    let s = String(v)
    if (s.length > width && Number.isFinite(v)) {
        for (let digits = width; digits > 0 && s.length > width; digits--) s = String(Number(v.toPrecision(digits)))
    }
    if (s.length > width) throw new EdfError(`${v} does not fit in ${width} characters`)
    return s
}

/** A subfield of the patient or recording field: no spaces (they separate subfields), ASCII only, "X" if empty. */
export function edfSubfield(s: string | null | undefined): string {
    if (s === null || s === undefined || s === "") return "X"
    return s.replace(/\s+/g, "_").replace(/[^\x21-\x7e]/g, "_")
}

/** Seconds as an EDF+ onset or duration: no exponent, no trailing zeros, at most ms. */
function seconds(s: number): string {
    return (Math.round(s * 1000) / 1000).toFixed(3).replace(/\.?0+$/, "") || "0"
}

function tal(t: EdfTal): Buffer {
    const onset = (t.onsetS >= 0 ? "+" : "-") + seconds(Math.abs(t.onsetS))
    const dur = t.durationS !== null && t.durationS > 0 ? "\x15" + seconds(t.durationS) : ""
    // the text may be UTF-8, but holds no TAL separators
    const text = t.text.replace(/[\x00\x14\x15]/g, " ")
    return Buffer.from(`${onset}${dur}\x14${text}\x14\x00`, "utf8")
}

function timekeeping(onsetS: number): Buffer {
    return Buffer.from(`+${seconds(onsetS)}\x14\x14\x00`, "ascii")
}

/** Distributes the TALs over the records (each in its onset's record or a later one): per-record byte lists, and the bytes a record needs. */
function packAnnotations(file: EdfFile): { perRecord: Buffer[][]; bytes: number } {
    const tals = [...file.annotations].sort((a, b) => a.onsetS - b.onsetS).map(t => ({ t, b: tal(t) }))
    const keep = (r: number) => timekeeping(file.startOffsetS + r * file.recordDurationS).length
    const largest = tals.reduce((n, x) => Math.max(n, x.b.length), 0)
    const total = tals.reduce((n, x) => n + x.b.length, 0)
    let capacity = keep(file.records) + Math.max(largest, Math.ceil(total / file.records))
    for (;;) {
        const perRecord: Buffer[][] = Array.from({ length: file.records }, () => [])
        const used = Array.from({ length: file.records }, (_, r) => keep(r))
        let r = 0
        let ok = true
        for (const x of tals) {
            r = Math.max(r, Math.min(file.records - 1, Math.max(0, Math.floor((x.t.onsetS - file.startOffsetS) / file.recordDurationS))))
            while (r < file.records && used[r] + x.b.length > capacity) r++
            if (r >= file.records) {
                ok = false
                break
            }
            perRecord[r].push(x.b)
            used[r] += x.b.length
        }
        if (ok) return { perRecord, bytes: capacity }
        capacity += 32
    }
}

/** The EDF+C file's bytes. Throws EdfError if a field does not fit the format. */
export function encodeEdf(file: EdfFile): Buffer {
    if (!(file.records >= 1 && Number.isInteger(file.records))) throw new EdfError(`${file.records} data records: need at least 1`)
    for (const s of file.signals) {
        if (s.digital.length !== file.records * s.samplesPerRecord)
            throw new EdfError(`signal ${s.label}: ${s.digital.length} samples, expected ${file.records} records x ${s.samplesPerRecord}`)
        if (!(s.digitalMin < s.digitalMax && s.digitalMin >= -DIGITAL_LIMIT - 1 && s.digitalMax <= DIGITAL_LIMIT))
            throw new EdfError(`signal ${s.label}: digital range ${s.digitalMin}..${s.digitalMax} is not within -32768..32767 or is empty`)
        if (s.physicalMin === s.physicalMax) throw new EdfError(`signal ${s.label}: physical minimum equals maximum (${s.physicalMin})`)
    }
    const { perRecord, bytes: annBytes } = packAnnotations(file)
    const annSamples = Math.ceil(annBytes / 2)
    const all: EdfSignal[] = [
        ...file.signals,
        {
            label: EDF_ANNOTATIONS_LABEL,
            transducer: "",
            dimension: "",
            physicalMin: -1,
            physicalMax: 1,
            digitalMin: -DIGITAL_LIMIT - 1,
            digitalMax: DIGITAL_LIMIT,
            prefiltering: "",
            samplesPerRecord: annSamples,
            digital: [],
        },
    ]
    const ns = all.length
    const headerBytes = EDF_HEADER_BYTES + ns * EDF_SIGNAL_HEADER_BYTES
    const fixed: Record<(typeof EDF_HEADER_FIELDS)[number][0], string> = {
        version: "0",
        patient: file.patient,
        recording: file.recording,
        startDate: file.startDate,
        startTime: file.startTime,
        headerBytes: String(headerBytes),
        reserved: "EDF+C",
        records: String(file.records),
        recordDuration: edfNumber(file.recordDurationS),
        signals: String(ns),
    }
    let header = ""
    for (const [name, width] of EDF_HEADER_FIELDS) header += ascii(fixed[name], width, name)
    for (const [name, width] of EDF_SIGNAL_FIELDS) {
        for (const s of all) {
            const v: Record<(typeof EDF_SIGNAL_FIELDS)[number][0], string> = {
                label: s.label,
                transducer: s.transducer,
                dimension: s.dimension,
                physicalMin: edfNumber(s.physicalMin),
                physicalMax: edfNumber(s.physicalMax),
                digitalMin: String(s.digitalMin),
                digitalMax: String(s.digitalMax),
                prefiltering: s.prefiltering,
                samplesPerRecord: String(s.samplesPerRecord),
                reserved: "",
            }
            header += ascii(v[name], width, `${s.label} ${name}`)
        }
    }
    const recordBytes = all.reduce((n, s) => n + s.samplesPerRecord * 2, 0)
    const out = Buffer.alloc(headerBytes + file.records * recordBytes)
    out.write(header, 0, "ascii")
    let at = headerBytes
    for (let r = 0; r < file.records; r++) {
        for (const s of file.signals) {
            for (let k = 0; k < s.samplesPerRecord; k++) out.writeInt16LE(s.digital[r * s.samplesPerRecord + k], at + k * 2)
            at += s.samplesPerRecord * 2
        }
        // annotations: time-keeping TAL, then this record's TALs, zero-filled (Buffer.alloc)
        let p = at
        for (const b of [timekeeping(file.startOffsetS + r * file.recordDurationS), ...perRecord[r]]) {
            b.copy(out, p)
            p += b.length
        }
        at += annSamples * 2
    }
    return out
}

// ---------------------------------------------------------------- a session as EDF+

export interface SessionEdfOptions {
    /** header start date/time in UTC rather than the computer's local time */
    utc?: boolean
}

function dateParts(ms: number, utc: boolean) {
    const d = new Date(ms)
    return utc
        ? { y: d.getUTCFullYear(), mo: d.getUTCMonth(), d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), ms: d.getUTCMilliseconds() }
        : { y: d.getFullYear(), mo: d.getMonth(), d: d.getDate(), h: d.getHours(), mi: d.getMinutes(), s: d.getSeconds(), ms: d.getMilliseconds() }
}

const two = (n: number) => String(n).padStart(2, "0")

/** The recording field, shortened (extra subfields dropped) to fit 80 characters. */
function recordingField(startdate: string, subfields: string[]): string {
    let parts = [`Startdate ${startdate}`, ...subfields.map(edfSubfield)]
    while (parts.join(" ").length > 80 && parts.length > 5) parts = parts.slice(0, -1)
    return parts.join(" ").slice(0, 80)
}

/** A channel's digital range from its samples; missing samples (TRACE_MISSING) become one below the lowest. */
function channel(samples: number[], missing: number): { digital: number[]; min: number; max: number } {
    let lo = Infinity
    let hi = -Infinity
    let anyMissing = false
    for (const v of samples) {
        if (v === missing) anyMissing = true
        else {
            lo = Math.min(lo, v)
            hi = Math.max(hi, v)
        }
    }
    if (lo === Infinity) lo = hi = 0
    const min = anyMissing ? lo - 1 : lo
    const max = Math.max(hi, min + 1)
    return { digital: samples.map(v => (v === missing ? min : v)), min, max }
}

/** The session as an EDF+C file. */
export function sessionEdfFile(data: SessionData, options: SessionEdfOptions = {}): EdfFile {
    const r = data.row
    const grid = traceGrid(data)
    // 1 s records when the interval divides a second, else a whole number of samples near 1 s
    const spr = Math.max(1, Math.round(1000 / grid.intervalMs))
    const recordMs = spr * grid.intervalMs
    const durationMs = Math.max(sessionDurationMs(data, grid), recordMs)
    const records = Math.ceil(durationMs / recordMs)
    const n = records * spr
    const MISSING = -32768
    const pad = (a: number[]) => [...a, ...new Array<number>(Math.max(0, n - a.length)).fill(MISSING)].slice(0, n)
    const p = channel(pad(grid.pressureX10), MISSING)
    const e = channel(pad(grid.emgX10), MISSING)
    let startDate = "01.01.85"
    let startTime = "00.00.00"
    let startdate = "X"
    let subSecond = 0
    if (r.startWallMs !== null) {
        const t = dateParts(r.startWallMs, options.utc ?? false)
        // EDF's two-digit years cover 1985..2084
        startDate = `${two(t.d)}.${two(t.mo + 1)}.${t.y >= 2085 ? "yy" : two(t.y % 100)}`
        startTime = `${two(t.h)}.${two(t.mi)}.${two(t.s)}`
        startdate = `${two(t.d)}-${MONTHS[t.mo]}-${t.y}`
        subSecond = t.ms
    }
    const program = r.programId === null ? "" : `${r.programId}_v${r.programVersion}`
    // onsets count from the header's start time (a whole second); the session, and the first record, start subSecond later
    const tals: EdfTal[] = annotations(data, grid).map((a: Annotation) => ({
        onsetS: (a.onsetMs + subSecond) / 1000,
        durationS: a.durationMs === null ? null : a.durationMs / 1000,
        text: a.text,
    }))
    return {
        patient: [edfSubfield(r.patientRef), "X", "X", "X"].join(" "),
        // admin code: the session; technician: none; equipment: the trainer; then the program and firmware (dropped last-first if over 80)
        recording: recordingField(startdate, [`pft-s${r.sessionNo}`, "X", `pft-${r.deviceId}`, program || "X", `fw-${data.firmwareVersion ?? "unknown"}`]),
        startDate,
        startTime,
        records,
        recordDurationS: recordMs / 1000,
        startOffsetS: subSecond / 1000,
        signals: [
            {
                label: "Pressure Probe",
                transducer: "pelvic floor pressure probe",
                dimension: "cmH2O",
                physicalMin: p.min / 10,
                physicalMax: p.max / 10,
                digitalMin: p.min,
                digitalMax: p.max,
                prefiltering: `downsampled by the device to ${(1000 / grid.intervalMs).toFixed(1)} Hz`,
                samplesPerRecord: spr,
                digital: p.digital,
            },
            {
                label: "EMG PelvicFloor",
                transducer: "surface EMG electrodes",
                dimension: "uV",
                physicalMin: e.min / 10,
                physicalMax: e.max / 10,
                digitalMin: e.min,
                digitalMax: e.max,
                prefiltering: `downsampled by the device to ${(1000 / grid.intervalMs).toFixed(1)} Hz`,
                samplesPerRecord: spr,
                digital: e.digital,
            },
        ],
        annotations: tals,
    }
}

export function sessionEdf(data: SessionData, options: SessionEdfOptions = {}): Buffer {
    return encodeEdf(sessionEdfFile(data, options))
}
