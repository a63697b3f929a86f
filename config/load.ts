/**
 * The one place that reads configuration: a JSON file whose path comes from
 * `BACKUP_ACTIONS_CONFIG` (default `config/default.json`).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { core } from "zod";
import { Config, ConfigProblem, configSchema, isObject } from "./schema";
import { WORKFLOWS } from "../core/workflows";
import { crossKeyProblems } from "./rules";
import { BackupActionsError } from "../core/errors";

export const CONFIG_ENV = "BACKUP_ACTIONS_CONFIG";
export const DEFAULT_CONFIG_PATH = path.join(__dirname, "default.json");

export class ConfigError extends BackupActionsError {
  override readonly name: string = "ConfigError";
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `Invalid configuration in ${source}:\n${problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`).join("\n")}`,
    );
  }
}

/** The config path the environment asks for, resolved against the working directory. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[CONFIG_ENV];
  return fromEnv && fromEnv.trim() !== "" ? path.resolve(fromEnv) : DEFAULT_CONFIG_PATH;
}

/** Reads and validates the config file; throws `ConfigError` naming every problem. */
export function loadConfig(file: string = configPath()): Config {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [
      { path: "", message: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})` },
    ]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [{ path: "", message: `not valid JSON: ${(err as Error).message}` }]);
  }
  return parseConfig(raw, file);
}

/** Validates already-parsed JSON. */
export function parseConfig(raw: unknown, source = "config"): Config {
  if (!isObject(raw)) throw new ConfigError(source, [{ path: "", message: "must be a JSON object" }]);
  const result = configSchema.safeParse(raw);
  const problems = [
    ...(result.success ? [] : result.error.issues.flatMap((i) => describeIssue(i, raw))),
    ...crossKeyProblems(raw),
  ];
  if (problems.length > 0 || !result.success) throw new ConfigError(source, dedupe(problems));
  return result.data;
}

/** `["accounts", 0, "id"]` → `accounts[0].id` */
export function formatPath(keys: readonly PropertyKey[]): string {
  return keys.reduce<string>((acc, key) => {
    if (typeof key === "number") return `${acc}[${key}]`;
    return acc === "" ? String(key) : `${acc}.${String(key)}`;
  }, "");
}

function describeIssue(issue: core.$ZodIssue, raw: unknown): ConfigProblem[] {
  const at = formatPath(issue.path);
  // A switch-or-options key (exports.dynamodb): an object that fails its own schema is reported by its keys.
  if (issue.code === "invalid_union") {
    const inside = issue.errors.find((branch) => branch.length > 0 && branch.every((e) => e.path.length > 0));
    if (inside) return inside.flatMap((e) => describeIssue({ ...e, path: [...issue.path, ...e.path] }, raw));
  }
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      if (NEW_VPC_KEYS.includes(key) && issue.path.at(-1) === "network") {
        return {
          path: formatPath([...issue.path, key]),
          message: "not allowed with vpcId (a network is either vpcCidr and azCount, or vpcId and subnetIds)",
        };
      }
      const hint = closestKnownKey(key);
      if (hint === key) return { path: formatPath([...issue.path, key]), message: "not allowed here" };
      return {
        path: formatPath([...issue.path, key]),
        message: `unknown key${hint ? ` (did you mean "${hint}"?)` : ""}`,
      };
    });
  }
  if (issue.code === "invalid_type") {
    const value = valueAt(raw, issue.path);
    if (value === undefined) return [{ path: at, message: "is required" }];
    // A custom message was given for this key: it says what is expected better than zod's.
    if (!issue.message.startsWith("Invalid input")) return [{ path: at, message: issue.message }];
    return [{ path: at, message: `must be ${article(issue.expected)} (got ${describeValue(value)})` }];
  }
  if (issue.code === "invalid_union") {
    // A value of the right shape for exactly one option (e.g. an object where a boolean or an object
    // is allowed): that option's own problems name the inner key, e.g. exports.rds.format.
    const shaped = issue.errors.filter((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0));
    if (shaped.length === 1)
      return shaped[0]!.flatMap((e) =>
        describeIssue({ ...e, path: [...issue.path, ...e.path] } as core.$ZodIssue, raw),
      );
  }
  if (issue.code === "invalid_value" && issue.message.startsWith("Invalid input")) {
    return [{ path: at, message: `must be ${issue.values.map((v) => JSON.stringify(v)).join(" or ")}` }];
  }
  return [{ path: at, message: issue.message }];
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

function valueAt(raw: unknown, keys: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const key of keys) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

function dedupe(problems: ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.path}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const NEW_VPC_KEYS = ["vpcCidr", "azCount", "availabilityZones"];

/** Every key name the schema knows, for "did you mean" hints on typos. */
const KNOWN_KEYS = [
  "name",
  "accounts",
  "id",
  "regions",
  "assumeRoleArn",
  "network",
  "backupVaults",
  "deleteRecoveryPoint",
  "enabled",
  "requiredTag",
  "notificationEmail",
  "kmsKeyArn",
  "tags",
  "accessLogs",
  "bucket",
  "prefix",
  "securityTag",
  "lifecycleRules",
  "glacier",
  "deepArchive",
  "expiration",
  "stateBackend",
  "type",
  "region",
  "keyPrefix",
  "organization",
  "workspacePrefix",
  "hostname",
  "vpcCidr",
  "azCount",
  "availabilityZones",
  "endpointAzCount",
  "egress",
  "vpcId",
  "subnetIds",
  "routeTableIds",
  "exports",
  ...WORKFLOWS,
  "compressionLevel",
  "format",
  "reconciler",
  "intervalHours",
  "lookBackDays",
  "worker",
  "vcpus",
  "memoryMiB",
  "maxVcpus",
  "timeoutHours",
  "spotRetries",
  "instanceFamilies",
  "onDemandFallback",
  "imageUri",
  "volume",
  "throughputMiBps",
  "iops",
  "initializationRateMiBps",
  "centralArchive",
  "account",
  "organizationId",
  "mode",
];

function closestKnownKey(key: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const known of KNOWN_KEYS) {
    const d = editDistance(key.toLowerCase(), known.toLowerCase());
    if (d <= Math.max(1, Math.floor(known.length / 4)) && (!best || d < best.distance))
      best = { key: known, distance: d };
  }
  return best?.key;
}

/** Optimal-string-alignment distance: a swapped pair of letters counts as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
