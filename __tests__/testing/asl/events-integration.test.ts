/**
 * The optimized `events:putEvents` integration of the test bench (testing/asl/integrations.ts), in
 * local mode against moto's EventBridge: what it delivers, and that it refuses what AWS refuses.
 */
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";
import { AslDefinition, executeStateMachine, Json } from "../../../testing/asl";
import { PUT_EVENTS_MAX_BYTES, putEventsEntrySize } from "../../../testing/asl/integrations";
import { describeWithMoto } from "./moto-prerequisite";

/** One Task with these Parameters, its error caught into the output so the test can read it. */
const putEvents = (parameters: Record<string, unknown>): AslDefinition => ({
  StartAt: "Put",
  States: {
    Put: {
      Type: "Task",
      Resource: "arn:aws:states:::events:putEvents",
      Parameters: parameters,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Caught" }],
      End: true,
    },
    Caught: { Type: "Pass", End: true },
  },
});

describeWithMoto("events:putEvents (optimized integration) against moto's EventBridge", () => {
  const sqs = new SQSClient({});
  const events = new EventBridgeClient({});
  const source = `test.${randomUUID()}`;
  let queueUrl: string;
  beforeAll(async () => {
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `put-events-${randomUUID()}` }))).QueueUrl!;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    const rule = `put-events-${randomUUID()}`;
    await events.send(new PutRuleCommand({ Name: rule, EventPattern: JSON.stringify({ source: [source] }) }));
    await events.send(new PutTargetsCommand({ Rule: rule, Targets: [{ Id: "q", Arn: queueArn }] }));
  });
  afterAll(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    sqs.destroy();
    events.destroy();
  });
  const received = async () =>
    ((await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }))).Messages ?? []).map(
      (m) => JSON.parse(m.Body!),
    );

  test("serializes each entry's Detail object and delivers the entries to the default bus; output as Step Functions'", async () => {
    const result = await executeStateMachine(
      putEvents({
        Entries: [
          { Source: source, DetailType: "One", Detail: { "n.$": "$.n", nested: { list: [1, "x"], none: null } } },
          { Source: source, DetailType: "Two", Detail: { n: 2 } },
        ],
      }),
      { n: 1 },
    );
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toEqual({
      Entries: [{ EventId: expect.any(String) }, { EventId: expect.any(String) }],
      FailedEntryCount: 0,
    });
    const got = (await received()).sort((a, b) => a["detail-type"].localeCompare(b["detail-type"]));
    expect(got.map((e) => [e.source, e["detail-type"], e.detail])).toEqual([
      [source, "One", { n: 1, nested: { list: [1, "x"], none: null } }],
      [source, "Two", { n: 2 }],
    ]);
  });

  test("an event's time is when the Task published it, on the execution's (virtual) clock", async () => {
    // An execution that starts at 10:00:00 and waits 90 s before it publishes.
    const start = Date.parse("2026-11-02T10:00:00.250Z");
    const result = await executeStateMachine(
      {
        StartAt: "Wait",
        States: {
          Wait: { Type: "Wait", Seconds: 90, Next: "Put" },
          Put: {
            Type: "Task",
            Resource: "arn:aws:states:::events:putEvents",
            Parameters: {
              Entries: [{ Source: source, DetailType: "Timed", Detail: { "startedAt.$": "$$.Execution.StartTime" } }],
            },
            End: true,
          },
        },
      },
      {},
      { clock: start },
    );
    expect(result.status).toBe("SUCCEEDED");
    const [event] = await received();
    expect(event.detail).toEqual({ startedAt: "2026-11-02T10:00:00.250Z" });
    // EventBridge's `time` has whole seconds.
    expect(event.time).toBe("2026-11-02T10:01:30Z");
  });

  test.each([
    ["a string", '{"n":1}'],
    ["an array", [1]],
    ["null", null],
  ])("refuses a Detail that is %s (the integration takes a JSON object), uncatchably", async (_what, detail) => {
    const result = await executeStateMachine(
      putEvents({ Entries: [{ Source: source, DetailType: "Bad", Detail: detail as Json }] }),
    );
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("States.Runtime");
    expect(result.cause).toBe(
      `events:putEvents: Entries[0].Detail must be a JSON object (the integration serializes it), got ${JSON.stringify(detail)}`,
    );
  });

  test.each([
    ["no entries", 0],
    ["11 entries", 11],
  ])("refuses %s as EventBridge does (ValidationException)", async (_what, count) => {
    const entries = Array.from({ length: count }, () => ({ Source: source, DetailType: "Many", Detail: {} }));
    const result = await executeStateMachine(putEvents({ Entries: entries }));
    expect(result.output).toMatchObject({ error: { Error: "EventBridge.ValidationException" } });
    expect((result.output as { error: { Cause: string } }).error.Cause).toContain(
      "Member must have length less than or equal to 10 and at least 1",
    );
  });

  test("takes 10 entries", async () => {
    const entries = Array.from({ length: 10 }, (_, i) => ({ Source: source, DetailType: "Ten", Detail: { i } }));
    const result = await executeStateMachine(putEvents({ Entries: entries }));
    expect(result.output).toMatchObject({ FailedEntryCount: 0 });
    expect((result.output as { Entries: unknown[] }).Entries).toHaveLength(10);
    await received();
  });

  test("refuses entries over 256 KB in all, and takes them at exactly 256 KB", async () => {
    const entry = (detailBytes: number) => ({
      Source: source,
      DetailType: "Big",
      Detail: { x: "a".repeat(detailBytes) },
    });
    // The size EventBridge counts: Source + DetailType + the serialized Detail ({"x":"…"} is 8 bytes of frame).
    const frame = putEventsEntrySize({ Source: source, DetailType: "Big", Detail: '{"x":""}' });
    const fits = PUT_EVENTS_MAX_BYTES - frame;
    const ok = await executeStateMachine(putEvents({ Entries: [entry(fits)] }));
    expect(ok.output).toMatchObject({ FailedEntryCount: 0 });
    const over = await executeStateMachine(putEvents({ Entries: [entry(fits + 1)] }));
    expect(over.output).toMatchObject({
      error: {
        Error: "EventBridge.ValidationException",
        Cause: `Total size of the entries in the request is over the limit: ${PUT_EVENTS_MAX_BYTES + 1} bytes, at most ${PUT_EVENTS_MAX_BYTES}`,
      },
    });
    await received();
  });

  test("fails with EventBridge.FailedEntry when EventBridge answers a failed entry", async () => {
    // No Source: EventBridge fails the entry (FailedEntryCount 1) rather than the request.
    const result = await executeStateMachine(putEvents({ Entries: [{ DetailType: "NoSource", Detail: {} }] }));
    expect(result.output).toMatchObject({ error: { Error: "EventBridge.FailedEntry" } });
    expect(JSON.parse((result.output as { error: { Cause: string } }).error.Cause)).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: expect.any(String) }],
    });
  });
});
