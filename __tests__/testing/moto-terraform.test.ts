/**
 * The Terraform AWS provider 5.100.0 against the patched moto: an
 * aws_sfn_state_machine needs ValidateStateMachineDefinition and
 * ListStateMachineVersions, which moto 5.2.1 lacks (testing/moto/patches.py).
 * Create (with a published version), re-plan with no changes, destroy.
 * Slow (the provider binary is big): about 20 s idle, minutes on a loaded machine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { motoEndpoint, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";

const PROVIDER_MIRROR = process.env.TF_PROVIDER_MIRROR ?? "/opt/tf-plugins";

function missing(): string[] {
  const result = [...motoMissing()];
  if (spawnSync("terraform", ["version"], { encoding: "utf8" }).status !== 0) result.push("terraform on PATH");
  if (!existsSync(path.join(PROVIDER_MIRROR, "registry.terraform.io/hashicorp/aws/5.100.0"))) {
    result.push(`hashicorp/aws 5.100.0 in the provider mirror ${PROVIDER_MIRROR} (set TF_PROVIDER_MIRROR)`);
  }
  return result;
}

function stack(definitionResult: string, publish: boolean): object {
  const endpoint = motoEndpoint();
  return {
    terraform: { required_providers: { aws: { source: "hashicorp/aws", version: "5.100.0" } } },
    provider: {
      aws: {
        region: "us-east-1",
        access_key: "testing",
        secret_key: "testing",
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_requesting_account_id: true,
        s3_use_path_style: true,
        endpoints: [{ iam: endpoint, sfn: endpoint, sts: endpoint }],
      },
    },
    resource: {
      aws_iam_role: {
        sfn: {
          name: "bench-sfn",
          assume_role_policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Principal: { Service: "states.amazonaws.com" }, Action: "sts:AssumeRole" }],
          }),
        },
      },
      aws_sfn_state_machine: {
        machine: {
          name: "bench-tf",
          role_arn: "${aws_iam_role.sfn.arn}",
          publish,
          definition: JSON.stringify({
            StartAt: "P",
            States: { P: { Type: "Pass", Result: definitionResult, End: true } },
          }),
          tags: { bench: "moto" },
        },
      },
    },
  };
}

describeWithPrereqs("Terraform AWS provider 5.100.0 applies a state machine to moto", missing(), () => {
  let dir = "";
  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    TF_CLI_CONFIG_FILE: path.join(dir, "cli.tfrc"),
    TF_IN_AUTOMATION: "1",
  });
  const terraform = (...args: string[]): { status: number | null; output: string } => {
    const run = spawnSync("terraform", [...args, "-input=false", "-no-color"], {
      cwd: dir,
      env: env(),
      encoding: "utf8",
      timeout: 180_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "moto-tf-"));
    writeFileSync(
      path.join(dir, "cli.tfrc"),
      `provider_installation {\n  filesystem_mirror {\n    path = "${PROVIDER_MIRROR}"\n  }\n}\n`,
    );
  });
  let destroyed = false;
  afterAll(() => {
    if (dir) {
      // moto is reset before the next file anyway; this keeps a failed run's resources from lingering in this one.
      if (!destroyed) terraform("destroy", "-auto-approve");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("create with a published version, re-plan with no changes, destroy", () => {
    writeFileSync(path.join(dir, "main.tf.json"), JSON.stringify(stack("one", true), null, 2));
    const init = terraform("init");
    expect({ status: init.status, output: init.status === 0 ? "" : init.output }).toEqual({ status: 0, output: "" });

    const create = terraform("apply", "-auto-approve");
    expect(create.output).toContain("Apply complete! Resources: 2 added");

    // -detailed-exitcode: 0 = no changes, 2 = changes pending
    const replan = terraform("plan", "-detailed-exitcode");
    expect({ status: replan.status, output: replan.status === 0 ? "" : replan.output }).toEqual({
      status: 0,
      output: "",
    });

    const destroy = terraform("destroy", "-auto-approve");
    expect(destroy.output).toContain("Destroy complete! Resources: 2 destroyed");
    destroyed = true;
  }, 300_000);
});
