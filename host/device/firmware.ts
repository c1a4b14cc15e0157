/**
 * Is the firmware on the bus the one this host speaks to? The DeviceScript
 * manager service of the device says which program it runs (the name comes
 * from package.json at build time, the version from `git describe`); the
 * trainer service must be there.
 */
import * as jd from "jacdac-ts"
import { CliError, EXIT } from "../errors"
import { interfaceVersion, isPftService, serviceByte, serviceInfo, TRAINER_SERVICE } from "../spec"

/** The class identifier of a trainer service of another interface version on `bus`, if one is there. */
export function otherTrainerInterface(bus: jd.JDBus): number | undefined {
    const ours = serviceInfo(TRAINER_SERVICE).classIdentifier
    for (const d of bus.devices()) for (const s of d.services()) {
        const id = s.serviceClass
        if (id !== ours && isPftService(id) && serviceByte(id) === serviceByte(ours)) return id
    }
    return undefined
}

export interface FirmwareInfo {
    /** package.json name the program was built from ("pft") */
    programName?: string
    programVersion?: string
    /** DeviceScript runtime, "2.16.4" */
    runtimeVersion?: string
}

/** How to put the right firmware on a trainer (docs/hardware.md). */
export const UPDATE_HINT =
    "update it with `npx devicescript devtools src/main_board.ts --serial` from this pft's source (docs/hardware.md, \"Flashing and deploying\")"

/** Reads the first DeviceScript manager on the bus; undefined if none answers. */
export async function readFirmware(bus: jd.JDBus): Promise<FirmwareInfo | undefined> {
    const mgr = bus.services({ serviceClass: jd.SRV_DEVICE_SCRIPT_MANAGER })[0]
    if (!mgr) return undefined
    const read = async (code: number) => {
        const reg = mgr.register(code)
        await reg.refresh().catch(() => undefined)
        return (reg.unpackedValue ?? []) as unknown[]
    }
    const [name] = await read(jd.DeviceScriptManagerReg.ProgramName)
    const [version] = await read(jd.DeviceScriptManagerReg.ProgramVersion)
    // runtime_version: "u16 u8 u8" = patch, minor, major
    const [patch, minor, major] = await read(jd.DeviceScriptManagerReg.RuntimeVersion)
    return {
        programName: typeof name === "string" && name ? name : undefined,
        programVersion: typeof version === "string" && version ? version : undefined,
        runtimeVersion: typeof major === "number" ? `${major}.${minor}.${patch}` : undefined,
    }
}

/** "pft 0.1.0 (DeviceScript 2.16.4)" */
export function describeFirmware(fw: FirmwareInfo): string {
    const program = [fw.programName ?? "an unnamed program", fw.programVersion].filter(Boolean).join(" ")
    return fw.runtimeVersion ? `${program} (DeviceScript ${fw.runtimeVersion})` : program
}

export interface FirmwareCheck {
    /** whether a trainer service is on the bus */
    trainerFound: boolean
    /** the class identifier of a trainer service of another interface version on the bus (host/spec.ts), if any */
    otherTrainerInterface?: number
    /** undefined: no DeviceScript manager answered */
    firmware?: FirmwareInfo
    /** "USB serial /dev/ttyACM0" */
    where: string
}

/**
 * The error for a bus without a usable trainer, or undefined if it is
 * fine. No trainer and no DeviceScript program at all: no device. A
 * program without the trainer service: wrong firmware.
 */
export function firmwareProblem(c: FirmwareCheck): CliError | undefined {
    const fw = c.firmware
    if (!c.trainerFound && c.otherTrainerInterface !== undefined) {
        const theirs = interfaceVersion(c.otherTrainerInterface)
        const ours = interfaceVersion(serviceInfo(TRAINER_SERVICE).classIdentifier)
        const which = theirs < ours ? "an older" : "a newer"
        const fix = theirs < ours ? UPDATE_HINT : "update pft (`npm install` in its folder, or the release your clinic uses) to one that speaks it"
        return new CliError(
            `this trainer${fw ? ` runs firmware ${describeFirmware(fw)}, which` : ""} speaks ${which} version of the trainer interface (version ${theirs}; this pft speaks version ${ours}); ${fix}`,
            EXIT.wrongFirmware
        )
    }
    if (!c.trainerFound) {
        if (!fw)
            return new CliError(
                `no trainer found on the ${c.where}: plug it in over USB, or start the simulated one with \`pft sim --serve\``,
                EXIT.noDevice
            )
        return new CliError(`this trainer runs firmware ${describeFirmware(fw)}, which has no trainer service; ${UPDATE_HINT}`, EXIT.wrongFirmware)
    }
    // Not compared: the version (DeviceScript stamps it from `git describe`
    // at build time, e.g. "v0.1.1-0382b57-2026.11.26", so a host and a
    // firmware of the same commit differ). The interface itself is: its
    // version is in the service identifier (host/spec.ts).
    return undefined
}
