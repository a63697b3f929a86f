/**
 * The janitor's second sweep: temporary DynamoDB tables the DynamoDB child leaked (it deletes
 * them on every path; a delete that failed, or an execution stopped from outside, leaves one).
 * A table is this pipeline's when its name has the child's prefix (`<pipeline>-restore-`) AND it
 * carries the pipeline tag; it is leaked once older than the longest export plus the margin.
 * Younger ones may belong to a running export and are never touched; one with the prefix but
 * without the tag is kept and reported (the child tags a table once ACTIVE).
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import {
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ListTagsOfResourceCommand,
} from "@aws-sdk/client-dynamodb";
import { shortIdOf } from "../../core/execution-name";
import { RECOVERY_POINT_TAG_KEY } from "../../core/tags";

export interface TableSweepDeps {
  readonly ddb: DynamoDBClient;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface TableSweepOptions {
  readonly tablePrefix: string;
  readonly pipelineTag: { readonly key: string; readonly value: string };
  readonly maxAgeHours: number;
}

export interface TableSweepReport {
  readonly deleted: string[];
  readonly kept: Array<{ table: string; reason: string }>;
  readonly failed: Array<{ table: string; error: string }>;
}

export async function sweepTables(deps: TableSweepDeps, opts: TableSweepOptions): Promise<TableSweepReport> {
  const cutoff = deps.now().getTime() - opts.maxAgeHours * 3600_000;
  const report: TableSweepReport = { deleted: [], kept: [], failed: [] };
  const { logger } = deps;
  for await (const table of tablesWithPrefix(deps.ddb, opts.tablePrefix)) {
    try {
      const d = (await deps.ddb.send(new DescribeTableCommand({ TableName: table }))).Table!;
      const tags = (await deps.ddb.send(new ListTagsOfResourceCommand({ ResourceArn: d.TableArn! }))).Tags ?? [];
      const recoveryPointArn = tags.find((t) => t.Key === RECOVERY_POINT_TAG_KEY)?.Value;
      logger.appendKeys({
        table,
        recoveryPointId: recoveryPointArn ? shortIdOf(recoveryPointArn) : "unknown",
        recoveryPointArn,
      });
      const created = d.CreationDateTime?.getTime() ?? Number.POSITIVE_INFINITY;
      if (!tags.some((t) => t.Key === opts.pipelineTag.key && t.Value === opts.pipelineTag.value)) {
        report.kept.push({ table, reason: "no pipeline tag" });
        logger.warn("temporary table without the pipeline tag kept", { created: d.CreationDateTime?.toISOString() });
      } else if (created > cutoff) {
        report.kept.push({ table, reason: `younger than ${opts.maxAgeHours} h` });
      } else if (d.TableStatus !== "ACTIVE") {
        report.kept.push({ table, reason: `status ${d.TableStatus}` });
      } else {
        await deps.ddb.send(new DeleteTableCommand({ TableName: table }));
        report.deleted.push(table);
        logger.info("deleted leaked temporary table", { created: d.CreationDateTime?.toISOString() });
      }
    } catch (err) {
      report.failed.push({ table, error: (err as Error).name });
      logger.error("could not sweep temporary table", err as Error);
    } finally {
      logger.removeKeys(["table", "recoveryPointId", "recoveryPointArn"]);
    }
  }
  return report;
}

async function* tablesWithPrefix(ddb: DynamoDBClient, prefix: string): AsyncGenerator<string> {
  let ExclusiveStartTableName: string | undefined;
  do {
    const page = await ddb.send(new ListTablesCommand({ ExclusiveStartTableName, Limit: 100 }));
    yield* (page.TableNames ?? []).filter((t) => t.startsWith(prefix));
    ExclusiveStartTableName = page.LastEvaluatedTableName;
  } while (ExclusiveStartTableName);
}
