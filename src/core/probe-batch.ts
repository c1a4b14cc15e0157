/**
 * Wire layout of the probe's `samples` report (services/pelvicprobe.md):
 *
 *   offset  size  field
 *   0       4     first_seq        u32, counts samples modulo 2^32
 *   4       4     sample_interval  u16.16 ms
 *   8+8i    4     pressure[i]      i22.10 hPa
 *   12+8i   4     emg_envelope[i]  u16.16 mV
 *
 * The spec is the contract; `tests/core/probe-batch.test.ts` checks these
 * numbers against the packFormat the spec tool generates from it.
 *
 * No imports: shared by the firmware (DeviceScript) and the host (Node).
 */

/** Largest Jacdac packet payload [bytes] (jacdac spec: JD_SERIAL_MAX_PAYLOAD_SIZE). */
export const JACDAC_MAX_PAYLOAD_BYTES = 236

/**
 * An enum, not an object: the firmware's compiler puts an enum's numbers
 * straight into the code, where an object is built at boot and read field
 * by field (bytecode the board image has little room for).
 */
export enum ProbeBatch {
    HeaderBytes = 8,
    SampleBytes = 8,
    FirstSeqOffset = 0,
    IntervalOffset = 4,
    /** within one sample */
    PressureOffset = 0,
    /** within one sample */
    EmgOffset = 4,
    /** i22.10: raw / 2^10 */
    PressureScale = 1024,
    /** u16.16: raw / 2^16 */
    EmgScale = 65536,
    /** u16.16: raw / 2^16 */
    IntervalScale = 65536,
}

/** Most samples one report can carry. */
export const PROBE_BATCH_MAX_SAMPLES = Math.floor(
    (JACDAC_MAX_PAYLOAD_BYTES - ProbeBatch.HeaderBytes) / ProbeBatch.SampleBytes
)

/** Payload size [bytes] of a batch of `count` samples. */
export function probeBatchBytes(count: number): number {
    return ProbeBatch.HeaderBytes + count * ProbeBatch.SampleBytes
}

/** Samples in a payload of `payloadBytes`, or -1 if the size is not a whole batch. */
export function probeBatchCount(payloadBytes: number): number {
    const body = payloadBytes - ProbeBatch.HeaderBytes
    if (body < 0 || body % ProbeBatch.SampleBytes !== 0) return -1
    return body / ProbeBatch.SampleBytes
}

/** Default nominal sample rate per channel [Hz]. */
export const DEFAULT_SAMPLE_RATE_HZ = 100

/**
 * Samples the firmware's probe queue holds between their report's arrival
 * and their handling (src/sensing/probe-input.ts): 1.28 s at 100 Hz. A full
 * queue drops the newest samples, counted lost. The simulation's feed keeps
 * no more than this beyond what the firmware says it handled
 * (host/sim/probe-feed.ts), so a VM that falls behind its feed on a loaded
 * machine slows the simulated patient instead of losing her samples.
 */
export const PROBE_QUEUE_SAMPLES = 128
