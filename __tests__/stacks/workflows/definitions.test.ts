/**
 * Static properties of the state machine definitions: valid ASL, every transition
 * resolves, every AWS call retries throttling with backoff and jitter, every state
 * after the volume exists can reach the cleanup, and loops are bounded.
 */
import { checkTransitions, ChoiceState, StateMachineDefinition, TaskState } from "../../../stacks/workflows/asl";
import { deletionBudgetSeconds, dispatcherDefinition } from "../../../stacks/workflows/dispatcher";
import { ebsExportDefinition } from "../../../stacks/workflows/ebs-export";
import { ARCHIVE_PREFIX_SEGMENTS, dynamodbExportDefinition } from "../../../stacks/workflows/dynamodb-export";
import { archiveLocation } from "../../../core/s3-layout";
import { restoreDrillDefinition } from "../../../stacks/workflows/restore-drill";
import { testDispatcher as dispatcher } from "../../helpers/workflows";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require("asl-validator") as (d: unknown, o?: unknown) => { isValid: boolean; errors: unknown[] };

const ebsProps: Parameters<typeof ebsExportDefinition>[0] = {
  partition: "aws",
  placements: [
    { availabilityZone: "us-east-1a", jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q-a" },
    { availabilityZone: "us-east-1b", jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q-b" },
  ],
  jobDefinitionName: "worker",
  volume: { throughputMiBps: 500, iops: 6000, initializationRateMiBps: 300 },
  pipelineTag: { key: "backup-actions:pipeline", value: "backup-actions" },
  securityTag: "backup-actions:managed",
  compressionLevel: 3,
};
const ebs = ebsExportDefinition(ebsProps);
const KEY = "arn:aws:kms:us-east-1:111111111111:key/pipeline";
const ebsDirect = ebsExportDefinition({ ...ebsProps, readPath: "direct", scratchKmsKeyArn: KEY });

const dynamodbProps: Parameters<typeof dynamodbExportDefinition>[0] = {
  partition: "aws",
  format: "DYNAMODB_JSON",
  kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/k",
  pipelineTag: { key: "backup-actions:pipeline", value: "backup-actions" },
  securityTag: "backup-actions:managed",
  tablePrefix: "backup-actions-restore-",
};

const definitions: Array<[string, StateMachineDefinition]> = [
  ["ebs export", ebs],
  ["ebs export, direct read", ebsDirect],
  ["dynamodb export", dynamodbExportDefinition(dynamodbProps)],
  ["dispatcher with auto-delete", dispatcher(true)],
  ["dispatcher without auto-delete", dispatcher(false)],
  [
    "restore drill",
    restoreDrillDefinition({
      partition: "aws",
      drillFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:drill",
      jobDefinitionName: "worker",
      jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q-a",
      ledgerTableName: "ledger",
      pipelineName: "backup-actions",
      pipelineTag: { key: "backup-actions:pipeline", value: "backup-actions" },
    }),
  ],
  [
    "restore drill, dumps restored into a scratch server",
    restoreDrillDefinition({
      partition: "aws",
      drillFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:drill",
      jobDefinitionName: "worker",
      jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q-a",
      ledgerTableName: "ledger",
      pipelineName: "backup-actions",
      pipelineTag: { key: "backup-actions:pipeline", value: "backup-actions" },
      restoreDumps: true,
    }),
  ],
];

const tasks = (d: StateMachineDefinition) =>
  Object.entries(d.States).filter((e): e is [string, TaskState] => e[1].Type === "Task");

describe.each(definitions)("%s definition", (_name, definition) => {
  it("is valid ASL", () => {
    const result = aslValidator(structuredClone(definition));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it("has no dangling or unreachable state", () => {
    expect(checkTransitions(definition)).toEqual([]);
  });

  it("retries throttling with exponential backoff and full jitter on every Task", () => {
    for (const [name, task] of tasks(definition)) {
      const retry = task.Retry ?? [];
      expect({
        name,
        hasThrottlingRetry: retry.some((r) =>
          r.ErrorEquals.some((e) =>
            /Throttl|TooManyRequests|RequestLimitExceeded|AWSBatchException|Ec2\.Ec2Exception/.test(e),
          ),
        ),
      }).toEqual({ name, hasThrottlingRetry: true });
      for (const r of retry) {
        expect(r.MaxAttempts).toBeLessThanOrEqual(8);
        if (r.ErrorEquals.some((e) => /Throttl|Ec2Exception/.test(e))) expect(r.JitterStrategy).toBe("FULL");
      }
    }
  });

  it("catches every failure of every Task", () => {
    for (const [name, task] of tasks(definition)) {
      expect({ name, catchesAll: (task.Catch ?? []).some((c) => c.ErrorEquals.includes("States.ALL")) }).toEqual({
        name,
        catchesAll: true,
      });
    }
  });
});

describe("ebs export definition", () => {
  it("creates a tagged, idempotent gp3 volume in the AZ of the chosen queue", () => {
    const create = ebs.States.CreateVolume as TaskState;
    expect(create.Parameters).toEqual({
      "SnapshotId.$": "$.snapshotId",
      "AvailabilityZone.$": "$.placement.availabilityZone",
      VolumeType: "gp3",
      Throughput: 500,
      Iops: 6000,
      VolumeInitializationRate: 300,
      "ClientToken.$": "States.Hash($$.Execution.Name, 'MD5')",
      TagSpecifications: [
        {
          ResourceType: "volume",
          Tags: [
            { Key: "backup-actions:pipeline", Value: "backup-actions" },
            { Key: "backup-actions:recovery-point", "Value.$": "$.recoveryPointArn" },
            { Key: "backup-actions:managed", Value: "true" },
          ],
        },
      ],
    });
  });

  it("routes every failure after CreateVolume to the cleanup, and the cleanup to DeleteVolume", () => {
    const afterCreate = ["DescribeVolume", "RunWorker"];
    for (const name of afterCreate) {
      const task = ebs.States[name] as TaskState;
      expect(task.Catch).toEqual([{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "CleanupDescribe" }]);
    }
    expect((ebs.States.RunWorker as TaskState).Next).toBe("CleanupDescribe");
    expect(ebs.States.VolumeReady).toMatchObject({ Default: "VolumeNotAvailable" });
    expect(ebs.States.VolumeNotAvailable).toMatchObject({ Next: "CleanupDescribe" });
  });

  it("runs the worker with submitJob.sync and no Step Functions retry on job failure", () => {
    const run = ebs.States.RunWorker as TaskState;
    expect(run.Resource).toBe("arn:aws:states:::batch:submitJob.sync");
    expect(run.Retry!.flatMap((r) => r.ErrorEquals)).not.toContain("States.TaskFailed");
    expect(run.Retry!.flatMap((r) => r.ErrorEquals)).not.toContain("States.ALL");
  });

  it("bounds both polling loops", () => {
    expect(JSON.stringify(ebs.States.VolumeReady)).toContain('"NumericLessThan":90');
    expect(JSON.stringify(ebs.States.IsAttached)).toContain('"NumericLessThan":30');
  });

  it("direct read: a blank, encrypted scratch of the snapshot's size, tagged as the scratch of that snapshot", () => {
    expect(ebsDirect.States.Prepare).toMatchObject({ Next: "DescribeSnapshot" });
    expect(ebsDirect.States.DescribeSnapshot).toMatchObject({
      Resource: "arn:aws:states:::aws-sdk:ec2:describeSnapshots",
      ResultSelector: { "sizeGiB.$": "$.Snapshots[0].VolumeSize" },
      // nothing exists yet: nothing to clean up
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
      Next: "CreateVolume",
    });
    expect((ebsDirect.States.CreateVolume as TaskState).Parameters).toEqual({
      "AvailabilityZone.$": "$.placement.availabilityZone",
      VolumeType: "gp3",
      Throughput: 500,
      Iops: 6000,
      "ClientToken.$": "States.Hash($$.Execution.Name, 'MD5')",
      "Size.$": "$.snapshot.sizeGiB",
      Encrypted: true,
      KmsKeyId: KEY,
      TagSpecifications: [
        {
          ResourceType: "volume",
          Tags: [
            { Key: "backup-actions:pipeline", Value: "backup-actions" },
            { Key: "backup-actions:recovery-point", "Value.$": "$.recoveryPointArn" },
            { Key: "backup-actions:managed", Value: "true" },
            { Key: "backup-actions:scratch-of", "Value.$": "$.snapshotId" },
          ],
        },
      ],
    });
    expect((ebsDirect.States.RunWorker as TaskState).Parameters).toMatchObject({
      Parameters: { "snapshotId.$": "$.snapshotId", readPath: "direct", "volumeId.$": "$.volume.volumeId" },
    });
    // everything else is the volume path's states: the same bounded wait, the same cleanup on every path
    const others = (d: StateMachineDefinition) =>
      Object.fromEntries(
        Object.entries(d.States).filter(
          ([n]) => !["Prepare", "DescribeSnapshot", "CreateVolume", "RunWorker"].includes(n),
        ),
      );
    expect(others(ebsDirect)).toEqual(others(ebs));
  });

  it("direct read without the key for the scratch: refused", () => {
    expect(() => ebsExportDefinition({ ...ebsProps, readPath: "direct" })).toThrow(
      "ebsExportDefinition: readPath direct needs scratchKmsKeyArn (the scratch volume is encrypted)",
    );
  });

  it("refuses an empty placement list", () => {
    expect(() => ebsExportDefinition({ ...ebsProps, placements: [] })).toThrow(
      "ebsExportDefinition: placements must not be empty",
    );
  });
});

describe("dynamodb export definition", () => {
  const d = dynamodbExportDefinition(dynamodbProps);
  it("reads the archive prefix as archiveLocation writes it (its segment count)", () => {
    const location = archiveLocation(
      "bucket",
      {
        arn: "arn:aws:dynamodb:us-east-1:111111111111:table/T/backup/01700000000000-abcd1234",
        workflow: "dynamodb",
        account: "111111111111",
        region: "us-east-1",
        resourceArn: "arn:aws:dynamodb:us-east-1:111111111111:table/T",
        id: "01700000000000-abcd1234",
      } as never,
      "2026-11-20T03:41:17Z",
    );
    expect(location.prefix.split("/").filter(Boolean)).toHaveLength(ARCHIVE_PREFIX_SEGMENTS);
  });

  it("routes every failure once a temporary table may exist to the cleanup, and the cleanup to DeleteTempTable", () => {
    const restorePath = [
      "RestoreTempTable",
      "DescribeTempTable",
      "TagTempTable",
      "EnableTempPitr",
      "DescribeTempPitr",
      "ExportTempTable",
      "DescribeExport",
      "WriteTableDescription",
    ];
    for (const name of restorePath) {
      const task = d.States[name] as TaskState;
      expect([name, task.Catch?.find((c) => c.ErrorEquals.includes("States.ALL"))?.Next]).toEqual([name, "Cleanup"]);
    }
    for (const name of ["TableNotActive", "PitrNotEnabled", "ExportStatusFailed", "ExportTimedOut"])
      expect([name, (d.States[name] as { Next?: string }).Next]).toEqual([name, "Cleanup"]);
    expect((d.States.Cleanup as ChoiceState).Choices[0]).toMatchObject({
      Variable: "$.temp.name",
      Next: "DeleteTempTable",
    });
  });

  it("exports with the configured format under the pipeline key, idempotently", () => {
    const ion = dynamodbExportDefinition({ ...dynamodbProps, format: "ION" });
    for (const name of ["ExportAtBackupTime", "ExportTempTable"]) {
      expect((ion.States[name] as TaskState).Parameters).toMatchObject({
        ExportFormat: "ION",
        S3SseAlgorithm: "KMS",
        S3SseKmsKeyId: dynamodbProps.kmsKeyArn,
        "ClientToken.$": expect.stringContaining("$$.Execution.Name"),
      });
    }
  });

  it("bounds its polling loops", () => {
    for (const name of ["TempTableActive", "TempPitrEnabled", "ExportDone"])
      expect(JSON.stringify((d.States[name] as ChoiceState).Choices)).toMatch(/NumericLessThan/);
  });

  it("refuses a table prefix that is no table name", () => {
    expect(() => dynamodbExportDefinition({ ...dynamodbProps, tablePrefix: "a/b" })).toThrow(
      'dynamodbExportDefinition: tablePrefix "a/b" is not a table name',
    );
  });
});

describe("dispatcher definition", () => {
  it("has no deletion states when auto-delete is off", () => {
    const json = JSON.stringify(dispatcher(false));
    expect(json).not.toContain("deleteRecoveryPoint");
    expect(json).not.toContain("listTags");
  });

  it('deletes only when the required tag is "true", and only after RecordSucceeded', () => {
    const d = dispatcher(true);
    const consent = (v: string) => ({
      And: [
        { Variable: v, IsPresent: true },
        { Variable: v, IsString: true },
        { Variable: v, StringEquals: "true" },
      ],
    });
    expect(d.States.DeletionConsented).toMatchObject({
      Type: "Choice",
      Choices: [
        {
          Or: [consent("$.deletionTag.values[0]"), consent("$.deletionTag.tags['backup-actions:delete']")],
          Next: "DeleteRecoveryPoint",
        },
      ],
      Default: "RecordKept",
    });
    // The only way into the deletion branch is through a passed verification.
    const into = Object.entries(d.States)
      .filter(([, s]) => JSON.stringify(s).includes('"DeletionTagSource"'))
      .map(([n]) => n);
    expect(into).toEqual(["RecordSucceeded"]);
    expect(d.States.Verified).toEqual({
      Type: "Choice",
      Choices: [{ Variable: "$.verify.verified", BooleanEquals: true, Next: "RecordSucceeded" }],
      Default: "VerificationFailed",
    });
  });

  it("confirms a deletion with a bounded DescribeRecoveryPoint loop, and leaves the execution time for it", () => {
    const d = dispatcher(true);
    expect(d.States.DeleteRecoveryPoint).toMatchObject({ Next: "StartDeletionPolls" });
    expect((d.States.DescribeDeletion as TaskState).Catch![0]).toEqual({
      ErrorEquals: ["Backup.ResourceNotFoundException"],
      ResultPath: "$.deletionCheck",
      Next: "RecordDeleted",
    });
    expect(JSON.stringify(d.States.DeletionProgress)).toContain('"NumericLessThan":40');
    // Only a DescribeRecoveryPoint that finds it gone leads to RecordDeleted.
    const into = Object.entries(d.States)
      .filter(([, s]) => JSON.stringify(s).includes('"RecordDeleted"'))
      .map(([n]) => n);
    expect(into).toEqual(["DescribeDeletion"]);
    expect(d.TimeoutSeconds).toBe(86400 + 3600 + deletionBudgetSeconds({}));
    // six busy retries (300 s × 1.5ⁿ, at most 900 s) and 41 checks 30 s apart
    expect(deletionBudgetSeconds({})).toBe(300 + 450 + 675 + 900 + 900 + 900 + 41 * 30);
  });

  it("routes each kind of recovery point ARN to the API that holds its tags", () => {
    const choices = (dispatcher(true).States.DeletionTagSource as ChoiceState).Choices;
    expect(JSON.stringify(choices)).toContain(
      '"StringMatches":"arn:*:ec2:*::snapshot/snap-*","Next":"ReadSnapshotTag"',
    );
    expect((dispatcher(true).States.ReadSnapshotTag as TaskState).Resource).toBe(
      "arn:aws:states:::aws-sdk:ec2:describeTags",
    );
    expect((dispatcher(true).States.ReadDbSnapshotTag as TaskState).Resource).toBe(
      "arn:aws:states:::aws-sdk:rds:listTagsForResource",
    );
    expect((dispatcher(true).States.ReadDynamoDbBackupTag as TaskState).Resource).toBe(
      "arn:aws:states:::aws-sdk:dynamodb:listTagsOfResource",
    );
    expect((dispatcher(true).States.ReadBackupRecoveryPointTag as TaskState).Resource).toBe(
      "arn:aws:states:::aws-sdk:backup:listTags",
    );
  });

  it("times a child out and sets an execution timeout above it", () => {
    const d = dispatcher(false);
    expect((d.States["Export-ebs"] as TaskState).TimeoutSeconds).toBe(86400);
    expect(d.TimeoutSeconds).toBe(86400 + 3600);
  });

  it("refuses a required tag that cannot be addressed in JSONPath", () => {
    expect(() =>
      dispatcherDefinition({
        partition: "aws",
        ledgerTableName: "l",
        children: {},
        verifyFunctionArn: "v",
        notificationTopicArn: "n",
        pipelineName: "ba",
        deleteRecoveryPoint: { enabled: true, requiredTag: "it's" },
        childTimeoutSeconds: 1,
      }),
    ).toThrow(`dispatcherDefinition: requiredTag "it's" cannot be used in a JSONPath`);
  });
});
