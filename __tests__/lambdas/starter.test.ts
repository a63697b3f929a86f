import { Logger } from "@aws-lambda-powertools/logger";
import { CreateStateMachineCommand, DeleteStateMachineCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { intakeConfigOf } from "../../core/intake-config";
import { startBatch, StarterDeps } from "../../lambdas/starter/logic";
import type { SqsEvent } from "../../lambdas/starter/sqs";
import { describeWithEmulator } from "../helpers/aws-endpoint";
import { eventsConfig, loadEvent } from "../helpers/events";

const DESTINATION = { archiveBucket: "backup-actions-archive-111111111111-us-east-1", placementCount: 2 };
const config = intakeConfigOf(eventsConfig());

function batch(bodies: string[]): SqsEvent {
  return { Records: bodies.map((body, i) => ({ messageId: `msg-${i}`, body, attributes: { ApproximateReceiveCount: "1" } })) };
}

/** Captures the logger's JSON lines (Powertools writes to process.stdout/stderr outside dev mode), in order. */
function captureLogs(): { lines: () => any[]; restore: () => void } {
  const written: string[] = [];
  const capture = (chunk: any) => {
    written.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, "write").mockImplementation(capture);
  const err = jest.spyOn(process.stderr, "write").mockImplementation(capture);
  return {
    lines: () => written.join("").split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l)),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

const logger = () => new Logger({ serviceName: "starter-test", logLevel: "INFO" });

describeWithEmulator("starter against moto's Step Functions", () => {
  const sfn = new SFNClient({ region: process.env.AWS_REGION ?? "us-east-1" });
  let stateMachineArn: string;

  beforeAll(async () => {
    const out = await sfn.send(
      new CreateStateMachineCommand({
        name: `starter-test-${process.pid}-${Date.now()}`,
        roleArn: "arn:aws:iam::123456789012:role/starter-test",
        // The bench's moto executes state machines (stepfunctions.execute_state_machine=true): a Wait
        // keeps executions RUNNING, the state in which StartExecution with the same name and input is
        // idempotent (a closed execution answers ExecutionAlreadyExists, as on AWS).
        definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }),
      }),
    );
    stateMachineArn = out.stateMachineArn!;
  });

  afterAll(async () => {
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn }));
  });

  const executions = async () => (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];

  it("the same event delivered 10 times (one batch, then again, then re-emitted with a new event id) → exactly one execution, no failure", async () => {
    const event = loadEvent("backup-job-ebs.json");
    const body = JSON.stringify(event);
    // A second event for the same recovery point (AWS Backup re-emits events): other input, same name.
    const reemitted = JSON.stringify({ ...event, id: "a-later-delivery", time: "2026-11-20T03:46:17Z" });
    const logs = captureLogs();
    const results = [];
    try {
      const deps: StarterDeps = { sfn, stateMachineArn, config, destination: DESTINATION, logger: logger() };
      results.push(await startBatch(batch(Array(10).fill(body)), deps));
      results.push(await startBatch(batch([body]), deps));
      results.push(await startBatch(batch([reemitted]), deps));
    } finally {
      logs.restore();
    }
    expect(results).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }, { batchItemFailures: [] }]);

    const list = await executions();
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

  it("starts the dispatcher with the plan and the recovery point facts as input", async () => {
    const deps: StarterDeps = { sfn, stateMachineArn, config, destination: DESTINATION, logger: logger() };
    const logs = captureLogs();
    try {
      await startBatch(batch([JSON.stringify(loadEvent("copy-job-ebs.json"))]), deps);
    } finally {
      logs.restore();
    }
    const execution = (await executions()).find((e) => e.name === "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe");
    expect(execution).toBeDefined();
    const started = logs.lines().find((l) => l.message === "started the dispatcher");
    expect(started).toMatchObject({ workflow: "ebs", executionArn: execution!.executionArn, recoveryPointId: "snap-0f00d1e5c0ffee123" });
  });

  it("drops skips and unparsable bodies (logged with the reason), never fails them", async () => {
    const before = (await executions()).length;
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(
        batch([JSON.stringify(loadEvent("doc-backup-job-failed.json")), "{ not json", JSON.stringify(loadEvent("backup-job-ec2.json"))]),
        { sfn, stateMachineArn, config, destination: DESTINATION, logger: logger() },
      );
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [] });
    expect((await executions()).length).toBe(before);
    const lines = logs.lines();
    expect(lines).toEqual([
      expect.objectContaining({ level: "INFO", message: "skipped", reason: 'state is "FAILED", not "COMPLETED"', messageId: "msg-0", recoveryPointId: "unknown" }),
      expect.objectContaining({ level: "WARN", message: "dropped: the message body is not JSON", messageId: "msg-1", recoveryPointId: "unknown" }),
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

  const throttled = () => Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException", $fault: "client", $metadata: { httpStatusCode: 400 } });

  it("a throttled StartExecution puts that messageId in batchItemFailures; the others succeed or are dropped", async () => {
    const rds = loadEvent("backup-job-rds.json");
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: "arn:aws:states:us-east-1:111111111111:execution:d:x", startDate: new Date() });
    sfnMock.on(StartExecutionCommand, { name: "rds-job-1a2bcd34-567e-8901-23f4-5a6bcdef7890-4d1278b69af3a5350b5c1cc4f565d2a4" }).rejects(throttled());

    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(
        batch([JSON.stringify(loadEvent("backup-job-ebs.json")), JSON.stringify(rds), "garbage", JSON.stringify(loadEvent("backup-job-dynamodb.json"))]),
        { sfn: client, stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:d", config, destination: DESTINATION, logger: logger() },
      );
    } finally {
      logs.restore();
    }
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: "msg-1" }] });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(3);
    const error = logs.lines().find((l) => l.level === "ERROR");
    expect(error).toMatchObject({ message: "StartExecution failed; the message will be retried", error: "ThrottlingException", messageId: "msg-1" });
    expect(error.recoveryPointId).toBe("awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890");
  });

  it.each([
    ["AccessDeniedException", 400],
    ["InternalServerError", 500],
  ])("%s is a batch item failure too", async (name, status) => {
    sfnMock.on(StartExecutionCommand).rejects(Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } }));
    const logs = captureLogs();
    let result;
    try {
      result = await startBatch(batch([JSON.stringify(loadEvent("backup-job-ebs.json"))]), {
        sfn: client,
        stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:d",
        config,
        destination: DESTINATION,
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
        sfn: client,
        stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher",
        config,
        destination: DESTINATION,
        logger: logger(),
      });
    } finally {
      logs.restore();
    }
    const call = sfnMock.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.stateMachineArn).toBe("arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher");
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
        recoveryPointArn: "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b",
        reason: 'Aurora recovery point awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
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
    });
  });
});
