/**
 * Therapist programs: format, validation, canonical bytes and the signed
 * envelope (docs/programs.md). Pure; shared by the firmware and the host.
 */
export * from "./types"
export * from "./fields"
export * from "./phases"
export * from "./validate"
export * from "./codec"
export * from "./envelope"
export * from "./install-status"
export * from "./device-check"
