/**
 * Jacdac over a serial port ("JDUSB", as DeviceScript firmware speaks it on
 * its USB serial port, and as jacdac-ts's JdUsbProto decodes it):
 *
 *     FE FC  <jacdac frame, every FE byte sent as FE F8>  FE FD
 *     magic  frame start                                  magic frame end
 *
 * A Jacdac frame is `crc16:u16 size:u8 flags:u8 deviceId:u64 packets...`,
 * `size` counting the bytes after the 12-byte header, the CRC (jacdac-ts
 * `crc`) covering everything from `size` on. Bytes outside a frame are the
 * device's log output (text lines). The host turns the stream of frames on
 * by sending the USB bridge service's `enable_packets` as a frame; the
 * device stays quiet until then.
 *
 * Pure functions and a small stateful decoder; no I/O.
 */
import * as jd from "jacdac-ts"

export const JDUSB = {
    magic: 0xfe,
    literalMagic: 0xf8,
    reserved: 0xf9,
    serialGap: 0xfa,
    frameGap: 0xfb,
    frameStart: 0xfc,
    frameEnd: 0xfd,
} as const

/** Jacdac frame layout (bytes), from the frame header definition above. */
export const FRAME = {
    crcOffset: 0,
    sizeOffset: 2,
    flagsOffset: 3,
    deviceIdOffset: 4,
    headerBytes: 12,
    /** a frame's payload is at most 240 bytes: header + 240 = 252 */
    maxBytes: 252,
} as const

/** USB bridge service (jacdac-ts SRV_USB_BRIDGE) commands the host sends as processing packets. */
export const USB_BRIDGE_CMD = {
    disablePackets: 0x80,
    enablePackets: 0x81,
    disableLog: 0x82,
    enableLog: 0x83,
} as const

const FLAG_COMMAND = 0x01
const FLAG_IDENTIFIER_IS_SERVICE_CLASS = 0x04
const FLAG_LOOPBACK = 0x40

/** The CRC of a frame (over everything after the CRC field). */
export function frameCrc(frame: Uint8Array): number {
    return jd.crc(frame.subarray(FRAME.sizeOffset))
}

/** Whether a frame's CRC and size fields match its bytes. */
export function frameValid(frame: Uint8Array): boolean {
    if (frame.length < FRAME.headerBytes) return false
    if (frame.length < frame[FRAME.sizeOffset] + FRAME.headerBytes) return false
    const c = frameCrc(frame.subarray(0, frame[FRAME.sizeOffset] + FRAME.headerBytes))
    return frame[0] === (c & 0xff) && frame[1] === c >> 8
}

/** Wraps one Jacdac frame for the serial line (FE FC ... FE FD, FE escaped). */
export function encodeFrame(frame: Uint8Array): Uint8Array {
    const out: number[] = [JDUSB.magic, JDUSB.frameStart]
    for (const b of frame) {
        out.push(b)
        if (b === JDUSB.magic) out.push(JDUSB.literalMagic)
    }
    out.push(JDUSB.magic, JDUSB.frameEnd)
    return Uint8Array.from(out)
}

/**
 * A command frame to the USB bridge service itself (jacdac-ts
 * JdUsbProto.processingPkt): `enable_packets` starts the frame stream.
 */
export function bridgeCommandFrame(serviceCommand: number): Uint8Array {
    const f = jd.jdpack("u16 u8 u8 u32 u32 u8 u8 u16", [
        0,
        4,
        FLAG_IDENTIFIER_IS_SERVICE_CLASS | FLAG_COMMAND | FLAG_LOOPBACK,
        jd.SRV_USB_BRIDGE,
        jd.JD_DEVICE_IDENTIFIER_BROADCAST_HIGH_MARK,
        0,
        jd.JD_SERVICE_INDEX_BROADCAST,
        serviceCommand,
    ])
    const c = frameCrc(f)
    f[0] = c & 0xff
    f[1] = c >> 8
    return f
}

/** The USB bridge command a frame carries, or undefined if it is an ordinary bus frame. */
export function bridgeCommandOf(frame: Uint8Array): number | undefined {
    if (frame.length < 16 || !(frame[FRAME.flagsOffset] & FLAG_IDENTIFIER_IS_SERVICE_CLASS)) return undefined
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
    if (view.getUint32(FRAME.deviceIdOffset, true) !== jd.SRV_USB_BRIDGE) return undefined
    return view.getUint16(14, true)
}

export interface DecoderEvents {
    /** a complete frame with a good CRC (trimmed to its size) */
    frame(frame: Uint8Array): void
    /** a line of the device's log output */
    log?(line: string): void
    /** a framing or CRC problem; the frame is dropped */
    error?(message: string): void
}

/**
 * Decodes the serial byte stream, however it is chunked, into frames and
 * log lines. Mirrors jacdac-ts JdUsbProto.decodeFrame.
 */
export class FrameDecoder {
    private wasMagic = false
    private inFrame = false
    private frame = new Uint8Array(256)
    private at = 0
    private logBytes: number[] = []

    constructor(private readonly events: DecoderEvents) {}

    push(chunk: Uint8Array): void {
        for (let c of chunk) {
            if (this.wasMagic) {
                this.wasMagic = false
                switch (c) {
                    case JDUSB.magic:
                        // FE FE: the first was not a marker
                        this.wasMagic = true
                        if (this.inFrame) this.fail("two magic bytes in a frame")
                        continue
                    case JDUSB.literalMagic:
                        c = JDUSB.magic
                        break
                    case JDUSB.frameStart:
                        if (this.inFrame) this.fail("frame start inside a frame")
                        this.inFrame = true
                        this.at = 0
                        continue
                    case JDUSB.frameEnd:
                        if (this.inFrame) this.finishFrame()
                        else this.events.error?.("frame end outside a frame")
                        continue
                    case JDUSB.serialGap:
                    case JDUSB.frameGap:
                    case JDUSB.reserved:
                        continue
                    default:
                        if (this.inFrame) this.fail("invalid byte after magic")
                        this.logByte(JDUSB.magic)
                        break
                }
            } else if (c === JDUSB.magic) {
                this.wasMagic = true
                continue
            }
            if (!this.inFrame) this.logByte(c)
            else if (this.at >= this.frame.length) this.fail("frame too long")
            else this.frame[this.at++] = c
        }
    }

    private finishFrame() {
        this.inFrame = false
        const fr = this.frame.slice(0, this.at)
        this.at = 0
        if (!frameValid(fr)) {
            this.events.error?.(`bad frame (${fr.length} bytes: CRC or size mismatch)`)
            return
        }
        this.events.frame(fr.slice(0, fr[FRAME.sizeOffset] + FRAME.headerBytes))
    }

    private fail(message: string) {
        this.events.error?.(message)
        this.inFrame = false
        this.at = 0
    }

    private logByte(c: number) {
        if (c === 10 || c === 13) {
            if (this.logBytes.length) this.events.log?.(Buffer.from(this.logBytes).toString("utf8"))
            this.logBytes = []
        } else if (this.logBytes.length < 1024) this.logBytes.push(c)
    }
}
