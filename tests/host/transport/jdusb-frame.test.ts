// The JDUSB serial framing (host/transport/jdusb-frame.ts): frames survive
// any chunking and any byte values, log text between frames is kept apart,
// damaged frames are dropped, and the USB bridge's own commands are told
// apart from bus frames.
import fc from "fast-check"
import * as jd from "jacdac-ts"
import { describe, expect, test } from "vitest"
import {
    bridgeCommandFrame,
    bridgeCommandOf,
    encodeFrame,
    FRAME,
    frameCrc,
    FrameDecoder,
    frameValid,
    JDUSB,
    USB_BRIDGE_CMD,
} from "../../../host/transport/jdusb-frame"

/** A valid Jacdac frame with this payload after the 12-byte header. */
function makeFrame(payload: Uint8Array, flags = 0): Uint8Array {
    const f = new Uint8Array(FRAME.headerBytes + payload.length)
    f[FRAME.sizeOffset] = payload.length
    f[FRAME.flagsOffset] = flags
    f.set([1, 2, 3, 0xfe, 5, 6, 7, 8], FRAME.deviceIdOffset)
    f.set(payload, FRAME.headerBytes)
    const c = frameCrc(f)
    f[0] = c & 0xff
    f[1] = c >> 8
    return f
}

function decodeAll(chunks: Uint8Array[]) {
    const frames: Uint8Array[] = []
    const logs: string[] = []
    const errors: string[] = []
    const d = new FrameDecoder({ frame: f => frames.push(f), log: l => logs.push(l), error: e => errors.push(e) })
    for (const c of chunks) d.push(c)
    return { frames, logs, errors }
}

function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
    const at = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
    const out: Uint8Array[] = []
    let prev = 0
    for (const c of [...at, bytes.length]) {
        out.push(bytes.subarray(prev, c))
        prev = c
    }
    return out
}

describe("JDUSB framing", () => {
    test("a frame is wrapped in FE FC ... FE FD with every FE escaped as FE F8", () => {
        const f = makeFrame(Uint8Array.from([0xfe, 0x00, 0xfe]))
        const wire = encodeFrame(f)
        expect([...wire.subarray(0, 2)]).toEqual([JDUSB.magic, JDUSB.frameStart])
        expect([...wire.subarray(-2)]).toEqual([JDUSB.magic, JDUSB.frameEnd])
        const fes = f.filter(b => b === 0xfe).length
        expect(wire.length).toBe(f.length + 4 + fes)
        expect(decodeAll([wire]).frames).toEqual([f])
    })

    test("round trip: any frames, any chunking, log text between them", () => {
        fc.assert(
            fc.property(
                fc.array(fc.uint8Array({ minLength: 4, maxLength: 240 }), { minLength: 1, maxLength: 5 }),
                fc.array(fc.nat(), { maxLength: 20 }),
                (payloads, cuts) => {
                    const frames = payloads.map(p => makeFrame(p))
                    const parts: Uint8Array[] = []
                    frames.forEach((f, i) => {
                        parts.push(Buffer.from(`log line ${i}\n`))
                        parts.push(encodeFrame(f))
                    })
                    const wire = Buffer.concat(parts)
                    const got = decodeAll(splitAt(wire, cuts))
                    expect(got.errors).toEqual([])
                    expect(got.frames).toEqual(frames)
                    expect(got.logs).toEqual(frames.map((_, i) => `log line ${i}`))
                }
            ),
            { numRuns: 200 }
        )
    })

    test("a frame with a bad CRC is dropped and the next one still decodes", () => {
        const bad = makeFrame(Uint8Array.from([1, 2, 3, 4]))
        bad[FRAME.headerBytes] ^= 0xff
        const good = makeFrame(Uint8Array.from([9, 9, 9, 9]))
        const got = decodeAll([encodeFrame(bad), encodeFrame(good)])
        expect(got.frames).toEqual([good])
        expect(got.errors.length).toBe(1)
        expect(got.errors[0]).toContain("CRC")
    })

    test("a frame cut off by a new frame start is dropped (a device reset mid-frame)", () => {
        const good = makeFrame(Uint8Array.from([7, 7, 7, 7]))
        const cut = encodeFrame(makeFrame(Uint8Array.from([1, 1, 1, 1]))).subarray(0, 8)
        const got = decodeAll([cut, encodeFrame(good)])
        expect(got.frames).toEqual([good])
        expect(got.errors).toEqual(["frame start inside a frame"])
    })

    test("frameValid checks size and CRC", () => {
        const f = makeFrame(Uint8Array.from([1, 2, 3, 4]))
        expect(frameValid(f)).toBe(true)
        expect(frameValid(f.subarray(0, 10))).toBe(false)
        const g = Uint8Array.from(f)
        g[FRAME.sizeOffset] = 8
        expect(frameValid(g)).toBe(false)
    })

    test("the USB bridge's enable_packets is recognised, an ordinary bus frame is not", () => {
        const en = bridgeCommandFrame(USB_BRIDGE_CMD.enablePackets)
        expect(frameValid(en)).toBe(true)
        expect(bridgeCommandOf(en)).toBe(USB_BRIDGE_CMD.enablePackets)
        expect(bridgeCommandOf(bridgeCommandFrame(USB_BRIDGE_CMD.disablePackets))).toBe(USB_BRIDGE_CMD.disablePackets)
        // a jacdac-ts packet to a device is no bridge command
        const pkt = jd.Packet.onlyHeader(0x1234)
        pkt.deviceIdentifier = "0102030405060708"
        pkt.serviceIndex = 2
        const frame = pkt.toBuffer()
        expect(frameValid(frame)).toBe(true)
        expect(bridgeCommandOf(frame)).toBeUndefined()
    })

    test("matches the processing packet jacdac-ts's JdUsbProto sends (same bytes)", () => {
        // JdUsbProto.processingPkt(EnablePackets): "u16 u8 u8 u32 u32 u8 u8 u16" =
        // crc, size 4, flags 0x45 (command, service class, loopback), SRV_USB_BRIDGE, broadcast mark, 0, broadcast index, 0x81
        const en = bridgeCommandFrame(USB_BRIDGE_CMD.enablePackets)
        expect(en.length).toBe(16)
        expect(en[FRAME.sizeOffset]).toBe(4)
        expect(en[FRAME.flagsOffset]).toBe(0x45)
        expect(new DataView(en.buffer).getUint32(4, true)).toBe(jd.SRV_USB_BRIDGE)
        expect(new DataView(en.buffer).getUint16(14, true)).toBe(0x81)
    })
})
