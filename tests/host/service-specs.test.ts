import { readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { projectServices } from "../../host/spec"

describe("service specs", () => {
    test("every services/*.md is built and has an identifier of its own (a shared one makes the host talk to the wrong service)", () => {
        const files = readdirSync(join(repoRoot(), "services")).filter(f => f.endsWith(".md"))
        const services = projectServices()
        expect(services.map(s => s.shortId).sort()).toEqual(files.map(f => f.replace(/\.md$/, "")).sort())
        const ids = services.map(s => s.classIdentifier)
        expect(new Set(ids).size).toBe(ids.length)
    })
})
