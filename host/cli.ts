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
    .description("Pelvic-floor trainer: simulate the device, list devices, check and push therapist programs, pull session logs, export and report")
    .showHelpAfterError()

program
    .command("sim")
    .description(
        "run the firmware in the DeviceScript VM through a Glazer assessment with a simulated patient (or a recorded trace) and print what the device measured"
    )
    .option("-p, --profile <name>", "simulated patient: typical, weak, hypertonic, spasm, noisy_electrode, lead_off", "typical")
    .option("-s, --seed <n>", "patient model seed", v => parseInt(v, 10), 1)
    .option("-x, --speed <x>", "samples come this many times faster than real time (1..20)", parseFloat, 1)
    .option("--replay <file>", "replay a CSV trace (time_ms,pressure_cmH2O,emg_uV) instead of a simulated patient")
    .option("--program <file>", "run this therapist program (JSON, as `pft program push` takes) instead of the built-in Glazer assessment")
    .option("-d, --duration <s>", "stop the session after this many seconds of wall time", parseFloat)
    .option("--json", "print the measured session (and its score against ground truth) as JSON")
    .option("-v, --verbose", "also print the VM's console output")
    .option("--serve", "keep the simulated trainer running (no session) for other commands, until Ctrl-C")
    .option("--host-link <link>", "how the host reaches the simulated trainer: sim (its bus) or serial (USB serial framing over a pty bridge; needs socat)", "sim")
    .action(async opts => (await import("./commands/sim")).runSim(opts))

program
    .command("devices")
    .description("list the trainers plugged in over USB and the devices on the simulator bus")
    .option("--url <ws>", "simulator bus websocket (default ws://127.0.0.1:8081/)")
    .option("-w, --wait <ms>", "how long to listen for devices on the simulator bus", v => parseInt(v, 10), 1500)
    .option("--all", "list every serial port, not only likely trainers (Espressif and other ESP32 USB chips)")
    .option("--json", "print JSON")
    .action(async opts => (await import("./commands/devices")).runDevices(opts))

const programs = program.command("program").description("therapist programs: check, push to the device, show and pull")

programs
    .command("validate <file>")
    .description("check a program file with the device's own rules; prints every error (exit code 2) or a summary")
    .option("--json", "print the result as JSON")
    .action(async (file, opts) => (await import("./commands/program-validate")).runProgramValidate(file, opts))

programs
    .command("schema")
    .description("print the JSON Schema of program files, for editors (docs/program.schema.json)")
    .action(async () => (await import("./commands/program-schema")).runProgramSchema())

// No defaults here: without --port or --url, the one USB trainer plugged
// in is used, else the simulator bus (host/transport/select.ts).
const deviceOpts = (c: Command) =>
    c
        .option("--port <path>", "the trainer's USB serial port (default: the only trainer plugged in, else the simulator)")
        .option("--url <ws>", "the simulated trainer's bus websocket (ws://127.0.0.1:8081/)")
        .option("--key-file <path>", "the clinic key (default: as `pft clinic init` makes it)")

deviceOpts(programs.command("push <file>").description("validate, sign with the clinic key and install a program on the device (the device checks signature and version)")).action(
    async (file, opts) => (await import("./commands/program-push")).runProgramPush(file, opts)
)
deviceOpts(programs.command("show").description("show the program the device runs now, with its signature checked"))
    .option("--json", "print JSON")
    .action(async opts => (await import("./commands/program-show")).runProgramShow(opts))
deviceOpts(programs.command("pull").description("write the program the device runs now as a program file"))
    .option("-o, --out <file>", "where to write it (default: standard output)")
    .action(async opts => (await import("./commands/program-show")).runProgramPull(opts))

// over USB as every device command (it used to reach only the simulator bus)
deviceOpts(
    program
        .command("monitor")
        .description("the trainer live in the terminal: EMG and pressure traces, session, cue, rep, program phase and target, stimulation, faults; keys s start, x stop, p pause, m mark, q quit")
)
    .option("-d, --duration <s>", "stop after this many seconds and print the last screen (scripts)", parseFloat)
    .option("--marks <file>", "append the therapist's marks to this CSV file")
    .action(async opts => (await import("./commands/monitor")).runMonitor(opts))

const device = program.command("device").description("the trainer itself")
deviceOpts(device.command("provision").description("install the clinic key on the device, once (it can never be replaced from the device)")).action(
    async opts => (await import("./commands/device-provision")).runDeviceProvision(opts)
)

const clinic = program.command("clinic").description("the clinic's program-signing key")

clinic
    .command("init")
    .description("create the clinic key that signs programs (never replaces an existing one without --force)")
    .option("--force", "replace an existing key (every device must then be provisioned again)")
    .option("--key-file <path>", "where to write the key (default: $PFT_HOME/clinic-key.json, else $XDG_DATA_HOME/pft, else ~/.local/share/pft)")
    .action(async opts => (await import("./commands/clinic-init")).runClinicInit(opts))

const archiveOpt = (c: Command) => c.option("--archive <path>", "the session archive (default: $PFT_HOME/archive.sqlite, else $XDG_DATA_HOME/pft, else ~/.local/share/pft)")
const intArg = (v: string) => parseInt(v, 10)
const logs = program.command("logs").description("session logs: pull them from the device into the archive, list and show them")

archiveOpt(deviceOpts(logs.command("pull").description("pull the device's session logs into the archive (resumes an interrupted pull), then acknowledge them so the device can free their space")))
    .option("--patient <ref>", "patient for sessions whose program's patient the archive does not know yet")
    .option("--in-flight <n>", "reads in flight at once (1..16)", intArg, 4)
    .option("--chunk <bytes>", "bytes per read (1..232, one report)", intArg)
    .option("--no-ack", "archive only: do not acknowledge (the device keeps the sessions)")
    .option("--json", "print the pull report as JSON")
    .action(async opts => (await import("./commands/logs-pull")).runLogsPull(opts))
archiveOpt(logs.command("list").description("list the archived sessions, oldest first"))
    .option("--patient <ref>", "only this patient's sessions")
    .option("--since <date>", "only sessions from this date on (YYYY-MM-DD or ISO date-time)")
    .option("--utc", "show times in UTC")
    .option("--json", "print JSON")
    .action(async opts => (await import("./commands/logs-list")).runLogsList(opts))
archiveOpt(logs.command("show <session>").description("show one archived session (the id from `pft logs list`): summary, phases, reps, events, quarantined bytes"))
    .option("--frames", "also dump the raw frames as pulled (hex)")
    .option("--utc", "show times in UTC")
    .option("--json", "print the session as the JSON export")
    .action(async (session, opts) => (await import("./commands/logs-show")).runLogsShow(session, opts))

archiveOpt(program.command("export").description("export a patient's archived sessions, one file per session: CSV, JSON or EDF+"))
    .requiredOption("--format <format>", "csv, json or edf")
    .requiredOption("--patient <ref>", "the patient's pseudonymous code")
    .requiredOption("--out <dir>", "directory for the files (made if need be)")
    .option("--since <date>", "only sessions from this date on (YYYY-MM-DD or ISO date-time)")
    .option("--rows <rows>", "csv: one row per trace sample (samples) or per rep (reps)", "samples")
    .option("--utc", "edf: start date and time in UTC rather than local time")
    .action(async opts => (await import("./commands/export")).runExport(opts))

archiveOpt(program.command("report").description("a patient's progress report from the archive: one self-contained HTML page with charts, optionally a PDF (headless Chromium)"))
    .option("--patient <ref>", "the patient's pseudonymous code")
    .option("--since <date>", "only sessions from this date on (YYYY-MM-DD or ISO date-time); the calendar starts there")
    .option("--until <date>", "last day shown (default today)")
    .requiredOption("--out <file>", "the HTML file to write (with --demo: a directory)")
    .option("--pdf <file>", "also print it to a PDF (needs Debian's chromium package)")
    .option("--screenshot <file>", "also save a PNG of the top of the page (needs chromium)")
    .option("--detail <n>", "latest sessions shown in full with their trace", intArg, 5)
    .option("--demo", "build a demo archive of a simulated patient (six weeks, hypertonic to relaxed) in the --out directory and report on it")
    .action(async opts => (await import("./commands/report")).runReport(opts))

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
