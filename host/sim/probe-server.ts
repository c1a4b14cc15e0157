/**
 * The simulated pelvic probe (services/pelvicprobe.md), hosted from Node on
 * the simulation bus. It pushes each batch as a report the moment it is
 * ready: jacdac-ts' stock sensor streaming runs on the 50 ms bus refresh and
 * would cap the firmware at about 20 reports/s.
 */
import * as jd from "jacdac-ts"
import { cmH2OToHpa, uvToMv } from "../../src/core/units"
import { PROBE_BATCH_MAX_SAMPLES } from "../../src/core/probe-batch"
import { PROBE_SERVICE, packetInfo, serviceInfo } from "../spec"

/** One sample in the units people use. */
export interface ProbeSample {
    /** [cmH2O] */
    pressureCmH2O: number
    /** [uV] */
    emgUv: number
}

type SamplesValues = [number, number, [number, number][]]

export class SimProbeServer extends jd.JDServiceServer {
    private readonly samples: jd.JDRegisterServer<SamplesValues>

    constructor(sampleRateHz: number) {
        const info = serviceInfo(PROBE_SERVICE)
        super(info.classIdentifier)
        this.samples = this.addRegister<SamplesValues>(packetInfo(PROBE_SERVICE, "samples").identifier, [0, 0, []])
        this.samples.skipBoundaryCheck = true
        this.addRegister<[number]>(packetInfo(PROBE_SERVICE, "sample_rate").identifier, [sampleRateHz])
    }

    /** Sends one batch starting at sequence number `firstSeq`. */
    async pushBatch(firstSeq: number, sampleIntervalMs: number, batch: ProbeSample[]): Promise<void> {
        if (batch.length > PROBE_BATCH_MAX_SAMPLES)
            throw new RangeError(`a batch holds at most ${PROBE_BATCH_MAX_SAMPLES} samples, got ${batch.length}`)
        const pairs = batch.map(s => [cmH2OToHpa(s.pressureCmH2O), uvToMv(s.emgUv)] as [number, number])
        this.samples.setValues([firstSeq >>> 0, sampleIntervalMs, pairs], true)
        await this.samples.sendGetAsync()
    }
}

/** Hosts a simulated probe on `bus` as its own device. */
export function hostProbe(bus: jd.JDBus, sampleRateHz: number): SimProbeServer {
    const server = new SimProbeServer(sampleRateHz)
    bus.addServiceProvider(new jd.JDServerServiceProvider("pft-probe", [server]))
    return server
}
