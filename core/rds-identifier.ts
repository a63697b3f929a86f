/**
 * Identifiers of the temporary DB instances and clusters the native-dump branch restores
 * (stacks/workflows/rds-dump.ts). RDS refuses an identifier that is not 1–63 letters, digits and
 * hyphens, starting with a letter, with no two hyphens in a row and no hyphen at the end
 * (RestoreDBInstanceFromDBSnapshot, RestoreDBClusterFromSnapshot: DBInstanceIdentifier,
 * DBClusterIdentifier). The state machine derives the identifier as `dump-` and the MD5 of the
 * execution name in lower-case hex (`States.Hash($$.Execution.Name, 'MD5')`), which always passes.
 */
import { createHash } from "node:crypto";

export const TEMPORARY_DB_PREFIX = "dump-";

/** What RDS would refuse about `id`, or undefined when it is a valid instance or cluster identifier. */
export function rdsIdentifierProblem(id: string): string | undefined {
  if (id.length < 1 || id.length > 63) return `"${id}" has ${id.length} characters, RDS takes 1 to 63`;
  if (!/^[A-Za-z]/.test(id)) return `"${id}" does not start with a letter`;
  if (!/^[A-Za-z0-9-]+$/.test(id)) return `"${id}" holds a character other than letters, digits and hyphens`;
  if (id.includes("--")) return `"${id}" holds two consecutive hyphens`;
  if (id.endsWith("-")) return `"${id}" ends with a hyphen`;
  return undefined;
}

/** The identifier the dump branch gives the instance (and cluster) it restores for `executionName`. */
export function temporaryDbIdentifier(executionName: string): string {
  return `${TEMPORARY_DB_PREFIX}${createHash("md5").update(executionName, "utf8").digest("hex")}`;
}

/** The state machine's expression for `temporaryDbIdentifier($$.Execution.Name)` (JSONPath intrinsics). */
export const TEMPORARY_DB_IDENTIFIER_ASL = `States.Format('${TEMPORARY_DB_PREFIX}{}', States.Hash($$.Execution.Name, 'MD5'))`;

/**
 * SSM path under which the dump branch keeps the temporary master passwords of pipeline `name`
 * (SecureString, one parameter per temporary instance, named by its identifier). The janitor sweeps it.
 */
export function dumpParameterPath(name: string): string {
  return `/backup-actions/${name}/dump/`;
}

/** The parameter that holds the master password of temporary instance or cluster `identifier`. */
export function dumpParameterName(name: string, identifier: string): string {
  return `${dumpParameterPath(name)}${identifier}`;
}
