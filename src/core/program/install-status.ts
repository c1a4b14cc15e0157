/**
 * The outcome of a program install or key provisioning as a code the
 * trainer service reports (services/trainer.md ProgramStatus; same values),
 * next to decideProgramInstall's sentence.
 *
 * No @devicescript imports: shared by the firmware and the host.
 */
import type { InstallRequest } from "./envelope"

export enum ProgramStatus {
    None = 0,
    Installed = 1,
    Unchanged = 2,
    BadSignature = 3,
    Replay = 4,
    VersionConflict = 5,
    Invalid = 6,
    NoClinicKey = 7,
    Incomplete = 8,
    KeyInstalled = 9,
    KeyConflict = 10,
}

/** The status of a decided install, in decideProgramInstall's order of checks. */
export function installStatus(req: InstallRequest, accepted: boolean, changed: boolean): ProgramStatus {
    if (!req.tagValid) return ProgramStatus.BadSignature
    const v = req.candidate.programVersion
    if (v < req.installedVersion) return ProgramStatus.Replay
    if (v === req.installedVersion) return accepted ? ProgramStatus.Unchanged : ProgramStatus.VersionConflict
    if (!accepted) return ProgramStatus.Invalid
    return changed ? ProgramStatus.Installed : ProgramStatus.Unchanged
}

/** [bytes] largest signed envelope the device stages */
export const ENVELOPE_MAX_BYTES = 1024
/** [bytes] envelope bytes per settings value (hex: two characters a byte, values <= ~230 B) */
export const SETTINGS_CHUNK_BYTES = 100
/** [bytes] bytes per read_program report */
export const READ_CHUNK_BYTES = 200
