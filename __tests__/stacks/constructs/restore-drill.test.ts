/**
 * The restore drill in the synthesized pipeline stack (config `drills`): off by default; on, a
 * schedule that starts the drill machine with its own role, the drill function's settings and
 * exact grants, the machine's grants, and the worker job definition it submits to by name.
 */
import { compose, synth, testConfig } from "../../helpers/synth";
import { statementsOf, statementWithSid } from "../../helpers/policy";

const byPrefix = (out: ReturnType<typeof synth>, type: string, prefix: string) =>
  Object.entries<any>(out.resources(type))
    .filter(([k]) => k.startsWith(prefix))
    .map(([, v]) => v);

describe("restore drill", () => {
  it("is not deployed unless drills.enabled is true (the default config synthesizes as before)", () => {
    const out = synth(compose(testConfig()).pipelines[0]!);
    expect(byPrefix(out, "aws_sfn_state_machine", "drill_")).toEqual([]);
    expect(out.json).not.toContain("restore-drill");
  });

  describe("on", () => {
    const out = synth(
      compose(testConfig({ drills: { enabled: true, schedule: "rate(7 days)", sampleSize: 5, glacier: "restore" } }))
        .pipelines[0]!,
    );

    it("starts the drill machine on the configured schedule with a role that may start only it", () => {
      const [rule] = byPrefix(out, "aws_cloudwatch_event_rule", "drill_schedule");
      expect(rule).toMatchObject({ name: "backup-actions-restore-drill", schedule_expression: "rate(7 days)" });
      const [target] = byPrefix(out, "aws_cloudwatch_event_target", "drill_target");
      expect(target.arn).toMatch(/^\$\{aws_sfn_state_machine\.drill_machine_this_\w+\.arn\}$/);
      expect(target.input).toBe("{}");
      expect(statementsOf(out, "drill_schedule-policy")).toEqual([
        {
          sid: "StartDrill",
          actions: ["states:StartExecution"],
          resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-restore-drill"],
        },
      ]);
    });

    it("configures the drill function: ledger, sample size, Glacier mode, the types the worker verifies", () => {
      const [fn] = byPrefix(out, "aws_lambda_function", "drill_function");
      expect(fn.environment.variables).toMatchObject({
        DRILL_SAMPLE_SIZE: "5",
        DRILL_GLACIER: "restore",
        // default exports: EBS and the RDS/Aurora native dumps; DynamoDB exports have no manifest of ours
        DRILL_WORKFLOWS: "ebs,rds,aurora",
      });
      expect(fn.environment.variables.LEDGER_TABLE).toMatch(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/);
    });

    it("grants the drill function the ledger index and the drilled prefixes of the archive only", () => {
      const s = statementsOf(out, "drill_function_policy");
      expect(statementWithSid(s, "ReadSucceededExports")).toMatchObject({
        actions: ["dynamodb:Query"],
        resources: [
          expect.stringMatching(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.arn\}\/index\/by-status-started$/),
        ],
      });
      expect(statementWithSid(s, "FindArchivedObjects").condition).toEqual([
        { test: "StringLike", variable: "s3:prefix", values: ["ebs/*", "rds/*", "aurora/*"] },
      ]);
      const restore = statementWithSid(s, "RestoreArchivedObjects");
      expect(restore.actions).toEqual(["s3:RestoreObject"]);
      expect(restore.resources.map((r: string) => r.replace(/^\$\{[^}]+\}/, "ARCHIVE"))).toEqual([
        "ARCHIVE/ebs/*",
        "ARCHIVE/rds/*",
        "ARCHIVE/aurora/*",
      ]);
    });

    it("gives the machine the Batch .sync grants on the worker's job definition, the ledger write and the event", () => {
      const s = statementsOf(out, "drill_machine_policy");
      expect(statementWithSid(s, "RunVerify").resources).toEqual([
        expect.stringMatching(/^\$\{aws_batch_job_queue\.batch_queue-0_\w+\.arn\}$/),
        "arn:aws:batch:us-east-1:111111111111:job-definition/backup-actions-ebs-worker:*",
        "arn:aws:batch:us-east-1:111111111111:job/*",
      ]);
      expect(statementWithSid(s, "RecordResults").actions).toEqual(["dynamodb:UpdateItem"]);
      expect(statementWithSid(s, "PublishDrillFailed").condition).toEqual([
        { test: "ForAllValues:StringEquals", variable: "events:source", values: ["backup-actions"] },
      ]);
      const [machine] = byPrefix(out, "aws_sfn_state_machine", "drill_machine");
      const definition = JSON.parse(machine.definition);
      const run = definition.States.Drill.ItemProcessor.States.RunVerify;
      expect(run.Parameters.JobDefinition).toBe("backup-actions-ebs-worker");
      expect(run.Parameters.ContainerOverrides["Command.$"]).toBe(
        "States.Array('verify', $.archive.archiveUrl, '--expect-manifest-sha256', $.archive.sha256)",
      );
    });

    it("grants no RestoreObject with glacier skip", () => {
      const skip = synth(compose(testConfig({ drills: { enabled: true } })).pipelines[0]!);
      const s = statementsOf(skip, "drill_function_policy");
      expect(s.map((x: any) => x.sid)).not.toContain("RestoreArchivedObjects");
      const [rule] = byPrefix(skip, "aws_cloudwatch_event_rule", "drill_schedule");
      expect(rule.schedule_expression).toBe("cron(0 3 1 * ? *)");
    });
  });

  describe("drills.restoreDumps", () => {
    const machineOf = (drills: Record<string, unknown>) => {
      const out = synth(compose(testConfig({ drills: { enabled: true, ...drills } })).pipelines[0]!);
      const [machine] = byPrefix(out, "aws_sfn_state_machine", "drill_machine");
      return JSON.parse(machine.definition).States.Drill.ItemProcessor.States;
    };

    it("on: the rds and aurora archives (native dumps) get --restore-scratch, EBS archives the plain verify", () => {
      const states = machineOf({ restoreDumps: true });
      expect(states.Route.Default).toBe("VerifyKind");
      expect(states.Restored.Choices[0]).toEqual({
        Variable: "$.restore.done",
        BooleanEquals: true,
        Next: "VerifyKind",
      });
      expect(states.VerifyKind).toMatchObject({
        Type: "Choice",
        Choices: [
          { Variable: "$.archive.workflow", StringEquals: "rds", Next: "RunVerifyDump" },
          { Variable: "$.archive.workflow", StringEquals: "aurora", Next: "RunVerifyDump" },
        ],
        Default: "RunVerify",
      });
      expect(states.RunVerifyDump.Parameters.ContainerOverrides["Command.$"]).toBe(
        "States.Array('verify', $.archive.archiveUrl, '--expect-manifest-sha256', $.archive.sha256, '--restore-scratch')",
      );
      expect(states.RunVerify.Parameters.ContainerOverrides["Command.$"]).not.toContain("--restore-scratch");
      // the same job, grants and failure path as the plain verify
      const { ContainerOverrides: _a, ...dump } = states.RunVerifyDump.Parameters;
      const { ContainerOverrides: _b, ...plain } = states.RunVerify.Parameters;
      expect(dump).toEqual(plain);
      expect(states.RunVerifyDump.Catch).toEqual(states.RunVerify.Catch);
      expect(states.RunVerifyDump.Next).toBe("RecordPassed");
    });

    it("off (the default): no archive gets the flag", () => {
      const states = machineOf({});
      expect(states.Route.Default).toBe("RunVerify");
      expect(states.VerifyKind).toBeUndefined();
      expect(states.RunVerifyDump).toBeUndefined();
      expect(JSON.stringify(states)).not.toContain("--restore-scratch");
    });
  });
});
