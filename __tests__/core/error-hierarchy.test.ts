/**
 * One error hierarchy: every error class of the product extends BackupActionsError and its `name` is
 * its class name, as a literal (the Lambda bundles are minified, so `constructor.name` would not be).
 * The state machines match on those names: Step Functions' own errors (`States.*`) and those of AWS
 * integrations (`<Service>.<Code>`, e.g. `Rds.ThrottlingException`) always contain a dot, our class
 * names never do, so every ErrorEquals without a dot must be the name of one of our classes.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CpuLimitError } from "../../batch-worker/src/cpus";
import { DatabaseConnectionError, DatabaseNotFoundError, DatabaseToolError } from "../../batch-worker/src/db-engine";
import { EbsApiError } from "../../batch-worker/src/ebs-direct";
import { ScratchNeededError, ScratchNotBlankError } from "../../batch-worker/src/export-snapshot";
import { ScratchServerError } from "../../batch-worker/src/scratch-server";
import { RestoreFailedError } from "../../batch-worker/src/restore";
import { RestoreRefusedError } from "../../batch-worker/src/restore-target";
import { RetryableBlockError, SnapshotReadError } from "../../batch-worker/src/snapshot-reader";
import { SourceDeviceError } from "../../batch-worker/src/source-device";
import { PartBudgetError } from "../../batch-worker/src/upload";
import { UsageError } from "../../cli/args";
import { ManifestMismatchError } from "../../cli/manifest-trust";
import { DynamoDbRestoreError } from "../../cli/dynamodb-restore";
import { DirectReadBudgetError } from "../../core/direct-read";
import { DrillRequestError } from "../../core/drill";
import { ExportManifestError } from "../../core/dynamodb-export";
import { ConfigError } from "../../config/load";
import { BackupActionsError, CommandError, InvalidEventError, RuntimeConfigError } from "../../core/errors";
import { ManifestError } from "../../core/manifest";
import { TargetUrlError } from "../../core/s3-url";
import { JobParamsError } from "../../core/worker-job";
import { BaselineViolationError } from "../../stacks/aspects/security-baseline";
import { PolicyDocumentError } from "../../stacks/constructs/policy-document";
import { WorkerManifestError } from "../../stacks/constructs/worker-manifest";
import type { Retrier, StateMachineDefinition, TaskState } from "../../stacks/workflows/asl";
import { ebsExportDefinition } from "../../stacks/workflows/ebs-export";
import { testDispatcher } from "../helpers/workflows";

const ROOT = path.resolve(__dirname, "../..");

/** Each error class of the product with a way to build one. */
const HIERARCHY: ReadonlyArray<readonly [abstract new (...args: never[]) => Error, () => Error]> = [
  [BackupActionsError, () => new BackupActionsError("m")],
  [InvalidEventError, () => new InvalidEventError("m")],
  [RuntimeConfigError, () => new RuntimeConfigError("m")],
  [CommandError, () => new CommandError("tar", 2, null, "e")],
  [ManifestError, () => new ManifestError("manifest.json", ["x"])],
  [TargetUrlError, () => new TargetUrlError("m")],
  [JobParamsError, () => new JobParamsError("m")],
  [ConfigError, () => new ConfigError("config.json", [{ path: "a", message: "b" }])],
  [
    BaselineViolationError,
    () => new BaselineViolationError([{ rule: "s3-public-access-block", path: "p", message: "m" }]),
  ],
  [PolicyDocumentError, () => new PolicyDocumentError("m")],
  [WorkerManifestError, () => new WorkerManifestError("m")],
  [UsageError, () => new UsageError("m")],
  [ManifestMismatchError, () => new ManifestMismatchError("m")],
  [CpuLimitError, () => new CpuLimitError("m")],
  [RestoreRefusedError, () => new RestoreRefusedError("m")],
  [RestoreFailedError, () => new RestoreFailedError("m", [])],
  [SourceDeviceError, () => new SourceDeviceError("m")],
  [PartBudgetError, () => new PartBudgetError("m")],
  [SnapshotReadError, () => new SnapshotReadError("m")],
  [RetryableBlockError, () => new RetryableBlockError("m")],
  [EbsApiError, () => new EbsApiError("GetSnapshotBlock", "ThrottlingException", 400, "m")],
  [DatabaseConnectionError, () => new DatabaseConnectionError("m")],
  [DatabaseNotFoundError, () => new DatabaseNotFoundError("m")],
  [DatabaseToolError, () => new DatabaseToolError("m")],
  [ExportManifestError, () => new ExportManifestError("m")],
  [DynamoDbRestoreError, () => new DynamoDbRestoreError("m")],
  [ScratchNotBlankError, () => new ScratchNotBlankError("m")],
  [ScratchNeededError, () => new ScratchNeededError("m")],
  [ScratchServerError, () => new ScratchServerError("m")],
  [DirectReadBudgetError, () => new DirectReadBudgetError("m")],
  [DrillRequestError, () => new DrillRequestError("m")],
];
const OUR_NAMES = new Set(HIERARCHY.map(([cls]) => cls.name));

/** The product's sources (not the test kit, whose errors stand in for AWS's and Step Functions'). */
function productSources(): string[] {
  const out = execFileSync(
    "git",
    ["ls-files", "main.ts", "core", "config", "stacks", "lambdas", "batch-worker/src", "cli"],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  return out.split("\n").filter((f) => f.endsWith(".ts"));
}

describe("the error hierarchy", () => {
  it.each(HIERARCHY.map(([cls, make]) => [cls.name, make] as const))(
    "%s: a BackupActionsError named after its class",
    (className, make) => {
      const err = make();
      expect(err).toBeInstanceOf(BackupActionsError);
      expect(err.name).toBe(className);
      expect(String(err)).toBe(`${className}: ${err.message}`);
    },
  );

  it("lists every error class the product declares, and each extends one of the hierarchy", () => {
    const declared = new Map<string, string>();
    for (const file of productSources()) {
      for (const m of readFileSync(path.join(ROOT, file), "utf8").matchAll(/\bclass\s+(\w+)\s+extends\s+(\w+)/g)) {
        if (m[1] === "BackupActionsError") continue; // the root, checked above
        if (/Error$/.test(m[1]!) || /Error$/.test(m[2]!)) declared.set(m[1]!, `${m[2]} (${file})`);
      }
    }
    const notOurs = [...declared]
      .filter(([, parent]) => !OUR_NAMES.has(parent.split(" ")[0]!))
      .map(([c, p]) => `${c} extends ${p}`);
    expect(notOurs).toEqual([]);
    expect([...declared.keys(), "BackupActionsError"].sort()).toEqual([...OUR_NAMES].sort());
  });
});

const ebs = ebsExportDefinition({
  partition: "aws",
  placements: [{ availabilityZone: "us-east-1a", jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q-a" }],
  jobDefinitionName: "worker",
  volume: { throughputMiBps: 500, iops: 6000, initializationRateMiBps: 300 },
  pipelineTag: { key: "backup-actions:pipeline", value: "backup-actions" },
  securityTag: "backup-actions:managed",
  compressionLevel: 3,
});
const dispatcher = testDispatcher(true);

/** Every ErrorEquals of a definition, with the state it belongs to. */
function errorEquals(def: StateMachineDefinition): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [state, s] of Object.entries(def.States)) {
    const task = s as Partial<Pick<TaskState, "Retry" | "Catch">>;
    const matchers: ReadonlyArray<Pick<Retrier, "ErrorEquals">> = [...(task.Retry ?? []), ...(task.Catch ?? [])];
    for (const m of matchers) for (const name of m.ErrorEquals) out.push([state, name]);
  }
  return out;
}

/** `States.ALL`, `States.Timeout`, `Lambda.ServiceException`, `Ec2.Ec2Exception`: Step Functions' and AWS's. */
const isAwsError = (name: string) => /^[A-Z][A-Za-z0-9]*\.[A-Za-z0-9]+$/.test(name);

describe.each([
  ["ebs export", ebs],
  ["dispatcher", dispatcher],
])("%s: Retry and Catch match errors that exist", (_name, def) => {
  it("every ErrorEquals is States.*, an AWS integration's <Service>.<Code>, or a class of the hierarchy", () => {
    const all = errorEquals(def);
    expect(all.length).toBeGreaterThan(0);
    const unknown = all.filter(([, name]) => !isAwsError(name) && !OUR_NAMES.has(name)).map(([s, n]) => `${s}: ${n}`);
    expect(unknown).toEqual([]);
  });
});
