/**
 * The canonical bytes of a program: what the clinic key signs and what the
 * device stores. Built from the field tables in ./fields.ts, so the layout
 * follows the format definition and nothing is counted by hand. Numbers are
 * fixed-point integers (value x scale), never floats; every valid program
 * has exactly one encoding and decode(encode(p)) equals p.
 *
 * ```
 *  program bytes
 *  +--------+------------------+-----------------------------------------+
 *  | u8     | u32 LE           | body: the root object                   |
 *  | format | programVersion   | (fields of the "root" table, in order)  |
 *  | = 1    |                  |                                         |
 *  +--------+------------------+-----------------------------------------+
 *   0        1                  5
 *
 *  object (root, contraindications, caps, relaxation, frequency, a phase...)
 *  +-------------------------------+--------+--------+-----+
 *  | flag bits, ceil(n/8) bytes    | field  | field  | ... |  present non-bool fields,
 *  | LSB first; per field in order:|        |        |     |  in table order
 *  |  optional -> 1 bit "present"  |        |        |     |
 *  |  bool     -> 1 bit value      |        |        |     |
 *  |  (n = 0 -> no flag bytes)     |        |        |     |
 *  +-------------------------------+--------+--------+-----+
 *
 *  field:  num    u8 | u16 | u32 LE of value x scale (width from max x scale)
 *          enum   u8 index into the field's values
 *          str    u8 length + UTF-8 bytes (ASCII ids)
 *          obj    object, as above
 *          phases u8 count, then per phase: u8 kind index (PHASE_KINDS),
 *                 object of the "phase.<kind>" table
 * ```
 *
 * Example sizes (docs/examples): 60-110 bytes; 16 phases of the largest
 * kind stay under 500.
 *
 * Decoding is strict: unknown flag bits, an enum index out of range, a bool
 * flag for an absent field or trailing bytes throw CodecError, so any byte
 * string the device accepts re-encodes to itself.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import { ByteReader, ByteWriter, CodecError } from "../codec/bytes"
import { objectFields, PHASE_KIND_VALUES, numWidth, tableFields, type FieldSpec } from "./fields"
import { PROGRAM_FORMAT_VERSION, ProgramInvalidError, type Program, type ProgramValidation } from "./types"
import { validateProgram } from "./validate"

type Rec = Record<string, unknown>

/** Flag bits an object's header carries: one per optional field, one per bool. */
function flagBitCount(fields: FieldSpec[]): number {
    let n = 0
    for (const f of fields) {
        if (f.optional) n++
        if (f.kind === "bool") n++
    }
    return n
}

function writeNum(w: ByteWriter, f: FieldSpec, v: number) {
    const n = Math.floor(v * (f.scale ?? 1) + 0.5)
    const width = numWidth(f)
    if (width === 1) w.u8(n)
    else if (width === 2) w.u16(n)
    else w.u32(n)
}

function readNum(r: ByteReader, f: FieldSpec, what: string, ranges: boolean): number {
    const width = numWidth(f)
    const n = width === 1 ? r.u8() : width === 2 ? r.u16() : r.u32()
    const scale = f.scale ?? 1
    const v = scale === 1 ? n : n / scale
    // the device has no validator (device-check.ts): the field table's range is checked here, for free
    if (ranges && (v < (f.min ?? 0) || v > (f.max ?? v)))
        throw new CodecError(what + ": " + v + " is out of range " + f.min + ".." + f.max + (f.unit ? " " + f.unit : ""))
    return v
}

function writeObject(w: ByteWriter, o: Rec, fields: FieldSpec[]) {
    const bits: number[] = []
    for (const f of fields) {
        const v = o[f.key]
        if (f.optional) bits.push(v !== undefined ? 1 : 0)
        if (f.kind === "bool") bits.push(v === true ? 1 : 0)
    }
    for (let i = 0; i < bits.length; i += 8) {
        let byte = 0
        for (let b = 0; b < 8 && i + b < bits.length; b++) if (bits[i + b]) byte |= 1 << b
        w.u8(byte)
    }
    for (const f of fields) {
        const v = o[f.key]
        if (v === undefined || f.kind === "bool") continue
        writeField(w, f, v)
    }
}

function writeField(w: ByteWriter, f: FieldSpec, v: unknown) {
    switch (f.kind) {
        case "num":
            writeNum(w, f, v as number)
            return
        case "enum": {
            const i = (f.values ?? []).indexOf(v as string)
            if (i < 0) throw new CodecError(f.key + ": " + v + " is not an allowed value")
            w.u8(i)
            return
        }
        case "str":
            w.str8(v as string)
            return
        case "obj":
            writeObject(w, v as Rec, objectFields(f))
            return
        case "phases": {
            const list = v as Rec[]
            w.u8(list.length)
            for (const ph of list) {
                const kind = ph["kind"] as string
                w.u8(PHASE_KIND_VALUES.indexOf(kind))
                writeObject(w, ph, tableFields("phase." + kind))
            }
            return
        }
        case "bool":
            return // in the flag bits
    }
}

function readObject(r: ByteReader, fields: FieldSpec[], what: string, ranges: boolean): Rec {
    const nBits = flagBitCount(fields)
    const bits: number[] = []
    for (let i = 0; i < nBits; i += 8) {
        const at = r.pos
        const byte = r.u8()
        const used = nBits - i < 8 ? nBits - i : 8
        if (byte >> used !== 0) throw new CodecError(what + ": unknown flag bits set at offset " + at)
        for (let b = 0; b < used; b++) bits.push((byte >> b) & 1)
    }
    const present: boolean[] = []
    const boolValue: boolean[] = []
    let k = 0
    for (const f of fields) {
        let has = true
        if (f.optional) has = bits[k++] === 1
        let value = false
        if (f.kind === "bool") {
            value = bits[k++] === 1
            if (!has && value) throw new CodecError(what + "." + f.key + ": value bit set for an absent field")
        }
        present.push(has)
        boolValue.push(value)
    }
    const out: Rec = {}
    for (let i = 0; i < fields.length; i++) {
        if (!present[i]) continue
        const f = fields[i]
        out[f.key] = f.kind === "bool" ? boolValue[i] : readField(r, f, what === "" ? f.key : what + "." + f.key, ranges)
    }
    return out
}

function readField(r: ByteReader, f: FieldSpec, what: string, ranges: boolean): unknown {
    switch (f.kind) {
        case "num":
            return readNum(r, f, what, ranges)
        case "enum": {
            const values = f.values ?? []
            const i = r.u8()
            if (i >= values.length) throw new CodecError(what + ": value index " + i + " out of range (" + values.length + " values)")
            return values[i]
        }
        case "str":
            return r.str8()
        case "obj":
            return readObject(r, objectFields(f), what, ranges)
        case "phases": {
            const n = r.u8()
            const list: Rec[] = []
            for (let i = 0; i < n; i++) {
                const k = r.u8()
                if (k >= PHASE_KIND_VALUES.length) throw new CodecError("phases[" + i + "]: unknown kind " + k)
                const kind = PHASE_KIND_VALUES[k]
                const body = readObject(r, tableFields("phase." + kind), "phases[" + i + "]", ranges)
                const ph: Rec = { kind }
                for (const key of Object.keys(body)) ph[key] = body[key]
                list.push(ph)
            }
            return list
        }
        case "bool":
            return undefined
    }
    return undefined
}

/**
 * The canonical bytes of a program. Validates first: an invalid program
 * has no encoding (ProgramInvalidError).
 */
export function encodeProgram(program: Program): number[] {
    const v = validateProgram(program)
    if (!v.ok) throw new ProgramInvalidError(v.errors)
    const w = new ByteWriter()
    w.u8(PROGRAM_FORMAT_VERSION)
    w.u32(v.program.programVersion)
    writeObject(w, v.program as unknown as Rec, tableFields("root"))
    return w.bytes
}

/**
 * The program in canonical bytes. Throws CodecError on malformed bytes and,
 * with `ranges` (the default), on a number outside its field's range. It
 * does not check the rules between fields: the host uses
 * `decodeAndValidate` for bytes from outside, the device
 * `decodeForDevice` (./device-check.ts).
 */
export function decodeProgram(bytes: number[], ranges?: boolean): Program {
    const checkRanges = ranges !== false
    const r = new ByteReader(bytes)
    const formatVersion = r.u8()
    if (formatVersion !== PROGRAM_FORMAT_VERSION)
        throw new CodecError("program format version " + formatVersion + ": this code reads version " + PROGRAM_FORMAT_VERSION)
    const programVersion = r.u32()
    const body = readObject(r, tableFields("root"), "", checkRanges)
    if (r.remaining() !== 0) throw new CodecError(r.remaining() + " bytes after the end of the program")
    const out: Rec = { formatVersion, programVersion }
    for (const k of Object.keys(body)) out[k] = body[k]
    return out as unknown as Program
}

/** Decodes and validates bytes from outside; malformed bytes are one error at path "". */
export function decodeAndValidate(bytes: number[]): ProgramValidation {
    let decoded: Program
    try {
        // the validator reports every range error, not just the first
        decoded = decodeProgram(bytes, false)
    } catch (e) {
        const message = e instanceof CodecError ? e.message : "undecodable"
        return { ok: false, errors: [{ path: "", value: bytes.length + " bytes", allowed: "a program encoding", message: "malformed program bytes: " + message }] }
    }
    return validateProgram(decoded)
}
