import { defineConfig } from "vitest/config"

// Only tests/ holds vitest files; tests/vm/ runs in the DeviceScript VM
// (scripts/test.mjs), never under vitest.
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
                    exclude: ["tests/e2e/**", "tests/vm/**", "**/node_modules/**"],
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
