// Two projects: unit (Pulumi mocks and pure functions, seconds) and integration (real services of
// the local sandbox, started once per run by the global setup). Both transpile with SWC, no type
// check: `npm run build` (tsc --noEmit) is the type check.
const transform = { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] };
// The sandbox's data (etcd keeps *.snap files) and build caches are not the tests' modules or snapshots.
const modulePathIgnorePatterns = ["<rootDir>/.sandbox/"];

module.exports = {
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      transform,
      modulePathIgnorePatterns,
      testMatch: ["<rootDir>/tests/unit/**/*.test.ts"],
      // A project's testTimeout is not applied to its hooks; the setup file sets the timeout for both.
      setupFilesAfterEnv: ["<rootDir>/tests/unit/timeout.ts"],
    },
    {
      displayName: "integration",
      testEnvironment: "node",
      transform,
      modulePathIgnorePatterns,
      testMatch: ["<rootDir>/tests/integration/**/*.test.ts"],
      globalSetup: "<rootDir>/tests/integration/setup.ts",
      setupFilesAfterEnv: ["<rootDir>/tests/integration/timeout.ts"],
    },
  ],
};
