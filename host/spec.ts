/**
 * The service specs (services/*.md) as the host sees them: `devs build`
 * compiles them into .devicescript/services.json, which jacdac-ts loads.
 * Pack formats and codes come from there, never written again by hand.
 */
import { createHash } from "node:crypto"
import { readFileSync, existsSync } from "node:fs"
import { join } from "node:path"
import * as jd from "jacdac-ts"
import { repoRoot } from "./paths"

export interface PacketInfo {
    name: string
    identifier: number
    kind: string
    packFormat?: string
}

export interface ServiceInfo {
    shortId: string
    classIdentifier: number
    packets: PacketInfo[]
}

let loaded: ServiceInfo[] | undefined

/** The project's services, loaded once and registered with jacdac-ts. */
export function projectServices(): ServiceInfo[] {
    if (loaded) return loaded
    const file = join(repoRoot(), ".devicescript", "services.json")
    if (!existsSync(file))
        throw new Error(`${file} is missing: run \`npm install\` (its postinstall runs \`devicescript build\`, which writes it)`)
    const specs = JSON.parse(readFileSync(file, "utf8"))
    jd.loadServiceSpecifications(specs)
    loaded = specs as ServiceInfo[]
    return loaded
}

export function serviceInfo(shortId: string): ServiceInfo {
    const s = projectServices().find(x => x.shortId === shortId)
    if (!s) throw new Error(`service '${shortId}' is not in services/*.md`)
    return s
}

/** A packet of a service; registers/commands by their spec name. */
export function packetInfo(shortId: string, name: string, kind?: string): PacketInfo {
    const p = serviceInfo(shortId).packets.find(x => x.name === name && (!kind || x.kind === kind))
    if (!p) throw new Error(`packet '${name}' is not in the '${shortId}' spec`)
    return p
}

/** The report code a register's value arrives with (get-register | id). */
export function registerReportCode(shortId: string, name: string): number {
    return jd.CMD_GET_REG | packetInfo(shortId, name).identifier
}

export const PROBE_SERVICE = "pelvicprobe"
export const TRAINER_SERVICE = "trainer"
export const STIM_SERVICE = "stimulator"
export const STIM_CONTROL_SERVICE = "stimcontrol"
export const SESSION_LOG_SERVICE = "sessionlog"
export const LOG_FLASH_SERVICE = "logflash"

/**
 * Service identifiers are 0x1a7eVVSS: SS the service, VV the version of its
 * interface, bumped whenever a packet's layout changes
 * (services/layouts.json pins each layout to its identifier, and
 * tests/host/service-specs.test.ts fails until both move together). A host
 * then tells a trainer of another interface version from a device without
 * a trainer: the same family and service byte, another version byte.
 */
export const PFT_SERVICE_FAMILY = 0x1a7e0000

export function serviceByte(classIdentifier: number): number {
    return classIdentifier & 0xff
}

export function interfaceVersion(classIdentifier: number): number {
    return (classIdentifier >>> 8) & 0xff
}

export function isPftService(classIdentifier: number): boolean {
    return (classIdentifier & 0xffff0000) === PFT_SERVICE_FAMILY
}

/** A digest of a service's packets (kind, code, name, pack format): what a firmware and a host must agree on. */
export function layoutDigest(shortId: string): string {
    const lines = serviceInfo(shortId)
        .packets.map(p => `${p.kind} ${p.identifier} ${p.name} ${p.packFormat ?? ""}`)
        .sort()
    return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 16)
}
