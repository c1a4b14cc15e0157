import { PROFILE_NAMES } from "../host/sim/patient"
import { runOffline } from "../host/sim/offline-run"
import { percentile } from "../host/sim/scoring"
const seeds = Array.from({ length: 16 }, (_, i) => i + 1)
const allOn: number[] = [], allOff: number[] = [], allPk: number[] = []
for (const profile of PROFILE_NAMES) {
    const rs = seeds.map(seed => runOffline({ profile, seed }))
    const reps = rs.flatMap(r => r.score.emg.reps)
    const on = reps.map(r => Math.abs(r.onsetErrorMs)), off = reps.map(r => Math.abs(r.offsetErrorMs)).filter(Number.isFinite), pk = reps.map(r => r.peakErrorPct)
    allOn.push(...on); allOff.push(...off); allPk.push(...pk)
    console.log(profile.padEnd(16), "n", reps.length, "on p50/p95", percentile(on, 50).toFixed(0), percentile(on, 95).toFixed(0), "off p50/p95", percentile(off, 50).toFixed(0), percentile(off, 95).toFixed(0), "peak p50/p95", percentile(pk, 50).toFixed(1), percentile(pk, 95).toFixed(1))
}
console.log("ALL on p95", percentile(allOn, 95).toFixed(0), "off p95", percentile(allOff, 95).toFixed(0), "peak p95", percentile(allPk, 95).toFixed(1))
