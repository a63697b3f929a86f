/**
 * The RDS and Aurora children and the export role, as the pipeline stack synthesizes them: which
 * machines a config deploys, the export role's trust and S3 grants (StartExportTask's documented list,
 * on the archive only), and the children's PassRole of exactly that role to export.rds.amazonaws.com.
 */
import { statementsOf, statementWithSid } from "../../helpers/policy";
import { compose, synth, testConfig } from "../../helpers/synth";

const out = synth(compose(testConfig({ exports: { rds: { format: "parquet" }, aurora: true } })).pipelines[0]!);
const dumpOnly = synth(compose(testConfig({ exports: { rds: true, aurora: false } })).pipelines[0]!);
const machineNames = (s: typeof out) =>
  Object.values<any>(s.resources("aws_sfn_state_machine"))
    .map((m) => m.name)
    .sort();

describe("database export children", () => {
  it("deploys a child per database workflow that is on, and the export role only for a Parquet format", () => {
    expect(machineNames(out)).toEqual(
      expect.arrayContaining(["backup-actions-aurora-export", "backup-actions-rds-export"]),
    );
    expect(machineNames(dumpOnly)).toContain("backup-actions-rds-export");
    expect(machineNames(dumpOnly)).not.toContain("backup-actions-aurora-export");
    const roles = (s: typeof out) => Object.values<any>(s.resources("aws_iam_role")).map((r) => r.name);
    expect(roles(out)).toContain("backup-actions-rds-s3-export");
    expect(roles(dumpOnly)).not.toContain("backup-actions-rds-s3-export");
  });

  it("trusts export.rds.amazonaws.com of the account only, and writes only the Parquet workflows' prefixes", () => {
    expect(statementsOf(out, "export-assume")).toEqual([
      {
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["export.rds.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
      },
    ]);
    const policy = statementsOf(out, "export-policy");
    expect(statementWithSid(policy, "WriteExportsIntoTheArchive")).toEqual({
      sid: "WriteExportsIntoTheArchive",
      actions: ["s3:PutObject*", "s3:GetObject*", "s3:DeleteObject*"],
      // aurora is on with the default format, "dump": RDS writes nothing under aurora/.
      resources: ["arn:aws:s3:::backup-actions-archive-111111111111-us-east-1/rds/*"],
    });
    expect(statementWithSid(policy, "FindTheArchive").actions).toEqual(["s3:ListBucket", "s3:GetBucketLocation"]);
  });

  it("lets a Parquet child pass exactly the export role, to RDS export only; a dump child gets no export grant", () => {
    const pass = statementWithSid(statementsOf(out, "databases_rds_policy"), "HandTheExportRoleToRds");
    expect(pass).toEqual({
      sid: "HandTheExportRoleToRds",
      actions: ["iam:PassRole"],
      resources: ["arn:aws:iam::111111111111:role/backup-actions-rds-s3-export"],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["export.rds.amazonaws.com"] }],
    });
    const dumpChild = statementsOf(dumpOnly, "databases_rds_policy").map((s) => s.sid);
    expect(dumpChild).toContain("ReadSnapshots");
    expect(dumpChild).not.toContain("ExportSnapshots");
    expect(dumpChild).not.toContain("HandTheExportRoleToRds");
  });
});
