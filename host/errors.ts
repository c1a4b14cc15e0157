/** An error meant for the user: a message saying what to do, and an exit code. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode = 1
    ) {
        super(message)
        this.name = "CliError"
    }
}

/** Exit codes, one per kind of failure, so scripts can tell them apart. */
export const EXIT = {
    failure: 1,
    usage: 2,
    noDevice: 3,
    busy: 4,
    /** the trainer runs another firmware than this pft speaks to */
    wrongFirmware: 5,
    /** the link went away during the command (unplugged, simulator stopped) */
    unplugged: 6,
} as const
