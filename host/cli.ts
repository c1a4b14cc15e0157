/**
 * `pft`: the therapist's and engineer's command line. A table of
 * subcommands, each in host/commands/, loaded only when it runs. Errors are
 * thrown as exceptions and turned into a message and an exit code here.
 */
import { Command } from "commander"
import { CliError } from "./errors"

const program = new Command()
program
    .name("pft")
    .description("Pelvic-floor trainer: simulate the device, list devices (programs, logs and reports follow)")
    .showHelpAfterError()

program
    .command("sim")
    .description("run the firmware in the DeviceScript VM against a simulated probe and print what the device reports")
    .option("-d, --duration <s>", "stop after this many seconds (default: until Ctrl-C)", parseFloat)
    .option("-r, --rate <hz>", "probe samples per second per channel", parseFloat, 100)
    .option("-b, --batch <n>", "samples per probe report", v => parseInt(v, 10), 2)
    .option("--json", "print one JSON object per live report")
    .option("-v, --verbose", "also print the VM's console output")
    .action(async opts => (await import("./commands/sim")).runSim(opts))

program
    .command("devices")
    .description("list the devices on the simulator bus (USB serial comes with the transport issue)")
    .option("--url <ws>", "simulator bus websocket", "ws://127.0.0.1:8081/")
    .option("-w, --wait <ms>", "how long to listen for devices", v => parseInt(v, 10), 1500)
    .option("--json", "print JSON")
    .action(async opts => (await import("./commands/devices")).runDevices(opts))

try {
    await program.parseAsync(process.argv)
} catch (e) {
    if (e instanceof CliError) {
        console.error(`pft: ${e.message}`)
        process.exit(e.exitCode)
    }
    console.error(e)
    process.exit(1)
}
