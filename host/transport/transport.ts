/**
 * How the host reaches a trainer: one interface, one implementation per
 * link (the list is in ./index.ts). Each `connect()` opens a jacdac-ts bus
 * with the trainer on it, or throws a TransportError saying what went wrong.
 */
import type * as jd from "jacdac-ts"

/** The links the host knows; adding one is a file in this folder and a line in ./index.ts. */
export const TRANSPORT_KINDS = ["sim", "usb"] as const
export type TransportKind = (typeof TRANSPORT_KINDS)[number]

export interface Transport {
    readonly kind: TransportKind
    /** "USB serial /dev/ttyACM0", "simulator bus ws://127.0.0.1:8081/" */
    describe(): string
    /** Opens the link and a connected bus on it. */
    connect(): Promise<jd.JDBus>
    /**
     * After connect: settles with the reason when the link drops (cable
     * pulled, simulator stopped); never settles while it stays up.
     */
    lost(): Promise<TransportError>
}

/** What went wrong with a link, so the CLI can say what to do and pick the exit code. */
export const TRANSPORT_FAILURES = ["not-found", "busy", "permission", "no-answer", "unplugged"] as const
export type TransportFailure = (typeof TRANSPORT_FAILURES)[number]

export class TransportError extends Error {
    constructor(
        readonly failure: TransportFailure,
        message: string,
        readonly transport?: string
    ) {
        super(message)
        this.name = "TransportError"
    }
}
