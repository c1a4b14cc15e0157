import { DEFAULT_SIGNAL_CHAIN, SignalChain } from "../../src/core/signal-chain"
import type { NumericCase } from "./types"

function steady(pressureHpa: number, emgMv: number, samples: number) {
    const chain = new SignalChain(DEFAULT_SIGNAL_CHAIN)
    for (let i = 0; i < samples - 1; i++) chain.push(pressureHpa, emgMv)
    return chain.push(pressureHpa, emgMv)
}

/** A step from 0 to 1 mV: after half the EMG window (100 ms = 10 samples) the output is half way. */
function emgHalfStep(): number {
    const chain = new SignalChain(DEFAULT_SIGNAL_CHAIN)
    for (let i = 0; i < 20; i++) chain.push(0, 0)
    let out = 0
    for (let i = 0; i < 5; i++) out = chain.push(0, 1).emgUv
    return out
}

export const signalChainCases: NumericCase[] = [
    { name: "steady 9.80665 hPa reads 10 cmH2O", actual: () => steady(9.80665, 0, 30).pressureCmH2O, expected: 10, tolerance: 1e-9 },
    { name: "steady 0.005 mV reads 5 uV", actual: () => steady(0, 0.005, 30).emgUv, expected: 5, tolerance: 1e-9 },
    { name: "EMG step is half way after half the window", actual: emgHalfStep, expected: 500, tolerance: 1e-9 },
]
