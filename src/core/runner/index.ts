/**
 * The session runner (issue 4): a therapist program run phase by phase,
 * relaxation first, with buttons, pause, battery, faults and the
 * end-of-session rating. Pure; shared by the firmware and the host.
 */
export * from "./types"
export * from "./rest-window"
export * from "./gate"
export * from "./phase-plan"
export * from "./session-runner"
