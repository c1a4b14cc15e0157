/**
 * Option checks for the core's classes, driven by the option names: one
 * loop instead of a line per option keeps them small in the firmware image
 * (at most 64 KB of bytecode, docs/engineering.md).
 *
 * No imports: shared by the firmware and the host.
 */

/**
 * Throws a RangeError naming the first option of `positive` that is not
 * > 0, or of `nonNegative` that is not
 * >= 0. NaN and missing values fail both.
 */
export function requireOptions(o: unknown, positive: string[], nonNegative?: string[]): void {
    const rec = o as Record<string, number>
    for (const k of positive) if (!(rec[k] > 0)) throw new RangeError(k + " must be > 0, got " + rec[k])
    if (nonNegative) for (const k of nonNegative) if (!(rec[k] >= 0)) throw new RangeError(k + " must be >= 0, got " + rec[k])
}

/** `value`, or `fallback` when the option was not given. */
export function optionOr(value: number | undefined, fallback: number): number {
    return value === undefined ? fallback : value
}
