/**
 * The demo patient's programs (host/report/demo.ts): a relax-first program
 * for a hypertonic patient, the kind docs/examples/relax-then-tone.json is,
 * with low-frequency relaxation stim for pain (as in
 * docs/examples/pain-relief-stim.json). Version 2, pushed at the clinic
 * visit half-way, asks for more holds. Both pass the device's own
 * validation (tests/host/report/demo.test.ts).
 */
import { noContraindications, type Program } from "../../src/core/program/types"

export const DEMO_PATIENT = "P-DEMO"
export const DEMO_PROGRAM_ID = "relax-then-tone"

/** [uV] the gate's EMG rest-tone level and its SD limit in the demo program */
export const DEMO_GATE_UV = 5
export const DEMO_GATE_SD_UV = 1.5
/** [s] how long the rest tone must stay under the level */
export const DEMO_GATE_HOLD_S = 20

/** The demo program, version 1 (weeks 1-3) or 2 (more holds, from the clinic visit on). */
export function demoProgram(version: 1 | 2, patientRef = DEMO_PATIENT): Program {
    return {
        formatVersion: 1,
        programId: DEMO_PROGRAM_ID,
        programVersion: version,
        patientRef,
        channels: "both",
        contraindications: noContraindications(),
        caps: { amplitudeMaxMa: 25, pulseWidthMaxUs: 250, frequencyMaxHz: 10, sessionStimMaxMin: 5 },
        relaxation: { restToneMaxUv: DEMO_GATE_UV, restToneSdMaxUv: DEMO_GATE_SD_UV, holdS: DEMO_GATE_HOLD_S, timeoutS: 240 },
        frequency: { sessionsPerDay: 1 },
        phases: [
            { kind: "baseline", durationS: 60 },
            { kind: "relax", durationS: 240, breathPeriodS: 10, restToneMaxUv: DEMO_GATE_UV },
            { kind: "flicks", reps: 10, onS: 2, offS: 4, targetPctMvc: 60 },
            { kind: "holds", reps: version === 1 ? 6 : 8, workS: 6, restS: 12, targetPctMvc: 40 },
            { kind: "stim", mode: "relax", waveform: "symmetric-biphasic", frequencyHz: 5, pulseWidthUs: 200, durationS: 180, rampUpS: 3, rampDownS: 3 },
            { kind: "relax", durationS: 120, breathPeriodS: 10, restToneMaxUv: DEMO_GATE_UV },
            { kind: "baseline", durationS: 60 },
        ],
    }
}
