/** bench/results.json: every figure a benchmark prints, `{name: {value, unit}}`. */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { repoRoot } from "../host/paths"

export interface Figure {
    value: number
    unit: string
    note?: string
}

export type Figures = Record<string, Figure>

const FILE = join(repoRoot(), "bench", "results.json")

/** Merges `figures` into bench/results.json (later issues add their own keys). */
export function recordFigures(figures: Figures): void {
    const current: Figures = existsSync(FILE) ? JSON.parse(readFileSync(FILE, "utf8")) : {}
    Object.assign(current, figures)
    const sorted = Object.fromEntries(Object.entries(current).sort(([a], [b]) => a.localeCompare(b)))
    writeFileSync(FILE, JSON.stringify(sorted, null, 2) + "\n")
}

export function printFigures(title: string, figures: Figures): void {
    console.log(`\n${title}`)
    for (const [name, f] of Object.entries(figures))
        console.log(`  ${name.padEnd(28)} ${String(Math.round(f.value * 100) / 100).padStart(10)} ${f.unit}${f.note ? `  (${f.note})` : ""}`)
}
