import { Fn, TerraformStack, Testing, Token } from "cdktf";
import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  PolicyDocument,
  PolicyDocumentError,
  PolicyStatement,
  parsePolicyTemplate,
} from "../../../stacks/constructs/policy-document";
import { policyDocuments } from "../../../testing/policy-documents";
import { newStack } from "../aspects/helpers";

/** The local's value, as cdk.tf.json holds it (a Terraform template of the policy JSON). */
function templateOf(stack: TerraformStack, id: string): string {
  return JSON.parse(Testing.synth(stack)).locals[id];
}

function render(statement: PolicyStatement[]): string {
  const stack = newStack();
  new PolicyDocument(stack, "doc", { statement });
  return templateOf(stack, "doc");
}

describe("PolicyDocument", () => {
  it("renders the policy JSON at synth into a local named by its construct id; .json references it", () => {
    // GIVEN a trust policy, the way the code writes them
    const stack = newStack();
    const assume = new PolicyDocument(stack, "assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
        },
      ],
    });
    new IamRole(stack, "role", { name: "r", assumeRolePolicy: assume.json });
    // THEN
    const tf = JSON.parse(Testing.synth(stack));
    expect(tf.data).toBeUndefined();
    expect(tf.resource.aws_iam_role.role.assume_role_policy).toBe("${local.assume}");
    expect(tf.locals.assume).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}]}',
    );
  });

  it("keeps the data source's address shape inside constructs: <path>_<id>_<hash>", () => {
    const stack = newStack();
    new PolicyDocument(new Construct(stack, "archive"), "policy-document", {
      statement: [{ actions: ["s3:*"], resources: ["*"], effect: "Deny" }],
    });
    expect(Object.keys(JSON.parse(Testing.synth(stack)).locals)).toEqual([
      expect.stringMatching(/^archive_policy-document_[0-9A-F]{8}$/),
    ]);
  });

  it("writes keys in the order AWS prints them and groups principals by type and conditions by test", () => {
    const template = render([
      {
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] },
          { test: "ArnLike", variable: "aws:SourceArn", values: ["arn:aws:events:*"] },
          { test: "StringEquals", variable: "aws:SourceOrgID", values: ["o-1"] },
        ],
        resources: ["arn:aws:sqs:us-east-1:111111111111:q"],
        actions: ["sqs:SendMessage"],
        principals: [
          { type: "Service", identifiers: ["events.amazonaws.com"] },
          { type: "AWS", identifiers: ["arn:aws:iam::111111111111:root"] },
          { type: "Service", identifiers: ["sns.amazonaws.com"] },
        ],
        effect: "Allow",
        sid: "Send",
      },
      { sid: "Anyone", effect: "Deny", principals: [{ type: "*", identifiers: ["*"] }], notActions: ["sqs:Get*"] },
    ]);
    expect(JSON.parse(template).Statement).toEqual([
      {
        Sid: "Send",
        Effect: "Allow",
        Principal: {
          Service: ["events.amazonaws.com", "sns.amazonaws.com"],
          AWS: ["arn:aws:iam::111111111111:root"],
        },
        Action: ["sqs:SendMessage"],
        Resource: ["arn:aws:sqs:us-east-1:111111111111:q"],
        Condition: {
          StringEquals: { "aws:SourceAccount": ["111111111111"], "aws:SourceOrgID": ["o-1"] },
          ArnLike: { "aws:SourceArn": ["arn:aws:events:*"] },
        },
      },
      { Sid: "Anyone", Effect: "Deny", Principal: "*", NotAction: ["sqs:Get*"] },
    ]);
    expect(Object.keys(JSON.parse(template).Statement[0])).toEqual([
      "Sid",
      "Effect",
      "Principal",
      "Action",
      "Resource",
      "Condition",
    ]);
  });

  it("escapes literal ${ (IAM policy variables) to $${ and %{ to %%{; &{ is the data source's spelling of ${", () => {
    const template = render([
      {
        actions: ["s3:GetObject"],
        resources: ["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/&{aws:userid}/*"],
        condition: [{ test: "StringLike", variable: "s3:prefix", values: ["%{x}"] }],
      },
    ]);
    expect(template).toContain('"arn:aws:s3:::home/$${aws:username}/*","arn:aws:s3:::home/$${aws:userid}/*"');
    expect(template).toContain('["%%{x}"]');
    expect(template).not.toMatch(/(^|[^$])\$\{/);
  });

  it("keeps tokens inside strings as Terraform interpolations, next to escaped variables", () => {
    const stack = newStack();
    const bucket = new S3Bucket(stack, "b", { bucket: "x" });
    new PolicyDocument(stack, "doc", {
      statement: [
        {
          actions: ["s3:GetObject"],
          resources: [bucket.arn, `${bucket.arn}/home/\${aws:username}/*`, `arn:aws:s3:::${Fn.lower("A")}/*`],
        },
      ],
    });
    const template = templateOf(stack, "doc");
    expect(JSON.parse(template.replace(/\$\{lower\("A"\)\}/, "a")).Statement[0].Resource).toEqual([
      "${aws_s3_bucket.b.arn}",
      "${aws_s3_bucket.b.arn}/home/$${aws:username}/*",
      "arn:aws:s3:::a/*",
    ]);
    // Read back the way the baseline and the IAM proof read it: interpolations valued, escapes literal.
    expect(
      (parsePolicyTemplate(template, (e) => `<${e}>`) as { Statement: { Resource: string[] }[] }).Statement[0]!
        .Resource,
    ).toEqual(["<aws_s3_bucket.b.arn>", "<aws_s3_bucket.b.arn>/home/${aws:username}/*", 'arn:aws:s3:::<lower("A")>/*']);
    expect(policyDocuments(JSON.parse(Testing.synth(stack))).doc!.Statement[0]!.Resource![0]).toBe(
      "${aws_s3_bucket.b.arn}",
    );
  });

  describe("refuses what it cannot render at synth or IAM would not take as written", () => {
    const refusal = (statement: PolicyStatement[]) => () =>
      new PolicyDocument(newStack(), "doc", { statement: statement });

    it("a token for a whole list where a list of strings is needed", () => {
      const list = Token.asList(Fn.split(",", "a,b"));
      expect(refusal([{ actions: ["s3:GetObject"], resources: list }])).toThrow(
        new PolicyDocumentError(
          "policy document test/doc: statement 0 resources is a token for a whole list, which cannot be rendered at synth; pass a list of strings (tokens inside each string are fine)",
        ),
      );
      expect(
        refusal([
          {
            sid: "S",
            actions: ["s3:GetObject"],
            resources: ["*"],
            condition: [{ test: "StringEquals", variable: "aws:SourceVpce", values: list }],
          },
        ]),
      ).toThrow(
        'policy document test/doc: statement 0 (sid "S") condition[0] values is a token for a whole list, which cannot be rendered at synth; pass a list of strings (tokens inside each string are fine)',
      );
      expect(refusal([{ actions: ["s3:GetObject"], resources: ["*"], principals: Token.asAny(list) }])).toThrow(
        "policy document test/doc: statement 0 principals is a token for a whole list, which cannot be rendered at synth; pass a list of strings (tokens inside each string are fine)",
      );
    });

    it("a statement with no actions and no notActions, or with both", () => {
      expect(refusal([{ sid: "Empty", resources: ["*"] }])).toThrow(
        new PolicyDocumentError(
          'policy document test/doc: statement 0 (sid "Empty") has neither actions nor notActions; IAM requires one of them',
        ),
      );
      expect(refusal([{ actions: ["s3:GetObject"], notActions: ["s3:PutObject"], resources: ["*"] }])).toThrow(
        "policy document test/doc: statement 0 has both actions and notActions; IAM accepts only one of them",
      );
    });

    it("the same condition test and variable twice in one statement", () => {
      expect(
        refusal([
          { actions: ["s3:GetObject"], resources: ["*"] },
          {
            sid: "Twice",
            actions: ["s3:GetObject"],
            resources: ["*"],
            condition: [
              { test: "StringEquals", variable: "aws:SourceAccount", values: ["1"] },
              { test: "StringEquals", variable: "aws:SourceAccount", values: ["2"] },
            ],
          },
        ]),
      ).toThrow(
        new PolicyDocumentError(
          'policy document test/doc: statement 1 (sid "Twice") condition has StringEquals on aws:SourceAccount twice; IAM would merge or refuse them: give all values in one condition',
        ),
      );
    });

    it("a repeated sid, an unknown effect, a mixed * principal, a literal $ right before a token", () => {
      expect(
        refusal([
          { sid: "A", actions: ["s3:GetObject"], resources: ["*"] },
          { sid: "A", actions: ["s3:PutObject"], resources: ["*"] },
        ]),
      ).toThrow('policy document test/doc: statement 1 (sid "A") repeats a sid; sids must be unique');
      expect(refusal([{ effect: "allow", actions: ["s3:GetObject"], resources: ["*"] }])).toThrow(
        'policy document test/doc: statement 0 has effect "allow"; it must be "Allow" or "Deny"',
      );
      expect(
        refusal([
          {
            actions: ["s3:GetObject"],
            principals: [
              { type: "*", identifiers: ["*"] },
              { type: "AWS", identifiers: ["x"] },
            ],
          },
        ]),
      ).toThrow(
        'policy document test/doc: statement 0 principals[0] has type "*": it must be the only principal, with identifiers ["*"] (anyone)',
      );
      const stack = newStack();
      const bucket = new S3Bucket(stack, "b", { bucket: "x" });
      expect(
        () => new PolicyDocument(stack, "doc", { statement: [{ actions: ["s3:*"], resources: [`$${bucket.arn}`] }] }),
      ).toThrow(
        'policy document test/doc: a literal "$" right before a token would turn the interpolation into the escape "$${"',
      );
    });
  });
});
