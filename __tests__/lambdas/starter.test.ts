import { Logger } from "@aws-lambda-powertools/logger";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import type { DispatcherRoutes } from "../../core/dispatcher-routes";
import { intakeConfigOf } from "../../core/intake-config";
import { startBatch, StarterDeps } from "../../lambdas/starter/logic";
import type { SqsEvent } from "../../lambdas/starter/sqs";
import { dispatcherStateMachineName } from "../../stacks/names";
import { dispatcherRoutesOf } from "../../config/deployment";
import { describeWithEmulator } from "../helpers/aws-endpoint";
import { eventsConfig, loadEvent } from "../helpers/events";
import { captureLogs } from "../helpers/logs";

const config = intakeConfigOf(eventsConfig());
/** The routes the starter of 111111111111/us-east-1 reads for eventsConfig() (us-east-1 and us-west-2). */
const ROUTES: DispatcherRoutes = dispatcherRoutesOf(eventsConfig(), "111111111111", "us-east-1");
const EAST_DISPATCHER = "arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher";

function batch(bodies: string[]): SqsEvent {
  return {
    Records: bodies.map((body, i) => ({ messageId: `msg-${i}`, body, attributes: { ApproximateReceiveCount: "1" } })),
  };
}

const logger = () => new Logger({ serviceName: "starter-test", logLevel: "INFO" });

describeWithEmulator("starter against moto's Step Functions", () => {
  // moto's account; the fixtures' account 111111111111 is rewritten to it, so the routes the
  // starter derives (core/state-machines.ts) name the state machines moto really has.
  const ACCOUNT = "123456789012";
  const NAME = `st${process.pid % 100000}`;
  const motoConfig = eventsConfig({ name: NAME, accounts: [{ id: ACCOUNT, regions: ["us-east-1", "us-west-2"] }] });
  const intake = intakeConfigOf(motoConfig);
  const routesIn = (region: string) => dispatcherRoutesOf(motoConfig, ACCOUNT, region);
  const event = (file: string) => JSON.parse(JSON.stringify(loadEvent(file)).replaceAll("111111111111", ACCOUNT));
  const clients = new Map<string, SFNClient>();
  const sfnFor = (region: string) => {
    if (!clients.has(region)) clients.set(region, new SFNClient({ region }));
    return clients.get(region)!;
  };
  const depsIn = (region: string): StarterDeps => ({
    sfnFor,
    routes: routesIn(region),
    config: intake,
    logger: logger(),
  });
  const machines: Record<string, string> = {};

  beforeAll(async () => {
    for (const region of ["us-east-1", "us-west-2"]) {
      const out = await sfnFor(region).send(
        new CreateStateMachineCommand({
          name: dispatcherStateMachineName(NAME),
          roleArn: `arn:aws:iam::${ACCOUNT}:role/starter-test`,
          // The bench's moto executes state machines (stepfunctions.execute_state_machine=true): a Wait
          // keeps executions RUNNING, the state in which StartExecution with the same name and input is
          // idempotent (a closed execution answers ExecutionAlreadyExists, as on AWS).
          definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }),
        }),
      );
      machines[region] = out.stateMachineArn!;
    }
  });

  afterAll(async () => {
    for (const [region, stateMachineArn] of Object.entries(machines))
      await sfnFor(region).send(new DeleteStateMachineCommand({ stateMachineArn }));
  });

  const executions = async (region: string) =>
    (await sfnFor(region).send(new ListExecutionsCommand({ stateMachineArn: machines[region] }))).executions ?? [];

  it("the synthesized routes name the dispatchers moto has in each region", () => {
    expect(routesIn("us-west-2").dispatchers).toEqual({
      "us-east-1": {
        stateMachineArn: machines["us-east-1"],
        archiveBucket: `${NAME}-archive-${ACCOUNT}-us-east-1`,
        placementCount: 2,
      },
      "us-west-2": {
        stateMachineArn: machines["us-west-2"],
        archiveBucket: `${NAME}-archive-${ACCOUNT}-us-west-2`,
        placementCount: 2,
      },
    });
  });

  it("the same event delivered 10 times (one batch, then again, then re-emitted with a new event id) → exactly one execution, no failure", async () => {
    const ebs = event("backup-job-ebs.json");
    const body = JSON.stringify(ebs);
    // A second event for the same recovery point (AWS Backup re-emits events): other input, same name.
    const reemitted = JSON.stringify({ ...ebs, id: "a-later-delivery", time: "2026-11-20T03:46:17Z" });
    const logs = captureLogs();
    const results = [];
    try {
      const deps = depsIn("us-east-1");
      results.push(await startBatch(batch(Array(10).fill(body)), deps));
      results.push(await startBatch(batch([body]), deps));
      results.push(await startBatch(batch([reemitted]), deps));
    } finally {
      logs.restore();
    }
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);

    const list = await executions("us-east-1");
    expect(list).toHaveLength(1);
    expect(list[0]!.name).toBe("ebs-snap-0726fe70935586180-767f49bf4c6c0e793d30ada7c40fc117");

    const lines = logs.lines();
    // Same name and same input: Step Functions answers with the existing execution (idempotent
    // StartExecution); same name and other input: ExecutionAlreadyExists, counted as handled.
    const started = lines.filter((l) => l.message === "started the dispatcher");
    expect(started).toHaveLength(11);
    expect(new Set(started.map((l) => l.executionArn))).toEqual(new Set([list[0]!.executionArn]));
    expect(lines.filter((l) => l.message === "already started: duplicate delivery")).toHaveLength(1);
    // The recovery point id is on every line.
    expect(lines).toHaveLength(12);
    for (const line of lines) expect(line.recoveryPointId).toBe("snap-0726fe70935586180");
  });

  it("a copy job's event in the source region (us-west-2) starts the DESTINATION region's (us-east-1) dispatcher, not its own", async () => {
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(batch([JSON.stringify(event("copy-job-ebs.json"))]), depsIn("us-west-2"));
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [] });
    const name = "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe";
    const east = (await executions("us-east-1")).filter((e) => e.name === name);
    expect(east).toHaveLength(1);
    expect(await executions("us-west-2")).toEqual([]);
    // The input names the destination region's archive bucket and the recovery point there.
    const described = await sfnFor("us-east-1").send(
      new DescribeExecutionCommand({ executionArn: east[0]!.executionArn }),
    );
    const input = JSON.parse(described.input!);
    expect(input.archive.bucket).toBe(`${NAME}-archive-${ACCOUNT}-us-east-1`);
    expect(input.recoveryPoint).toMatchObject({
      arn: "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
      account: ACCOUNT,
      region: "us-east-1",
    });
    const started = logs.lines().find((l) => l.message === "started the dispatcher");
    expect(started).toMatchObject({
      workflow: "ebs",
      executionArn: east[0]!.executionArn,
      recoveryPointId: "snap-0f00d1e5c0ffee123",
      region: "us-east-1",
    });
  });

  it("the same copy event delivered again in either region (forwarded to us-east-1) maps to the same execution", async () => {
    const body = JSON.stringify(event("copy-job-ebs.json"));
    const logs = captureLogs();
    const results = [];
    try {
      results.push(await startBatch(batch([body]), depsIn("us-west-2")));
      results.push(await startBatch(batch([body]), depsIn("us-east-1")));
    } finally {
      logs.restore();
    }
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    const name = "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe";
    expect((await executions("us-east-1")).filter((e) => e.name === name)).toHaveLength(1);
    expect(await executions("us-west-2")).toEqual([]);
    // Same name and the same input from both regions: the running execution answers.
    expect(
      new Set(
        logs
          .lines()
          .filter((l) => l.message === "started the dispatcher")
          .map((l) => l.executionArn),
      ).size,
    ).toBe(1);
  });

  it("a copy job into another account starts nothing in either region (skipped with the reason)", async () => {
    const copy = event("copy-job-ebs.json");
    copy.detail.destinationBackupVaultArn = "arn:aws:backup:us-east-1:222222222222:backup-vault:Default";
    const twoAccounts = intakeConfigOf(
      eventsConfig({
        name: NAME,
        accounts: [
          { id: ACCOUNT, regions: ["us-east-1", "us-west-2"] },
          { id: "222222222222", regions: ["us-east-1"] },
        ],
      }),
    );
    const before = { east: (await executions("us-east-1")).length, west: (await executions("us-west-2")).length };
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(batch([JSON.stringify(copy)]), { ...depsIn("us-west-2"), config: twoAccounts });
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [] });
    expect({ east: (await executions("us-east-1")).length, west: (await executions("us-west-2")).length }).toEqual(
      before,
    );
    expect(logs.lines()).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "skipped",
        reason: expect.stringMatching(
          /^the copy is in account 222222222222 but its event reached account 123456789012: /,
        ),
      }),
    ]);
  });

  it("drops skips and unparsable bodies (logged with the reason), never fails them", async () => {
    const before = (await executions("us-east-1")).length;
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(
        batch([
          JSON.stringify(event("doc-backup-job-failed.json")),
          "{ not json",
          JSON.stringify(event("backup-job-ec2.json")),
        ]),
        depsIn("us-east-1"),
      );
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await executions("us-east-1")).length).toBe(before);
    const lines = logs.lines();
    expect(lines).toEqual([
      expect.objectContaining({
        level: "INFO",
        message: "skipped",
        reason: 'state is "FAILED", not "COMPLETED"',
        messageId: "msg-0",
        recoveryPointId: "unknown",
      }),
      expect.objectContaining({
        level: "WARN",
        message: "dropped: the message body is not JSON",
        messageId: "msg-1",
        recoveryPointId: "unknown",
      }),
      expect.objectContaining({
        level: "INFO",
        message: "skipped",
        reason: 'resource type "EC2" is not supported (EBS, RDS, Aurora, DynamoDB)',
        messageId: "msg-2",
        recoveryPointId: "ami-0888b126e2170b98e",
      }),
    ]);
  });
});

describe("starter: real errors fail only their own record", () => {
  // The mock replaces one client instance only, so the emulator suite above keeps real clients.
  const client = new SFNClient({ region: "us-east-1" });
  const sfnMock = mockClient(client);
  afterEach(() => sfnMock.reset());
  afterAll(() => sfnMock.restore());

  const throttled = () =>
    Object.assign(new Error("Rate exceeded"), {
      name: "ThrottlingException",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });

  it("a throttled StartExecution puts that messageId in batchItemFailures; the others succeed or are dropped", async () => {
    const rds = loadEvent("backup-job-rds.json");
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: "arn:aws:states:us-east-1:111111111111:execution:d:x", startDate: new Date() });
    sfnMock
      .on(StartExecutionCommand, {
        name: "rds-job-1a2bcd34-567e-8901-23f4-5a6bcdef7890-4d1278b69af3a5350b5c1cc4f565d2a4",
      })
      .rejects(throttled());

    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(
        batch([
          JSON.stringify(loadEvent("backup-job-ebs.json")),
          JSON.stringify(rds),
          "garbage",
          JSON.stringify(loadEvent("backup-job-dynamodb.json")),
        ]),
        { sfnFor: () => client, routes: ROUTES, config, logger: logger() },
      );
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "msg-1" }] });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(3);
    const error = logs.lines().find((l) => l.level === "ERROR");
    expect(error).toMatchObject({
      message: "StartExecution failed; the message will be retried",
      error: "ThrottlingException",
      messageId: "msg-1",
    });
    expect(error!.recoveryPointId).toBe("awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890");
  });

  it.each([
    ["AccessDeniedException", 400],
    ["InternalServerError", 500],
  ])("%s is a batch item failure too", async (name, status) => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }));
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(batch([JSON.stringify(loadEvent("backup-job-ebs.json"))]), {
        sfnFor: () => client,
        routes: ROUTES,
        config,
        logger: logger(),
      });
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "msg-0" }] });
  });

  it("sends the execution name and the input the dispatcher reads", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: "arn:x", startDate: new Date() });
    const logs = captureLogs();
    try {
      await startBatch(batch([JSON.stringify(loadEvent("backup-job-aurora.json"))]), {
        sfnFor: () => client,
        routes: ROUTES,
        config,
        logger: logger(),
      });
    } finally {
      logs.restore();
    }
    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(EAST_DISPATCHER);
    expect(call.name).toBe("aurora-job-4ece7121-d60e-00c2-5c3b-49960142d03b-d246b6c8c96bbb0ee5d6f7433bd40f29");
    expect(JSON.parse(call.input!)).toEqual({
      archive: {
        bucket: "backup-actions-archive-111111111111-us-east-1",
        prefix: "aurora/111111111111/us-east-1/ledger/2026/11/20/awsbackup_job-4ece7121-d60e-00c2-5c3b-49960142d03b/",
        url: "s3://backup-actions-archive-111111111111-us-east-1/aurora/111111111111/us-east-1/ledger/2026/11/20/awsbackup_job-4ece7121-d60e-00c2-5c3b-49960142d03b/",
      },
      placementIndex: expect.any(Number),
      plan: {
        action: "export",
        workflow: "aurora",
        executionName: "aurora-job-4ece7121-d60e-00c2-5c3b-49960142d03b-d246b6c8c96bbb0ee5d6f7433bd40f29",
        recoveryPointArn:
          "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b",
        reason:
          'Aurora recovery point awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
      },
      recoveryPoint: {
        arn: "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b",
        id: "awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b",
        kind: "rds-cluster-snapshot",
        workflow: "aurora",
        account: "111111111111",
        region: "us-east-1",
        vault: "Default",
        resourceType: "Aurora",
        resourceArn: "arn:aws:rds:us-east-1:111111111111:cluster:ledger",
        sizeBytes: 0,
      },
      event: {
        eventId: "0f1e2d3c-0003-4a86-a440-759fa94f34dd",
        detailType: "Backup Job State Change",
        time: "2026-11-20T03:41:17Z",
        jobId: "A827233A-D405-4A86-A440-759FA94F3403",
      },
      startedBy: "event",
    });
  });
  it("routes a copy job's export to a client of the destination region and that region's dispatcher", async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: "arn:x", startDate: new Date() });
    const regions: string[] = [];
    const logs = captureLogs();
    try {
      // The starter of us-west-2 (the copy's source region) gets the event.
      const west = dispatcherRoutesOf(eventsConfig(), "111111111111", "us-west-2");
      await startBatch(batch([JSON.stringify(loadEvent("copy-job-ebs.json"))]), {
        sfnFor: (r) => (regions.push(r), client),
        routes: west,
        config,
        logger: logger(),
      });
    } finally {
      logs.restore();
    }
    expect(regions).toEqual(["us-east-1"]);
    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe(EAST_DISPATCHER);
    expect(call.name).toBe("ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe");
    expect(JSON.parse(call.input!)).toMatchObject({
      archive: { bucket: "backup-actions-archive-111111111111-us-east-1" },
      recoveryPoint: { region: "us-east-1" },
    });
  });

  it("routes without the recovery point's region (a deploy mismatch): the message fails back to the queue, nothing is started", async () => {
    const eastOnly: DispatcherRoutes = { ...ROUTES, dispatchers: { "us-east-1": ROUTES.dispatchers["us-east-1"]! } };
    const west = loadEvent("backup-job-ebs.json");
    west.region = "us-west-2";
    west.resources = ["arn:aws:ec2:us-west-2::snapshot/snap-0726fe70935586180"];
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(batch([JSON.stringify(west)]), {
        sfnFor: () => client,
        routes: { ...eastOnly, region: "us-west-2" },
        config,
        logger: logger(),
      });
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "msg-0" }] });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(logs.lines().find((l) => l.level === "ERROR")).toMatchObject({
      message: "no dispatcher for the recovery point's region; the message will be retried",
      region: "us-west-2",
    });
  });
});
