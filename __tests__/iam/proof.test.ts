/**
 * The IAM proof (testing/README.md, "IAM proof"): the scenarios run every path of product code that
 * calls AWS, each as its role; every request they make is judged by @cloud-copilot/iam-simulate
 * against the synthesized stack's policies. Then: the grants no request used must be exactly the
 * pinned list, the trust policies admit exactly their service, and the proof fails when a statement
 * it relies on is removed.
 */
import { policyDocuments, rewritePolicyDocument } from "../../testing/policy-documents";
import { DescribeVolumesCommand } from "@aws-sdk/client-ec2";
import { iamRequestsOf } from "../../testing/iam/action-map";
import {
  assertAllAllowed,
  denials,
  describeDenial,
  evaluate,
  trustedPrincipals,
  unusedGrants,
  type Verdict,
} from "../../testing/iam/evaluate";
import { buildModel, ROLES } from "../../testing/iam/model";
import { clearRecorded, recorded, type RecordedRequest } from "../../testing/iam/recorder";
import { UNUSED_GRANTS } from "../../testing/iam/unused-grants";
import {
  cleanupStaleFixtures,
  createDiskFixture,
  diskPrerequisites,
  type DiskFixture,
} from "../../testing/fixtures/disks";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { ACCOUNT, Bench, createBench, REGION } from "../helpers/pipeline-bench";
import {
  dynamodbRuns,
  databaseRuns,
  drillRun,
  janitorRun,
  backstopRun,
  pipelineRun,
  reconcilerRun,
  starterRun,
  verifyMissingManifest,
  workerDeletesItsVersion,
} from "./scenarios";

const missing = [...motoMissing(), ...backupFakeMissing(), ...diskPrerequisites().missing];

describeWithPrereqs(
  "IAM proof: every AWS request of the product, judged against the synthesized policies",
  missing,
  () => {
    jest.setTimeout(300_000);
    let bench: Bench;
    let fixture: DiskFixture;
    let records: RecordedRequest[];
    let verdicts: Verdict[];
    const outcomes: Record<string, unknown> = {};

    beforeAll(async () => {
      cleanupStaleFixtures();
      bench = await createBench({
        deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" },
        // Both formats, so the database children, the export role they pass and the native dump (its password
        // function, the worker's password read) are in the stack and exercised.
        exports: { rds: { format: "both" }, aurora: { format: "both" } },
        // A second vault, of the deployment's account in the Backup fake, for the reconciler's lost event.
        backupVaults: ["Default", "lost-events"],
        // The restore drill's function, machine and schedule role, exercised by drillRun on pipelineRun's archive
        // and a copy of it in Glacier (glacier "restore": RestoreObject, HeadObject, the restored copies' reads).
        drills: { enabled: true, glacier: "restore" },
      });
      fixture = await createDiskFixture("zero");
      clearRecorded();
      outcomes.archive = await pipelineRun(bench, fixture);
      // Before the database runs: their dump job stand-in writes no real dump for the worker to verify.
      outcomes.drill = await drillRun(bench, outcomes.archive as string);
      outcomes.missingManifest = await verifyMissingManifest(bench);
      outcomes.versionDelete = await workerDeletesItsVersion(bench);
      outcomes.starter = await starterRun(bench);
      outcomes.janitor = await janitorRun(bench);
      outcomes.reconciler = await reconcilerRun(bench);
      outcomes.backstop = await backstopRun(bench);
      outcomes.dynamodb = await dynamodbRuns(bench);
      outcomes.databases = await databaseRuns(bench);
      records = recorded();
      verdicts = await evaluate(buildModel(bench.deployment.tf, ACCOUNT, REGION), records);
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it("ran every scenario to its end (the requests judged are the real paths)", async () => {
      expect(outcomes.archive).toMatch(/^s3:\/\/backup-actions-archive-111111111111-us-east-1\/ebs\//);
      expect(outcomes.missingManifest).toMatch(/manifest\.json is missing/);
      expect(outcomes.versionDelete).toMatch(/\(version [^)]+\) was deleted$/);
      expect(outcomes.starter).toEqual({ batchItemFailures: expect.any(Array) });
      // a volume, a table; the dump's instance, Aurora instance and cluster, password parameter
      expect(outcomes.janitor).toHaveLength(6);
      // the lost recovery point, started on the dispatcher
      expect(outcomes.reconciler).toMatchObject({ counts: { missing: 1 }, started: [{ outcome: "started" }] });
      expect(outcomes.dynamodb).toEqual(["before: pitr", "off: restored"]);
      expect(outcomes.databases).toEqual(["SUCCEEDED", "SUCCEEDED"]);
      // the EBS archive the pipeline run wrote, and its copy in Glacier once restored, re-verified by the worker
      expect(outcomes.drill).toEqual({ passed: 2, failed: 0, skipped: 0 });
      // the volume the EBS child restored is gone again, after the worker attached and detached it
      const left = await bench.clients.ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: "tag:backup-actions:pipeline", Values: ["backup-actions"] }] }),
      );
      expect(left.Volumes).toEqual([]);
    });

    it("records each role's calls, including the ones the issue named and the .sync integrations' implicit ones", () => {
      const seen = new Set(verdicts.map((v) => `${v.role.key} ${v.request.action}`));
      for (const expected of [
        "worker-job ec2:DescribeInstances",
        "worker-job ec2:AttachVolume",
        "worker-job ec2:DetachVolume",
        "worker-job s3:PutObject",
        "worker-job s3:DeleteObjectVersion",
        "worker-job s3:ListBucketMultipartUploads",
        "worker-job kms:GenerateDataKey",
        "worker-job kms:Decrypt",
        "ebs-export ec2:CreateVolume",
        "ebs-export ec2:CreateTags",
        "ebs-export ec2:DeleteVolume",
        "ebs-export batch:SubmitJob",
        "ebs-export batch:DescribeJobs",
        "ebs-export events:PutRule",
        "dispatcher states:StartExecution",
        "dispatcher states:DescribeExecution",
        "dispatcher lambda:InvokeFunction",
        "dispatcher dynamodb:PutItem",
        "dispatcher dynamodb:UpdateItem",
        "dispatcher ec2:DescribeTags",
        "dispatcher backup:DeleteRecoveryPoint",
        "dispatcher backup:DescribeRecoveryPoint",
        "dispatcher sns:Publish",
        "dispatcher events:PutEvents",
        "backstop events:PutEvents",
        "verify s3:GetObject",
        "verify s3:ListBucket",
        "starter states:StartExecution",
        "reconciler backup:ListRecoveryPointsByBackupVault",
        "reconciler dynamodb:GetItem",
        "reconciler states:StartExecution",
        "janitor ec2:DescribeVolumes",
        "janitor ec2:DeleteVolume",
        "janitor dynamodb:ListTables",
        "janitor dynamodb:DescribeTable",
        "janitor dynamodb:ListTagsOfResource",
        "janitor dynamodb:DeleteTable",
        "dispatcher dynamodb:ListTagsOfResource",
        "dynamodb-export dynamodb:DescribeBackup",
        "dynamodb-export dynamodb:DescribeTable",
        "dynamodb-export dynamodb:DescribeContinuousBackups",
        "dynamodb-export dynamodb:ExportTableToPointInTime",
        "dynamodb-export dynamodb:DescribeExport",
        "dynamodb-export dynamodb:RestoreTableFromBackup",
        "dynamodb-export dynamodb:PutItem",
        "dynamodb-export dynamodb:TagResource",
        "dynamodb-export dynamodb:UpdateContinuousBackups",
        "dynamodb-export dynamodb:DeleteTable",
        "dynamodb-export s3:PutObject",
        "dynamodb-export s3:AbortMultipartUpload",
        "dynamodb-export kms:GenerateDataKey",
        "rds-export rds:DescribeDBSnapshots",
        "rds-export rds:StartExportTask",
        "rds-export iam:PassRole",
        "rds-export kms:CreateGrant",
        "rds-export kms:DescribeKey",
        "rds-export rds:DescribeExportTasks",
        "aurora-export rds:DescribeDBClusterSnapshots",
        "aurora-export rds:StartExportTask",
        "aurora-export iam:PassRole",
        "rds-s3-export s3:PutObject",
        "rds-s3-export kms:GenerateDataKey",
        "dispatcher rds:ListTagsForResource",
        "drill dynamodb:Query",
        "drill s3:ListBucket",
        "drill s3:RestoreObject",
        "drill s3:GetObject",
        "drill-machine lambda:InvokeFunction",
        "drill-machine batch:SubmitJob",
        "drill-machine dynamodb:UpdateItem",
        "worker-job s3:GetObject",
      ]) {
        expect([...seen]).toContain(expected);
      }
      // every record maps (an operation without an action-map entry throws) and names a role the stack has
      for (const r of records) expect(Object.keys(ROLES)).toContain(r.role);
    });

    it("finds no request AWS would deny", () => {
      expect(() => assertAllAllowed(verdicts)).not.toThrow();
      expect(verdicts.length).toBeGreaterThan(50);
    });

    it("prints the grants no test exercised, and they are exactly the pinned list (each with its reason)", () => {
      const model = buildModel(bench.deployment.tf, ACCOUNT, REGION);
      const unused = unusedGrants(model, verdicts);
      const lines = Object.entries(unused).flatMap(([role, sids]) =>
        Object.entries(sids).map(([sid, actions]) => `  ${role} ${sid}: ${actions.join(", ")}`),
      );
      process.stdout.write(`\n[iam] granted but not exercised by any request of the proof:\n${lines.join("\n")}\n`);
      const pinned = Object.fromEntries(
        Object.entries(UNUSED_GRANTS).map(([role, sids]) => [
          role,
          Object.fromEntries(Object.entries(sids).map(([sid, g]) => [sid, g.actions])),
        ]),
      );
      expect(unused).toEqual(pinned);
      for (const sids of Object.values(UNUSED_GRANTS))
        for (const g of Object.values(sids)) expect(g.reason.length).toBeGreaterThan(20);
    });

    it("lets each role be assumed by exactly the service that uses it, and nothing else", async () => {
      const model = buildModel(bench.deployment.tf, ACCOUNT, REGION);
      const trusted = await trustedPrincipals(model);
      expect(trusted).toEqual(Object.fromEntries(Object.entries(ROLES).map(([key, spec]) => [key, [spec.service]])));
    });

    describe("the proof of the proof", () => {
      /** The stack with one statement (by sid) removed from one role's policy document. */
      function without(roleDocument: RegExp, sid: string): unknown {
        const tf = JSON.parse(JSON.stringify(bench.deployment.tf));
        const id = Object.keys(policyDocuments(tf)).find((k) => roleDocument.test(k));
        if (!id) throw new Error(`no policy document matching ${roleDocument}`);
        rewritePolicyDocument(tf, id, (doc) => {
          const before = doc.Statement.length;
          doc.Statement = doc.Statement.filter((s) => s.Sid !== sid);
          if (doc.Statement.length !== before - 1) throw new Error(`no statement ${sid} in ${id}`);
        });
        return tf;
      }

      it.each([
        [
          /^worker-job_job-role-policy_/,
          "WriteArchive",
          "backup-actions-worker-job-us-east-1",
          "s3:PutObject",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1\/ebs\/.+/,
        ],
        // the restore drill's Bulk restore of an archived object, and its HeadObject of one
        [
          /^drill_function_policy_/,
          "RestoreArchivedObjects",
          "backup-actions-drill-us-east-1",
          "s3:RestoreObject",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1\/ebs\/.+-glacier\/.+/,
        ],
        [
          /^drill_function_policy_/,
          "CheckRestores",
          "backup-actions-drill-us-east-1",
          "s3:GetObject",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1\/ebs\/.+-glacier\/.+/,
        ],
        [
          /^worker-job_job-role-policy_/,
          "DescribeInstances",
          "backup-actions-worker-job-us-east-1",
          "ec2:DescribeInstances",
          /^\*$/,
        ],
        [
          /^workflows_ebs_policy_/,
          "RunWorker",
          "backup-actions-ebs-export-sfn-us-east-1",
          "batch:SubmitJob",
          /^arn:aws:batch:us-east-1:111111111111:job-queue\/backup-actions-worker-\d$/,
        ],
        [
          /^reconciler_function_policy_/,
          "ListWatchedVaults",
          "backup-actions-reconciler-us-east-1",
          "backup:ListRecoveryPointsByBackupVault",
          /^arn:aws:backup:us-east-1:111111111111:backup-vault:(Default|lost-events)$/,
        ],
        [
          /^reconciler_function_policy_/,
          "ReadLedger",
          "backup-actions-reconciler-us-east-1",
          "dynamodb:GetItem",
          /^arn:aws:dynamodb:us-east-1:111111111111:table\/backup-actions-ledger$/,
        ],
        [
          /^reconciler_function_policy_/,
          "StartOwnDispatcher",
          "backup-actions-reconciler-us-east-1",
          "states:StartExecution",
          /^arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher$/,
        ],
        [
          /^workflows_dispatcher_policy_/,
          "Ledger",
          "backup-actions-dispatcher-sfn-us-east-1",
          "dynamodb:PutItem",
          /^arn:aws:dynamodb:us-east-1:111111111111:table\/backup-actions-ledger$/,
        ],
        [
          /^workflows_dispatcher_policy_/,
          "PublishOutcomeEvents",
          "backup-actions-dispatcher-sfn-us-east-1",
          "events:PutEvents",
          /^arn:aws:events:us-east-1:111111111111:event-bus\/default$/,
        ],
        [
          /^verify_policy_/,
          "ArchiveKey",
          "backup-actions-verify-us-east-1",
          "kms:Decrypt",
          /^arn:aws:kms:us-east-1:111111111111:key\//,
        ],
        [
          /^workflows_dynamodb_policy_/,
          "RestoreWritesTempTables",
          "backup-actions-dynamodb-export-sfn-us-east-1",
          "dynamodb:PutItem",
          /^arn:aws:dynamodb:us-east-1:111111111111:table\/backup-actions-restore-/,
        ],
        [
          /^workflows_dynamodb_policy_/,
          "WriteExports",
          "backup-actions-dynamodb-export-sfn-us-east-1",
          "s3:PutObject",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1\/dynamodb\//,
        ],
        [
          /^workflows_databases_rds_policy_/,
          "HandTheExportRoleToRds",
          "backup-actions-rds-export-sfn-us-east-1",
          "iam:PassRole",
          /^arn:aws:iam::111111111111:role\/backup-actions-rds-s3-export-us-east-1$/,
        ],
        [
          /^workflows_databases_export-policy_/,
          "WriteExportsIntoTheArchive",
          "backup-actions-rds-s3-export-us-east-1",
          "s3:PutObject",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1\/aurora\/.+\.parquet$/,
        ],
        // the native dump: the worker's password read, the password function's write, the child's restore
        [
          /^workflows_databases_dump-worker-policy_/,
          "ReadDumpPassword",
          "backup-actions-worker-job-us-east-1",
          "ssm:GetParameter",
          /^arn:aws:ssm:us-east-1:111111111111:parameter\/backup-actions\/backup-actions\/dump\/dump-[0-9a-f]{32}$/,
        ],
        [
          /^workflows_databases_dump-password_policy_/,
          "KeepPassword",
          "backup-actions-dump-password-us-east-1",
          "ssm:PutParameter",
          /^arn:aws:ssm:us-east-1:111111111111:parameter\/backup-actions\/backup-actions\/dump\/dump-[0-9a-f]{32}$/,
        ],
        [
          /^workflows_databases_rds_policy_/,
          "RestoreTemporaryInstance",
          "backup-actions-rds-export-sfn-us-east-1",
          "rds:RestoreDBInstanceFromDBSnapshot",
          /^arn:aws:rds:us-east-1:111111111111:db:dump-[0-9a-f]{32}$/,
        ],
        // resource policies count too: the S3 gateway endpoint's (the worker runs in the VPC) and the key's
        [
          /^s3-endpoint-policy_document_/,
          "ArchiveBucket",
          "backup-actions-worker-job-us-east-1",
          "s3:ListBucketMultipartUploads",
          /^arn:aws:s3:::backup-actions-archive-111111111111-us-east-1$/,
        ],
        [
          /^pipeline-key_policy_/,
          "AccountAdministersAndDelegatesToIam",
          "backup-actions-worker-job-us-east-1",
          "kms:GenerateDataKey",
          /^arn:aws:kms:us-east-1:111111111111:key\//,
        ],
      ])("deleting %s %s makes the proof name the denied request", async (doc, sid, roleName, action, resource) => {
        const broken = await evaluate(buildModel(without(doc, sid), ACCOUNT, REGION), records);
        const denied = denials(broken);
        expect(denied.length).toBeGreaterThan(0);
        expect(denied).toContainEqual(
          expect.objectContaining({
            role: expect.objectContaining({ name: roleName }),
            request: expect.objectContaining({ action, resource: expect.stringMatching(resource) }),
          }),
        );
        expect(() => assertAllAllowed(broken)).toThrow(new RegExp(`${roleName} \\(\\S+\\) may not ${action} on `));
        expect(describeDenial(denied[0]!)).toMatch(/may not .+ on .+: (Implicitly|Explicitly)Denied/);
      });

      it("a trust policy that admits one more service is caught", async () => {
        const tf = JSON.parse(JSON.stringify(bench.deployment.tf));
        const id = Object.keys(policyDocuments(tf)).find((k) => /^event-intake_starter_assume_/.test(k))!;
        rewritePolicyDocument(tf, id, (doc) => {
          (doc.Statement[0]!.Principal as Record<string, string[]>).Service!.push("scheduler.amazonaws.com");
        });
        const trusted = await trustedPrincipals(buildModel(tf, ACCOUNT, REGION));
        expect(trusted.starter).toEqual(["lambda.amazonaws.com", "scheduler.amazonaws.com"]);
      });

      it("a request whose operation has no action-map entry fails, naming the entry to add", () => {
        const model = buildModel(bench.deployment.tf, ACCOUNT, REGION);
        const unknown: RecordedRequest = {
          ...records[0]!,
          kind: "sdk",
          service: "ec2",
          operation: "ModifyVolume",
          input: {},
        };
        expect(() => iamRequestsOf(unknown, model.facts)).toThrow(
          'no entry in testing/iam/action-map.ts SDK_OPERATIONS for "ec2:ModifyVolume"',
        );
      });
    });
  },
);
