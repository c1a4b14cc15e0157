// Which link a command uses (host/transport/select.ts) and how link
// failures become CLI errors and exit codes (host/device/connect.ts).
import { describe, expect, test } from "vitest"
import { cliErrorFor, NO_TRAINER } from "../../../host/device/connect"
import { CliError, EXIT } from "../../../host/errors"
import { TransportError, TRANSPORT_FAILURES, type TransportFailure } from "../../../host/transport"
import { selectTransport } from "../../../host/transport/select"
import { SIM_BUS_URL } from "../../../host/transport/sim-bus"
import type { SerialPortListing } from "../../../host/transport/serial-ports"

const usb = (path: string): SerialPortListing => ({ transport: "usb", path, vendorId: "303a", productId: "1001", likely: "Espressif" })

describe("transport selection", () => {
    test.each([
        { name: "--port wins", opts: { port: "/dev/ttyACM3" }, ports: [usb("/dev/ttyACM0")], kind: "usb", address: "/dev/ttyACM3" },
        { name: "--url wins over a plugged-in trainer", opts: { url: "ws://h:1/" }, ports: [usb("/dev/ttyACM0")], kind: "sim", address: "ws://h:1/" },
        { name: "one USB trainer: it", opts: {}, ports: [usb("/dev/ttyACM0")], kind: "usb", address: "/dev/ttyACM0" },
        { name: "no USB trainer: the simulator", opts: {}, ports: [], kind: "sim", address: SIM_BUS_URL },
        { name: "two USB trainers: the simulator (say --port)", opts: {}, ports: [usb("/dev/ttyACM0"), usb("/dev/ttyACM1")], kind: "sim", address: SIM_BUS_URL },
    ])("$name", ({ opts, ports, kind, address }) => {
        const sel = selectTransport(opts, ports)
        expect(sel.kind).toBe(kind)
        expect(sel.address).toBe(address)
    })

    test("two USB trainers: the reason names them and says --port", () => {
        const sel = selectTransport({}, [usb("/dev/ttyACM0"), usb("/dev/ttyACM1")])
        expect(sel.reason).toContain("/dev/ttyACM0, /dev/ttyACM1")
        expect(sel.reason).toContain("--port")
    })

    test("--port and --url together is a usage error", () => {
        expect(() => selectTransport({ port: "/dev/ttyACM0", url: SIM_BUS_URL }, [])).toThrow(CliError)
        try {
            selectTransport({ port: "/dev/ttyACM0", url: SIM_BUS_URL }, [])
        } catch (e) {
            expect((e as CliError).exitCode).toBe(EXIT.usage)
        }
    })
})

describe("link failures as CLI errors", () => {
    const expected: Record<TransportFailure, number> = {
        "not-found": EXIT.noDevice,
        busy: EXIT.busy,
        permission: EXIT.noDevice,
        "no-answer": EXIT.noDevice,
        unplugged: EXIT.unplugged,
    }
    test.each(TRANSPORT_FAILURES.map(f => ({ failure: f, code: expected[f] })))("$failure -> exit $code", ({ failure, code }) => {
        const e = cliErrorFor(new TransportError(failure, `it was ${failure}`), selectTransport({ port: "/dev/x" }, []))
        expect(e.exitCode).toBe(code)
        expect(e.message).toBe(`it was ${failure}`)
    })

    test("nothing found when the link was guessed: the one sentence saying both ways to connect", () => {
        const sel = selectTransport({}, [])
        const e = cliErrorFor(new TransportError("not-found", "nothing answers at ws://127.0.0.1:8081/"), sel)
        expect(e.exitCode).toBe(EXIT.noDevice)
        expect(e.message).toContain(NO_TRAINER)
        expect(NO_TRAINER).toBe("no trainer found: plug it in over USB, or start the simulated one with `pft sim --serve`")
    })

    test("nothing found at an explicit --url: only that", () => {
        const e = cliErrorFor(new TransportError("not-found", "nothing answers at ws://h:1/"), selectTransport({ url: "ws://h:1/" }, []))
        expect(e.message).toBe("nothing answers at ws://h:1/")
    })
})
