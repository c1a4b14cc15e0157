// vega-lite declares its types only under package.json "exports", which the
// repo's moduleResolution (Node10, for the DeviceScript toolchain) does not
// read: point the bare specifier at the same declarations.
declare module "vega-lite" {
    export * from "vega-lite/build/index"
}
