#!/usr/bin/env node
// The pft CLI is TypeScript (host/cli.ts); tsx runs it without a build step.
import { register } from "tsx/esm/api"

register()
await import("../host/cli.ts")
