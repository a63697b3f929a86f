/**
 * The RDS and Aurora children and the export role, as the pipeline stack synthesizes them: which
 * machines a config deploys, the export role's trust and S3 grants (StartExportTask's documented list,
 * on the archive only), and the children's PassRole of exactly that role to export.rds.amazonaws.com;
 * the native dump's network (subnet group, security group open to the workers only), password function and
 * grants, and the configured instance classes in the children's restores.
 */
import { statementsOf, statementWithSid } from "../../helpers/policy";
import { compose, synth, testConfig } from "../../helpers/synth";

const out = synth(compose(testConfig({ exports: { rds: { format: "parquet" }, aurora: true } })).pipelines[0]!);
const dumpOnly = synth(compose(testConfig({ exports: { rds: true, aurora: false } })).pipelines[0]!);
const classes = synth(
  compose(
    testConfig({
      exports: { rds: { instanceClass: "db.m7g.large" }, aurora: { format: "both", instanceClass: "db.r7g.xlarge" } },
    }),
  ).pipelines[0]!,
);
const parquetOnly = synth(
  compose(testConfig({ exports: { rds: { format: "parquet" }, aurora: { format: "parquet" } } })).pipelines[0]!,
);
const definitionOf = (s: typeof out, name: string) =>
  JSON.parse(Object.values<any>(s.resources("aws_sfn_state_machine")).find((m) => m.name === name).definition);
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
    expect(roles(out)).toContain("backup-actions-rds-s3-export-us-east-1");
    expect(roles(dumpOnly)).not.toContain("backup-actions-rds-s3-export-us-east-1");
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
      resources: ["arn:aws:iam::111111111111:role/backup-actions-rds-s3-export-us-east-1"],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["export.rds.amazonaws.com"] }],
    });
    const dumpChild = statementsOf(dumpOnly, "databases_rds_policy").map((s) => s.sid);
    expect(dumpChild).toContain("ReadSnapshots");
    expect(dumpChild).not.toContain("ExportSnapshots");
    expect(dumpChild).not.toContain("HandTheExportRoleToRds");
  });

  it("gives the dump's temporary databases the private subnets and a group that takes the engine ports from the workers only", () => {
    const [group] = Object.values<any>(dumpOnly.resources("aws_db_subnet_group"));
    expect(group).toMatchObject({
      name: "backup-actions-dump",
      subnet_ids: "${data.terraform_remote_state.network.outputs.subnet_ids}",
    });
    const ingress = Object.values<any>(dumpOnly.resources("aws_vpc_security_group_ingress_rule")).filter((r) =>
      String(r.security_group_id).includes("dump-sg"),
    );
    expect(ingress.map((r) => [r.from_port, r.to_port, r.ip_protocol, r.referenced_security_group_id]).sort()).toEqual([
      [3306, 3306, "tcp", "${data.terraform_remote_state.network.outputs.worker_security_group_id}"],
      [5432, 5432, "tcp", "${data.terraform_remote_state.network.outputs.worker_security_group_id}"],
    ]);
    expect(ingress.some((r) => r.cidr_ipv4 || r.cidr_ipv6)).toBe(false);
    const egress = Object.values<any>(dumpOnly.resources("aws_vpc_security_group_egress_rule")).filter((r) =>
      String(r.referenced_security_group_id).includes("dump-sg"),
    );
    expect(egress.map((r) => r.from_port).sort()).toEqual([3306, 5432]);
    // Nothing of it without a dump format.
    expect(parquetOnly.resources("aws_db_subnet_group")).toEqual({});
    expect(Object.values<any>(parquetOnly.resources("aws_lambda_function")).map((f) => f.function_name)).not.toContain(
      "backup-actions-dump-password",
    );
  });

  it("restores with the configured instance classes, never public, in the dump's subnet group", () => {
    const rds = definitionOf(classes, "backup-actions-rds-export").States.DumpRestore.Parameters;
    expect(rds).toMatchObject({
      DBInstanceClass: "db.m7g.large",
      PubliclyAccessible: false,
      DeletionProtection: false,
      DBSubnetGroupName: expect.stringMatching(/^\$\{aws_db_subnet_group\.workflows_databases_dump-subnets_/),
      VpcSecurityGroupIds: [expect.stringMatching(/^\$\{aws_security_group\.workflows_databases_dump-sg_/)],
    });
    const aurora = definitionOf(classes, "backup-actions-aurora-export").States;
    expect(aurora.DumpRestore.Resource).toBe("arn:aws:states:::aws-sdk:rds:restoreDBClusterFromSnapshot");
    expect(aurora.DumpCreateInstance.Parameters).toMatchObject({
      DBInstanceClass: "db.r7g.xlarge",
      PubliclyAccessible: false,
    });
  });

  it("lets the password function write only the pipeline's dump parameters with the pipeline key, and the worker read them", () => {
    const password = statementsOf(dumpOnly, "dump-password_policy");
    expect(statementWithSid(password, "KeepPassword")).toMatchObject({
      actions: ["ssm:PutParameter"],
      resources: ["arn:aws:ssm:us-east-1:111111111111:parameter/backup-actions/backup-actions/dump/*"],
    });
    expect(statementWithSid(password, "EncryptPassword").condition).toEqual([
      { test: "StringEquals", variable: "kms:ViaService", values: ["ssm.us-east-1.amazonaws.com"] },
    ]);
    expect(statementWithSid(password, "SetMasterPassword").resources).toEqual([
      "arn:aws:rds:us-east-1:111111111111:db:dump-*",
      "arn:aws:rds:us-east-1:111111111111:cluster:dump-*",
    ]);
    const worker = statementsOf(dumpOnly, "dump-worker-policy");
    expect(statementWithSid(worker, "ReadDumpPassword").resources).toEqual([
      "arn:aws:ssm:us-east-1:111111111111:parameter/backup-actions/backup-actions/dump/*",
    ]);
    expect(statementWithSid(worker, "DecryptDumpPassword").condition).toEqual([
      { test: "StringEquals", variable: "kms:ViaService", values: ["ssm.us-east-1.amazonaws.com"] },
    ]);
    // aurora is off here: the worker writes dumps under rds/ only.
    expect(statementWithSid(worker, "WriteDumps").resources).toEqual([
      "arn:aws:s3:::backup-actions-archive-111111111111-us-east-1/rds/*",
    ]);
  });
});
