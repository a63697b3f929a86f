// StrykerJS mutation testing: `npm run mutation` (all), `npm run mutation:core|lambdas|workflows` (one folder).
// Not part of CI: a run takes tens of minutes on two cores (README, Testing). MUTATION_SCOPE picks the folder
// (the mutated files here, the tests that judge them in jest.mutation.config.js); unset means all three.
const MUTATE = {
  core: ["core/**/*.ts"],
  lambdas: ["lambdas/*/logic.ts"],
  workflows: ["stacks/workflows/**/*.ts"],
};

const scope = process.env.MUTATION_SCOPE;
if (scope !== undefined && !(scope in MUTATE)) {
  throw new Error(`MUTATION_SCOPE must be one of ${Object.keys(MUTATE).join(", ")} (or unset), not "${scope}"`);
}
const name = scope ?? "all";

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "jest",
  jest: { projectType: "custom", configFile: "jest.mutation.config.js", enableFindRelatedTests: false },
  mutate: scope === undefined ? Object.values(MUTATE).flat() : MUTATE[scope],
  coverageAnalysis: "perTest",
  incremental: true,
  incrementalFile: `reports/stryker-incremental-${name}.json`,
  // Each test runner process starts its own moto on MOTO_PORT (testing/mutation/global-setup.ts): two would
  // collide, so only the unit-only core run uses both cores.
  concurrency: scope === "core" ? 2 : 1,
  timeoutMS: 60000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  tempDirName: `reports/.stryker-tmp/${name}`,
  ignorePatterns: ["reports", "cdktf.out", "dist", "coverage", ".work", ".venv", ".gen"],
  cleanTempDir: "always",
};
