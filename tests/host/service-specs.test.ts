import { readdirSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, test } from "vitest"
import { repoRoot } from "../../host/paths"
import { readFileSync } from "node:fs"
import { interfaceVersion, isPftService, layoutDigest, projectServices } from "../../host/spec"

describe("service specs", () => {
    test("every services/*.md is built and has an identifier of its own (a shared one makes the host talk to the wrong service)", () => {
        const files = readdirSync(join(repoRoot(), "services")).filter(f => f.endsWith(".md"))
        const services = projectServices()
        expect(services.map(s => s.shortId).sort()).toEqual(files.map(f => f.replace(/\.md$/, "")).sort())
        const ids = services.map(s => s.classIdentifier)
        expect(new Set(ids).size).toBe(ids.length)
    })

    test("each service's packet layout is pinned to its identifier: a changed layout needs a new interface version (services/layouts.json)", () => {
        const pinned = JSON.parse(readFileSync(join(repoRoot(), "services", "layouts.json"), "utf8")) as Record<string, { identifier: string; layout: string }>
        for (const s of projectServices()) {
            const id = "0x" + s.classIdentifier.toString(16)
            const pin = pinned[s.shortId]
            expect(pin, `services/layouts.json has no entry for ${s.shortId}`).toBeDefined()
            expect(isPftService(s.classIdentifier), `${s.shortId}: identifier ${id} is not 0x1a7eVVSS`).toBe(true)
            const layout = layoutDigest(s.shortId)
            if (pin.layout !== layout && pin.identifier === id)
                throw new Error(
                    `services/${s.shortId}.md: its packets changed (layout ${layout}, pinned ${pin.layout}) under the same identifier ${id}. ` +
                        `Bump its interface version (0x1a7e${(interfaceVersion(s.classIdentifier) + 1).toString(16).padStart(2, "0")}${(s.classIdentifier & 0xff).toString(16).padStart(2, "0")}), ` +
                        `then pin the new identifier and layout in services/layouts.json: a firmware of the old layout is then told apart as another version`
                )
            expect({ identifier: id, layout }).toEqual(pin)
        }
    })
})
