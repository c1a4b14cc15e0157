/**
 * Which stim stops the patient sees as a fault on the LED bar (FaultCause,
 * docs/patient-guide.md "When something goes wrong"), 0 for the others.
 * Electrode problems (lead-off, a load outside the impedance band: 2,
 * Electrodes) and the stimulator's own failures (a silent module or trainer,
 * the supervisor not stepped, a module fault, an exception, invalid
 * settings, a clock fault: 1, Stimulator) end the session with their fault;
 * the rest are the session's own doing and need no alarm: the patient's
 * stop or pause, the phase's end, battery low and the probe out (the
 * session handles both), the stim time used up, a contraindication or a
 * new program.
 *
 * One digit per StimReason from 0 (src/core/stim/reasons.ts): a string is
 * data, where a chain of comparisons cost the trainer's full image 160 bytes
 * of bytecode (tests/core/runner/stim-fault.test.ts checks every reason).
 */
const FAULT_OF_STIM_REASON = "00222011100010110"

export function faultCauseOfStimStop(reason: number): number {
    return reason >= 0 && reason < FAULT_OF_STIM_REASON.length ? FAULT_OF_STIM_REASON.charCodeAt(reason) - 48 : 0
}
