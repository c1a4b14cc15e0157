/**
 * The first stage of sensing: raw probe samples in wire units (hPa, mV) to
 * smoothed values in the units people read (cmH2O, uV).
 *
 * No imports outside src/core: shared by the firmware and the host, so the
 * host can compute exactly what the device should report.
 */
import { MovingAverage } from "./filters"
import { hpaToCmH2O, mvToUv, windowSamples } from "./units"

export interface SignalChainOptions {
    /** [Hz] samples per second per channel */
    sampleRateHz: number
    /** [ms] pressure smoothing window; short, pressure is already low-noise */
    pressureWindowMs: number
    /** [ms] EMG envelope smoothing window, 50-250 ms typical (SENIAM) */
    emgWindowMs: number
}

/**
 * Defaults: 100 Hz per channel (the floor); EMG smoothed over 100 ms,
 * inside the 50-250 ms range of clinical sEMG biofeedback units (MyoTrac
 * Infiniti user manual: RMS averaging window; SENIAM, Hermens et al. 1999);
 * pressure over 50 ms, enough to take out sensor noise without hiding a
 * 2 s quick flick.
 */
export const DEFAULT_SIGNAL_CHAIN: SignalChainOptions = {
    sampleRateHz: 100,
    pressureWindowMs: 50,
    emgWindowMs: 100,
}

export interface SmoothedSample {
    /** [cmH2O] */
    pressureCmH2O: number
    /** [uV] */
    emgUv: number
}

export class SignalChain {
    private readonly pressure: MovingAverage
    private readonly emg: MovingAverage

    constructor(options: SignalChainOptions) {
        this.pressure = new MovingAverage(windowSamples(options.pressureWindowMs, options.sampleRateHz))
        this.emg = new MovingAverage(windowSamples(options.emgWindowMs, options.sampleRateHz))
    }

    /** Takes one sample in wire units and returns the smoothed values. */
    push(pressureHpa: number, emgMv: number): SmoothedSample {
        return {
            pressureCmH2O: hpaToCmH2O(this.pressure.push(pressureHpa)),
            emgUv: mvToUv(this.emg.push(emgMv)),
        }
    }

    reset(): void {
        this.pressure.reset()
        this.emg.reset()
    }
}
