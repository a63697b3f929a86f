/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 60000,
  // One moto server and one AWS Backup fake for the run (testing/README-moto.md).
  globalSetup: "<rootDir>/testing/moto/global-setup.ts",
  globalTeardown: "<rootDir>/testing/moto/global-teardown.ts",
  // reset.ts wipes moto and the Backup fake before each test file.
  // testing/iam/setup.ts: the IAM proof's recorder on every product SDK client (testing/README.md).
  setupFilesAfterEnv: ["<rootDir>/testing/cdktf-matchers.ts", "<rootDir>/testing/moto/reset.ts", "<rootDir>/testing/iam/setup.ts"],
  // Both servers hold one shared state that each file resets: two files
  // running at once would wipe each other's resources. (The machines have two
  // cores, where jest's default is one worker anyway.)
  maxWorkers: 1,
};
