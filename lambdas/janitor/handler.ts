/** Scheduled janitor: thin adapter over `runJanitor` and `sweepTables`. Configuration from the environment (core/janitor-contract.ts). */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { instrumented } from "../../core/aws-client-hook";
import { parseJanitorEnv } from "../../core/janitor-contract";
import { lambdaMetrics } from "../../core/lambda-metrics";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import { runJanitor } from "./logic";
import { sweepTables } from "./tables";

const logger = new Logger({ serviceName: "backup-actions-janitor" });
const ec2 = instrumented(new EC2Client({}));
const ddb = instrumented(new DynamoDBClient({}));
const metrics = lambdaMetrics("janitor");

export async function handler(): Promise<{ deleted: string[]; failed: number }> {
  const settings = parseJanitorEnv(process.env);
  const deps = { now: () => new Date(), logger };
  const volumes = await runJanitor({ ...deps, ec2 }, settings);
  const tables = settings.tablePrefix
    ? await sweepTables({ ...deps, ddb }, { ...settings, tablePrefix: settings.tablePrefix })
    : undefined;
  // Zeros too: a run that removed nothing is a data point, not a gap.
  for (const [type, report] of [
    ["ebs", volumes],
    ["dynamodb", tables],
  ] as const) {
    if (!report) continue;
    metrics.add(METRICS.janitorResourcesRemoved, report.deleted.length, { [RESOURCE_TYPE_DIMENSION]: type });
    metrics.add(METRICS.janitorRemovalsFailed, report.failed.length, { [RESOURCE_TYPE_DIMENSION]: type });
  }
  metrics.publish();
  return {
    deleted: [...volumes.deleted, ...(tables?.deleted ?? [])],
    failed: volumes.failed.length + (tables?.failed.length ?? 0),
  };
}
