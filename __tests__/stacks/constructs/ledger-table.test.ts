import { Testing, TerraformStack } from "cdktf";
import { LEDGER_PARTITION_KEY, LEDGER_RECENT_INDEX, LEDGER_STATUSES } from "../../../core/ledger";
import { LedgerTable } from "../../../stacks/constructs/ledger-table";
import { compose, synth, testConfig } from "../../helpers/synth";

function ledgerOf(props: Partial<ConstructorParameters<typeof LedgerTable>[2]> = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  new LedgerTable(stack, "ledger", { tableName: "ba-ledger", ...props });
  return synth(stack).only("aws_dynamodb_table");
}

describe("LedgerTable", () => {
  it("is keyed by the recovery point ARN, on demand, with point-in-time recovery and deletion protection", () => {
    const table = ledgerOf();
    expect(table.name).toBe("ba-ledger");
    expect(table.billing_mode).toBe("PAY_PER_REQUEST");
    expect(table.hash_key).toBe("recoveryPointArn");
    expect(table.range_key).toBeUndefined();
    expect(table.point_in_time_recovery).toEqual({ enabled: true });
    expect(table.deletion_protection_enabled).toBe(true);
  });

  it("indexes status + startedAt for recent exports, and declares only key attributes", () => {
    const table = ledgerOf();
    expect(table.attribute).toEqual([
      { name: "recoveryPointArn", type: "S" },
      { name: "status", type: "S" },
      { name: "startedAt", type: "S" },
    ]);
    expect(table.global_secondary_index).toEqual([
      { name: "by-status-started", hash_key: "status", range_key: "startedAt", projection_type: "ALL" },
    ]);
  });

  it("encrypts with the given KMS key", () => {
    const arn = "arn:aws:kms:us-east-1:111111111111:key/0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";
    expect(ledgerOf({ kmsKeyArn: arn }).server_side_encryption).toEqual({ enabled: true, kms_key_arn: arn });
  });

  it("uses the AWS owned key when no key is given (no server_side_encryption block)", () => {
    expect(ledgerOf().server_side_encryption).toBeUndefined();
  });

  it("lets deletion protection be turned off explicitly", () => {
    expect(ledgerOf({ deletionProtection: false }).deletion_protection_enabled).toBe(false);
  });

  it("is built from the names in core/ledger.ts, which the state machines and CLI share", () => {
    expect(LEDGER_PARTITION_KEY).toBe("recoveryPointArn");
    expect(LEDGER_RECENT_INDEX).toEqual({ name: "by-status-started", partitionKey: "status", sortKey: "startedAt" });
    expect(LEDGER_STATUSES).toEqual(["RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "UNSUPPORTED"]);
  });

  it("is in the pipeline stack, named after the installation, with the configured key", () => {
    const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";
    const out = synth(compose(testConfig({ name: "acme", kmsKeyArn })).pipelines[0]!);
    const table = out.only("aws_dynamodb_table");
    expect(table.name).toBe("acme-ledger");
    expect(table.server_side_encryption).toEqual({ enabled: true, kms_key_arn: kmsKeyArn });
    expect(out.tf.output.ledger_table_name.value).toMatch(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/);
  });
});
