/**
 * The Terraform addresses of stateful resources are a contract with every existing deployment: an address that
 * changes without a `moved` block is a destroy and a create (a log group loses its events, a KMS key what it
 * encrypted, the ledger its records). cdktf derives an address from the construct ids below the stack (joined by
 * `_`, plus a hash of that path), so it changes exactly when a construct is renamed or moved: these pins fail then,
 * and a `moved` block (stacks/moved.ts) is the fix, not a new pin.
 *
 * Per-AZ resources are addressed by position unless the config names the zones (network.availabilityZones); then
 * by zone name, and every former address is moved, never destroyed.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../../config/load";
import { compose, synth } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "..", "..");
const DEFAULT = JSON.parse(readFileSync(path.join(ROOT, "config", "default.json"), "utf8"));

/** Resource types whose destruction loses data or what depends on it. */
const STATEFUL = [
  "aws_s3_bucket",
  "aws_dynamodb_table",
  "aws_kms_key",
  "aws_kms_alias",
  "aws_cloudwatch_log_group",
  "aws_ecr_repository",
  "aws_sqs_queue",
  "aws_sns_topic",
  "aws_vpc",
  "aws_subnet",
];

/** Per-AZ resources: their address carries the zone (named) or the position. */
const PER_AZ = ["aws_subnet", "aws_route_table_association", "aws_batch_compute_environment", "aws_batch_job_queue"];

function addressesOf(config: Record<string, unknown>) {
  const stacks = compose(parseConfig(config));
  return Object.fromEntries(
    stacks.all.map((stack) => {
      const tf = synth(stack).tf;
      const resources: Record<string, unknown> = {};
      for (const [type, byName] of Object.entries<Record<string, any>>(tf.resource ?? {}))
        for (const [name, body] of Object.entries(byName)) resources[`${type}.${name}`] = body;
      return [stack.node.id, { resources, moved: (tf.moved ?? []) as { from: string; to: string }[] }];
    }),
  );
}

const ofTypes = (resources: Record<string, unknown>, types: readonly string[]) =>
  Object.keys(resources)
    .filter((a) => types.includes(a.split(".")[0]!))
    .sort();

describe("addresses of stateful resources", () => {
  const today = addressesOf(DEFAULT);
  const network = "network-111111111111-us-east-1";
  const pipeline = "pipeline-111111111111-us-east-1";

  it("are pinned for the default config", () => {
    expect(ofTypes(today.bootstrap!.resources, STATEFUL)).toEqual(["aws_s3_bucket.state"]);
    expect(ofTypes(today[network]!.resources, STATEFUL)).toEqual([
      "aws_cloudwatch_log_group.flow-logs_log-group_this_E0ED7A32",
      "aws_kms_key.flow-logs_log-group_key_6B354991",
      "aws_subnet.subnet-0",
      "aws_subnet.subnet-1",
      "aws_vpc.vpc",
    ]);
    expect(ofTypes(today[pipeline]!.resources, STATEFUL)).toEqual([
      "aws_cloudwatch_log_group.event-intake_starter_log-group_DECEF592",
      "aws_cloudwatch_log_group.janitor_function_log-group_E084BABD",
      "aws_cloudwatch_log_group.notifications_backstop_logs_this_E0BD08D7",
      "aws_cloudwatch_log_group.reconciler_function_log-group_47E8A845",
      "aws_cloudwatch_log_group.verify_log-group_88E8C480",
      "aws_cloudwatch_log_group.worker-job_log-group_this_587EFE34",
      "aws_cloudwatch_log_group.workflows_databases_aurora_logs_this_B761FA26",
      "aws_cloudwatch_log_group.workflows_databases_dump-password_log-group_BA836E82",
      "aws_cloudwatch_log_group.workflows_databases_rds_logs_this_86F49602",
      "aws_cloudwatch_log_group.workflows_dispatcher_logs_this_04543F9B",
      "aws_cloudwatch_log_group.workflows_dynamodb_logs_this_03234859",
      "aws_cloudwatch_log_group.workflows_ebs_logs_this_357FECBD",
      "aws_dynamodb_table.ledger_this_9479A901",
      "aws_ecr_repository.worker-image_this_88FEF73E",
      "aws_kms_alias.pipeline-key_alias_7841AE7B",
      "aws_kms_key.pipeline-key_95AA2082",
      "aws_s3_bucket.archive_this_77F22DB8",
      "aws_sns_topic.notifications_topic_9813ADB4",
      "aws_sqs_queue.event-intake_dlq_4C61CD66",
      "aws_sqs_queue.event-intake_queue_1C6C8865",
    ]);
    expect(ofTypes(today[pipeline]!.resources, PER_AZ)).toEqual([
      "aws_batch_compute_environment.batch_spot-0_4715EA98",
      "aws_batch_compute_environment.batch_spot-1_4B635972",
      "aws_batch_job_queue.batch_queue-0_E42C4B25",
      "aws_batch_job_queue.batch_queue-1_528C0B9F",
    ]);
  });

  it("do not depend on settings that leave the resource in place (vaults, tags, worker size, lifecycle)", () => {
    const changed = addressesOf({
      ...DEFAULT,
      backupVaults: ["Default", "Secondary"],
      tags: { ...DEFAULT.tags, "cost-center": "storage" },
      worker: { ...DEFAULT.worker, vcpus: 8 },
      lifecycleRules: { ...DEFAULT.lifecycleRules, deepArchive: 180 },
    });
    for (const stack of Object.keys(today))
      expect({ [stack]: Object.keys(changed[stack]!.resources).sort() }).toEqual({
        [stack]: Object.keys(today[stack]!.resources).sort(),
      });
  });

  describe("with named zones (network.availabilityZones)", () => {
    const zoned = addressesOf({ ...DEFAULT, network: { ...DEFAULT.network, availabilityZones: ["a", "b"] } });

    it("address the subnets, their route table associations and the Batch lanes by zone name", () => {
      expect(ofTypes(zoned[network]!.resources, PER_AZ)).toEqual([
        "aws_route_table_association.workers-rt-us-east-1a",
        "aws_route_table_association.workers-rt-us-east-1b",
        "aws_subnet.subnet-us-east-1a",
        "aws_subnet.subnet-us-east-1b",
      ]);
      expect(ofTypes(zoned[pipeline]!.resources, PER_AZ)).toEqual([
        "aws_batch_compute_environment.batch_spot-us-east-1a_72807F08",
        "aws_batch_compute_environment.batch_spot-us-east-1b_73C64410",
        "aws_batch_job_queue.batch_queue-us-east-1a_595B486C",
        "aws_batch_job_queue.batch_queue-us-east-1b_8ABC3FA5",
      ]);
      expect((zoned[network]!.resources["aws_subnet.subnet-us-east-1b"] as any).availability_zone).toBe("us-east-1b");
    });

    it.each([
      ["network", network],
      ["pipeline", pipeline],
    ])(
      "move every %s resource whose address changed from today's, with the same settings: nothing is destroyed",
      (_kind, stack) => {
        const before = today[stack]!.resources;
        const after = zoned[stack]!.resources;
        const moved = zoned[stack]!.moved.filter((m) => !(m.from in after));
        const gone = Object.keys(before).filter((a) => !(a in after));
        expect(gone.length).toBeGreaterThan(0);
        // Every address that is gone is the `from` of one move, into a resource of the same type.
        expect(moved.map((m) => m.from).sort()).toEqual(expect.arrayContaining(gone.sort()));
        for (const m of moved.filter((x) => gone.includes(x.from))) {
          expect(m.to.split(".")[0]).toBe(m.from.split(".")[0]);
          const strip = (body: any) => {
            const { ["//"]: _meta, availability_zone: _az, ...rest } = body;
            return JSON.stringify(rest);
          };
          // Same settings, references to moved resources moved too (the zone is now named, not read from a list).
          const renamed = moved.reduce(
            (body, x) => body.split(`\${${x.from}.`).join(`\${${x.to}.`),
            strip(before[m.from]),
          );
          expect(strip(after[m.to])).toBe(renamed);
        }
        // Nothing new appears but what was moved.
        const added = Object.keys(after).filter((a) => !(a in before));
        expect(added.sort()).toEqual(
          moved
            .filter((m) => gone.includes(m.from))
            .map((m) => m.to)
            .sort(),
        );
      },
    );
  });
});
