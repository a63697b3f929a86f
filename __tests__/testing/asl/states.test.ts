import {
  AslDefinition,
  executeStateMachine,
  HistoryEvent,
  InvalidDefinitionError,
  TaskResolver,
} from "../../../testing/asl";
import type { MapState, ParallelState } from "../../../stacks/workflows/asl";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const types = (events: HistoryEvent[]) => events.map((e) => e.type);
const at = (e: HistoryEvent | undefined) => ((e?.timestamp.getTime() ?? NaN) - T0) / 1000;
const echo = "arn:aws:states:::lambda:invoke";

describe("Pass, paths and the context object", () => {
  test("InputPath, Parameters with $$ fields, ResultPath and OutputPath apply in order", async () => {
    const definition: AslDefinition = {
      StartAt: "Shape",
      States: {
        Shape: {
          Type: "Pass",
          InputPath: "$.detail",
          Parameters: {
            "id.$": "$.id",
            "execution.$": "$$.Execution.Name",
            "original.$": "$$.Execution.Input.detail.id",
            "state.$": "$$.State.Name",
          },
          ResultPath: "$.shaped",
          OutputPath: "$.shaped",
          Next: "Fixed",
        },
        Fixed: { Type: "Pass", Result: { constant: 1 }, ResultPath: "$.extra", End: true },
      },
    };

    const result = await executeStateMachine(definition, { detail: { id: "rp-1" } }, { executionName: "exec-42" });

    expect(result.output).toEqual({
      id: "rp-1",
      execution: "exec-42",
      original: "rp-1",
      state: "Shape",
      extra: { constant: 1 },
    });
  });

  test("a missing Parameters path fails the execution with States.Runtime, not catchable", async () => {
    const definition: AslDefinition = {
      StartAt: "P",
      States: { P: { Type: "Pass", Parameters: { "x.$": "$.missing" }, End: true } },
    };
    const result = await executeStateMachine(definition, {});
    expect(result).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(result.cause).toContain("$.missing");
  });
});

describe("Wait (virtual clock)", () => {
  test("Seconds, SecondsPath, Timestamp and TimestampPath advance time without sleeping", async () => {
    const definition: AslDefinition = {
      StartAt: "A",
      States: {
        A: { Type: "Wait", Seconds: 3600, Next: "B" },
        B: { Type: "Wait", SecondsPath: "$.delay", Next: "C" },
        C: { Type: "Wait", Timestamp: "2026-01-01T03:00:00Z", Next: "D" },
        D: { Type: "Wait", TimestampPath: "$.until", End: true },
      },
    };
    const started = Date.now();

    const result = await executeStateMachine(definition, { delay: 60, until: "2026-01-02T00:00:00Z" }, { clock: T0 });

    const exits = result.history.filter((e) => e.type === "WaitStateExited").map(at);
    expect(exits).toEqual([3600, 3660, 10800, 86400]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("a negative SecondsPath value is a States.Runtime error", async () => {
    const definition: AslDefinition = { StartAt: "W", States: { W: { Type: "Wait", SecondsPath: "$.d", End: true } } };
    expect(await executeStateMachine(definition, { d: -1 })).toMatchObject({
      status: "FAILED",
      error: "States.Runtime",
    });
  });
});

describe("Fail", () => {
  test("ErrorPath and CausePath read the error from the input", async () => {
    const definition: AslDefinition = {
      StartAt: "F",
      States: { F: { Type: "Fail", ErrorPath: "$.e", CausePath: "$.c" } },
    };
    const result = await executeStateMachine(definition, { e: "Custom.Error", c: "because" });
    expect(result).toMatchObject({ status: "FAILED", error: "Custom.Error", cause: "because" });
    expect(types(result.history)).toEqual(["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]);
  });
});

describe("Catch", () => {
  const definition: AslDefinition = {
    StartAt: "Check",
    States: {
      Check: {
        Type: "Task",
        Resource: echo,
        Parameters: { FunctionName: "check-engine", "Payload.$": "$" },
        ResultSelector: { "engine.$": "$.Payload.engine" },
        ResultPath: "$.check",
        Catch: [
          { ErrorEquals: ["UnsupportedEngineError"], ResultPath: "$.unsupported", Next: "NativeDump" },
          { ErrorEquals: ["States.ALL"], ResultPath: null, Next: "Cleanup" },
        ],
        Next: "Export",
      },
      Export: { Type: "Pass", End: true },
      NativeDump: { Type: "Pass", End: true },
      Cleanup: { Type: "Fail", Error: "Cleaned", Cause: "after failure" },
    },
  };

  class UnsupportedEngineError extends Error {
    override name = "UnsupportedEngineError";
  }

  test("the handler's error name selects the catcher; ResultPath places {Error, Cause} in the input", async () => {
    const tasks = new TaskResolver().lambda("check-engine", () => {
      throw new UnsupportedEngineError("engine db2 cannot be exported to Parquet");
    });

    const result = await executeStateMachine(definition, { engine: "db2" }, { tasks });

    expect(result.status).toBe("SUCCEEDED");
    const output = result.output as { engine: string; unsupported: { Error: string; Cause: string } };
    expect(output.engine).toBe("db2");
    expect(output.unsupported.Error).toBe("UnsupportedEngineError");
    expect(JSON.parse(output.unsupported.Cause)).toMatchObject({
      errorType: "UnsupportedEngineError",
      errorMessage: "engine db2 cannot be exported to Parquet",
    });
    expect(types(result.history)).toContain("PassStateEntered");
  });

  test("ResultPath null on a catcher keeps the original input", async () => {
    const tasks = new TaskResolver().lambda("check-engine", () => {
      throw new TypeError("boom");
    });

    const result = await executeStateMachine(definition, { engine: "x" }, { tasks });

    expect(result).toMatchObject({ status: "FAILED", error: "Cleaned" });
    const cleanupInput = result.history.find((e) => e.type === "FailStateEntered")?.stateEnteredEventDetails as {
      input: string;
    };
    expect(JSON.parse(cleanupInput.input)).toEqual({ engine: "x" });
  });

  test("on success, ResultSelector then ResultPath shape the output", async () => {
    const tasks = new TaskResolver().lambda("check-engine", (event) => ({
      engine: (event as { engine: string }).engine,
      noise: 1,
    }));
    const result = await executeStateMachine(definition, { engine: "postgres" }, { tasks });
    expect(result.output).toEqual({ engine: "postgres", check: { engine: "postgres" } });
  });
});

describe("Task TimeoutSeconds (virtual)", () => {
  const definition: AslDefinition = {
    StartAt: "Slow",
    States: {
      Slow: {
        Type: "Task",
        Resource: "arn:aws:states:::aws-sdk:rds:describeExportTasks",
        TimeoutSeconds: 300,
        Catch: [{ ErrorEquals: ["States.Timeout"], ResultPath: "$.timeout", Next: "TimedOut" }],
        End: true,
      },
      TimedOut: { Type: "Pass", End: true },
    },
  };

  test("a handler that takes longer than TimeoutSeconds times out at exactly TimeoutSeconds", async () => {
    const tasks = new TaskResolver().on("arn:aws:states:::aws-sdk:rds:*", (call) => {
      call.sleep(3600);
      return {};
    });

    const result = await executeStateMachine(definition, {}, { clock: T0, tasks });

    const timedOut = result.history.find((e) => e.type === "TaskTimedOut");
    expect(timedOut?.taskTimedOutEventDetails).toMatchObject({ error: "States.Timeout" });
    expect(at(timedOut)).toBe(300);
    expect(result.output).toEqual({ timeout: { Error: "States.Timeout", Cause: "" } });
  });

  test("a handler within TimeoutSeconds succeeds and its duration shows in the history", async () => {
    const tasks = new TaskResolver().on("arn:aws:states:::aws-sdk:rds:*", (call) => {
      call.sleep(120);
      return { ExportTasks: [] };
    });
    const result = await executeStateMachine(definition, {}, { clock: T0, tasks });
    expect(result.output).toEqual({ ExportTasks: [] });
    expect(at(result.history.find((e) => e.type === "TaskSucceeded"))).toBe(120);
  });
});

describe("Map", () => {
  const definition: AslDefinition = {
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.volumes",
        MaxConcurrency: 2,
        ItemSelector: { "volume.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "bucket.$": "$.bucket" },
        ItemProcessor: {
          StartAt: "Work",
          States: {
            Work: {
              Type: "Task",
              Resource: echo,
              Parameters: { FunctionName: "export", "Payload.$": "$" },
              OutputPath: "$.Payload",
              End: true,
            },
          },
        },
        ResultPath: "$.results",
        End: true,
      },
    },
  };

  test("runs the processor per item with ItemSelector and keeps results in item order", async () => {
    const tasks = new TaskResolver().lambda("export", (event) => {
      const e = event as { volume: string; index: number; bucket: string };
      return `${e.bucket}/${e.volume}#${e.index}`;
    });

    const result = await executeStateMachine(definition, { bucket: "b", volumes: ["v0", "v1", "v2"] }, { tasks });

    expect(result.output).toEqual({
      bucket: "b",
      volumes: ["v0", "v1", "v2"],
      results: ["b/v0#0", "b/v1#1", "b/v2#2"],
    });
    const mapEvents = types(result.history).filter((t) => t.startsWith("Map"));
    expect(mapEvents.slice(0, 2)).toEqual(["MapStateEntered", "MapStateStarted"]);
    expect(mapEvents.slice(-2)).toEqual(["MapStateSucceeded", "MapStateExited"]);
    expect(mapEvents.filter((t) => t === "MapIterationStarted")).toHaveLength(3);
    expect(mapEvents.filter((t) => t === "MapIterationSucceeded")).toHaveLength(3);
    expect(result.history.find((e) => e.type === "MapStateStarted")?.mapStateStartedEventDetails).toEqual({
      length: 3,
    });
  });

  test("MaxConcurrency bounds virtual time: 3 items of 10 s with 2 slots take 20 s", async () => {
    const tasks = new TaskResolver()
      .lambda("export", () => "ok")
      .on(echo, async (call) => {
        call.sleep(10);
        return { Payload: "done" };
      });

    const result = await executeStateMachine(
      definition,
      { bucket: "b", volumes: ["v0", "v1", "v2"] },
      { clock: T0, tasks },
    );

    expect(at(result.history.find((e) => e.type === "MapStateSucceeded"))).toBe(20);
    expect((result.output as { results: string[] }).results).toEqual(["done", "done", "done"]);
  });

  test("a failing iteration fails the Map with its error and stops the remaining items", async () => {
    const serial: AslDefinition = {
      ...definition,
      States: { Each: { ...(definition.States.Each as MapState), MaxConcurrency: 1 } },
    };
    const tasks = new TaskResolver().lambda("export", (event) => {
      if ((event as { index: number }).index === 1)
        throw Object.assign(new Error("disk unreadable"), { name: "ExportFailed" });
      return "ok";
    });

    const result = await executeStateMachine(serial, { bucket: "b", volumes: ["v0", "v1", "v2"] }, { tasks });

    expect(result).toMatchObject({ status: "FAILED", error: "ExportFailed" });
    expect(tasks.calls).toHaveLength(2);
    expect(types(result.history)).toEqual(expect.arrayContaining(["MapIterationFailed", "MapStateFailed"]));
  });

  test("legacy Iterator and Parameters work like ItemProcessor and ItemSelector", async () => {
    const legacy: AslDefinition = {
      StartAt: "M",
      States: {
        M: {
          Type: "Map",
          Parameters: { "v.$": "$$.Map.Item.Value" },
          Iterator: {
            StartAt: "Double",
            States: { Double: { Type: "Pass", Parameters: { "d.$": "States.MathAdd($.v, $.v)" }, End: true } },
          },
          End: true,
        },
      },
    };
    expect((await executeStateMachine(legacy, [1, 2, 3])).output).toEqual([{ d: 2 }, { d: 4 }, { d: 6 }]);
  });
});

describe("Parallel", () => {
  const definition: AslDefinition = {
    StartAt: "Both",
    States: {
      Both: {
        Type: "Parallel",
        Branches: [
          {
            StartAt: "Slow",
            States: { Slow: { Type: "Wait", Seconds: 30, Next: "A" }, A: { Type: "Pass", Result: "a", End: true } },
          },
          { StartAt: "B", States: { B: { Type: "Pass", Parameters: { "got.$": "$.x" }, End: true } } },
        ],
        ResultSelector: { "first.$": "$[0]", "second.$": "$[1].got" },
        Catch: [{ ErrorEquals: ["States.ALL"], Next: "Caught" }],
        End: true,
      },
      Caught: { Type: "Pass", End: true },
    },
  };

  test("branches get the same input; outputs come back in branch order; time is the slowest branch", async () => {
    const result = await executeStateMachine(definition, { x: 7 }, { clock: T0 });

    expect(result.output).toEqual({ first: "a", second: 7 });
    expect(at(result.history.find((e) => e.type === "ParallelStateSucceeded"))).toBe(30);
    expect(types(result.history).slice(0, 3)).toEqual([
      "ExecutionStarted",
      "ParallelStateEntered",
      "ParallelStateStarted",
    ]);
  });

  test("a failing branch fails the Parallel state, whose Catch handles it", async () => {
    const both = definition.States.Both as ParallelState;
    const failing: AslDefinition = {
      ...definition,
      States: {
        ...definition.States,
        Both: {
          ...both,
          Branches: [both.Branches[0]!, { StartAt: "F", States: { F: { Type: "Fail", Error: "BranchBroke" } } }],
        },
      },
    };

    const result = await executeStateMachine(failing, { x: 7 });

    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toEqual({ Error: "BranchBroke", Cause: "" });
    expect(types(result.history)).toContain("ParallelStateFailed");
    expect(types(result.history)).not.toContain("ParallelStateSucceeded");
  });
});

describe("limits and validation", () => {
  test("a definition-level TimeoutSeconds ends the execution as TIMED_OUT", async () => {
    const definition: AslDefinition = {
      TimeoutSeconds: 60,
      StartAt: "Loop",
      States: {
        Loop: { Type: "Wait", Seconds: 50, Next: "Again" },
        Again: { Type: "Wait", Seconds: 50, Next: "End" },
        End: { Type: "Succeed" },
      },
    };
    const result = await executeStateMachine(definition, {});
    expect(result).toMatchObject({ status: "TIMED_OUT", error: "States.Timeout" });
    expect(result.history.at(-1)?.type).toBe("ExecutionTimedOut");
  });

  test("an unbounded poll loop stops at the history limit instead of hanging", async () => {
    const definition: AslDefinition = {
      StartAt: "Poll",
      States: {
        Poll: { Type: "Wait", Seconds: 60, Next: "Check" },
        Check: {
          Type: "Choice",
          Choices: [{ Variable: "$.done", BooleanEquals: true, Next: "Done" }],
          Default: "Poll",
        },
        Done: { Type: "Succeed" },
      },
    };
    const result = await executeStateMachine(definition, { done: false }, { maxHistoryEvents: 1_000 });
    expect(result).toMatchObject({ status: "FAILED", error: "States.HistoryLimitExceeded" });
    expect(result.history).toHaveLength(1_001);
  });

  test("an invalid definition is rejected with asl-validator's findings before anything runs", async () => {
    const broken: AslDefinition = { StartAt: "A", States: { A: { Type: "Pass", Next: "Nowhere" } } };
    await expect(executeStateMachine(broken, {})).rejects.toThrow(InvalidDefinitionError);
    await expect(executeStateMachine(broken, {})).rejects.toThrow(
      "MISSING_TRANSITION_TARGET: Missing 'StartAt'|'Next'|'Default' target: Nowhere",
    );
  });

  test("JSONata definitions are refused with the reason", async () => {
    const jsonata: AslDefinition = {
      QueryLanguage: "JSONata",
      StartAt: "A",
      States: { A: { Type: "Pass", End: true } },
    };
    await expect(executeStateMachine(jsonata, {})).rejects.toThrow("JSONata states are not supported");
  });
});
