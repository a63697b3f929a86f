import { AslDefinition, executeStateMachine, HistoryEvent, TaskResolver } from "../../../testing/asl";
import { errorMatches, retryDelaySeconds, RetryTracker } from "../../../testing/asl/retry";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const secondsOf = (events: HistoryEvent[], type: string) =>
  events.filter((e) => e.type === type).map((e) => (e.timestamp.getTime() - T0) / 1000);

describe("retry delays", () => {
  test("IntervalSeconds × BackoffRate^n, capped by MaxDelaySeconds", () => {
    const retrier = { ErrorEquals: ["X"], IntervalSeconds: 2, BackoffRate: 3, MaxDelaySeconds: 10 };
    expect([0, 1, 2, 3].map((n) => retryDelaySeconds(retrier, n))).toEqual([2, 6, 10, 10]);
  });

  test("defaults are 1 s and a backoff of 2", () => {
    expect([0, 1, 2].map((n) => retryDelaySeconds({ ErrorEquals: ["X"] }, n))).toEqual([1, 2, 4]);
  });

  test("JitterStrategy FULL takes a random share of the capped delay", () => {
    const retrier = { ErrorEquals: ["X"], IntervalSeconds: 4, BackoffRate: 2, JitterStrategy: "FULL" as const };
    expect(retryDelaySeconds(retrier, 1, () => 0.25)).toBe(2);
  });

  test("the first matching retrier decides; once exhausted the error is not retried by later ones", () => {
    const tracker = new RetryTracker([
      { ErrorEquals: ["A"], MaxAttempts: 1 },
      { ErrorEquals: ["States.ALL"], MaxAttempts: 5 },
    ]);
    expect(tracker.nextDelaySeconds("A")).toBe(1);
    expect(tracker.nextDelaySeconds("A")).toBeUndefined();
    expect(tracker.nextDelaySeconds("B")).toBe(1);
    expect(tracker.retryCount).toBe(2);
  });

  test("MaxAttempts 0 never retries", () => {
    expect(new RetryTracker([{ ErrorEquals: ["A"], MaxAttempts: 0 }]).nextDelaySeconds("A")).toBeUndefined();
  });
});

describe("error matching", () => {
  test.each([
    [["States.ALL"], "Batch.AWSBatchException", true],
    [["States.ALL"], "States.Runtime", false],
    [["States.TaskFailed"], "UnsupportedEngineError", true],
    [["States.TaskFailed"], "States.Timeout", false],
    [["States.Timeout"], "States.Timeout", true],
    [["Lambda.TooManyRequestsException"], "Lambda.ServiceException", false],
  ])("%j matches %s: %s", (equals, error, expected) => {
    expect(errorMatches(equals, error)).toBe(expected);
  });
});

describe("Retry in an execution (virtual clock)", () => {
  const definition: AslDefinition = {
    StartAt: "Flaky",
    States: {
      Flaky: {
        Type: "Task",
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: { FunctionName: "flaky", "Payload.$": "$" },
        OutputPath: "$.Payload",
        Retry: [
          {
            ErrorEquals: ["Lambda.TooManyRequestsException"],
            IntervalSeconds: 2,
            BackoffRate: 3,
            MaxDelaySeconds: 10,
            MaxAttempts: 4,
          },
        ],
        End: true,
      },
    },
  };

  test("each retry is scheduled after the backed-off delay, without sleeping", async () => {
    const tasks = new TaskResolver()
      .lambda("flaky", () => ({ ok: true }))
      .injectFault({
        resource: "arn:aws:states:::lambda:invoke",
        calls: [1, 2, 3],
        error: "Lambda.TooManyRequestsException",
      });
    const started = Date.now();

    const result = await executeStateMachine(definition, {}, { clock: T0, tasks });

    expect(result.output).toEqual({ ok: true });
    expect(secondsOf(result.history, "TaskScheduled")).toEqual([0, 2, 8, 18]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("when attempts are exhausted the execution fails with the task's error", async () => {
    const tasks = new TaskResolver()
      .lambda("flaky", () => ({}))
      .injectFault({
        resource: "arn:aws:states:::lambda:invoke",
        error: "Lambda.TooManyRequestsException",
        cause: "slow down",
      });

    const result = await executeStateMachine(definition, {}, { clock: T0, tasks });

    expect(result).toMatchObject({ status: "FAILED", error: "Lambda.TooManyRequestsException", cause: "slow down" });
    expect(secondsOf(result.history, "TaskFailed")).toEqual([0, 2, 8, 18, 28]);
    expect(result.history.at(-1)?.type).toBe("ExecutionFailed");
  });
});
