import { parseArgs, ParseArgsConfig } from "node:util";
import { BackupActionsError } from "../core/errors";

/** Bad command line: the dispatcher prints the message and the command's usage, exit code 2. */
export class UsageError extends BackupActionsError {
  override readonly name: string = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs with its errors turned into UsageError. */
export function parse<O extends Options>(args: string[], options: O, positionals: { min: number; max: number }) {
  let r;
  try {
    r = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (r.positionals.length < positionals.min || r.positionals.length > positionals.max) {
    throw new UsageError(
      positionals.max === 0
        ? `unexpected argument ${r.positionals[0]}`
        : `expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min}-${positionals.max}`} argument(s), got ${r.positionals.length}`,
    );
  }
  return r;
}

export function intOption(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}
