/**
 * The part of the config that event classification reads. core defines the slice and
 * config/ satisfies it: the full `Config` is assignable to it, so the CLI passes the loaded
 * config as is (core imports nothing of config/); the starter Lambda gets
 * only this slice as JSON in an environment variable (Lambda allows 4 KB of
 * environment in total, and the function needs nothing else: no backend, no network).
 */
import { z } from "zod";
import { parseEnvJson } from "./env-json";
import { WORKFLOWS, type Workflow, type WorkflowSwitches } from "./workflows";

export const INTAKE_CONFIG_ENV = "BACKUP_ACTIONS_INTAKE_CONFIG";

export interface IntakeConfig {
  readonly accounts: ReadonlyArray<{ readonly id: string; readonly regions: readonly string[] }>;
  readonly backupVaults: readonly string[];
  readonly exports: WorkflowSwitches;
}

/** What event classification takes: the config's view (switches may carry a workflow's options) or the starter's slice. */
export type IntakeConfigSource = IntakeConfig;

/** The starter's slice: only whether each workflow is on (its formats are the children's business). */
export type IntakeSlice = Omit<IntakeConfig, "exports"> & { readonly exports: { readonly [W in Workflow]: boolean } };

/** The slice of a validated config (or anything that has it) the starter needs, in a stable key order, nothing else. */
export function intakeConfigOf(config: IntakeConfig): IntakeSlice {
  return {
    accounts: config.accounts.map((a) => ({ id: a.id, regions: [...a.regions] })),
    backupVaults: [...config.backupVaults],
    exports: Object.fromEntries(WORKFLOWS.map((w) => [w, config.exports[w] !== false])) as Record<Workflow, boolean>,
  };
}

const intakeSchema = z.strictObject({
  accounts: z
    .array(z.strictObject({ id: z.string().regex(/^\d{12}$/), regions: z.array(z.string().min(1)).min(1) }))
    .min(1),
  backupVaults: z.array(z.string().min(1)).min(1),
  exports: z.strictObject(
    Object.fromEntries(WORKFLOWS.map((w) => [w, z.boolean()])) as Record<keyof WorkflowSwitches, z.ZodBoolean>,
  ),
});

/** Parses the JSON the pipeline stack wrote into the environment; throws naming every problem. */
export function parseIntakeConfig(json: string | undefined, source = INTAKE_CONFIG_ENV): IntakeSlice {
  return parseEnvJson(json, intakeSchema, source);
}
