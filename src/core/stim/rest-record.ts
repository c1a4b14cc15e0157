/**
 * The rest between stim sessions across the stim module's power cycles.
 *
 * Within one boot the module counts the rest on its own monotonic clock
 * (TrainerFollower). What a power cycle would forget, the module keeps in
 * its settings: the last session with stimulation, by the trainer's wall
 * clock (services/trainer.md `wall_clock`, set by the host at every
 * connect; 0 until set). After a boot, the rest on record is a lower bound,
 * never a guess:
 *
 * - nothing on record: no stim session before (Infinity);
 * - the session's end on record and the wall clock known now: the wall
 *   time since, and at least the module's uptime;
 * - anything not known (the clock not set then or now, the clock gone back,
 *   a session whose end a power cut took: "open", a record that does not
 *   read): the module's uptime alone, since that session ended before this
 *   boot. So SESSION_REST_MIN_MS (src/core/limits.ts) can be short only by
 *   the time the module was off, and only while the host has not set the
 *   clock (docs/safety.md H10).
 *
 * Pure (no I/O), DeviceScript-compatible; src/stim/trainer-link.ts reads
 * and writes the record.
 */

/** What the module keeps about its last session with stimulation. */
export interface StimRestRecord {
    /** the session began (its output started) and its end is not on record */
    open: boolean
    /** [s] Unix time of its end (closed) or start (open) by the trainer's wall clock; 0 not known */
    wallS: number
}

/** The record as a settings value (JSON): short keys, the settings store holds ~230 B a value. */
export interface StoredRestRecord {
    o: number
    w: number
}

export function storedRestRecord(r: StimRestRecord): StoredRestRecord {
    return { o: r.open ? 1 : 0, w: r.wallS > 0 ? Math.floor(r.wallS) : 0 }
}

/**
 * The record a settings value holds: null for none (the `missing` value the
 * module reads with), an open record with no time for one that does not read
 * (the safe reading: only the uptime counts).
 */
export function restRecordOf(stored: unknown): StimRestRecord | null {
    if (stored === null || stored === undefined) return null
    const s = stored as StoredRestRecord
    if (typeof s !== "object" || typeof s.o !== "number" || typeof s.w !== "number" || !(s.w >= 0)) return { open: true, wallS: 0 }
    return { open: s.o !== 0, wallS: s.w }
}

/**
 * The record from the setting's raw text ("" when the key holds nothing).
 * Not the settings library's readSetting: it reads a value that does not
 * parse as the missing one, and a damaged record would then read as "no
 * session before" (any rest). Here it reads as open, with no time.
 */
export function restRecordOfText(text: string): StimRestRecord | null {
    if (text.length === 0) return null
    let parsed: unknown = undefined
    try {
        parsed = JSON.parse(text)
    } catch (e) {
        return { open: true, wallS: 0 }
    }
    // a stored JSON null is not "nothing stored": someone wrote it, so it is not a record
    return parsed === null ? { open: true, wallS: 0 } : restRecordOf(parsed)
}

/** The record's text as stored (JSON of StoredRestRecord). */
export function restRecordText(r: StimRestRecord): string {
    return JSON.stringify(storedRestRecord(r))
}

/**
 * [ms] The rest since the last stim session before this boot, at least: the
 * record (null: none), the module's uptime now ([ms]) and the trainer's wall
 * clock now ([s] Unix time, 0 not set).
 */
export function restBeforeBootMs(record: StimRestRecord | null, uptimeMs: number, wallNowS: number): number {
    if (record === null) return Infinity
    let restMs = uptimeMs > 0 ? uptimeMs : 0
    if (!record.open && record.wallS > 0 && wallNowS > record.wallS) {
        const wallRestMs = (wallNowS - record.wallS) * 1000
        if (wallRestMs > restMs) restMs = wallRestMs
    }
    return restMs
}

/** [s] The wall clock at `atMs` of the module's clock, from a reading of it (`wallS` at `readAtMs`); 0 when it was not set. */
export function wallAtS(wallS: number, readAtMs: number, atMs: number): number {
    if (!(wallS > 0)) return 0
    return wallS + Math.floor((atMs - readAtMs) / 1000)
}
