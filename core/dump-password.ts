/**
 * The dump branch's password Lambda (lambdas/dump-password), its contract with the state machine
 * (stacks/workflows/rds-dump.ts) and the construct that deploys it (stacks/constructs/database-exports.ts):
 * the request, the answer, the environment and the password's alphabet.
 *
 * The Lambda makes a random master password, keeps it in an SSM SecureString under the pipeline key and
 * sets it on the restored instance (ModifyDBInstance) or cluster (ModifyDBCluster): the password never
 * passes through the state machine (its state and history), only the parameter's name does.
 */
import { randomBytes } from "node:crypto";
import { InvalidEventError, RuntimeConfigError } from "./errors";
import { dumpParameterPath, rdsIdentifierProblem, TEMPORARY_DB_PREFIX } from "./rds-identifier";

export const DUMP_PASSWORD_ENV = {
  /** The pipeline key: the SecureString's KeyId. */
  keyArn: "DUMP_PASSWORD_KEY_ARN",
  /** The SSM path the Lambda may write under (core/rds-identifier.ts dumpParameterPath). */
  parameterPath: "DUMP_PASSWORD_PARAMETER_PATH",
} as const;

export type TemporaryDbKind = "instance" | "cluster";

export interface DumpPasswordRequest {
  /** Which master password: a DB instance's (RDS) or a DB cluster's (Aurora). */
  readonly kind: TemporaryDbKind;
  /** The temporary instance or cluster (dump-<md5>). */
  readonly identifier: string;
  /** Where the password goes: `<parameterPath><identifier>`. */
  readonly parameterName: string;
}

export interface DumpPasswordAnswer {
  readonly parameterName: string;
}

export interface DumpPasswordSettings {
  readonly keyArn: string;
  readonly parameterPath: string;
}

export const PASSWORD_LENGTH = 32;

/**
 * Printable ASCII RDS takes in MasterUserPassword: every character from `!` (0x21) to `~` (0x7e) but
 * `/`, `@` and `"` (the space, 0x20, is outside the range). 91 characters.
 */
export const PASSWORD_ALPHABET = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i))
  .filter((c) => !'/@"'.includes(c))
  .join("");

/** `length` characters of PASSWORD_ALPHABET, uniformly (rejection sampling: no modulo bias). */
export function randomPassword(length = PASSWORD_LENGTH, random: (n: number) => Buffer = randomBytes): string {
  const n = PASSWORD_ALPHABET.length;
  const limit = 256 - (256 % n);
  let out = "";
  while (out.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= limit) continue;
      out += PASSWORD_ALPHABET[byte % n];
      if (out.length === length) break;
    }
  }
  return out;
}

export function parseDumpPasswordEnv(env: NodeJS.ProcessEnv): DumpPasswordSettings {
  const missing = Object.values(DUMP_PASSWORD_ENV).filter((name) => !env[name]);
  if (missing.length > 0)
    throw new RuntimeConfigError(`the dump password function's environment is invalid: ${missing.join(", ")} not set`);
  return { keyArn: env[DUMP_PASSWORD_ENV.keyArn]!, parameterPath: env[DUMP_PASSWORD_ENV.parameterPath]! };
}

/** Checks the state machine's payload: a temporary instance or cluster of ours, a parameter under our path. */
export function parseDumpPasswordRequest(event: unknown, settings: DumpPasswordSettings): DumpPasswordRequest {
  const e = (event ?? {}) as Record<string, unknown>;
  const problems: string[] = [];
  if (e.kind !== "instance" && e.kind !== "cluster")
    problems.push(`kind must be "instance" or "cluster" (got ${JSON.stringify(e.kind)})`);
  const identifier = typeof e.identifier === "string" ? e.identifier : "";
  const idProblem = rdsIdentifierProblem(identifier);
  if (idProblem) problems.push(`identifier: ${idProblem}`);
  else if (!identifier.startsWith(TEMPORARY_DB_PREFIX))
    problems.push(`identifier "${identifier}" is not a temporary instance (${TEMPORARY_DB_PREFIX}…)`);
  const expected = `${settings.parameterPath}${identifier}`;
  if (e.parameterName !== expected)
    problems.push(`parameterName must be ${JSON.stringify(expected)} (got ${JSON.stringify(e.parameterName)})`);
  if (problems.length > 0) throw new InvalidEventError(`dump password request: ${problems.join("; ")}`);
  return { kind: e.kind as TemporaryDbKind, identifier, parameterName: expected };
}

export { dumpParameterPath };
