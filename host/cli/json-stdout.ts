/**
 * While a command that prints JSON runs, anything else written with
 * console.log/info/debug (the simulation's notes, a library's) goes to
 * stderr, so stdout is the JSON alone and `JSON.parse` of it works. A CI run
 * failed on `pft sim --replay --json` when a diagnostic line came first.
 */
export function keepStdoutForJson(): () => void {
    const saved = { log: console.log, info: console.info, debug: console.debug }
    const toStderr = (...args: unknown[]) => console.error(...args)
    console.log = toStderr
    console.info = toStderr
    console.debug = toStderr
    return () => {
        console.log = saved.log
        console.info = saved.info
        console.debug = saved.debug
    }
}
