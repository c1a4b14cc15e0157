import { runOffline } from "../host/sim/offline-run"
import { percentile } from "../host/sim/scoring"
const seeds = Array.from({ length: 16 }, (_, i) => i + 1)
for (const profile of ["hypertonic", "spasm", "noisy_electrode", "weak"] as const) {
    const rs = seeds.map(seed => runOffline({ profile, seed }))
    const reps = rs.flatMap(r => r.score.emg.reps)
    const off = reps.map(r => r.offsetErrorMs).filter(Number.isFinite)
    const on = reps.map(r => r.onsetErrorMs)
    console.log(profile, "signed off p5/p50/p95", [5, 25, 50, 75, 95].map(p => percentile(off, p).toFixed(0)).join("/"), "signed on", [5, 50, 95].map(p => percentile(on, p).toFixed(0)).join("/"))
}
