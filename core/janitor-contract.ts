/**
 * The janitor Lambda's environment: written by stacks/constructs/janitor.ts, read by
 * lambdas/janitor/handler.ts. Names and parser live here so the two cannot drift.
 */
import { RuntimeConfigError } from "./errors";

export const JANITOR_ENV = {
  pipelineTagKey: "PIPELINE_TAG_KEY",
  pipelineTagValue: "PIPELINE_TAG_VALUE",
  maxAgeHours: "MAX_AGE_HOURS",
  tablePrefix: "TEMP_TABLE_PREFIX",
  dumpParameterPath: "DUMP_PARAMETER_PATH",
} as const;

export interface JanitorSettings {
  /** Tag key and value every volume the pipeline restores carries. */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** A volume is leaked once it is older than this (longest export + margin). */
  readonly maxAgeHours: number;
  /** Name prefix of the DynamoDB child's temporary tables; unset: no table sweep (DynamoDB exports off). */
  readonly tablePrefix?: string;
  /**
   * SSM path of the native dump's password parameters; set, the janitor also sweeps the dump's temporary
   * instances, clusters and parameters. Unset: no database sweep (no dump format on).
   */
  readonly dumpParameterPath?: string;
}

/** The environment variables of the janitor function, in a stable order. */
export function janitorEnvironment(settings: JanitorSettings): Record<string, string> {
  return {
    [JANITOR_ENV.pipelineTagKey]: settings.pipelineTag.key,
    [JANITOR_ENV.pipelineTagValue]: settings.pipelineTag.value,
    [JANITOR_ENV.maxAgeHours]: String(settings.maxAgeHours),
    ...(settings.tablePrefix ? { [JANITOR_ENV.tablePrefix]: settings.tablePrefix } : {}),
    ...(settings.dumpParameterPath ? { [JANITOR_ENV.dumpParameterPath]: settings.dumpParameterPath } : {}),
  };
}

/** Reads the janitor's settings; throws a RuntimeConfigError naming every missing or bad variable. */
export function parseJanitorEnv(env: NodeJS.ProcessEnv): JanitorSettings {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value === "") problems.push(`${name} is not set`);
    return value ?? "";
  };
  const key = required(JANITOR_ENV.pipelineTagKey);
  const value = required(JANITOR_ENV.pipelineTagValue);
  const hours = required(JANITOR_ENV.maxAgeHours);
  const maxAgeHours = Number(hours);
  if (hours !== "" && !(Number.isFinite(maxAgeHours) && maxAgeHours > 0)) {
    problems.push(`${JANITOR_ENV.maxAgeHours} must be a positive number of hours (got ${JSON.stringify(hours)})`);
  }
  if (problems.length > 0) throw new RuntimeConfigError(`the janitor's environment is invalid: ${problems.join("; ")}`);
  const tablePrefix = env[JANITOR_ENV.tablePrefix];
  const dumpParameterPath = env[JANITOR_ENV.dumpParameterPath];
  return {
    pipelineTag: { key, value },
    maxAgeHours,
    ...(tablePrefix ? { tablePrefix } : {}),
    ...(dumpParameterPath ? { dumpParameterPath } : {}),
  };
}
