/**
 * The simulated patient for the pelvic-probe simulator: a seeded, sample-time
 * model of pressure and EMG driven by the device's cues, with ground truth
 * for scoring the firmware's metrics. The model is described in model.ts,
 * the profiles and where their numbers come from in profiles.ts.
 */
export { PROFILE_NAMES, PROFILES, glazerMidHoldMs, makeProfile } from "./profiles"
export type { PatientProfile, ProfileName } from "./profiles"
export { PatientModel, patientSource, reactionBoundsMs } from "./model"
export type { GroundTruth, PatientSample, PatientState, RestWindow, TrueRep } from "./model"
