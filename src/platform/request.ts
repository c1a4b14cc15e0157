import * as ds from "@devicescript/core"

/** [ms] how long one try waits for its answer */
export const REQUEST_TIMEOUT_MS = 300
/** tries before a request fails (commands are idempotent: services/*.md) */
export const REQUEST_TRIES = 4

/**
 * Sends a command to a server and waits for its report, matched by
 * `match`, trying again when none comes (DeviceScript servers send no
 * ACKs). Returns the report's payload, or undefined when every try went
 * unanswered. `ds.actionReport` has neither a timeout nor retries.
 */
export async function request(role: ds.Role, code: number, payload: Buffer, match: (answer: Buffer) => boolean): Promise<Buffer> {
    let answer: Buffer = undefined
    const unsubscribe = role.report().subscribe(pkt => {
        if (answer === undefined && pkt.serviceCommand === code && match(pkt.payload)) answer = pkt.payload
    })
    try {
        for (let t = 0; t < REQUEST_TRIES && answer === undefined; t++) {
            await role.sendCommand(code, payload)
            const deadline = ds.millis() + REQUEST_TIMEOUT_MS
            while (answer === undefined && ds.millis() < deadline) await ds.sleep(1)
        }
    } finally {
        unsubscribe()
    }
    return answer
}
