/**
 * The Lambda runtime every function of backup-actions uses, and the dates on which Lambda stops
 * accepting it (AWS Lambda developer guide, "Lambda runtimes", table of supported runtimes and
 * "Runtime deprecation"): after `createBlock` a function on that runtime can no longer be
 * created (a new pipeline stack fails to apply), after `updateBlock` it can no longer be updated
 * (any code or configuration change of an existing pipeline fails). Functions keep running.
 *
 * The newest runtime is bounded by the AWS provider: 5.100.0 (ADR 0002) validates `runtime`
 * against a list that ends at nodejs22.x. nodejs24.x needs AWS provider 6.x, i.e.
 * @cdktf/provider-aws 21.x (ADR 0002, "Deadlines").
 */

export interface RuntimeDeadlines {
  /** AWS stops security patches and support. */
  readonly deprecation: string;
  /** Lambda refuses CreateFunction with this runtime. */
  readonly createBlock: string;
  /** Lambda refuses UpdateFunctionCode / UpdateFunctionConfiguration with this runtime. */
  readonly updateBlock: string;
}

/** UTC dates (YYYY-MM-DD), as AWS publishes them. Add a row when moving to a newer runtime. */
export const LAMBDA_RUNTIME_DEADLINES: Readonly<Record<string, RuntimeDeadlines>> = {
  "nodejs20.x": { deprecation: "2026-04-30", createBlock: "2026-08-31", updateBlock: "2026-09-30" },
  "nodejs22.x": { deprecation: "2027-04-30", createBlock: "2027-06-01", updateBlock: "2027-07-01" },
  "nodejs24.x": { deprecation: "2028-04-30", createBlock: "2028-06-01", updateBlock: "2028-07-01" },
};

/** The runtime of every function (stacks/constructs/lambda-function.ts). */
export const LAMBDA_RUNTIME = "nodejs22.x";
/** esbuild's target for that runtime (stacks/constructs/lambda-bundle.ts). */
export const LAMBDA_BUNDLE_TARGET = "node22";

/** Synthesis warns this many days before a runtime's creation block. */
export const RUNTIME_WARNING_DAYS = 90;

const DAY_MS = 24 * 3600 * 1000;

/**
 * The warning to print at synthesis for `runtime` on `now`, or undefined when its creation
 * block is more than RUNTIME_WARNING_DAYS away. A runtime missing from the table is an error:
 * its dates must be written down before any function uses it.
 */
export function runtimeDeadlineWarning(runtime: string, now: Date): string | undefined {
  const dates = LAMBDA_RUNTIME_DEADLINES[runtime];
  if (!dates)
    throw new Error(`Lambda runtime ${runtime} has no row in LAMBDA_RUNTIME_DEADLINES (stacks/lambda-runtimes.ts)`);
  const createBlock = Date.parse(`${dates.createBlock}T00:00:00Z`);
  const updateBlock = Date.parse(`${dates.updateBlock}T00:00:00Z`);
  const days = Math.ceil((createBlock - now.getTime()) / DAY_MS);
  if (days > RUNTIME_WARNING_DAYS) return undefined;
  const fix = "move to a newer runtime (ADR 0002: @cdktf/provider-aws 21.x, AWS provider 6.x, accepts nodejs24.x)";
  if (now.getTime() >= updateBlock) {
    return `warning: Lambda runtime ${runtime}: since ${dates.updateBlock} Lambda refuses to create or update functions on it; ${fix}`;
  }
  if (days <= 0) {
    return (
      `warning: Lambda runtime ${runtime}: since ${dates.createBlock} Lambda refuses to create functions on it ` +
      `(new pipeline stacks fail to apply), and from ${dates.updateBlock} to update them; ${fix}`
    );
  }
  return (
    `warning: Lambda runtime ${runtime}: from ${dates.createBlock} (in ${days} days) Lambda refuses to create functions ` +
    `on it (new pipeline stacks fail to apply), and from ${dates.updateBlock} to update them; ${fix}`
  );
}
