/**
 * docs/examples/relax-then-tone.json shortened for simulation runs (76 s of
 * session instead of 12 minutes): baseline, relaxation with breathing, 3
 * quick flicks, 1 hold. The same relaxation criterion (rest tone at most
 * 4 uV, sd at most 1 uV) held for 10 s instead of 20, and a 30 s gate
 * timeout instead of 300 (both the validator's minimums). Used by the
 * device e2e tests of the runner and the feedback-latency benchmark.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import type { Program } from "../../src/core/program/types"
import { repoRoot } from "../paths"

export function shortProgram(programVersion = 1): Program {
    const p = JSON.parse(readFileSync(join(repoRoot(), "docs", "examples", "relax-then-tone.json"), "utf8")) as Program
    return {
        ...p,
        programId: "relax-then-tone-short",
        programVersion,
        usesDilators: false,
        relaxation: { restToneMaxUv: 4, restToneSdMaxUv: 1, holdS: 10, timeoutS: 30 },
        phases: [
            { kind: "baseline", durationS: 10 },
            { kind: "relax", durationS: 30, breathPeriodS: 10, restToneMaxUv: 4 },
            { kind: "flicks", reps: 3, onS: 2, offS: 4, targetPctMvc: 60 },
            { kind: "holds", reps: 1, workS: 6, restS: 12, targetPctMvc: 30 },
        ],
    }
}

/** [ms] the longest session of shortProgram: every phase plus the whole gate timeout */
export const SHORT_PROGRAM_MAX_MS = (10 + 30 + 18 + 18 + 30) * 1000
