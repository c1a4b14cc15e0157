// ChannelAnalyzer with what only the tests look at. Not in the class itself:
// the board's image compiles in every method of a class it constructs, used
// or not, and it has no bytes to spare (docs/engineering.md).
import { ChannelAnalyzer } from "../../src/core/metrics/channel-analyzer"

export class InspectableAnalyzer extends ChannelAnalyzer {
    /**
     * Upper edge of the rest band, restMean + kLow * sd, from the rest
     * statistics a contract cue would use now (0 before there are any).
     */
    restBand(): number {
        const ref = this.referenceStats()
        if (ref === null) return 0
        return ref.mean() + this.kLow * this.flooredSd(ref)
    }
}
