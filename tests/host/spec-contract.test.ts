// The trainer spec's enums are the same numbers as the core's: the firmware
// sends core values in spec fields, the host decodes them with the spec.
import { describe, expect, test } from "vitest"
import { ProgramStatus } from "../../src/core/program/install-status"
import { Cue } from "../../src/core/protocol/assessment"
import { EmgContact } from "../../src/core/sensing/emg-contact"
import { ProbeState } from "../../src/core/sensing/pressure-conditioner"
import { Channel, SessionState } from "../../src/core/session/measurement-session"
import { EMG_CONTACTS, PROBE_STATES, SESSION_STATES } from "../../host/device/trainer-client"
import { serviceInfo, TRAINER_SERVICE } from "../../host/spec"

type Members = Record<string, number>

function specEnum(name: string): Members {
    const enums = (serviceInfo(TRAINER_SERVICE) as unknown as { enums: Record<string, { members: Members }> }).enums
    const e = enums[name]
    if (!e) throw new Error(`enum ${name} is not in services/trainer.md`)
    return e.members
}

/** The numeric members of a TypeScript enum. */
function coreEnum(e: object): Members {
    return Object.fromEntries(Object.entries(e).filter(([, v]) => typeof v === "number")) as Members
}

describe("services/trainer.md enums match src/core", () => {
    test.each([
        ["Cue", Cue],
        ["ProbeState", ProbeState],
        ["EmgContact", EmgContact],
        ["SessionState", SessionState],
        ["Channel", Channel],
        ["ProgramStatus", ProgramStatus],
    ] as [string, object][])("%s", (name, e) => {
        expect(specEnum(name)).toEqual(coreEnum(e))
    })

    test("the host's names cover every value", () => {
        expect(SESSION_STATES.length).toBe(Object.keys(specEnum("SessionState")).length)
        expect(PROBE_STATES.length).toBe(Object.keys(specEnum("ProbeState")).length)
        expect(EMG_CONTACTS.length).toBe(Object.keys(specEnum("EmgContact")).length)
    })
})
