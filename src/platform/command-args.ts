/**
 * The fields of a custom server's command: DeviceScript's servercore decodes
 * a multi-field command packet whole and hands the handler one array as its
 * first argument (../shared/devicescript-notes.md), whatever the generated
 * signature says; a one-field command comes as the field itself.
 */
export function commandArgs(first: any): any[] {
    return Array.isArray(first) ? first : [first]
}
