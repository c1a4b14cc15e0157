import { defineConfig } from "vitest/config"

// Only tests/ holds vitest files; tests/vm/ runs in the DeviceScript VM
// (scripts/test.mjs), never under vitest.
export default defineConfig({
    test: {
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
                    // one simulation at a time: devtools has fixed ports
                    fileParallelism: false,
                    testTimeout: 120000,
                    hookTimeout: 120000,
                },
            },
        ],
    },
})
