/**
 * jest for StrykerJS (`npm run mutation`, stryker.config.mjs): only the tests that judge the mutated folders,
 * chosen by MUTATION_SCOPE (core | lambdas | workflows; unset = all three). Self-contained on purpose:
 * it copies what it needs from jest.config.js instead of importing it.
 */
const path = require("node:path");

const TESTS = {
  // Unit tests, no moto needed.
  core: ["__tests__/core/**/*.test.ts", "__tests__/config/**/*.test.ts"],
  // The Lambdas' logic against moto's DynamoDB/S3/SNS/SQS and the AWS Backup fake.
  lambdas: ["__tests__/lambdas/**/*.test.ts"],
  // Definitions, the roles' Task permissions, and the synthesized state machines executed on moto (testing/asl).
  workflows: [
    "__tests__/stacks/workflows/**/*.test.ts",
    "__tests__/integration/pipeline-dispatcher.test.ts",
    "__tests__/integration/dispatcher-tag-sources.test.ts",
  ],
};

const scope = process.env.MUTATION_SCOPE;
if (scope !== undefined && !(scope in TESTS)) {
  throw new Error(`MUTATION_SCOPE must be one of ${Object.keys(TESTS).join(", ")} (or unset), not "${scope}"`);
}
// MUTATION_TESTS (comma-separated globs) narrows a run to the tests that judge the files given to --mutate, e.g.
// the EBS export's: its mutants are static (the definition is built at import), so each reruns every test chosen.
const only = process.env.MUTATION_TESTS;
const patterns = only ? only.split(",") : scope === undefined ? Object.values(TESTS).flat() : TESTS[scope];
// core's and config's tests are pure unit tests: no servers, no cdktf matchers, no IAM recorder. Leaving them
// out makes each of the ~1,500 core mutants' runs several times faster.
const bench = scope !== "core";

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: patterns.map((p) => path.join("<rootDir>", p)),
  // The error hierarchy test reads the product's sources to find every error class; in Stryker's sandbox they are
  // instrumented and it finds none, failing the initial run.
  testPathIgnorePatterns: ["/node_modules/", "/__tests__/core/error-hierarchy\\.test\\.ts$"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } },
    ],
  },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 60000,
  // Stryker calls jest once per mutant in the same process: moto and the Backup fake start once for that
  // process instead of once per mutant (testing/mutation/global-setup.ts).
  globalSetup: bench ? "<rootDir>/testing/mutation/global-setup.ts" : undefined,
  globalTeardown: bench ? "<rootDir>/testing/mutation/global-teardown.ts" : undefined,
  setupFilesAfterEnv: bench
    ? [
        "<rootDir>/testing/cdktf-matchers.ts",
        "<rootDir>/testing/cdktf-stack-traces.ts",
        "<rootDir>/testing/moto/reset.ts",
        "<rootDir>/testing/iam/setup.ts",
      ]
    : [],
  // One shared moto and Backup fake: test files must not run at once (as in jest.config.js).
  maxWorkers: 1,
};
