/**
 * The janitor's third sweep: what the native-dump branch (stacks/workflows/rds-dump.ts) leaked — its
 * temporary DB instances and clusters (a delete that failed, an execution stopped from outside) and their
 * master-password parameters. An instance or cluster is this pipeline's when its identifier has the
 * branch's prefix (`dump-`) AND it carries the pipeline tag; a parameter, when it is under the pipeline's
 * dump path. Each is leaked once older than the longest export plus the margin; younger ones may belong to
 * a running export and are never touched. A cluster goes once its instances are gone (an Aurora cluster
 * with instances cannot be deleted): a later run finishes what this one began.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import {
  DBCluster,
  DBInstance,
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { DeleteParameterCommand, DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { shortIdOf } from "../../core/execution-name";
import { TEMPORARY_DB_PREFIX } from "../../core/rds-identifier";
import { RECOVERY_POINT_TAG_KEY } from "../../core/tags";

export interface DatabaseSweepDeps {
  readonly rds: RDSClient;
  readonly ssm: SSMClient;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface DatabaseSweepOptions {
  readonly pipelineTag: { readonly key: string; readonly value: string };
  readonly maxAgeHours: number;
  /** SSM path of the password parameters (core/rds-identifier.ts dumpParameterPath). */
  readonly parameterPath: string;
}

export interface DatabaseSweepReport {
  readonly deleted: string[];
  readonly kept: Array<{ resource: string; reason: string }>;
  readonly failed: Array<{ resource: string; error: string }>;
}

type Tagged = { TagList?: { Key?: string; Value?: string }[] };

export async function sweepDatabases(
  deps: DatabaseSweepDeps,
  opts: DatabaseSweepOptions,
): Promise<DatabaseSweepReport> {
  const cutoff = deps.now().getTime() - opts.maxAgeHours * 3600_000;
  const report: DatabaseSweepReport = { deleted: [], kept: [], failed: [] };
  const ours = (r: Tagged) =>
    (r.TagList ?? []).some((t) => t.Key === opts.pipelineTag.key && t.Value === opts.pipelineTag.value);
  const young = `younger than ${opts.maxAgeHours} h`;

  const sweep = async (resource: string, tagged: Tagged, what: () => Promise<string | undefined>) => {
    const recoveryPointArn = tagged.TagList?.find((t) => t.Key === RECOVERY_POINT_TAG_KEY)?.Value;
    deps.logger.appendKeys({
      resource,
      recoveryPointId: recoveryPointArn ? shortIdOf(recoveryPointArn) : "unknown",
      recoveryPointArn,
    });
    try {
      const kept = await what();
      if (kept) report.kept.push({ resource, reason: kept });
      else {
        report.deleted.push(resource);
        deps.logger.info("deleted leaked temporary database resource");
      }
    } catch (err) {
      report.failed.push({ resource, error: (err as Error).name });
      deps.logger.error("could not delete leaked temporary database resource", err as Error);
    } finally {
      deps.logger.removeKeys(["resource", "recoveryPointId", "recoveryPointArn"]);
    }
  };

  const instances = await all<DBInstance>(async (Marker) => {
    const out = await deps.rds.send(new DescribeDBInstancesCommand({ Marker }));
    return [out.DBInstances ?? [], out.Marker];
  });
  for (const i of instances.filter((i) => i.DBInstanceIdentifier?.startsWith(TEMPORARY_DB_PREFIX))) {
    const id = i.DBInstanceIdentifier!;
    await sweep(`db:${id}`, i, async () => {
      if (!ours(i)) return "no pipeline tag";
      if ((i.InstanceCreateTime?.getTime() ?? Number.POSITIVE_INFINITY) > cutoff) return young;
      if (i.DBInstanceStatus === "deleting") return "already deleting";
      // An Aurora instance has no final snapshot or automated backups of its own.
      await deps.rds.send(
        new DeleteDBInstanceCommand(
          i.DBClusterIdentifier
            ? { DBInstanceIdentifier: id }
            : { DBInstanceIdentifier: id, SkipFinalSnapshot: true, DeleteAutomatedBackups: true },
        ),
      );
      return undefined;
    });
  }

  const clusters = await all<DBCluster>(async (Marker) => {
    const out = await deps.rds.send(new DescribeDBClustersCommand({ Marker }));
    return [out.DBClusters ?? [], out.Marker];
  });
  for (const c of clusters.filter((c) => c.DBClusterIdentifier?.startsWith(TEMPORARY_DB_PREFIX))) {
    const id = c.DBClusterIdentifier!;
    await sweep(`cluster:${id}`, c, async () => {
      if (!ours(c)) return "no pipeline tag";
      if ((c.ClusterCreateTime?.getTime() ?? Number.POSITIVE_INFINITY) > cutoff) return young;
      if (c.Status === "deleting") return "already deleting";
      // Members this run asked to delete are still there while they are deleted: the next run deletes the cluster.
      if ((c.DBClusterMembers ?? []).length > 0) return "its instances are being deleted";
      await deps.rds.send(new DeleteDBClusterCommand({ DBClusterIdentifier: id, SkipFinalSnapshot: true }));
      return undefined;
    });
  }

  const parameters = await all(async (NextToken: string | undefined) => {
    const out = await deps.ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: "Name", Option: "BeginsWith", Values: [opts.parameterPath] }],
        MaxResults: 50,
        NextToken,
      }),
    );
    return [out.Parameters ?? [], out.NextToken];
  });
  for (const p of parameters) {
    const name = p.Name!;
    await sweep(`parameter:${name}`, {}, async () => {
      if ((p.LastModifiedDate?.getTime() ?? Number.POSITIVE_INFINITY) > cutoff) return young;
      await deps.ssm.send(new DeleteParameterCommand({ Name: name }));
      return undefined;
    });
  }
  return report;
}

async function all<T>(page: (token: string | undefined) => Promise<[T[], string | undefined]>): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const [items, next] = await page(token);
    out.push(...items);
    token = next;
  } while (token);
  return out;
}
