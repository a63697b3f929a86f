/**
 * Terraform itself reads a PolicyDocument local as the JSON it was written for: interpolations
 * (a variable, a function call with quotes in it) are valued, escaped IAM policy variables
 * (`$${aws:username}`) and `%%{` come out as the literal text. No provider: `terraform apply`
 * of a stack with outputs only. The AWS stacks' plans and applies are in __tests__/integration/stacks-apply.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Fn, TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { PolicyDocument } from "../../../stacks/constructs/policy-document";
import { describeWithPrereqs } from "../../../testing/prereq";

const missing = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0 ? [] : ["terraform on PATH"];

describeWithPrereqs("PolicyDocument under terraform apply", missing, () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "policy-document-tf-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const terraform = (...args: string[]) => {
    const run = spawnSync("terraform", [...args, "-input=false", "-no-color"], {
      cwd: dir,
      env: { ...process.env, TF_IN_AUTOMATION: "1" },
      encoding: "utf8",
      timeout: 120_000,
    });
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  };

  it("values interpolations and leaves ${aws:username} and %{ literal in the policy JSON", () => {
    // GIVEN a document with tokens next to IAM policy variables
    const stack = new TerraformStack(Testing.app(), "policy");
    const bucket = new TerraformVariable(stack, "bucket", { type: "string", default: "archive" });
    const document = new PolicyDocument(stack, "doc", {
      statement: [
        {
          sid: "Home",
          actions: ["s3:GetObject"],
          resources: [`arn:aws:s3:::${bucket.stringValue}/home/\${aws:username}/*`, `arn:aws:s3:::${Fn.lower("LOGS")}`],
          condition: [{ test: "StringLike", variable: "s3:prefix", values: ["%{literal}", "&{aws:userid}/*"] }],
        },
      ],
    });
    new TerraformOutput(stack, "policy", { value: document.json });
    writeFileSync(path.join(dir, "main.tf.json"), Testing.synth(stack));

    // WHEN Terraform evaluates it
    const init = terraform("init");
    expect({ status: init.status, output: init.status === 0 ? "" : init.output }).toEqual({ status: 0, output: "" });
    const apply = terraform("apply", "-auto-approve");
    expect({ status: apply.status, output: apply.status === 0 ? "" : apply.output }).toEqual({ status: 0, output: "" });
    const output = spawnSync("terraform", ["output", "-raw", "policy"], { cwd: dir, encoding: "utf8" });

    // THEN the policy is the JSON, valued
    expect(JSON.parse(output.stdout)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Home",
          Effect: "Allow",
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::archive/home/${aws:username}/*", "arn:aws:s3:::logs"],
          Condition: { StringLike: { "s3:prefix": ["%{literal}", "${aws:userid}/*"] } },
        },
      ],
    });
  }, 180_000);
});
