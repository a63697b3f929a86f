/**
 * Where the starter starts an export: the dispatcher of each region of its own account
 * that the config deploys, with what an execution in that region needs (its archive
 * bucket and number of placements). A copy job's event arrives in the SOURCE region, so
 * the starter there starts the DESTINATION region's dispatcher (ADR 0006).
 *
 * The pipeline stack writes these routes into the starter's environment, built from the
 * naming convention of stacks/names.ts; the same list is the starter's IAM grant
 * (states:StartExecution on exactly these ARNs). The starter only reads them.
 */
import { z } from "zod";
import { parseEnvJson } from "./env-json";
import { RuntimeConfigError } from "./errors";
import type { IntakeConfig } from "./intake-config";

export const DISPATCHERS_ENV = "BACKUP_ACTIONS_DISPATCHERS";

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

const STATE_MACHINE_ARN = /^arn:[a-z-]+:states:([a-z0-9-]+):(\d{12}):stateMachine:[A-Za-z0-9_-]{1,80}$/;

const routesSchema = z.strictObject({
  account: z.string().regex(/^\d{12}$/, { error: "must be 12 digits" }),
  region: z.string().min(1),
  dispatchers: z.record(
    z.string().min(1),
    z.strictObject({
      stateMachineArn: z.string().regex(STATE_MACHINE_ARN, { error: "must be a state machine ARN" }),
      archiveBucket: z.string().min(3),
      placementCount: z.number().int().min(1),
    }),
  ),
});

/**
 * Parses the JSON the pipeline stack wrote and checks it against the intake config: the
 * routes must cover exactly the deployed regions of the starter's account, each ARN in
 * its own region and account. Throws naming every problem (a cold start that fails keeps
 * the messages in the queue).
 */
export function parseDispatcherRoutes(json: string | undefined, config: IntakeConfig, source = DISPATCHERS_ENV): DispatcherRoutes {
  const routes = parseEnvJson(json, routesSchema, source);
  const problems: string[] = [];
  const account = config.accounts.find((a) => a.id === routes.account);
  if (!account) {
    problems.push(`account ${routes.account} is not in the intake config`);
  } else {
    const want = [...account.regions].sort();
    const have = Object.keys(routes.dispatchers).sort();
    if (want.join(",") !== have.join(",")) problems.push(`dispatchers cover ${have.join(", ") || "no region"}, the config deploys ${want.join(", ")}`);
  }
  if (!(routes.region in routes.dispatchers)) problems.push(`no dispatcher for its own region ${routes.region}`);
  for (const [region, d] of Object.entries(routes.dispatchers)) {
    const [, arnRegion, arnAccount] = STATE_MACHINE_ARN.exec(d.stateMachineArn)!;
    if (arnRegion !== region || arnAccount !== routes.account) problems.push(`dispatchers.${region}: ${d.stateMachineArn} is not in ${routes.account}/${region}`);
  }
  if (problems.length > 0) throw new RuntimeConfigError(`${source} is invalid: ${problems.join("; ")}`);
  return routes;
}
