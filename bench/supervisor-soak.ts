/**
 * supervisor_steps_checked, supervisor_violations: a long random soak of
 * the stim supervisor (src/core/stim/supervisor.ts) under Node, every step
 * judged by the independent invariant checker (src/core/stim/invariants.ts)
 * that the CI property tests use. Walks of WALK_STEPS steps from the seeded
 * event source (tests/cases/stim-random.ts: calm stretches that build the
 * intensity up to the caps, bursts of every stop cause, invalid settings,
 * time jumps and a clock going backwards); every fourth walk starts at the
 * top corner (450 us, 100 Hz) where charge and average current bind.
 * Seeds from SEED_BASE on, disjoint from the CI ones (1-60), and fixed, so
 * a violation reproduces with its seed.
 *
 * Run alone: npx tsx -e 'import("./bench/supervisor-soak.ts").then(async m => console.log(await m.benchSupervisorSoak()))'
 */
import { StimInvariantChecker, type StimCoverage } from "../src/core/stim/invariants"
import { StimReason, stimReasonName } from "../src/core/stim/reasons"
import { StimSupervisor } from "../src/core/stim/supervisor"
import { StimEventSource } from "../tests/cases/stim-random"
import type { Figures } from "./results"

const TOTAL_STEPS = 20_000_000
const WALK_STEPS = 5_000
const SEED_BASE = 1_000

export interface SoakOptions {
    totalSteps?: number
    seedBase?: number
}

export async function benchSupervisorSoak(options: SoakOptions = {}): Promise<Figures> {
    const total = options.totalSteps ?? TOTAL_STEPS
    const seedBase = options.seedBase ?? SEED_BASE
    const started = performance.now()
    const cov: StimCoverage = { steps: 0, stepsOn: 0, starts: 0, stops: 0, maxAmplitudeMa: 0, clampReasons: 0, stopCauses: 0, atAmplitudeCap: 0, atChargeCap: 0, atAverageCurrentCap: 0, atDensityCap: 0 }
    let violations = 0
    let first = ""
    for (let seed = seedBase; cov.steps < total; seed++) {
        const src = new StimEventSource(seed)
        const sup = new StimSupervisor()
        const checker = new StimInvariantChecker()
        for (const ev of src.setup(seed % 4 === 0)) checker.check(ev, sup.step(ev))
        const n = Math.min(WALK_STEPS, total - cov.steps)
        for (let i = 0; i < n; i++) {
            const ev = src.next()
            checker.check(ev, sup.step(ev))
        }
        sup.drainStops()
        violations += checker.violations
        if (first === "" && checker.firstViolation !== "") first = `seed ${seed}: ${checker.firstViolation}`
        const c = checker.coverage
        cov.steps += c.steps
        cov.stepsOn += c.stepsOn
        cov.starts += c.starts
        cov.stops += c.stops
        cov.maxAmplitudeMa = Math.max(cov.maxAmplitudeMa, c.maxAmplitudeMa)
        cov.stopCauses |= c.stopCauses
        cov.atAmplitudeCap += c.atAmplitudeCap
        cov.atChargeCap += c.atChargeCap
        cov.atAverageCurrentCap += c.atAverageCurrentCap
        cov.atDensityCap += c.atDensityCap
    }
    const seconds = (performance.now() - started) / 1000
    const missing: string[] = []
    for (let cause = StimReason.StopButton; cause <= StimReason.ClockFault; cause++)
        if (!(cov.stopCauses & (1 << cause))) missing.push(stimReasonName(cause))
    if (first !== "") console.log(`first violation: ${first}`)
    return {
        supervisor_steps_checked: {
            value: cov.steps,
            unit: "steps",
            note:
                `random soak in ${seconds.toFixed(1)} s, ${Math.round((100 * cov.stepsOn) / cov.steps)} % of steps stimulating, ` +
                `${cov.starts} starts, ${cov.stops} stops (${missing.length ? "never: " + missing.join(", ") : "every stop cause"}), ` +
                `max ${cov.maxAmplitudeMa} mA; steps at a cap: amplitude ${cov.atAmplitudeCap}, charge ${cov.atChargeCap}, ` +
                `average current ${cov.atAverageCurrentCap}, density ${cov.atDensityCap}`,
        },
        supervisor_violations: {
            value: violations,
            unit: "violations",
            note: violations ? first : "no invariant violated after any step",
        },
    }
}
