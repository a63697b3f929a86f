/**
 * Settings the stacks write into a function's environment as JSON: read, parse and check
 * against a schema, throwing one RuntimeConfigError that names the variable and every
 * problem (a cold start that fails keeps the work in its queue).
 */
import type { z } from "zod";
import { RuntimeConfigError } from "./errors";

export function parseEnvJson<T>(json: string | undefined, schema: z.ZodType<T>, source: string): T {
  if (json === undefined || json.trim() === "") throw new RuntimeConfigError(`${source} is not set`);
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new RuntimeConfigError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new RuntimeConfigError(`${source} is invalid: ${problems.join("; ")}`);
  }
  return result.data;
}
