/** `npm run bench`: runs every benchmark, prints its figures and records them in bench/results.json. */
import { benchFeedbackLatency } from "./feedback-latency"
import { benchFeedbackLatencyDevice } from "./feedback-latency-device"
import { benchProbeRate } from "./probe-rate"
import { printFigures, recordFigures, type Figures } from "./results"
import { benchVmCost } from "./vm-cost"
import { benchVmSteps } from "./vm-steps"
import { benchMetricsAccuracy } from "./metrics-accuracy"
import { benchOffsetLimit } from "./offset-limit"
import { benchSupervisorSoak } from "./supervisor-soak"
import { benchFaultToOff } from "./fault-to-off"
import { benchLogPull } from "./log-pull"
import { benchLogPullDevice } from "./log-pull-device"
import { benchReport } from "./report"

const benches: [string, () => Promise<Figures>][] = [
    ["probe samples through the simulated bus", benchProbeRate],
    ["VM cost of the per-sample path", benchVmCost],
    ["VM step budget taken by the heaviest stretches", benchVmSteps],
    ["metric accuracy against simulated patients", benchMetricsAccuracy],
    ["offset error of an overactive patient, by cause", benchOffsetLimit],
    ["stim supervisor random soak", benchSupervisorSoak],
    ["stim fault-to-off at the simulated module, per stop cause", benchFaultToOff],
    ["LED feedback latency (core)", benchFeedbackLatency],
    ["LED feedback latency on the device (VM, bus)", benchFeedbackLatencyDevice],
    ["session log pull over a modelled link (20 ms a request)", benchLogPull],
    ["session log pull from the log module's firmware (VM, devtools bus)", benchLogPullDevice],
    ["progress report: a year of one patient, an archive of 200 patients", benchReport],
]

const only = process.argv[2]
for (const [title, run] of benches) {
    if (only && !title.includes(only)) continue
    console.log(`\n== ${title}`)
    const figures = await run()
    printFigures(title, figures)
    recordFigures(figures)
}
console.log("\nfigures written to bench/results.json")
process.exit(0)
