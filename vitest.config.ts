import { defineConfig } from "vitest/config"

// Only tests/ holds vitest files; tests/vm/ runs in the DeviceScript VM
// (scripts/test.mjs), never under vitest. scripts/test.mjs runs the e2e
// files in workers of their own (a network namespace each).
export default defineConfig({
    test: {
        // one file at a time: e2e files each start a simulation, and devtools
        // has fixed ports; the unit files take about a second in all anyway
        fileParallelism: false,
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["tests/**/*.test.ts"],
                    // the build test writes .devicescript/bin, as the firmware VM tests do while this project runs
                    // (scripts/test.mjs runs them side by side): it is a project of its own, run after them
                    exclude: ["tests/e2e/**", "tests/vm/**", "tests/host/build.test.ts", "**/node_modules/**"],
                },
            },
            {
                test: {
                    name: "build",
                    include: ["tests/host/build.test.ts"],
                    testTimeout: 120000,
                },
            },
            {
                test: {
                    name: "e2e",
                    include: ["tests/e2e/**/*.test.ts"],
                    testTimeout: 120000,
                    hookTimeout: 120000,
                },
            },
        ],
    },
})
