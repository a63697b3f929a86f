/**
 * Four test tiers, one jest project each (README "Testing"); `npm test` runs them one after another
 * (scripts/test.sh) and prints each one's wall time. Each runs on its own: `npm run test:<tier>`.
 *
 * - unit: everything not listed below. Parallel workers, no servers: its global setup starts none,
 *   so a test that needs moto or the AWS Backup fake fails there under CI=true (testing/prereq.ts),
 *   and so does one that needs loop devices (testing/fixtures/disks.ts).
 * - moto, disk, terraform: one file at a time, against one moto server and one AWS Backup fake that
 *   global setup starts and reset.ts wipes before each file (testing/README-moto.md).
 *
 * Every AWS request product code makes in any tier is recorded and judged by global teardown
 * (testing/iam/run.ts). __tests__/tiers.test.ts checks that every test file is in exactly one tier.
 */
const SERVER_TIERS = {
  // moto and the AWS Backup fake, nothing of the machine's
  moto: [
    "__tests__/batch-worker/upload.test.ts",
    "__tests__/cli/ledger.test.ts",
    "__tests__/cli/manifest-trust.test.ts",
    "__tests__/cli/reconcile.test.ts",
    "__tests__/cli/verify-kinds.test.ts",
    "__tests__/core/reconcile.test.ts",
    "__tests__/integration/dispatcher-tag-sources.test.ts",
    "__tests__/integration/dynamodb-export.test.ts",
    "__tests__/integration/event-rules.test.ts",
    "__tests__/integration/pipeline-dispatcher.test.ts",
    "__tests__/integration/pipeline-duplicates.test.ts",
    "__tests__/integration/pipeline-reconcile.test.ts",
    "__tests__/integration/rds-dump.test.ts",
    "__tests__/integration/rds-export.test.ts",
    "__tests__/lambdas/janitor.test.ts",
    "__tests__/lambdas/janitor-databases.test.ts",
    "__tests__/lambdas/janitor-tables.test.ts",
    "__tests__/lambdas/starter.test.ts",
    "__tests__/lambdas/verify.test.ts",
    "__tests__/lambdas/verify-both.test.ts",
    "__tests__/lambdas/verify-dynamodb.test.ts",
    "__tests__/stacks/workflows/ebs-export.exec.test.ts",
    "__tests__/testing/asl/aws-sdk.test.ts",
    "__tests__/testing/asl/events-integration.test.ts",
    "__tests__/testing/asl/proof.test.ts",
    "__tests__/testing/backup-fake.test.ts",
    "__tests__/testing/moto-reset-a.test.ts",
    "__tests__/testing/moto-reset-b.test.ts",
    "__tests__/testing/moto.test.ts",
    "__tests__/testing/moto-dynamodb.test.ts",
  ],
  // root: loop devices, mounts, restored owners (and moto where the worker uploads)
  disk: [
    "__tests__/batch-worker/batch-entrypoint.test.ts",
    "__tests__/batch-worker/database-dump.test.ts",
    "__tests__/batch-worker/export-safety.test.ts",
    "__tests__/batch-worker/export-snapshot-stream.test.ts",
    "__tests__/batch-worker/export-snapshot.test.ts",
    "__tests__/batch-worker/export-verify-restore.test.ts",
    "__tests__/batch-worker/kill-rerun.test.ts",
    "__tests__/batch-worker/rate-lease.test.ts",
    "__tests__/batch-worker/restore-device.test.ts",
    "__tests__/batch-worker/restore-fuzz.test.ts",
    "__tests__/batch-worker/restore-safety.test.ts",
    "__tests__/batch-worker/scratch-restore.test.ts",
    "__tests__/iam/proof.test.ts",
    "__tests__/integration/pipeline-direct-read.test.ts",
    "__tests__/integration/pipeline-e2e.test.ts",
    "__tests__/integration/rds-dump-postgres.test.ts",
    "__tests__/integration/restore-drill-dumps.test.ts",
    "__tests__/integration/restore-drill-glacier.test.ts",
    "__tests__/integration/restore-drill.test.ts",
    "__tests__/testing/fixtures/disks.test.ts",
  ],
  // terraform and the AWS provider against moto (scripts/validate-stacks.sh runs after it in this tier)
  terraform: [
    "__tests__/integration/plan-diff.test.ts",
    "__tests__/integration/stacks-apply.test.ts",
    "__tests__/stacks/constructs/policy-document.terraform.test.ts",
    "__tests__/testing/moto-terraform.test.ts",
  ],
};

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const common = {
  rootDir: __dirname,
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  transform: {
    "/node_modules/hyparquet[^/]*/.+\\.js$": ["@swc/jest", { jsc: { target: "es2022" }, module: { type: "commonjs" } }],
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } },
    ],
  },
  // hyparquet and hyparquet-writer ship ES modules only: compiled to CommonJS like our sources.
  transformIgnorePatterns: ["/node_modules/(?!hyparquet)"],
  moduleFileExtensions: ["ts", "js", "json"],
  globalTeardown: "<rootDir>/testing/moto/global-teardown.ts",
};

module.exports = {
  // One file at a time unless a tier's script says otherwise (`npm run test:unit` runs two workers):
  // the server tiers share one moto and one Backup fake that each file resets.
  maxWorkers: 1,
  testTimeout: 60000,
  projects: [
    {
      ...common,
      displayName: "unit",
      testMatch: ["<rootDir>/__tests__/**/*.test.ts"],
      testPathIgnorePatterns: [
        "/node_modules/",
        ...Object.values(SERVER_TIERS)
          .flat()
          .map((f) => `^${escapeRegExp(`${__dirname}/${f}`)}$`),
      ],
      globalSetup: "<rootDir>/testing/moto/unit-global-setup.ts",
      setupFilesAfterEnv: [
        "<rootDir>/testing/cdktf-matchers.ts",
        "<rootDir>/testing/cdktf-stack-traces.ts",
        "<rootDir>/testing/iam/setup.ts",
      ],
    },
    ...Object.entries(SERVER_TIERS).map(([name, files]) => ({
      ...common,
      displayName: name,
      testMatch: files.map((f) => `<rootDir>/${f}`),
      globalSetup: "<rootDir>/testing/moto/global-setup.ts",
      // reset.ts wipes moto and the Backup fake before each test file.
      // testing/iam/setup.ts: the IAM proof's recorder on every product SDK client (testing/README.md).
      setupFilesAfterEnv: [
        "<rootDir>/testing/cdktf-matchers.ts",
        "<rootDir>/testing/cdktf-stack-traces.ts",
        "<rootDir>/testing/moto/reset.ts",
        "<rootDir>/testing/iam/setup.ts",
      ],
    })),
  ],
};
