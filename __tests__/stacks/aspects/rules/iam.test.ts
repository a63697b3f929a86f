import { Fn } from "cdktf";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { PolicyDocument } from "../../../../stacks/constructs/policy-document";
import { newStack, violationsOf } from "../helpers";

const assumeByBatch = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "batch.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const admin = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Sid: "Admin", Effect: "Allow", Action: "*", Resource: "*" }],
});

describe("IAM wildcard statements", () => {
  it("passes service wildcards, wildcard resources with named actions, and a wildcard deny", () => {
    const stack = newStack();
    const document = new DataAwsIamPolicyDocument(stack, "doc", {
      statement: [
        { actions: ["s3:*"], resources: ["arn:aws:s3:::archive/*"] },
        { actions: ["ec2:DescribeVolumes"], resources: ["*"] },
        {
          effect: "Deny",
          actions: ["*"],
          resources: ["*"],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    const role = new IamRole(stack, "role", { assumeRolePolicy: assumeByBatch });
    new IamRolePolicy(stack, "inline", { role: role.name, policy: document.json });
    new IamPolicy(stack, "policy", {
      policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["logs:*"], Resource: "*" }] }),
    });
    expect(violationsOf(stack)).toEqual([]);
  });

  it("fails a policy document statement allowing * on * (effect defaults to Allow)", () => {
    const stack = newStack();
    new DataAwsIamPolicyDocument(stack, "doc", {
      statement: [
        { actions: ["s3:GetObject"], resources: ["*"] },
        { sid: "Everything", actions: ["*"], resources: ["*"] },
      ],
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/doc",
        message: 'policy document statement 1 (sid "Everything") allows action "*" on resource "*"',
      },
    ]);
  });

  it("fails a PolicyDocument statement allowing * on *, once, at the document (not at the policy using it)", () => {
    const stack = newStack();
    const document = new PolicyDocument(stack, "doc", {
      statement: [
        { actions: ["s3:GetObject"], resources: ["arn:aws:s3:::x/home/${aws:username}/*"] },
        { sid: "Everything", actions: ["*"], resources: ["*"] },
      ],
    });
    const role = new IamRole(stack, "role", { assumeRolePolicy: assumeByBatch });
    new IamRolePolicy(stack, "inline", { role: role.name, policy: document.json });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/doc",
        message: 'policy document statement 1 (sid "Everything") allows action "*" on resource "*"',
      },
    ]);
  });

  it("passes a PolicyDocument of named actions, with tokens in its resources, used by a role policy", () => {
    const stack = newStack();
    const role = new IamRole(stack, "role", { assumeRolePolicy: assumeByBatch });
    const document = new PolicyDocument(stack, "doc", {
      statement: [{ actions: ["iam:GetRole"], resources: [role.arn, `${role.arn}/*`] }],
    });
    new IamRolePolicy(stack, "inline", { role: role.name, policy: document.json });
    expect(violationsOf(stack)).toEqual([]);
  });

  it("fails JSON policies on aws_iam_policy, aws_iam_role_policy and aws_iam_role.inline_policy", () => {
    const stack = newStack();
    const role = new IamRole(stack, "role", {
      assumeRolePolicy: assumeByBatch,
      inlinePolicy: [
        { name: "ok", policy: assumeByBatch },
        { name: "admin", policy: admin },
      ],
    });
    new IamRolePolicy(stack, "inline", { role: role.name, policy: admin });
    new IamPolicy(stack, "policy", {
      policy: JSON.stringify({ Statement: { Effect: "Allow", Action: "*", Resource: ["*"] } }),
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/inline",
        message: 'policy statement 0 (sid "Admin") allows action "*" on resource "*"',
      },
      { rule: "iam-wildcard", path: "test/policy", message: 'policy statement 0 allows action "*" on resource "*"' },
      {
        rule: "iam-wildcard",
        path: "test/role",
        message: 'inline_policy[1] statement 0 (sid "Admin") allows action "*" on resource "*"',
      },
    ]);
  });

  it("reports a policy document once, at the document, not at the policies that use it", () => {
    const stack = newStack();
    const document = new DataAwsIamPolicyDocument(stack, "doc", { statement: [{ actions: ["*"], resources: ["*"] }] });
    new IamPolicy(stack, "policy", { policy: document.json });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/doc",
        message: 'policy document statement 0 allows action "*" on resource "*"',
      },
    ]);
  });

  it("fails a JSON policy merged into a document through source_policy_documents", () => {
    const stack = newStack();
    new DataAwsIamPolicyDocument(stack, "doc", {
      sourcePolicyDocuments: [admin],
      statement: [{ actions: ["s3:GetObject"], resources: ["*"] }],
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/doc",
        message: 'source_policy_documents[0] statement 0 (sid "Admin") allows action "*" on resource "*"',
      },
    ]);
  });

  it("fails attaching the AdministratorAccess managed policy", () => {
    const stack = newStack();
    const role = new IamRole(stack, "role", { assumeRolePolicy: assumeByBatch });
    new IamRolePolicyAttachment(stack, "attach", {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/attach",
        message: 'attaches arn:aws:iam::aws:policy/AdministratorAccess, which allows action "*" on resource "*"',
      },
    ]);
  });

  it("reports a policy built with jsonencode as not checkable", () => {
    const stack = newStack();
    new IamPolicy(stack, "policy", { policy: Fn.jsonencode({ Statement: [] }) });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "iam-wildcard",
        path: "test/policy",
        message:
          'policy cannot be checked: the policy is the Terraform expression ${jsonencode({"Statement" = []})}; build it from a PolicyDocument or a JSON string',
      },
    ]);
  });
});
