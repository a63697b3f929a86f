/**
 * The part of the config that event classification reads. The full `Config` is
 * assignable to it, so the CLI passes the loaded config as is; the starter Lambda gets
 * only this slice as JSON in an environment variable (Lambda allows 4 KB of
 * environment in total, and the function needs nothing else: no backend, no network).
 */
import { z } from "zod";
import type { Config } from "../config/schema";
import { parseEnvJson } from "./env-json";

export const INTAKE_CONFIG_ENV = "BACKUP_ACTIONS_INTAKE_CONFIG";

export interface IntakeConfig {
  readonly accounts: ReadonlyArray<{ readonly id: string; readonly regions: readonly string[] }>;
  readonly backupVaults: readonly string[];
  readonly exports: { readonly ebs: boolean; readonly rds: boolean; readonly aurora: boolean; readonly dynamodb: boolean };
}

/** The slice of a validated config the starter needs, in a stable key order. */
export function intakeConfigOf(config: Config): IntakeConfig {
  return {
    accounts: config.accounts.map((a) => ({ id: a.id, regions: [...a.regions] })),
    backupVaults: [...config.backupVaults],
    exports: { ebs: config.exports.ebs, rds: config.exports.rds, aurora: config.exports.aurora, dynamodb: config.exports.dynamodb },
  };
}

const intakeSchema = z.strictObject({
  accounts: z.array(z.strictObject({ id: z.string().regex(/^\d{12}$/), regions: z.array(z.string().min(1)).min(1) })).min(1),
  backupVaults: z.array(z.string().min(1)).min(1),
  exports: z.strictObject({ ebs: z.boolean(), rds: z.boolean(), aurora: z.boolean(), dynamodb: z.boolean() }),
});

/** Parses the JSON the pipeline stack wrote into the environment; throws naming every problem. */
export function parseIntakeConfig(json: string | undefined, source = INTAKE_CONFIG_ENV): IntakeConfig {
  return parseEnvJson(json, intakeSchema, source);
}
