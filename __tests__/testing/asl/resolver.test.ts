import { AslDefinition, executeStateMachine, TaskResolver } from "../../../testing/asl";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const single = (state: Record<string, unknown>): AslDefinition => ({
  StartAt: "T",
  States: { T: { Type: "Task", End: true, ...state } as never },
});

describe("lambda:invoke → in-process handler", () => {
  test("the handler gets the Payload and a Lambda-like context; the output has Step Functions' shape", async () => {
    const tasks = new TaskResolver().lambda(
      "arn:aws:lambda:eu-west-1:123456789012:function:starter",
      (event, context) => ({ got: event, fn: context.functionName }),
    );

    const result = await executeStateMachine(
      single({
        Resource: "arn:aws:states:::lambda:invoke",
        Parameters: { FunctionName: "starter:live", "Payload.$": "$" },
      }),
      { a: 1 },
      { tasks },
    );

    expect(result.output).toMatchObject({
      StatusCode: 200,
      ExecutedVersion: "$LATEST",
      Payload: { got: { a: 1 }, fn: "starter" },
    });
    expect(tasks.calls).toEqual([
      {
        resource: "arn:aws:states:::lambda:invoke",
        stateName: "T",
        parameters: { FunctionName: "starter:live", Payload: { a: 1 } },
        fault: undefined,
      },
    ]);
  });

  test("a direct function ARN resource passes the input and returns the handler's result", async () => {
    const tasks = new TaskResolver().lambda("plan", (event) => ({ planned: event }));
    const result = await executeStateMachine(
      single({ Resource: "arn:aws:lambda:us-east-1:123456789012:function:plan" }),
      { x: 1 },
      { tasks },
    );
    expect(result.output).toEqual({ planned: { x: 1 } });
  });

  test("a function without a registered handler fails loudly with how to register one", async () => {
    const result = await executeStateMachine(
      single({ Resource: "arn:aws:states:::lambda:invoke", Parameters: { FunctionName: "nobody" } }),
      {},
    );
    expect(result).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(result.cause).toContain("tasks.lambda('nobody', handler)");
  });
});

describe("batch:submitJob.sync → in-process job runner", () => {
  const definition = single({
    Resource: "arn:aws:states:::batch:submitJob.sync",
    Parameters: {
      JobName: "export-vol",
      JobQueue: "spot-a",
      JobDefinition: "arn:aws:batch:us-east-1:123456789012:job-definition/ebs-export:3",
      Parameters: { "volumeId.$": "$.volumeId" },
      ContainerOverrides: { Environment: [{ Name: "MODE", Value: "full" }] },
    },
    ResultSelector: { "status.$": "$.Status", "exit.$": "$.Container.ExitCode" },
  });

  test("the runner sees the job's parameters and environment; success returns the job description", async () => {
    const seen: unknown[] = [];
    const tasks = new TaskResolver().batchJob("*ebs-export*", (job) => {
      seen.push({ queue: job.jobQueue, parameters: job.parameters, environment: job.environment });
      job.call.sleep(600);
    });

    const result = await executeStateMachine(definition, { volumeId: "vol-9" }, { tasks, clock: T0 });

    expect(seen).toEqual([{ queue: "spot-a", parameters: { volumeId: "vol-9" }, environment: { MODE: "full" } }]);
    expect(result.output).toEqual({ status: "SUCCEEDED", exit: 0 });
    expect(result.history.map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "TaskScheduled",
      "TaskStarted",
      "TaskSubmitted",
      "TaskSucceeded",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
    expect(result.history[5].timestamp.getTime() - T0).toBe(600_000);
    expect(result.history[5].previousEventId).toBe(result.history[4].id);
  });

  test("a failing job is States.TaskFailed with the job description (StatusReason) as Cause", async () => {
    const tasks = new TaskResolver().batchJob("*", () => {
      throw new Error("Host EC2 (instance i-1) terminated.");
    });

    const result = await executeStateMachine(definition, { volumeId: "vol-9" }, { tasks });

    expect(result.error).toBe("States.TaskFailed");
    expect(JSON.parse(result.cause ?? "{}")).toMatchObject({
      Status: "FAILED",
      StatusReason: "Host EC2 (instance i-1) terminated.",
      JobName: "export-vol",
    });
  });

  test("a service error named Batch.* keeps its name", async () => {
    const tasks = new TaskResolver().batchJob("*", () => {
      throw Object.assign(new Error("queue disabled"), { name: "Batch.AWSBatchException" });
    });
    expect((await executeStateMachine(definition, { volumeId: "v" }, { tasks })).error).toBe("Batch.AWSBatchException");
  });
});

describe("states:startExecution.sync:2 → registered child definition", () => {
  const childArn = "arn:aws:states:us-east-1:123456789012:stateMachine:ebs-child";
  const parent = single({
    Resource: "arn:aws:states:::states:startExecution.sync:2",
    Parameters: {
      StateMachineArn: childArn,
      Input: { "volumeId.$": "$.volumeId" },
      "Name.$": "States.Format('child-{}', $.volumeId)",
    },
    OutputPath: "$.Output",
  });

  test("runs the child with the same resolver and returns its output", async () => {
    const child: AslDefinition = {
      StartAt: "C",
      States: {
        C: { Type: "Pass", Parameters: { "exported.$": "$.volumeId", "name.$": "$$.Execution.Name" }, End: true },
      },
    };
    const tasks = new TaskResolver().stateMachine(childArn, child);

    const result = await executeStateMachine(parent, { volumeId: "vol-1" }, { tasks });

    expect(result.output).toEqual({ exported: "vol-1", name: "child-vol-1" });
    expect(result.childExecutions).toHaveLength(1);
    expect(result.childExecutions[0].status).toBe("SUCCEEDED");
  });

  test("a failed child fails the task with States.TaskFailed and the child's error in Cause", async () => {
    const tasks = new TaskResolver().stateMachine(childArn, {
      StartAt: "F",
      States: { F: { Type: "Fail", Error: "ExportFailed", Cause: "no space" } },
    });
    const result = await executeStateMachine(parent, { volumeId: "vol-1" }, { tasks });
    expect(result.error).toBe("States.TaskFailed");
    expect(JSON.parse(result.cause ?? "{}")).toMatchObject({
      Status: "FAILED",
      Error: "ExportFailed",
      Cause: "no space",
    });
  });
});

describe("custom handlers and fault injection", () => {
  test("a registered pattern overrides the default and .waitForTaskToken exposes $$.Task.Token", async () => {
    const tasks = new TaskResolver().on("arn:aws:states:::sqs:sendMessage.waitForTaskToken", (call) => ({
      token: call.taskToken ?? null,
      body: call.parameters,
    }));

    const result = await executeStateMachine(
      single({
        Resource: "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        Parameters: { QueueUrl: "q", MessageBody: { "token.$": "$$.Task.Token" } },
      }),
      {},
      { tasks },
    );

    const output = result.output as { token: string; body: { MessageBody: { token: string } } };
    expect(output.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(output.body.MessageBody.token).toBe(output.token);
  });

  test("a fault fires only on the chosen call among calls matching `when`", async () => {
    const definition: AslDefinition = {
      StartAt: "M",
      States: {
        M: {
          Type: "Map",
          MaxConcurrency: 1,
          ItemProcessor: {
            StartAt: "Call",
            States: {
              Call: {
                Type: "Task",
                Resource: "arn:aws:states:::lambda:invoke",
                Parameters: { "FunctionName.$": "$.fn" },
                OutputPath: "$.Payload",
                End: true,
              },
            },
          },
          Catch: [{ ErrorEquals: ["Lambda.ServiceException"], Next: "Caught" }],
          End: true,
        },
        Caught: { Type: "Pass", End: true },
      },
    };
    const tasks = new TaskResolver()
      .lambda("a", () => "a")
      .lambda("b", () => "b")
      .injectFault({
        resource: "arn:aws:states:::lambda:invoke",
        when: (p) => (p as { FunctionName: string }).FunctionName === "b",
        calls: [2],
        error: "Lambda.ServiceException",
      });

    const result = await executeStateMachine(definition, [{ fn: "b" }, { fn: "a" }, { fn: "b" }, { fn: "a" }], {
      tasks,
    });

    expect(result.output).toMatchObject({ Error: "Lambda.ServiceException" });
    expect(
      tasks.calls.map((c) => `${(c.parameters as { FunctionName: string }).FunctionName}:${c.fault ?? "ok"}`),
    ).toEqual(["b:ok", "a:ok", "b:Lambda.ServiceException"]);
  });

  test("a resource nobody handles fails with States.Runtime naming it", async () => {
    const result = await executeStateMachine(single({ Resource: "arn:aws:states:::glue:startJobRun.sync" }), {});
    expect(result).toMatchObject({ status: "FAILED", error: "States.Runtime" });
    expect(result.cause).toContain("No task handler for resource 'arn:aws:states:::glue:startJobRun.sync'");
  });
});
