/**
 * The scheduled reconciler Lambda's environment: written by stacks/constructs/reconciler.ts, read
 * by lambdas/reconciler/handler.ts. One JSON variable (`BACKUP_ACTIONS_RECONCILER`) next to the
 * starter's own classification slice (`BACKUP_ACTIONS_INTAKE_CONFIG`, core/intake-config.ts), so
 * the reconciler classifies with exactly what the starter classifies with. Names and parser live
 * here so the stack and the function cannot drift apart.
 */
import { z } from "zod";
import { parseEnvJson } from "./env-json";
import { PIPELINE_NAME } from "./state-machines";

export const RECONCILER_ENV = "BACKUP_ACTIONS_RECONCILER";

/** @default of `graceMinutes`: an hour in which a recovery point's event may still be in flight. */
export const DEFAULT_GRACE_MINUTES = 60;

export interface ReconcilerSettings {
  /** The pipeline's name (config `name`): the `pipeline` of the Recovery Point Missed events. */
  readonly pipelineName: string;
  /** The ledger table (`<name>-ledger`) the reconciler looks each recovery point up in. */
  readonly ledgerTable: string;
  /** This region's dispatcher: the only state machine the reconciler starts. */
  readonly dispatcherArn: string;
  /** The archive bucket and placement count the execution input names (as the starter's routes give them). */
  readonly archiveBucket: string;
  readonly placementCount: number;
  /** How far back each run lists (config reconciler.lookBackDays). */
  readonly lookBackDays: number;
  /** Recovery points younger than this are left to their event (core/reconcile.ts DEFAULT_GRACE_MINUTES). */
  readonly graceMinutes: number;
  /** A recovery point AWS Backup deletes sooner than this is reported, not started (the longest export). */
  readonly minRetentionHours: number;
}

const schema = z.strictObject({
  pipelineName: z.string().regex(PIPELINE_NAME, { error: "must be a pipeline name (config name)" }),
  ledgerTable: z.string().min(3),
  dispatcherArn: z.string().regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[\w-]+$/, {
    error: "must be a state machine ARN",
  }),
  archiveBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: "must be an S3 bucket name" }),
  placementCount: z.number().int().min(1),
  lookBackDays: z.number().int().min(1),
  graceMinutes: z.number().int().min(0),
  minRetentionHours: z.number().min(0),
});

/** The variable's value: the settings in the schema's key order, nothing else. */
export function reconcilerEnvironment(settings: ReconcilerSettings): Record<string, string> {
  const ordered = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, settings[key as keyof ReconcilerSettings]]),
  );
  return { [RECONCILER_ENV]: JSON.stringify(ordered) };
}

/** Reads the reconciler's settings; throws a RuntimeConfigError naming every problem. */
export function parseReconcilerEnv(env: NodeJS.ProcessEnv): ReconcilerSettings {
  return parseEnvJson(env[RECONCILER_ENV], schema, RECONCILER_ENV);
}
