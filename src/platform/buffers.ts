/** Copies between the core's byte arrays (number[], src/core/codec/bytes.ts) and DeviceScript Buffers. */

/** The bytes of a Buffer (none for a missing one). */
export function bytesOf(b: Buffer): number[] {
    const out: number[] = []
    if (!b) return out
    for (let i = 0; i < b.length; i++) out.push(b[i])
    return out
}

/** A Buffer holding `bytes`. */
export function bufferOf(bytes: number[]): Buffer {
    const b = Buffer.alloc(bytes.length)
    for (let i = 0; i < bytes.length; i++) b[i] = bytes[i]
    return b
}
