/**
 * The intake's EventBridge rules proven on events, not on their JSON: the two rules the pipeline
 * stack synthesizes are created in moto's EventBridge (PutRule with the synthesized pattern, an SQS
 * target), then AWS Backup's documented example events — every Backup and Copy job state, watched and
 * other vaults, every resource type AWS Backup reports — are put on the bus. Exactly the COMPLETED
 * jobs of a watched vault and an exported type must reach the queue.
 *
 * moto 5.2.1 matches patterns in PutEvents (`EventPattern.matches_event`: exact values, prefix,
 * suffix, anything-but, numeric, exists, $or) and delivers to SQS. One way it is more permissive than
 * AWS: it accepts PutEvents with `Source: "aws.backup"`, which AWS refuses to any caller
 * (NotAuthorizedForSourceException) — on AWS the same patterns can be checked with TestEventPattern.
 * testing/README-moto.md lists this. The first test checks that moto's matching is real (a pattern
 * that must refuse an event does).
 *
 * EventBridge is spoken through its JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`) with
 * plain fetch: the operations are three, and @aws-sdk/client-eventbridge is not a dependency.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { motoEndpoint, motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";
import { loadEvent } from "../helpers/events";
import { compose, synth, testConfig } from "../helpers/synth";

const WATCHED = ["Default", "archive"];
/** Exports switched on for this test: EBS and Aurora on, RDS on through Aurora, DynamoDB off. */
const EXPORTS = { ebs: true, rds: false, aurora: true, dynamodb: false, compressionLevel: 3 };
/** `detail.resourceType` values that must pass: RDS passes because Aurora clusters can be reported as RDS. */
const EXPECTED_TYPES = new Set(["EBS", "RDS", "Aurora"]);

/** Backup job states (AWS Backup API, BackupJobState) and copy job states (CopyJobState). */
const BACKUP_STATES = [
  "CREATED",
  "PENDING",
  "RUNNING",
  "ABORTING",
  "ABORTED",
  "COMPLETED",
  "FAILED",
  "EXPIRED",
  "PARTIAL",
];
const COPY_STATES = ["CREATED", "RUNNING", "COMPLETED", "FAILED", "PARTIAL"];
/** resourceType values AWS Backup reports (Feature availability by resource), and the doc example's placeholder. */
const RESOURCE_TYPES = [
  "EBS",
  "EC2",
  "RDS",
  "Aurora",
  "DynamoDB",
  "EFS",
  "FSx",
  "S3",
  "Storage Gateway",
  "DocumentDB",
  "Neptune",
  "Redshift",
  "VirtualMachine",
  "CloudFormation",
  "Timestream",
  "SAP HANA on Amazon EC2",
  "type",
];
/** Watched vaults, a vault that differs only in case, one whose name ends like a watched one, and another. */
const VAULTS = [...WATCHED, "default", "old-archive", "Default-copy", "846869de-4589-45c3-ab60-4fbbabcdd3ec"];

async function events(operation: string, body: unknown): Promise<any> {
  const response = await fetch(motoEndpoint(), {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": `AWSEvents.${operation}`,
      authorization:
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/events/aws4_request, SignedHeaders=host, Signature=0",
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`EventBridge ${operation} answered ${response.status}: ${text}`);
  return text === "" ? {} : JSON.parse(text);
}

interface Case {
  readonly id: string;
  readonly entry: { Source: string; DetailType: string; Detail: string; Resources: string[]; Time: number };
  readonly expected: boolean;
}

/** A documented example event with one job's state, vault and type; `caseId` in the detail names it. */
function backupJob(state: string, vault: string, resourceType: string): Case {
  const event = loadEvent("doc-backup-job-completed.json");
  const id = `backup/${state}/${vault}/${resourceType}`;
  Object.assign(event.detail, { state, backupVaultName: vault, resourceType, caseId: id });
  event.detail.backupVaultArn = `arn:aws:backup:us-west-2:1112233445566:backup-vault:${vault}`;
  return {
    id,
    entry: entryOf(event),
    expected: state === "COMPLETED" && WATCHED.includes(vault) && EXPECTED_TYPES.has(resourceType),
  };
}

function copyJob(state: string, vault: string, resourceType: string): Case {
  const event = loadEvent("doc-copy-job-completed.json");
  const id = `copy/${state}/${vault}/${resourceType}`;
  Object.assign(event.detail, { state, resourceType, caseId: id });
  event.detail.destinationBackupVaultArn = `arn:aws:backup:us-west-2:1112233445566:backup-vault:${vault}`;
  // The source vault is a watched one in every case: only the destination may decide.
  event.detail.sourceBackupVaultArn = "arn:aws:backup:us-east-1:1112233445566:backup-vault:Default";
  return {
    id,
    entry: entryOf(event),
    expected: state === "COMPLETED" && WATCHED.includes(vault) && EXPECTED_TYPES.has(resourceType),
  };
}

/** A PutEvents entry as the SDK sends it (JSON 1.1 timestamps are epoch seconds). */
function entryOf(event: any): Case["entry"] {
  return {
    Source: event.source,
    DetailType: event["detail-type"],
    Detail: JSON.stringify(event.detail),
    Resources: event.resources,
    Time: Date.parse(event.time) / 1000,
  };
}

describeWithPrereqs(
  "intake EventBridge rules, applied to moto and fed AWS Backup's documented events",
  motoMissing(),
  () => {
    const sqs = new SQSClient(awsClientConfig());
    afterAll(() => sqs.destroy());
    const config = testConfig({ backupVaults: WATCHED, exports: EXPORTS });
    const rules = Object.values<any>(
      synth(compose(config).pipelines[0]!).resources("aws_cloudwatch_event_rule"),
    ).filter((r) => String(r.event_pattern ?? "").includes("aws.backup"));

    /** Creates the synthesized rules on the default bus, each targeting a fresh queue; returns the queue URL. */
    async function applyRules(suffix: string, patterns: string[]): Promise<string> {
      const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `intake-${suffix}` }))).QueueUrl!;
      const queueArn = (
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
      ).Attributes!.QueueArn!;
      for (const [i, pattern] of patterns.entries()) {
        const name = `intake-${suffix}-${i}`;
        await events("PutRule", { Name: name, EventPattern: pattern, State: "ENABLED" });
        await events("PutTargets", { Rule: name, Targets: [{ Id: "intake", Arn: queueArn }] });
      }
      return queueUrl;
    }

    async function put(cases: readonly Case[]): Promise<void> {
      for (let i = 0; i < cases.length; i += 10) {
        const out = await events("PutEvents", { Entries: cases.slice(i, i + 10).map((c) => c.entry) });
        expect(out.FailedEntryCount ?? 0).toBe(0);
      }
    }

    /** Every case id that reached the queue (a case reaching it twice is listed twice). */
    async function drain(queueUrl: string): Promise<string[]> {
      const seen: string[] = [];
      for (;;) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) return seen.sort();
        for (const m of messages) seen.push(JSON.parse(m.Body!).detail.caseId);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
    }

    it("synthesizes exactly the two intake rules", () => {
      expect(rules.map((r) => JSON.parse(r.event_pattern)["detail-type"])).toEqual([
        ["Backup Job State Change"],
        ["Copy Job State Change"],
      ]);
    });

    it("moto really matches: a pattern refuses what it must (not every event is delivered)", async () => {
      const queueUrl = await applyRules("sanity", [
        JSON.stringify({ source: ["aws.backup"], detail: { state: ["COMPLETED"] } }),
      ]);
      await put([backupJob("COMPLETED", "Default", "EBS"), backupJob("FAILED", "Default", "EBS")]);
      expect(await drain(queueUrl)).toEqual(["backup/COMPLETED/Default/EBS"]);
      await events("RemoveTargets", { Rule: "intake-sanity-0", Ids: ["intake"] });
      await events("DeleteRule", { Name: "intake-sanity-0" });
    });

    it("delivers exactly the COMPLETED backup and copy jobs of a watched vault and an exported type, each once", async () => {
      const queueUrl = await applyRules(
        "pipeline",
        rules.map((r) => r.event_pattern),
      );
      const cases: Case[] = [];
      for (const vault of VAULTS) {
        for (const type of RESOURCE_TYPES) {
          for (const state of BACKUP_STATES) cases.push(backupJob(state, vault, type));
          for (const state of COPY_STATES) cases.push(copyJob(state, vault, type));
        }
      }
      await put(cases);

      const expected = cases
        .filter((c) => c.expected)
        .map((c) => c.id)
        .sort();
      // 2 vaults × 3 types × (1 backup + 1 copy) COMPLETED states
      expect(expected).toHaveLength(12);
      expect(await drain(queueUrl)).toEqual(expected);
    });

    it("lets nothing of another source or detail-type through, even with a matching detail", async () => {
      const queueUrl = await applyRules(
        "others",
        rules.map((r) => r.event_pattern),
      );
      const restore = backupJob("COMPLETED", "Default", "EBS");
      const cases: Case[] = [
        {
          ...restore,
          id: "restore",
          entry: {
            ...restore.entry,
            DetailType: "Restore Job State Change",
            Detail: restore.entry.Detail.replace("backup/", "restore/"),
          },
        },
        {
          ...restore,
          id: "custom-source",
          entry: { ...restore.entry, Source: "my.app", Detail: restore.entry.Detail.replace("backup/", "custom/") },
        },
        {
          ...restore,
          id: "recovery-point",
          entry: {
            ...restore.entry,
            DetailType: "Recovery Point State Change",
            Detail: restore.entry.Detail.replace("backup/", "rp/"),
          },
        },
      ];
      await put(cases);
      expect(await drain(queueUrl)).toEqual([]);
    });
  },
);
