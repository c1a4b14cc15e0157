import type { NumberStore } from "../core/number-store"

/**
 * 4-byte floats in a Buffer: a quarter or less of the heap a number array
 * takes in the VM. The app installs it with `setNumberStoreFactory` once at
 * start, before the pipeline objects are made.
 */
export class BufferStore implements NumberStore {
    private readonly buf: Buffer

    constructor(length: number) {
        this.buf = Buffer.alloc(length * 4)
    }

    get(i: number): number {
        return this.buf.getAt(i * 4, "f32")
    }

    set(i: number, v: number): void {
        this.buf.setAt(i * 4, "f32", v)
    }
}
