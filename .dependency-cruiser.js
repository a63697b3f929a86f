/**
 * The layers of backup-actions, enforced by __tests__/layering.test.ts (README, "Architecture"):
 *
 *   core/      contracts: names, payloads, URLs, event classification. Imports nothing else of ours.
 *   config/    the config schema and the resolved deployment. Builds on core.
 *   stacks/    the CDKTF stacks and constructs. Build on config and core.
 *   lambdas/, batch-worker/, cli/   the deployables. Use core (the CLI also config/ and the
 *              worker's public module batch-worker/src/index.ts), never stacks/.
 *   testing/   the test kit: only __tests__/, testing/ itself and bench/ import it.
 *
 * @type {import('dependency-cruiser').IConfiguration}
 */
const OURS = "^(core|config|stacks|lambdas|batch-worker|cli|testing|__tests__|bench)/";

module.exports = {
  forbidden: [
    {
      name: "core-is-the-floor",
      comment: "core/ holds the contracts every deployable shares: it imports nothing else of ours.",
      severity: "error",
      from: { path: "^core/" },
      to: { path: OURS, pathNot: "^core/" },
    },
    {
      name: "config-builds-on-core-only",
      comment:
        "config/ resolves the config for the stacks; it never imports stacks, Lambdas, the worker, the CLI or the test kit.",
      severity: "error",
      from: { path: "^config/" },
      to: { path: OURS, pathNot: "^(core|config)/" },
    },
    {
      name: "stacks-build-on-config-and-core",
      comment: "stacks/ bundle the Lambdas and the worker from their paths, never by importing them.",
      severity: "error",
      from: { path: "^stacks/" },
      to: { path: OURS, pathNot: "^(core|config|stacks)/" },
    },
    {
      name: "lambdas-use-core",
      comment: "A Lambda is bundled alone: it imports core/ and its own directory, nothing else of ours.",
      severity: "error",
      from: { path: "^lambdas/([^/]+)/" },
      to: {
        path: OURS,
        pathNot: ["^core/", "^lambdas/$1/"],
      },
    },
    {
      name: "worker-uses-core",
      comment: "The worker image carries batch-worker/ and core/ only (stacks/constructs/worker-image.ts).",
      severity: "error",
      from: { path: "^batch-worker/" },
      to: { path: OURS, pathNot: "^(core|batch-worker)/" },
    },
    {
      name: "cli-uses-core-config-and-the-workers-public-module",
      comment: "The CLI reaches the worker through batch-worker/src/index.ts only, and never stacks/ or the Lambdas.",
      severity: "error",
      from: { path: "^cli/" },
      to: { path: OURS, pathNot: ["^(core|config|cli)/", "^batch-worker/src/index\\.ts$"] },
    },
    {
      name: "only-tests-use-the-test-kit",
      comment: "testing/ is the test kit (moto, fixtures, the ASL interpreter): product code never imports it.",
      severity: "error",
      from: { pathNot: "^(__tests__|testing|bench)/" },
      to: { path: "^testing/" },
    },
    {
      name: "no-circular",
      comment:
        "Modules of ours import each other in one direction only (a cycle of type-only imports vanishes at runtime and is allowed).",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import resolves (a typo in a path is a violation, not a silently ignored edge).",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: ["^node_modules/", "^\\.gen/", "^cdktf\\.out/", "^dist/", "^coverage/", "^\\.work/"] },
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
