// Two projects: unit (Pulumi mocks and pure functions, seconds) and integration (real services of
// the local sandbox, started once per run by the global setup). Both transpile with SWC, no type
// check: `npm run build` (tsc --noEmit) is the type check.
const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      // Each stack run under mocks serializes the FlinkSqlJob provider (Pulumi's closure serializer,
      // seconds on a busy 2-core machine); the default 5 s is too tight for those beforeAll hooks.
      testTimeout: 120000,
      transform,
      testMatch: ["<rootDir>/tests/unit/**/*.test.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/tests/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/tests/integration/setup.ts",
      setupFilesAfterEnv: ["<rootDir>/tests/integration/timeout.ts"],
    },
  ],
};
