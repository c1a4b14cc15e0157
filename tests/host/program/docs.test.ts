// docs/programs.md states the ranges and locks the code enforces: a change to
// src/core/program/fields.ts or the contraindication rules must update it.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { expect, test } from "vitest"
import { CONTRAINDICATION_RULES, type FieldSpec, programTables } from "../../../src/core/program"
import { repoRoot } from "../../../host/paths"

const lines = readFileSync(join(repoRoot(), "docs", "programs.md"), "utf8").split("\n").filter(l => l.startsWith("|"))

function numFields(fields: FieldSpec[], scope: string): [string, FieldSpec][] {
    return fields.flatMap(f => {
        if (f.kind === "obj") return numFields(f.fields ?? [], f.key)
        return f.kind === "num" && f.min !== f.max ? [[`${scope}.${f.key}`, f] as [string, FieldSpec]] : []
    })
}

const FIELDS = [...numFields(programTables().ROOT_FIELDS, "program"), ...Object.keys(programTables().PHASE_FIELDS).flatMap(k => numFields(programTables().PHASE_FIELDS[k], k))]

test.each(FIELDS)("%s: its range is in a table row", (_name, f) => {
    const range = `${f.min}..${f.max}`
    expect(lines.some(l => l.includes(`\`${f.key}\``) && l.includes(range)) || lines.some(l => l.includes(f.key) && l.includes(range)), `${f.key} ${range}`).toBe(true)
})

test.each(CONTRAINDICATION_RULES)("contraindication $flag: the table names what it locks", rule => {
    const row = lines.find(l => l.startsWith(`| \`${rule.flag}\` |`))
    expect(row).toBeDefined()
    const locks = row!.split("|")[2].trim()
    expect(locks).toBe(rule.locks.length === 2 ? "probe and stim" : rule.locks[0])
})
