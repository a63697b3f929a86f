/**
 * Each state machine's role against the Task states of its definition, both ways:
 * - every action a Task needs is granted by the machine's role;
 * - every action the role grants is needed by some Task of the definition (or is the
 *   machine's own log delivery and tracing, which the StateMachine construct adds).
 *
 * What a Task needs, from the Step Functions developer guide ("IAM policies for integrated
 * services", the .sync patterns) and the services' own docs: an optimized integration needs
 * its API action, a `.sync` one also the actions Step Functions polls and cancels with and
 * the EventBridge managed rule it installs; an SDK integration `aws-sdk:<service>:<api>` needs
 * `<service>:<Api>`. Writes to the pipeline's KMS-encrypted ledger and topic need the key;
 * a volume created from an (encrypted) snapshot needs EC2's grants on its key and, with
 * TagSpecifications, ec2:CreateTags. Whether AWS would allow each call is proven apart, by
 * evaluating recorded requests against the synthesized policies; this test keeps the role and
 * the definition from drifting apart.
 */
import { documentBlocks } from "../../../testing/policy-documents";
import { compose, synth, testConfig } from "../../helpers/synth";
import type { StateMachineDefinition, State } from "../../../stacks/workflows/asl";

const PIPELINE_KEY = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"];
const SYNC_RULE = ["events:PutTargets", "events:PutRule", "events:DescribeRule"];

/**
 * The IAM actions a Task with this Resource needs, given the partition-free tail after `arn:<p>:states:::`; a
 * CreateVolume's Parameters decide whether a snapshot's key is re-encrypted from.
 */
function actionsNeededBy(resource: string, parameters: Record<string, unknown> = {}): string[] {
  const m = /^arn:[^:]+:states:::(.+)$/.exec(resource);
  if (!m) throw new Error(`not a Step Functions integration: ${resource}`);
  const integration = m[1]!;
  const sdk = /^aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(integration);
  if (sdk) {
    const action = `${sdk[1]}:${sdk[2]![0]!.toUpperCase()}${sdk[2]!.slice(1)}`;
    // A blank volume (no SnapshotId), encrypted with a given key: EBS User Guide, "Amazon EBS encryption".
    if (action === "ec2:CreateVolume" && !("SnapshotId.$" in parameters) && !("SnapshotId" in parameters)) {
      return [
        action,
        "ec2:CreateTags",
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
      ];
    }
    if (action === "ec2:CreateVolume") {
      return [
        action,
        "ec2:CreateTags",
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ];
    }
    // DynamoDB Developer Guide, "Using IAM with DynamoDB backup and restore": the target table's item actions.
    if (action === "dynamodb:RestoreTableFromBackup") {
      const items = ["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "UpdateItem"];
      return [action, ...items.map((a) => `dynamodb:${a}`)];
    }
    // "Requesting a table export in DynamoDB": S3 writes as the caller, SSE-KMS through S3.
    if (action === "dynamodb:ExportTableToPointInTime")
      return [
        action,
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:PutObjectAcl",
        "kms:GenerateDataKey",
        "kms:Decrypt",
      ];
    // SSE-KMS (table.json): S3 asks the key for a data key as the caller.
    if (action === "s3:PutObject") return [action, "kms:GenerateDataKey"];
    // The caller hands RDS the export role and lets it use the key (StartExportTask API reference).
    if (action === "rds:StartExportTask") return [action, "iam:PassRole", "kms:CreateGrant", "kms:DescribeKey"];
    // RDS User Guide: tags given at creation need rds:AddTagsToResource ("Tagging Amazon RDS resources"); a
    // restore of an encrypted snapshot lets RDS use its key ("Encrypting Amazon RDS resources").
    if (action === "rds:RestoreDBInstanceFromDBSnapshot" || action === "rds:RestoreDBClusterFromSnapshot")
      return [action, "rds:AddTagsToResource", "kms:CreateGrant", "kms:DescribeKey"];
    if (action === "rds:CreateDBInstance") return [action, "rds:AddTagsToResource"];
    return [action];
  }
  const known: Record<string, string[]> = {
    "dynamodb:putItem": ["dynamodb:PutItem", ...PIPELINE_KEY],
    "dynamodb:updateItem": ["dynamodb:UpdateItem", ...PIPELINE_KEY],
    "sns:publish": ["sns:Publish", ...PIPELINE_KEY],
    // The default bus takes no key (Step Functions Developer Guide, "IAM policies for Amazon EventBridge").
    "events:putEvents": ["events:PutEvents"],
    "lambda:invoke": ["lambda:InvokeFunction"],
    "batch:submitJob.sync": ["batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob", ...SYNC_RULE],
    "states:startExecution.sync:2": [
      "states:StartExecution",
      "states:DescribeExecution",
      "states:StopExecution",
      ...SYNC_RULE,
    ],
  };
  const actions = known[integration];
  if (!actions) throw new Error(`no IAM actions known for the integration ${integration}: add them here`);
  return actions;
}

/** Added by the StateMachine construct for every machine, whatever its Tasks. */
const MACHINE_OWN_SIDS = new Set(["LogDelivery", "XRay"]);

/** Each Task's Resource and Parameters, once per distinct pair. */
function taskResources(definition: StateMachineDefinition): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = [];
  const visit = (d: StateMachineDefinition) => {
    for (const state of Object.values(d.States) as State[]) {
      if (state.Type === "Task") out.push([state.Resource, (state.Parameters ?? {}) as Record<string, unknown>]);
      if (state.Type === "Parallel") state.Branches.forEach(visit);
      if (state.Type === "Map") [state.ItemProcessor, state.Iterator].forEach((p) => p && visit(p));
    }
  };
  visit(definition);
  return [...new Map(out.map((t) => [JSON.stringify(t), t])).values()];
}

interface Machine {
  readonly name: string;
  readonly resources: Array<[string, Record<string, unknown>]>;
  readonly granted: Map<string, string[]>; // action → sids
}

function machinesOf(config: Record<string, unknown>): Machine[] {
  const out = synth(compose(testConfig(config)).pipelines[0]!);
  const documents = documentBlocks(out.tf) as Record<string, { statement: Array<{ sid?: string; actions: string[] }> }>;
  return Object.entries(out.resources("aws_sfn_state_machine")).map(([id, machine]) => {
    // `workflows_ebs_this_<hash>` → its role's policy document `workflows_ebs_policy_<hash>`.
    const scope = id.replace(/_this_[0-9A-F]{8}$/, "");
    const policy = Object.entries(documents).filter(([key]) => new RegExp(`^${scope}_policy_[0-9A-F]{8}$`).test(key));
    if (policy.length !== 1) throw new Error(`${id}: expected one role policy document, found ${policy.length}`);
    const granted = new Map<string, string[]>();
    for (const s of policy[0]![1].statement) {
      if (s.sid && MACHINE_OWN_SIDS.has(s.sid)) continue;
      for (const action of s.actions) granted.set(action, [...(granted.get(action) ?? []), s.sid ?? "(no sid)"]);
    }
    return { name: machine.name as string, resources: taskResources(JSON.parse(machine.definition)), granted };
  });
}

describe.each([
  ["the default config", {}],
  ["auto-delete on", { deleteRecoveryPoint: { enabled: true } }],
  ["EBS exports off", { exports: { ebs: false } }],
  ["the direct read path", { worker: { readPath: "direct" } }],
])("state machine roles and their Tasks (%s)", (_, config) => {
  const machines = machinesOf(config);

  it("has the machines it should", () => {
    const names = machines.map((m) => m.name).sort();
    expect(names).toEqual([
      "backup-actions-aurora-export",
      "backup-actions-backstop",
      "backup-actions-dispatcher",
      "backup-actions-dynamodb-export",
      ...("exports" in config ? [] : ["backup-actions-ebs-export"]),
      "backup-actions-rds-export",
    ]);
  });

  it.each(machines.map((m) => [m.name, m] as const))("%s: every action a Task needs is granted", (_name, machine) => {
    const missing = machine.resources.flatMap(([r, parameters]) =>
      actionsNeededBy(r, parameters)
        .filter((a) => !machine.granted.has(a))
        .map((a) => `${a} (for ${r})`),
    );
    expect(missing).toEqual([]);
  });

  it.each(machines.map((m) => [m.name, m] as const))(
    "%s: every action granted is needed by some Task",
    (_name, machine) => {
      const needed = new Set(machine.resources.flatMap(([r, parameters]) => actionsNeededBy(r, parameters)));
      const unneeded = [...machine.granted]
        .filter(([a]) => !needed.has(a))
        .map(([a, sids]) => `${a} (${sids.join(", ")})`);
      expect(unneeded).toEqual([]);
    },
  );
});
