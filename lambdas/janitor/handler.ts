/** Scheduled janitor: thin adapter over `runJanitor`, `sweepTables` and `sweepDatabases`. Configuration from the environment (core/janitor-contract.ts). */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EC2Client } from "@aws-sdk/client-ec2";
import { RDSClient } from "@aws-sdk/client-rds";
import { SSMClient } from "@aws-sdk/client-ssm";
import { instrumented } from "../../core/aws-client-hook";
import { parseJanitorEnv } from "../../core/janitor-contract";
import { sweepDatabases } from "./databases";
import { lambdaMetrics } from "../../core/lambda-metrics";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import { runJanitor } from "./logic";
import { sweepTables } from "./tables";

const logger = new Logger({ serviceName: "backup-actions-janitor" });
const ec2 = instrumented(new EC2Client({}));
const ddb = instrumented(new DynamoDBClient({}));
const rds = instrumented(new RDSClient({}));
const ssm = instrumented(new SSMClient({}));
const metrics = lambdaMetrics("janitor");

export async function handler(): Promise<{ deleted: string[]; failed: number }> {
  const settings = parseJanitorEnv(process.env);
  const deps = { now: () => new Date(), logger };
  const volumes = await runJanitor({ ...deps, ec2 }, settings);
  const tables = settings.tablePrefix
    ? await sweepTables({ ...deps, ddb }, { ...settings, tablePrefix: settings.tablePrefix })
    : undefined;
  const databases = settings.dumpParameterPath
    ? await sweepDatabases({ ...deps, rds, ssm }, { ...settings, parameterPath: settings.dumpParameterPath })
    : undefined;
  // Zeros too: a run that removed nothing is a data point, not a gap. The dump's temporary
  // instances, clusters and parameters count as "rds" (RDS and Aurora dumps share them).
  for (const [type, report] of [
    ["ebs", volumes],
    ["dynamodb", tables],
    ["rds", databases],
  ] as const) {
    if (!report) continue;
    metrics.add(METRICS.janitorResourcesRemoved, report.deleted.length, { [RESOURCE_TYPE_DIMENSION]: type });
    metrics.add(METRICS.janitorRemovalsFailed, report.failed.length, { [RESOURCE_TYPE_DIMENSION]: type });
  }
  metrics.publish();
  return {
    deleted: [...volumes.deleted, ...(tables?.deleted ?? []), ...(databases?.deleted ?? [])],
    failed: volumes.failed.length + (tables?.failed.length ?? 0) + (databases?.failed.length ?? 0),
  };
}
