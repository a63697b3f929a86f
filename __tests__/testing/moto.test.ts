/**
 * The bench's moto server: the launcher's patches for moto 5.2.1, the config
 * it sets, and the launcher's process lifetime.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { freePort } from "../../testing/free-port";
import os from "node:os";
import path from "node:path";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  ListStateMachineVersionsCommand,
  SFNClient,
  StartExecutionCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  DeleteVolumeCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { completeRestores, restoreRequests, setArchiveTier } from "../../testing/moto/s3-restores";
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  DescribeExportTasksCommand,
  RDSClient,
  StartExportTaskCommand,
} from "@aws-sdk/client-rds";
import { createHash, randomBytes } from "node:crypto";
import { motoEndpoint, motoMissing } from "../../testing/moto/availability";
import { LAUNCHER_PATH } from "../../testing/moto/bench-env";
import { awsClientConfig } from "../../testing/moto/client-config";
import { clearStaleLauncher, findPythonWithMoto, isAlive, portInUse } from "../../testing/moto/process-control";
import { describeWithPrereqs } from "../../testing/prereq";
import { EbsDirectClient } from "../../batch-worker/src/ebs-direct";

const ROLE_ARN = "arn:aws:iam::123456789012:role/bench-sfn";
const PASS_DEFINITION = JSON.stringify({
  StartAt: "Hello",
  States: { Hello: { Type: "Pass", Result: { greeting: "hello" }, ResultPath: "$.out", End: true } },
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForExecution(sfn: SFNClient, executionArn: string): Promise<{ status?: string; output?: string }> {
  for (let i = 0; i < 100; i++) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== "RUNNING") return execution;
    await sleep(100);
  }
  throw new Error(`execution ${executionArn} still RUNNING after 10 s`);
}

describeWithPrereqs("moto launcher patches (moto 5.2.1)", motoMissing(), () => {
  const sfn = new SFNClient(awsClientConfig());
  afterAll(() => sfn.destroy());

  test("the SDK reaches moto through AWS_ENDPOINT_URL alone (no endpoint in the client config)", async () => {
    const client = new SFNClient(awsClientConfig());
    const seen: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { hostname?: string; port?: number };
        seen.push(`${request.hostname}:${request.port}`);
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    await client.send(new ListStateMachinesCommand({}));
    client.destroy();
    expect(seen).toEqual([`127.0.0.1:${process.env.MOTO_PORT}`]);
  });

  test("two executions of one state machine both succeed (StateMachine __deepcopy__ patch)", async () => {
    // GIVEN a state machine with one Pass state
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: "bench-two-runs", definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    // WHEN it is started twice (moto 5.2.1 answered the second StartExecution with HTTP 500)
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "first", input: '{"n":1}' }));
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: "second", input: '{"n":2}' }));
    // THEN both run the Pass state to the end (execute_state_machine=true evaluates it)
    const results = await Promise.all([first, second].map((e) => waitForExecution(sfn, e.executionArn!)));
    expect(results.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
    expect(results.map((r) => JSON.parse(r.output!))).toEqual([
      { n: 1, out: { greeting: "hello" } },
      { n: 2, out: { greeting: "hello" } },
    ]);
  });

  test("a machine's first execution succeeds while another machine holds executions (same deepcopy bug)", async () => {
    // moto 5.2.1's copy also reached the whole backend through StateMachine.backend, so any
    // execution anywhere made every later StartExecution fail.
    const one = await sfn.send(
      new CreateStateMachineCommand({ name: "bench-one", definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const two = await sfn.send(
      new CreateStateMachineCommand({ name: "bench-other", definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: one.stateMachineArn, input: "{}" }));
    const second = await sfn.send(new StartExecutionCommand({ stateMachineArn: two.stateMachineArn, input: "{}" }));
    const results = await Promise.all([first, second].map((e) => waitForExecution(sfn, e.executionArn!)));
    expect(results.map((r) => r.status)).toEqual(["SUCCEEDED", "SUCCEEDED"]);
  });

  test("executions started without a name get distinct generated names (unnamed StartExecution patch)", async () => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: "bench-unnamed", definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    const a = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    const b = await sfn.send(new StartExecutionCommand({ stateMachineArn }));
    expect(a.executionArn).not.toBe(b.executionArn);
    expect(a.executionArn).toMatch(/:execution:bench-unnamed:[0-9a-f-]{36}$/);
    expect((await waitForExecution(sfn, b.executionArn!)).status).toBe("SUCCEEDED");
  });

  test("ValidateStateMachineDefinition answers OK for a valid definition", async () => {
    const result = await sfn.send(
      new ValidateStateMachineDefinitionCommand({ definition: PASS_DEFINITION, type: "STANDARD" }),
    );
    expect(result.result).toBe("OK");
    expect(result.diagnostics).toEqual([]);
  });

  test("ValidateStateMachineDefinition reports a JSON syntax error as INVALID_JSON_DESCRIPTION", async () => {
    const result = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition: '{"StartAt": "A",' }));
    expect(result.result).toBe("FAIL");
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ severity: "ERROR", code: "INVALID_JSON_DESCRIPTION" }),
    ]);
  });

  test("ValidateStateMachineDefinition reports an unknown state type as SCHEMA_VALIDATION_FAILED", async () => {
    const definition = JSON.stringify({ StartAt: "A", States: { A: { Type: "Teleport", End: true } } });
    const result = await sfn.send(new ValidateStateMachineDefinitionCommand({ definition }));
    expect(result.result).toBe("FAIL");
    expect(result.diagnostics?.[0]).toMatchObject({ severity: "ERROR", code: "SCHEMA_VALIDATION_FAILED" });
    expect(result.diagnostics?.[0]?.message).toContain("Teleport");
  });

  test("ListStateMachineVersions lists published versions newest first (ListStateMachineVersions patch)", async () => {
    // GIVEN a machine published at creation and again on update
    const { stateMachineArn, stateMachineVersionArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: "bench-versions",
        definition: PASS_DEFINITION,
        roleArn: ROLE_ARN,
        publish: true,
      }),
    );
    const updated = await sfn.send(
      new UpdateStateMachineCommand({
        stateMachineArn,
        definition: PASS_DEFINITION.replace("hello", "again"),
        publish: true,
      }),
    );
    // WHEN its versions are listed (the Terraform AWS provider does this for every aws_sfn_state_machine)
    const { stateMachineVersions } = await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn }));
    // THEN both versions come back, newest first
    expect(stateMachineVersions?.map((v) => v.stateMachineVersionArn)).toEqual([
      updated.stateMachineVersionArn,
      stateMachineVersionArn,
    ]);
    expect(stateMachineVersions?.[0]?.creationDate).toBeInstanceOf(Date);
  });

  test("ListStateMachineVersions of a machine never published is empty", async () => {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: "bench-no-versions", definition: PASS_DEFINITION, roleArn: ROLE_ARN }),
    );
    expect((await sfn.send(new ListStateMachineVersionsCommand({ stateMachineArn }))).stateMachineVersions).toEqual([]);
  });

  test("security group rules keep the description of a group or prefix-list reference (rule description patch)", async () => {
    const ec2 = new EC2Client(awsClientConfig());
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }))).Vpc!.VpcId!;
    const a = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "desc-a", Description: "a", VpcId: vpc })))
      .GroupId!;
    const b = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "desc-b", Description: "b", VpcId: vpc })))
      .GroupId!;
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: a,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: b, Description: "from b" }] },
        ],
      }),
    );
    const prefixList = (await ec2.send(new DescribeManagedPrefixListsCommand({}))).PrefixLists![0]!.PrefixListId!;
    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: a,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            PrefixListIds: [{ PrefixListId: prefixList, Description: "to the prefix list" }],
          },
        ],
      }),
    );
    const rules = (
      await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [a] }] }))
    ).SecurityGroupRules!;
    expect(
      rules
        .filter((r) => r.ReferencedGroupInfo || r.PrefixListId)
        .map((r) => r.Description)
        .sort(),
    ).toEqual(["from b", "to the prefix list"]);
  });

  test("HeadObject reports a multipart object's composite checksum as S3 does: <base64>-<parts>, COMPOSITE (HeadObject checksum patch)", async () => {
    // GIVEN an object completed from two parts uploaded with SHA-256 checksums
    const s3 = new S3Client({
      ...awsClientConfig(),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    const Bucket = `head-checksum-${randomBytes(4).toString("hex")}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const digests = parts.map((p) => createHash("sha256").update(p).digest());
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: "mp", ChecksumAlgorithm: "SHA256" }),
    );
    const completed = [];
    for (const [i, Body] of parts.entries()) {
      const r = await s3.send(
        new UploadPartCommand({
          Bucket,
          Key: "mp",
          UploadId,
          PartNumber: i + 1,
          Body,
          ChecksumSHA256: digests[i]!.toString("base64"),
        }),
      );
      completed.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumSHA256: digests[i]!.toString("base64") });
    }
    await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: "mp", UploadId, MultipartUpload: { Parts: completed } }),
    );
    const composite = `${createHash("sha256").update(Buffer.concat(digests)).digest("base64")}-2`;

    // WHEN it is read with checksum mode on
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "mp", ChecksumMode: "ENABLED" }));
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: "mp", ChecksumMode: "ENABLED" }));
    await get.Body!.transformToByteArray();

    // THEN HeadObject answers what moto's own (unpatched) GetObject answers, which is S3's form
    expect(get).toMatchObject({ ChecksumSHA256: composite, ChecksumType: "COMPOSITE" });
    expect(head).toMatchObject({ ChecksumSHA256: composite, ChecksumType: "COMPOSITE" });
    // and leaves alone what it did right: no checksum unless asked, a single PUT's plain SHA-256
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "mp" }))).ChecksumSHA256).toBeUndefined();
    const body = randomBytes(100);
    await s3.send(new PutObjectCommand({ Bucket, Key: "put", Body: body, ChecksumAlgorithm: "SHA256" }));
    const plain = await s3.send(new HeadObjectCommand({ Bucket, Key: "put", ChecksumMode: "ENABLED" }));
    expect(plain.ChecksumSHA256).toBe(createHash("sha256").update(body).digest("base64"));
    s3.destroy();
  });

  test("PutObject and UploadPart refuse a SHA-256 that is not the body's (BadDigest), as S3 does", async () => {
    const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
    const Bucket = `checksums-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    const body = randomBytes(1000);
    const right = createHash("sha256").update(body).digest("base64");
    const wrong = createHash("sha256").update("something else").digest("base64");
    await expect(
      s3.send(new PutObjectCommand({ Bucket, Key: "bad", Body: body, ChecksumSHA256: wrong })),
    ).rejects.toMatchObject({ name: "BadDigest" });
    await s3.send(new PutObjectCommand({ Bucket, Key: "good", Body: body, ChecksumSHA256: right }));
    // The SDK's own checksum (sent as an aws-chunked trailer) is checked and accepted.
    await s3.send(new PutObjectCommand({ Bucket, Key: "sdk", Body: body, ChecksumAlgorithm: "SHA256" }));
    await s3.send(new PutObjectCommand({ Bucket, Key: "default", Body: body }));
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "mp", ChecksumAlgorithm: "SHA256" }));
    const part = { Bucket, Key: "mp", UploadId: upload.UploadId, PartNumber: 1, Body: body };
    await expect(s3.send(new UploadPartCommand({ ...part, ChecksumSHA256: wrong }))).rejects.toMatchObject({
      name: "BadDigest",
    });
    const ok = await s3.send(new UploadPartCommand({ ...part, ChecksumSHA256: right }));
    expect(ok.ETag).toEqual(expect.any(String));
    s3.destroy();
  });

  test("an archived object's restore stays under way until the bench completes it, refused a second time with 409 (archive restores patch)", async () => {
    const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
    const Bucket = `restores-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    for (const [Key, StorageClass] of [
      ["a/glacier", "GLACIER"],
      ["a/deep", "DEEP_ARCHIVE"],
      ["a/standard", "STANDARD"],
      ["a/instant", "GLACIER_IR"],
    ] as const)
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key, StorageClass }));
    const restore = (Key: string, RestoreRequest: Record<string, unknown>) =>
      s3.send(new RestoreObjectCommand({ Bucket, Key, RestoreRequest }));
    const bulk = { Days: 3, GlacierJobParameters: { Tier: "Bulk" } };

    // GIVEN archived objects: unreadable, no x-amz-restore; what S3 refuses, refused
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: "a/glacier" }))).rejects.toMatchObject({
      name: "InvalidObjectState",
    });
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "a/glacier" }))).Restore).toBeUndefined();
    for (const Key of ["a/standard", "a/instant"])
      await expect(restore(Key, bulk)).rejects.toMatchObject({
        name: "InvalidObjectState",
        $metadata: { httpStatusCode: 403 },
      });
    await expect(restore("a/glacier", { GlacierJobParameters: { Tier: "Bulk" } })).rejects.toMatchObject({
      name: "InvalidArgument",
    });
    await expect(restore("a/deep", { Days: 1, GlacierJobParameters: { Tier: "Expedited" } })).rejects.toMatchObject({
      name: "InvalidArgument",
    });

    // WHEN a restore is asked: 202, and it is under way (moto 5.2.1 alone restored at once and answered 200 again)
    expect((await restore("a/glacier", bulk)).$metadata.httpStatusCode).toBe(202);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "a/glacier" }))).Restore).toBe('ongoing-request="true"');
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: "a/glacier" }))).rejects.toMatchObject({
      name: "InvalidObjectState",
    });
    await expect(restore("a/glacier", bulk)).rejects.toMatchObject({
      name: "RestoreAlreadyInProgress",
      $metadata: { httpStatusCode: 409 },
    });

    // THEN once the bench lets its hours pass: a restored copy for Days, readable; a new request moves its expiry (200)
    expect(await completeRestores(Bucket, "a/")).toEqual(["a/glacier"]);
    const done = (await s3.send(new HeadObjectCommand({ Bucket, Key: "a/glacier" }))).Restore!;
    const expiry = Date.parse(/expiry-date="([^"]+)"/.exec(done)![1]!);
    expect(done).toMatch(/^ongoing-request="false", expiry-date="\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"$/);
    expect(expiry - Date.now()).toBeGreaterThan(3 * 86400_000 - 60_000);
    const read = await s3.send(new GetObjectCommand({ Bucket, Key: "a/glacier" }));
    expect(await read.Body!.transformToString()).toBe("a/glacier");
    expect((await restore("a/glacier", { ...bulk, Days: 5 })).$metadata.httpStatusCode).toBe(200);
    expect(
      Date.parse(
        /expiry-date="([^"]+)"/.exec(
          (await s3.send(new HeadObjectCommand({ Bucket, Key: "a/glacier" }))).Restore!,
        )![1]!,
      ),
    ).toBeGreaterThan(expiry + 86400_000);
    // an object written again under the key is a new archived object, not restored
    await s3.send(new PutObjectCommand({ Bucket, Key: "a/glacier", Body: "again", StorageClass: "GLACIER" }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "a/glacier" }))).Restore).toBeUndefined();
    expect((await restoreRequests(Bucket)).map((r) => `${r.key} ${r.tier} ${r.days} ${r.answer}`)).toEqual([
      "a/glacier Bulk 3 202",
      "a/glacier Bulk 3 409",
      "a/glacier Bulk 5 200",
    ]);
    s3.destroy();
  });

  test("an Intelligent-Tiering object in an archive tier: ArchiveStatus, unreadable, restored without Days back to Frequent Access (archive restores patch)", async () => {
    const s3 = new S3Client({ ...awsClientConfig(), forcePathStyle: true });
    const Bucket = `tiers-${Date.now()}`;
    await s3.send(new CreateBucketCommand({ Bucket }));
    for (const Key of ["cold", "deep", "warm"])
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key, StorageClass: "INTELLIGENT_TIERING" }));
    await setArchiveTier(Bucket, "cold", "ARCHIVE_ACCESS");
    await setArchiveTier(Bucket, "deep", "DEEP_ARCHIVE_ACCESS");
    const restore = (Key: string, RestoreRequest: Record<string, unknown>) =>
      s3.send(new RestoreObjectCommand({ Bucket, Key, RestoreRequest }));

    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "cold" }))).ArchiveStatus).toBe("ARCHIVE_ACCESS");
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "warm" }))).ArchiveStatus).toBeUndefined();
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: "cold" }))).rejects.toMatchObject({
      name: "InvalidObjectState",
    });
    await expect(restore("warm", { GlacierJobParameters: { Tier: "Bulk" } })).rejects.toMatchObject({
      name: "ObjectAlreadyInActiveTierError",
      $metadata: { httpStatusCode: 403 },
    });
    await expect(restore("cold", { Days: 3, GlacierJobParameters: { Tier: "Bulk" } })).rejects.toMatchObject({
      name: "InvalidArgument",
    });
    await expect(restore("deep", { GlacierJobParameters: { Tier: "Expedited" } })).rejects.toMatchObject({
      name: "InvalidArgument",
    });

    expect((await restore("cold", { GlacierJobParameters: { Tier: "Bulk" } })).$metadata.httpStatusCode).toBe(202);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "cold" }))).Restore).toBe('ongoing-request="true"');
    await expect(restore("cold", { GlacierJobParameters: { Tier: "Bulk" } })).rejects.toMatchObject({
      name: "RestoreAlreadyInProgress",
    });
    expect(await completeRestores(Bucket)).toEqual(["cold"]);
    const back = await s3.send(new HeadObjectCommand({ Bucket, Key: "cold" }));
    expect(back.ArchiveStatus).toBeUndefined();
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: "cold" }))).Body!.transformToString()).toBe("cold");
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: "deep" }))).ArchiveStatus).toBe("DEEP_ARCHIVE_ACCESS");
    s3.destroy();
  });

  test("CreateVolume honours its ClientToken: a repeat returns the same volume, another request under it is refused", async () => {
    const ec2 = new EC2Client(awsClientConfig());
    const request = {
      AvailabilityZone: "us-east-1a",
      Size: 1,
      VolumeType: "gp3" as const,
      ClientToken: `token-${Date.now()}`,
    };
    const first = await ec2.send(new CreateVolumeCommand(request));
    const again = await ec2.send(new CreateVolumeCommand(request));
    expect(again.VolumeId).toBe(first.VolumeId);
    await expect(ec2.send(new CreateVolumeCommand({ ...request, Size: 2 }))).rejects.toMatchObject({
      name: "IdempotentParameterMismatch",
    });
    // Without a token every call is a new volume, as in EC2.
    const { ClientToken: _none, ...untokened } = request;
    const [a, b] = [
      await ec2.send(new CreateVolumeCommand(untokened)),
      await ec2.send(new CreateVolumeCommand(untokened)),
    ];
    expect(a.VolumeId).not.toBe(b.VolumeId);
    for (const id of [first.VolumeId, a.VolumeId, b.VolumeId])
      await ec2.send(new DeleteVolumeCommand({ VolumeId: id! }));
    ec2.destroy();
  });

  test("EBS direct APIs answer as AWS: 512 KiB blocks listed by number in pages, unknown snapshots and bad blocks refused", async () => {
    const ebs = new EbsDirectClient({ region: awsClientConfig().region });
    const block = (n: number) => Buffer.alloc(524288, n % 251);
    const { SnapshotId: id, BlockSize } = await ebs.startSnapshot(1);
    expect(BlockSize).toBe(524288);
    // a block AWS refuses: not 512 KiB, or a checksum that is not the data's
    await expect(ebs.putSnapshotBlock(id, 0, Buffer.alloc(512))).rejects.toMatchObject({
      code: "ValidationException",
      status: 400,
    });
    await expect(ebs.putSnapshotBlock(id, 0, block(1), "A".repeat(43) + "=")).rejects.toMatchObject({
      code: "ValidationException",
    });
    // a pending snapshot cannot be read yet
    await expect(ebs.listSnapshotBlocks(id)).rejects.toMatchObject({ code: "ValidationException" });
    // written out of order, 150 blocks: listed by number (integers), in pages of MaxResults
    const indexes = Array.from({ length: 150 }, (_, i) => 149 - i);
    for (const i of indexes) await ebs.putSnapshotBlock(id, i * 3, block(i));
    await ebs.completeSnapshot(id, indexes.length);
    const page = await ebs.send("ListSnapshotBlocks", "GET", `/snapshots/${id}/blocks`, {
      query: { maxResults: "100" },
    });
    const first = (await page.json()) as { Blocks: { BlockIndex: number; BlockToken: string }[]; NextToken?: string };
    expect(first.Blocks.map((b) => b.BlockIndex)).toEqual(Array.from({ length: 100 }, (_, i) => i * 3));
    expect(first.NextToken).toEqual(expect.any(String));
    const rest = await ebs.listSnapshotBlocks(id, first.NextToken);
    expect(rest.Blocks.map((b) => b.BlockIndex)).toEqual(Array.from({ length: 50 }, (_, i) => (100 + i) * 3));
    expect(rest.NextToken).toBeUndefined();
    // a block reads back with its SHA-256; a token of another block is refused
    const got = await ebs.getSnapshotBlock(id, 3, first.Blocks[1]!.BlockToken);
    expect(got.checksum).toBe(createHash("sha256").update(block(1)).digest("base64"));
    await expect(ebs.getSnapshotBlock(id, 3, first.Blocks[2]!.BlockToken)).rejects.toMatchObject({
      code: "ValidationException",
    });
    await expect(ebs.listSnapshotBlocks("snap-0123456789abcdef0")).rejects.toMatchObject({
      code: "ResourceNotFoundException",
      status: 404,
    });
    ebs.destroy();
  });

  test("moto runs Batch and Lambda without Docker", async () => {
    const response = await fetch(`${motoEndpoint()}/moto-api/config`);
    expect(await response.json()).toMatchObject({ batch: { use_docker: false }, lambda: { use_docker: false } });
  });

  test("a second bench on the same port is refused with a clear message, and the running launcher is left alone", async () => {
    const port = Number(process.env.MOTO_PORT);
    // The launcher's parent is this jest run, which is alive: not stale.
    await expect(clearStaleLauncher(port)).rejects.toThrow(/another running test run.*set MOTO_PORT/);
    expect(await portInUse(port)).toBe(true);
  });
});

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null | "timeout"> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve("timeout"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describeWithPrereqs("moto launcher patches for RDS snapshots of AWS Backup (moto 5.2.1)", motoMissing(), () => {
  const rds = new RDSClient(awsClientConfig());
  afterAll(() => rds.destroy());
  const backupId = "awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890";

  test("CreateDBSnapshot takes AWS Backup's awsbackup:job-<uuid> name, and still refuses other colons", async () => {
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: "bench-orders",
        Engine: "postgres",
        DBInstanceClass: "db.t3.micro",
        AllocatedStorage: 20,
        MasterUsername: "admin",
        MasterUserPassword: "not-a-secret-1",
      }),
    );
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: "bench-orders", DBSnapshotIdentifier: backupId }),
    );
    const { DBSnapshots } = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: backupId }));
    expect(DBSnapshots?.map((s) => [s.DBSnapshotIdentifier, s.Engine])).toEqual([[backupId, "postgres"]]);
    await expect(
      rds.send(
        new CreateDBSnapshotCommand({ DBInstanceIdentifier: "bench-orders", DBSnapshotIdentifier: "mine:copy" }),
      ),
    ).rejects.toMatchObject({ name: "InvalidParameterValue" });
  });

  test("StartExportTask exports an AWS Backup snapshot by its ARN (the id holds a colon)", async () => {
    const sourceArn = `arn:aws:rds:us-east-1:123456789012:snapshot:${backupId}`;
    await rds.send(
      new StartExportTaskCommand({
        ExportTaskIdentifier: "bench-export-1",
        SourceArn: sourceArn,
        S3BucketName: "bench-archive",
        S3Prefix: "rds/parquet",
        IamRoleArn: "arn:aws:iam::123456789012:role/bench-export",
        KmsKeyId: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
      }),
    );
    const { ExportTasks } = await rds.send(new DescribeExportTasksCommand({ ExportTaskIdentifier: "bench-export-1" }));
    expect(ExportTasks?.map((t) => t.SourceArn)).toEqual([sourceArn]);
    await expect(
      rds.send(
        new StartExportTaskCommand({
          ExportTaskIdentifier: "bench-export-2",
          SourceArn: "arn:aws:rds:us-east-1:123456789012:snapshot:awsbackup:job-00000000-0000-0000-0000-000000000000",
          S3BucketName: "bench-archive",
          IamRoleArn: "arn:aws:iam::123456789012:role/bench-export",
          KmsKeyId: "k",
        }),
      ),
    ).rejects.toMatchObject({ name: "DBSnapshotNotFoundFault" });
  });
});

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("moto-launcher ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`launcher exited with ${code} before ready`)));
  });
}

const python = findPythonWithMoto();
describeWithPrereqs("moto launcher process lifetime", "missing" in python ? [python.missing] : [], () => {
  const pythonPath = "missing" in python ? "" : python.python;
  const children: ChildProcess[] = [];
  afterAll(() => {
    // Never leave a launcher behind, whatever the test outcome.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  function launch(port: number, pidFile: string, ...extra: string[]): ChildProcess {
    const child = spawn(pythonPath, [LAUNCHER_PATH, "--port", String(port), "--pid-file", pidFile, ...extra], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.push(child);
    child.stderr!.resume();
    return child;
  }

  test("exits cleanly when its stdin closes, removing its pid file; a second launcher on a used port exits 3", async () => {
    const port = await freePort();
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), "moto-launcher-")), "moto.pid");
    const launcher = launch(port, pidFile);
    await waitForReady(launcher);
    expect(existsSync(pidFile)).toBe(true);

    const intruder = launch(port, `${pidFile}.2`);
    let intruderErr = "";
    intruder.stderr!.on("data", (c: Buffer) => (intruderErr += c.toString()));
    expect(await exitOf(intruder, 60_000)).toBe(3);
    expect(intruderErr).toContain(`cannot listen on 127.0.0.1:${port}`);

    // WHEN the parent's end of the stdin pipe closes (what happens when jest dies)
    launcher.stdin!.end();
    // THEN the launcher stops by itself and frees the port
    expect(await exitOf(launcher, 15_000)).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
    expect(await portInUse(port)).toBe(false);
  }, 120_000);

  test("exits cleanly on SIGTERM", async () => {
    const port = await freePort();
    const pidFile = path.join(mkdtempSync(path.join(os.tmpdir(), "moto-launcher-")), "moto.pid");
    const launcher = launch(port, pidFile);
    await waitForReady(launcher);
    launcher.kill("SIGTERM");
    expect(await exitOf(launcher, 15_000)).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  }, 120_000);

  test("a launcher orphaned by a crashed run is stopped by the next run's setup", async () => {
    // GIVEN a launcher whose parent shell has exited (only possible with --ignore-stdin)
    const port = await freePort();
    const shell = spawnSync(
      "sh",
      [
        "-c",
        `"${pythonPath}" "${LAUNCHER_PATH}" --ignore-stdin --port ${port} --pid-file "$PIDFILE" </dev/null >/dev/null 2>&1 &`,
      ],
      { env: { ...process.env, PIDFILE: path.join(os.tmpdir(), `backup-actions-moto-${port}.pid`) } },
    );
    expect(shell.status).toBe(0);
    // the launcher binds first and writes its pid file after: wait for both
    const pidFile = path.join(os.tmpdir(), `backup-actions-moto-${port}.pid`);
    for (let i = 0; i < 600 && !((await portInUse(port)) && existsSync(pidFile)); i++) await sleep(100);
    expect(await portInUse(port)).toBe(true);
    const { readFileSync } = await import("node:fs");
    const orphan = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    // WHEN setup finds it on its port
    await clearStaleLauncher(port);
    // THEN it is gone and the port is free
    expect(isAlive(orphan)).toBe(false);
    expect(await portInUse(port)).toBe(false);
  }, 120_000);
});
