/**
 * Fixed-size numeric buffers for the per-sample code (sample rings, moving
 * windows), behind one small interface so the firmware can back them with
 * 4-byte floats: the DeviceScript simulator's heap is ~64 KB and a plain
 * array costs several times that per number. The host keeps plain arrays
 * (doubles). The firmware calls setNumberStoreFactory once at start, before
 * any pipeline object is made (src/platform/buffer-store.ts).
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */
export interface NumberStore {
    get(i: number): number
    set(i: number, v: number): void
}

class ArrayStore implements NumberStore {
    private readonly values: number[] = []

    constructor(length: number) {
        for (let i = 0; i < length; i++) this.values.push(0)
    }

    get(i: number): number {
        return this.values[i]
    }

    set(i: number, v: number): void {
        this.values[i] = v
    }
}

let factory: (length: number) => NumberStore = n => new ArrayStore(n)

/** A store of `length` zeros. */
export function newNumberStore(length: number): NumberStore {
    return factory(length)
}

/** Replaces how stores are made (the firmware: 4-byte floats in a Buffer). */
export function setNumberStoreFactory(make: (length: number) => NumberStore): void {
    factory = make
}
