/**
 * Where the starter starts an export: the dispatcher of each region of its own account
 * that the config deploys, with what an execution in that region needs (its archive
 * bucket and number of placements). A copy job's event arrives in the SOURCE region, so
 * the starter there starts the DESTINATION region's dispatcher (ADR 0006).
 *
 * The pipeline stack writes the routes into the starter's environment in a compact form:
 * the starter's account and region, the config's name and each region's placement count,
 *
 *   {"account":"111111111111","region":"us-west-2","name":"backup-actions","placements":{"us-west-2":2,"us-east-1":2}}
 *
 * A region's dispatcher ARN and archive bucket follow from the naming convention
 * (core/state-machines.ts, core/s3-layout.ts) and are derived here, not written: written
 * out (~200 bytes a region) they overflowed Lambda's 4 KB of environment for an account
 * deployed to more than ~17 regions. The stack grants the starter states:StartExecution on
 * exactly the ARNs `expandDispatcherRoutes` derives from the form it writes. The starter
 * only reads them.
 */
import { z } from "zod";
import { parseEnvJson } from "./env-json";
import { RuntimeConfigError } from "./errors";
import type { IntakeConfig } from "./intake-config";
import { archiveBucketName } from "./s3-layout";
import { dispatcherStateMachineName, PIPELINE_NAME, stateMachineArn } from "./state-machines";

export const DISPATCHERS_ENV = "BACKUP_ACTIONS_DISPATCHERS";

/** The routes as the pipeline stack writes them: only what the naming convention cannot derive. */
export interface DispatcherRoutesEnv {
  /** The starter's own account and region. */
  readonly account: string;
  readonly region: string;
  /** config.name: the dispatchers and archive buckets are named after it. */
  readonly name: string;
  /** Placements (AZs with a job queue) of each region of `account` that the config deploys, own region included. */
  readonly placements: Readonly<Record<string, number>>;
  /**
   * The central archive bucket every region of the account writes to (config centralArchive, mode
   * "write"; docs/adr/0009-central-archive.md). @default none: each region's own archive bucket
   */
  readonly archiveBucket?: string;
}

export interface Dispatcher {
  readonly stateMachineArn: string;
  /** That region's archive bucket (the execution input names it). */
  readonly archiveBucket: string;
  /** Placements (AZs with a job queue) of that region's pipeline. */
  readonly placementCount: number;
}

export interface DispatcherRoutes {
  /** The starter's own account and region: the receiver of the events it classifies. */
  readonly account: string;
  readonly region: string;
  /** One per region of `account` that the config deploys, own region included. */
  readonly dispatchers: Readonly<Record<string, Dispatcher>>;
}

const routesSchema = z.strictObject({
  account: z.string().regex(/^\d{12}$/, { error: "must be 12 digits" }),
  region: z.string().min(1),
  name: z.string().regex(PIPELINE_NAME, {
    error: "must be config.name (2-20 lowercase letters, digits or '-', starting with a letter)",
  }),
  placements: z.record(z.string().min(1), z.number().int().min(1)),
  archiveBucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" })
    .optional(),
});

/**
 * Each region's dispatcher ARN and archive bucket, named as that region's pipeline stack names them
 * (or the central archive bucket, when the routes name one).
 */
export function expandDispatcherRoutes(routes: DispatcherRoutesEnv): DispatcherRoutes {
  const dispatchers: Record<string, Dispatcher> = {};
  for (const [region, placementCount] of Object.entries(routes.placements)) {
    dispatchers[region] = {
      stateMachineArn: stateMachineArn(routes.account, region, dispatcherStateMachineName(routes.name)),
      archiveBucket: routes.archiveBucket ?? archiveBucketName(routes.name, routes.account, region),
      placementCount,
    };
  }
  return { account: routes.account, region: routes.region, dispatchers };
}

/**
 * Parses the JSON the pipeline stack wrote and checks it against the intake config: the
 * placements must cover exactly the deployed regions of the starter's account, its own
 * region included. Throws naming every problem (a cold start that fails keeps the
 * messages in the queue).
 */
export function parseDispatcherRoutes(
  json: string | undefined,
  config: IntakeConfig,
  source = DISPATCHERS_ENV,
): DispatcherRoutes {
  const routes = parseEnvJson(json, routesSchema, source);
  const problems: string[] = [];
  const account = config.accounts.find((a) => a.id === routes.account);
  if (!account) {
    problems.push(`account ${routes.account} is not in the intake config`);
  } else {
    const want = [...account.regions].sort();
    const have = Object.keys(routes.placements).sort();
    if (want.join(",") !== have.join(","))
      problems.push(`placements cover ${have.join(", ") || "no region"}, the config deploys ${want.join(", ")}`);
  }
  if (!Object.hasOwn(routes.placements, routes.region))
    problems.push(`placements have no entry for its own region ${routes.region}`);
  if (problems.length > 0) throw new RuntimeConfigError(`${source} is invalid: ${problems.join("; ")}`);
  return expandDispatcherRoutes(routes);
}
