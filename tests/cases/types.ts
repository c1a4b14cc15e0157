/**
 * Test cases shared by vitest (Node) and @devicescript/test (the firmware
 * VM): the same core code must give the same answers in both worlds. Kept
 * to the DeviceScript subset (no Map, no getters, `===` only).
 */

/** `actual()` must be within `tolerance` of `expected`. */
export interface NumericCase {
    name: string
    actual: () => number
    expected: number
    /** absolute; 0 means exact */
    tolerance: number
}

/** `run()` must throw. */
export interface ThrowCase {
    name: string
    run: () => void
}

export function isClose(actual: number, expected: number, tolerance: number): boolean {
    if (tolerance === 0) return actual === expected
    return Math.abs(actual - expected) <= tolerance
}
