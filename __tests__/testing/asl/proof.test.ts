/**
 * The helper's proof: one small definition with a Retry, a Catch, a Wait and a Choice, executed both by
 * our interpreter (local mode, its aws-sdk task forwarded to moto) and by moto's own interpreter, on the
 * path where the volume is missing and on the path where it exists.
 */
import { CreateVolumeCommand, DeleteVolumeCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  AslDefinition,
  executeStateMachine,
  ExecutionResult,
  HistoryEvent,
  runInMoto,
  TaskResolver,
} from "../../../testing/asl";
import { describeWithMoto } from "./moto-prerequisite";

const definition: AslDefinition = {
  Comment: "Describe a volume; retry once, catch everything, settle, then branch on what was found",
  StartAt: "Describe",
  States: {
    Describe: {
      Type: "Task",
      Resource: "arn:aws:states:::aws-sdk:ec2:describeVolumes",
      Parameters: { "VolumeIds.$": "States.Array($.volumeId)" },
      ResultSelector: {
        "count.$": "States.ArrayLength($.Volumes)",
        "state.$": "States.ArrayGetItem($.Volumes[*].State, 0)",
      },
      ResultPath: "$.found",
      // Retry on States.TaskFailed, not on the error name: moto 5.2.1 names it `ec2.ec2Exception`
      // where AWS (and local mode) say `Ec2.Ec2Exception`.
      Retry: [{ ErrorEquals: ["States.TaskFailed"], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.failure", Next: "Settle" }],
      Next: "Settle",
    },
    Settle: { Type: "Wait", Seconds: 1, Next: "Decide" },
    Decide: {
      Type: "Choice",
      Choices: [
        { Variable: "$.failure", IsPresent: true, Next: "Missing" },
        { Variable: "$.found.count", NumericGreaterThan: 0, Next: "Found" },
      ],
      Default: "Missing",
    },
    Missing: { Type: "Pass", Parameters: { "volume.$": "$.volumeId", "error.$": "$.failure.Error" }, End: true },
    Found: { Type: "Pass", Parameters: { "volume.$": "$.volumeId", "state.$": "$.found.state" }, End: true },
  },
};

const T0 = Date.parse("2026-01-01T00:00:00Z");

/** [id, previousEventId, type, state name or error, seconds after start] — compact enough to read as a table. */
function summarise(history: HistoryEvent[], withTime = true): (string | number)[][] {
  return history.map((e) => {
    const details = Object.values(e).find((v) => v !== null && typeof v === "object" && !(v instanceof Date)) as
      Record<string, unknown> | undefined;
    const label = String(details?.name ?? details?.error ?? "");
    const row: (string | number)[] = [e.id, e.previousEventId, e.type, label];
    if (withTime) row.push((e.timestamp.getTime() - T0) / 1000);
    return row;
  });
}

const missingPath = [
  [1, 0, "ExecutionStarted", "", 0],
  [2, 0, "TaskStateEntered", "Describe", 0],
  [3, 2, "TaskScheduled", "", 0],
  [4, 3, "TaskStarted", "", 0],
  [5, 4, "TaskFailed", "Ec2.Ec2Exception", 0],
  [6, 5, "TaskScheduled", "", 1],
  [7, 6, "TaskStarted", "", 1],
  [8, 7, "TaskFailed", "Ec2.Ec2Exception", 1],
  [9, 8, "TaskStateExited", "Describe", 1],
  [10, 9, "WaitStateEntered", "Settle", 1],
  [11, 10, "WaitStateExited", "Settle", 2],
  [12, 11, "ChoiceStateEntered", "Decide", 2],
  [13, 12, "ChoiceStateExited", "Decide", 2],
  [14, 13, "PassStateEntered", "Missing", 2],
  [15, 14, "PassStateExited", "Missing", 2],
  [16, 15, "ExecutionSucceeded", "", 2],
];

const foundPath = [
  [1, 0, "ExecutionStarted", "", 0],
  [2, 0, "TaskStateEntered", "Describe", 0],
  [3, 2, "TaskScheduled", "", 0],
  [4, 3, "TaskStarted", "", 0],
  [5, 4, "TaskSucceeded", "", 0],
  [6, 5, "TaskStateExited", "Describe", 0],
  [7, 6, "WaitStateEntered", "Settle", 0],
  [8, 7, "WaitStateExited", "Settle", 1],
  [9, 8, "ChoiceStateEntered", "Decide", 1],
  [10, 9, "ChoiceStateExited", "Decide", 1],
  [11, 10, "PassStateEntered", "Found", 1],
  [12, 11, "PassStateExited", "Found", 1],
  [13, 12, "ExecutionSucceeded", "", 1],
];

const withoutTime = (rows: (string | number)[][]) => rows.map((r) => r.slice(0, 4));
/** moto 5.2.1 spells the EC2 error `ec2.ec2Exception`; compare names case-insensitively. */
const lowerErrors = (rows: (string | number)[][]) =>
  rows.map((r) => r.map((v) => (typeof v === "string" && /ec2exception/i.test(v) ? v.toLowerCase() : v)));

describeWithMoto("a definition with Retry, Catch, Wait and Choice", () => {
  const ec2 = new EC2Client({});
  let volumeId: string;

  beforeAll(async () => {
    const created = await ec2.send(
      new CreateVolumeCommand({
        AvailabilityZone: `${process.env.AWS_REGION ?? "us-east-1"}a`,
        Size: 1,
        VolumeType: "gp3",
      }),
    );
    volumeId = created.VolumeId as string;
  });
  afterAll(async () => {
    await ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
    ec2.destroy();
  });

  describe("local mode (our interpreter, aws-sdk task forwarded to moto)", () => {
    test("missing volume: two failed attempts 1 s apart, caught, waited, Choice picks Missing", async () => {
      const result = await executeStateMachine(definition, { volumeId: "vol-0123456789abcdef0" }, { clock: T0 });

      expect(summarise(result.history)).toEqual(missingPath);
      expect(result.status).toBe("SUCCEEDED");
      expect(result.output).toEqual({ volume: "vol-0123456789abcdef0", error: "Ec2.Ec2Exception" });
      expect(
        String(
          result.history[4].taskFailedEventDetails &&
            (result.history[4].taskFailedEventDetails as { cause: string }).cause,
        ),
      ).toContain("InvalidVolume.NotFound");
    });

    test("existing volume: described once, waited, Choice picks Found", async () => {
      const result = await executeStateMachine(definition, { volumeId }, { clock: T0 });

      expect(summarise(result.history)).toEqual(foundPath);
      expect(result.output).toEqual({ volume: volumeId, state: "available" });
    });

    test("a transient failure is retried after IntervalSeconds and then succeeds", async () => {
      const tasks = new TaskResolver().injectFault({
        resource: "arn:aws:states:::aws-sdk:ec2:describeVolumes",
        calls: [1],
        error: "Ec2.Ec2Exception",
        cause: "RequestLimitExceeded",
      });

      const result = await executeStateMachine(definition, { volumeId }, { clock: T0, tasks });

      expect(summarise(result.history).slice(2, 8)).toEqual([
        [3, 2, "TaskScheduled", "", 0],
        [4, 3, "TaskStarted", "", 0],
        [5, 4, "TaskFailed", "Ec2.Ec2Exception", 0],
        [6, 5, "TaskScheduled", "", 1],
        [7, 6, "TaskStarted", "", 1],
        [8, 7, "TaskSucceeded", "", 1],
      ]);
      expect(result.output).toEqual({ volume: volumeId, state: "available" });
      expect(tasks.calls.map((c) => c.fault ?? "real")).toEqual(["Ec2.Ec2Exception", "real"]);
    });
  });

  describe("moto mode (moto's interpreter and EC2 backend)", () => {
    let missing: ExecutionResult;
    let found: ExecutionResult;

    beforeAll(async () => {
      // Each run creates its own state machine, runs alone and deletes it (see testing/asl/moto.ts).
      missing = await executeStateMachine(definition, { volumeId: "vol-0123456789abcdef0" }, { mode: "moto" });
      found = await executeStateMachine(definition, { volumeId }, { mode: "moto" });
    }, 60_000);

    test("missing volume: the same history as local mode", () => {
      expect(lowerErrors(summarise(missing.history, false))).toEqual(lowerErrors(withoutTime(missingPath)));
      expect(missing.status).toBe("SUCCEEDED");
      expect(missing.output).toEqual({
        volume: "vol-0123456789abcdef0",
        error: expect.stringMatching(/^ec2\.ec2Exception$/i),
      });
    });

    test("missing volume: the retry and the wait really took their seconds", () => {
      const at = (id: number) => missing.history[id - 1].timestamp.getTime();
      expect(at(6) - at(5)).toBeGreaterThanOrEqual(900);
      expect(at(11) - at(10)).toBeGreaterThanOrEqual(900);
    });

    test("existing volume: the same history and output as local mode", () => {
      expect(summarise(found.history, false)).toEqual(withoutTime(foundPath));
      expect(found.output).toEqual({ volume: volumeId, state: "available" });
    });

    test("concurrent runInMoto calls run one after the other (unpatched moto 5.2.1 fails StartExecution while another machine holds an execution)", async () => {
      const tiny: AslDefinition = {
        StartAt: "Pause",
        States: {
          Pause: { Type: "Wait", Seconds: 1, Next: "Echo" },
          Echo: { Type: "Pass", Parameters: { "name.$": "$$.Execution.Name" }, End: true },
        },
      };

      const [first, second] = await Promise.all([
        runInMoto(tiny, {}, { executionName: "first" }),
        runInMoto(tiny, {}, { executionName: "second" }),
      ]);

      expect([first.output, second.output]).toEqual([{ name: "first" }, { name: "second" }]);
      expect(second.history[0].timestamp.getTime()).toBeGreaterThanOrEqual(
        first.history.at(-1)?.timestamp.getTime() ?? Infinity,
      );
    });
  });
});
