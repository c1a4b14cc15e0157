/** The firmware's version, written into every session header (package.json "version"; tests/host/build.test.ts checks they agree). */
export const FIRMWARE_VERSION = "0.1.0"
