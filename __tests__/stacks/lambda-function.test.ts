import { documentBlocks } from "../../testing/policy-documents";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App, Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { bundleLambda, lambdaBundleState, lambdaManifestPath } from "../../stacks/constructs/lambda-bundle";
import * as cdktfFs from "cdktf/lib/private/fs";
import { deterministicZip, lambdaArchive } from "../../stacks/constructs/lambda-archive";
import { LambdaFunction } from "../../stacks/constructs/lambda-function";
import { composeStacks } from "../../stacks/app";
import { synth, testConfig } from "../helpers/synth";

const KEY = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000";

function stackWith(extra: Partial<ConstructorParameters<typeof LambdaFunction>[2]> = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const fn = new LambdaFunction(stack, "fn", {
    entry: "starter",
    functionName: "ba-starter",
    description: "test function",
    accountId: "111111111111",
    region: "us-east-1",
    kmsKeyArn: KEY,
    statements: [
      {
        sid: "StartOne",
        actions: ["states:StartExecution"],
        resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:one"],
      },
    ],
    environment: { A: "1" },
    ...extra,
  });
  return { out: synth(stack), fn };
}

/** The logical id of the one resource (or data source) whose id starts with `prefix`. */
function idOf(block: Record<string, unknown> | undefined, prefix: string): string {
  const ids = Object.keys(block ?? {}).filter((k) => k.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one id starting with ${prefix}, found ${ids.join(", ") || "none"}`);
  return ids[0]!;
}

describe("LambdaFunction", () => {
  const { out, fn } = stackWith();
  const lambda = out.only("aws_lambda_function");
  const role = idOf(out.resources("aws_iam_role"), "fn_role_");
  const logGroup = idOf(out.resources("aws_cloudwatch_log_group"), "fn_log-group_");
  const docs = documentBlocks(out.tf);

  it("runs Node.js 22 on arm64 from the bundled asset, traced, with its code hash from the asset", () => {
    expect(lambda).toMatchObject({
      function_name: "ba-starter",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "index.handler",
      memory_size: 256,
      timeout: 30,
      tracing_config: { mode: "Active" },
      source_code_hash: fn.asset.assetHash,
      filename: fn.asset.path,
    });
    expect(lambda.source_code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(lambda.filename).toMatch(new RegExp(`^assets/fn_code_[0-9A-F]+/${fn.asset.assetHash}/archive\\.zip$`));
    expect(lambda.role).toBe(`\${aws_iam_role.${role}.arn}`);
    expect(lambda.environment.variables).toEqual({
      A: "1",
      // the metrics' Pipeline dimension (core/metrics.ts)
      BACKUP_ACTIONS_PIPELINE: "pipeline-111111111111-us-east-1",
      NODE_OPTIONS: "--enable-source-maps",
      POWERTOOLS_LOG_LEVEL: "INFO",
      POWERTOOLS_SERVICE_NAME: "ba-starter",
    });
    expect(lambda.vpc_config).toBeUndefined();
    expect(lambda.reserved_concurrent_executions).toBeUndefined();
  });

  it("writes to its own KMS-encrypted log group with retention, created before the function", () => {
    expect(out.only("aws_cloudwatch_log_group")).toEqual({
      name: "/aws/lambda/ba-starter",
      retention_in_days: 365,
      kms_key_id: KEY,
    });
    expect(lambda.depends_on).toEqual([`aws_cloudwatch_log_group.${logGroup}`]);
    expect(lambda.logging_config).toEqual({
      log_format: "JSON",
      log_group: `\${aws_cloudwatch_log_group.${logGroup}.name}`,
    });
  });

  it("has a role only Lambda assumes, with exactly its logs, traces and the given statements", () => {
    expect(docs[idOf(docs, "fn_assume_")].statement).toEqual([
      { actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }] },
    ]);
    const policy = idOf(docs, "fn_policy_");
    expect(docs[policy].statement).toEqual([
      {
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`\${aws_cloudwatch_log_group.${logGroup}.arn}:*`],
      },
      { sid: "WriteTraces", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
      {
        sid: "StartOne",
        actions: ["states:StartExecution"],
        resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:one"],
      },
    ]);
    expect(out.only("aws_iam_role_policy")).toMatchObject({
      role: `\${aws_iam_role.${role}.id}`,
      policy: `\${local.${policy}}`,
    });
    expect(out.json).not.toMatch(/arn:aws:iam::aws:policy/); // no managed policies
  });

  it("takes memory, timeout, VPC and reserved concurrency from props (and may manage its ENIs only then)", () => {
    const { out: vpcOut } = stackWith({
      memorySize: 512,
      timeout: 60,
      reservedConcurrency: 3,
      logRetentionDays: 30,
      vpc: { subnetIds: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0123456789abcdef0"] },
    });
    expect(vpcOut.only("aws_lambda_function")).toMatchObject({
      memory_size: 512,
      timeout: 60,
      reserved_concurrent_executions: 3,
      vpc_config: { subnet_ids: ["subnet-0123456789abcdef0"], security_group_ids: ["sg-0123456789abcdef0"] },
    });
    expect(vpcOut.only("aws_cloudwatch_log_group").retention_in_days).toBe(30);
    const statements = Object.values<any>(documentBlocks(vpcOut.tf)).find((d) => d.statement.length === 4).statement;
    expect(statements[2]).toEqual({
      sid: "ManageVpcNetworkInterfaces",
      actions: [
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
      ],
      resources: ["*"],
    });
  });

  it("refuses an environment over Lambda's 4 KB and a function without permissions", () => {
    expect(() => stackWith({ environment: { BIG: "x".repeat(4096) } })).toThrow(
      /ba-starter: its environment is \d+ bytes; Lambda allows 4096 in total/,
    );
    // Lambda measures the variables as one JSON object: each '"' of a value counts twice (escaped), so
    // these 2,053 bytes of key and value are 4,110 bytes to Lambda.
    expect(() => stackWith({ environment: { BIG: '"'.repeat(2050) } })).toThrow(
      /ba-starter: its environment is \d+ bytes; Lambda allows 4096 in total/,
    );
    expect(() => stackWith({ statements: [] })).toThrow(
      "ba-starter: a function needs at least one permission statement",
    );
  });
});

describe("bundleLambda", () => {
  it("bundles handler.ts into .gen/lambdas/<name> (minified, source map, AWS SDK included) with a content hash", () => {
    const bundle = bundleLambda("starter");
    expect(path.relative(path.join(__dirname, "..", ".."), bundle.dir)).toBe(path.join(".gen", "lambdas", "starter"));
    const js = readFileSync(path.join(bundle.dir, "index.js"), "utf8");
    expect(existsSync(path.join(bundle.dir, "index.js.map"))).toBe(true);
    // bundled, not the Lambda runtime's: the one require left is the SDK's optional CRT signer (SigV4a, not installed)
    const required = new Set(js.match(/require\("@(aws-sdk|smithy)\/[^"]+"\)/g));
    expect([...required]).toEqual(['require("@aws-sdk/signature-v4-crt")']);
    expect(bundle.inputs.some((i) => i.startsWith("node_modules/@aws-sdk/client-sfn/"))).toBe(true);
    expect(js.length / js.split("\n").length).toBeGreaterThan(1000); // minified: long lines
    expect(js).toContain("ExecutionAlreadyExists");
    expect(bundleLambda("starter").hash).toBe(bundle.hash);
  });

  describe("runs esbuild only when the bundle on disk is not fresh (lambdaBundleState)", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "lambda-manifest-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    let bundle: ReturnType<typeof bundleLambda>;
    let manifest: any;
    beforeAll(() => {
      bundle = bundleLambda("starter");
      manifest = JSON.parse(readFileSync(lambdaManifestPath("starter"), "utf8"));
    });
    /** The state read from a copy of the record, changed by `edit`. */
    const stateWith = (edit: (m: any) => void) => {
      const copy = structuredClone(manifest);
      edit(copy);
      const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(file, JSON.stringify(copy));
      return lambdaBundleState("starter", file);
    };
    const HANDLER = "lambdas/starter/handler.ts";

    it("a build records every input (sources, the SDK's files) and npm's install stamp; the bundle is fresh", () => {
      expect(manifest.inputs).toEqual(bundle.inputs);
      expect(Object.keys(manifest.files)).toEqual(
        expect.arrayContaining([HANDLER, "core/errors.ts", "node_modules/.package-lock.json"]),
      );
      expect(Object.keys(manifest.files).some((f) => f.startsWith("node_modules/@aws-sdk/client-sfn/"))).toBe(true);
      expect(lambdaBundleState("starter")).toEqual({ fresh: true, bundle });
    });

    it("a touched but unchanged input keeps it fresh (SHA-256); an edited, removed or new-stamped one does not", () => {
      expect(stateWith((m) => (m.files[HANDLER].mtimeMs -= 1000)).fresh).toBe(true);
      expect(stateWith((m) => (m.files[HANDLER].sha256 = "0".repeat(64)))).toEqual({ fresh: true, bundle });
      expect(
        stateWith((m) => {
          m.files[HANDLER].mtimeMs -= 1000;
          m.files[HANDLER].sha256 = "0".repeat(64);
        }),
      ).toEqual({ fresh: false, reason: `${HANDLER} changed` });
      expect(stateWith((m) => (m.files[HANDLER].size += 1))).toEqual({ fresh: false, reason: `${HANDLER} changed` });
      expect(stateWith((m) => (m.files["lambdas/starter/gone.ts"] = m.files[HANDLER]))).toEqual({
        fresh: false,
        reason: "lambdas/starter/gone.ts is gone",
      });
      expect(stateWith((m) => (m.files["node_modules/.package-lock.json"].size += 1))).toEqual({
        fresh: false,
        reason: "node_modules/.package-lock.json changed",
      });
    });

    it("another esbuild or other options, another bundle on disk or no record: not fresh", () => {
      expect(stateWith((m) => (m.key = "0".repeat(64)))).toEqual({
        fresh: false,
        reason: "built by another esbuild or with other options",
      });
      expect(stateWith((m) => (m.hash = "0".repeat(64)))).toEqual({
        fresh: false,
        reason: ".gen/lambdas/starter is not the recorded bundle",
      });
      expect(lambdaBundleState("starter", path.join(dir, "none.json"))).toEqual({
        fresh: false,
        reason: `no record of a build (${path.relative(path.join(__dirname, "..", ".."), path.join(dir, "none.json"))})`,
      });
    });
  });

  it("names a missing entry clearly", () => {
    expect(() => bundleLambda("no-such-lambda")).toThrow(
      'Lambda "no-such-lambda": lambdas/no-such-lambda/handler.ts does not exist',
    );
  });
});

describe("the deployed zip (lambda-archive.ts)", () => {
  it("has the same bytes for the same bundle, whatever the files' times, and unzips to the bundle", () => {
    // Archives of its own: other jest workers synthesize from the shared ARCHIVE_DIR meanwhile.
    const bundle = bundleLambda("verify");
    const roots = [
      mkdtempSync(path.join(tmpdir(), "lambda-archives-")),
      mkdtempSync(path.join(tmpdir(), "lambda-archives-")),
    ];
    const first = readFileSync(lambdaArchive("verify", bundle, roots[0]));
    // Other file times: a copy of the bundle with new mtimes zips to the same bytes.
    const copy = mkdtempSync(path.join(tmpdir(), "lambda-bundle-"));
    for (const f of readdirSync(bundle.dir)) {
      writeFileSync(path.join(copy, f), readFileSync(path.join(bundle.dir, f)));
      utimesSync(path.join(copy, f), new Date(), new Date(2001, 1, 1));
    }
    const second = readFileSync(lambdaArchive("verify", { ...bundle, dir: copy }, roots[1]));
    for (const dir of [...roots, copy]) rmSync(dir, { recursive: true, force: true });
    expect(Buffer.compare(first, second)).toBe(0);

    const out = mkdtempSync(path.join(tmpdir(), "lambda-zip-"));
    const zipFile = path.join(out, "archive.zip");
    writeFileSync(zipFile, second);
    const listing = spawnSync("unzip", ["-Z", zipFile], { encoding: "utf8" });
    expect(listing.status).toBe(0);
    // index.js and its map, each a regular file 0644 of 1980-01-01 00:00
    expect(listing.stdout.split("\n").filter((l) => l.startsWith("-"))).toEqual([
      expect.stringMatching(/^-rw-r--r-- .* defN 80-Jan-01 00:00 index\.js$/),
      expect.stringMatching(/^-rw-r--r-- .* defN 80-Jan-01 00:00 index\.js\.map$/),
    ]);
    expect(spawnSync("unzip", ["-q", zipFile, "-d", path.join(out, "x")]).status).toBe(0);
    for (const f of readdirSync(bundle.dir))
      expect(readFileSync(path.join(out, "x", f)).equals(readFileSync(path.join(bundle.dir, f)))).toBe(true);
    rmSync(out, { recursive: true, force: true });
  });

  it("depends on names and contents only, in any order, and refuses unsafe names", () => {
    const a = { name: "a.js", data: Buffer.from("one") };
    const b = { name: "b.js", data: Buffer.from("two") };
    expect(deterministicZip([a, b]).equals(deterministicZip([b, a]))).toBe(true);
    expect(deterministicZip([a, b]).equals(deterministicZip([a, { ...b, data: Buffer.from("TWO") }]))).toBe(false);
    for (const name of ["", "/etc/passwd", "../x", "a/../../x"])
      expect(() => deterministicZip([{ name, data: Buffer.alloc(0) }])).toThrow(/unsafe entry name/);
  });

  it("is the same bytes in every synthesis of the pipeline, whatever the output directory and the files' times", () => {
    // GIVEN two syntheses of the same config into two output directories
    const zipsOf = (outdir: string) => {
      const app = new App({ outdir });
      composeStacks(app, testConfig(), { warn: () => undefined });
      app.synth();
      const assets = path.join(outdir, "stacks", "pipeline-111111111111-us-east-1", "assets");
      return Object.fromEntries(
        readdirSync(assets)
          .flatMap((id) =>
            readdirSync(path.join(assets, id)).map((hash) => [id, path.join(assets, id, hash, "archive.zip")] as const),
          )
          .filter(([, zip]) => existsSync(zip))
          .map(([id, zip]) => [id, readFileSync(zip)]),
      );
    };
    const outdirs = [mkdtempSync(path.join(tmpdir(), "synth-a-")), mkdtempSync(path.join(tmpdir(), "synth-b-"))];
    const first = zipsOf(outdirs[0]!);
    const second = zipsOf(outdirs[1]!);
    // THEN every Lambda's zip is byte-identical, and it is the zip of the bundle's files under any other times
    expect(Object.keys(first).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(second)).toEqual(Object.keys(first));
    for (const id of Object.keys(first)) expect({ [id]: first[id]!.equals(second[id]!) }).toEqual({ [id]: true });
    const bundle = bundleLambda("verify");
    const copy = mkdtempSync(path.join(tmpdir(), "lambda-bundle-"));
    for (const f of readdirSync(bundle.dir)) {
      writeFileSync(path.join(copy, f), readFileSync(path.join(bundle.dir, f)));
      utimesSync(path.join(copy, f), new Date(2030, 0, 1), new Date(2001, 1, 1));
    }
    const fresh = mkdtempSync(path.join(tmpdir(), "lambda-archives-"));
    const rezipped = readFileSync(lambdaArchive("verify", { ...bundle, dir: copy }, fresh));
    expect(Object.values(first).filter((zip) => zip.equals(rezipped))).toHaveLength(1);
    for (const dir of [...outdirs, copy, fresh]) rmSync(dir, { recursive: true, force: true });
  });

  it("is what synthesis ships: no cdktf archiver runs, and the asset is the zip", () => {
    const archiver = jest.spyOn(cdktfFs, "archiveSync");
    try {
      const { out, fn } = stackWith();
      expect(archiver).not.toHaveBeenCalled();
      expect(fn.asset.path).toMatch(/archive\.zip$/);
      expect(JSON.stringify(out)).toContain(`/${fn.asset.assetHash}/archive.zip`);
    } finally {
      archiver.mockRestore();
    }
  });
});
