/**
 * The restore drill's cross-key rule (README "Restore drills"): a drill needs an archive kind the
 * worker's `verify` reads. Kept in its own file next to config/rules.ts, which lists it.
 */
import { drillableWorkflows, DUMP_DRILL_WORKFLOWS } from "../core/drill";
import type { WorkflowSwitch } from "../core/workflows";
import { ConfigProblem, isObject } from "./schema";

const isSwitch = (v: unknown): v is WorkflowSwitch => typeof v === "boolean" || isObject(v);

export function drillProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.drills)) return [];
  const restoreDumps = raw.drills.restoreDumps === true;
  if (raw.drills.enabled !== true)
    return restoreDumps
      ? [
          {
            path: "drills.restoreDumps",
            message: "is true, but drills.enabled is not: the scratch restore is a step of the restore drill",
          },
        ]
      : [];
  const exports = isObject(raw.exports) ? raw.exports : {};
  // Unset switches take the schema's defaults (on); a malformed one is the schema's problem, not this rule's.
  const switchOf = (v: unknown): WorkflowSwitch => (v === undefined ? true : isSwitch(v) ? v : true);
  const workflows = drillableWorkflows({
    ebs: switchOf(exports.ebs),
    rds: switchOf(exports.rds),
    aurora: switchOf(exports.aurora),
  });
  if (workflows.length === 0)
    return [
      {
        path: "drills.enabled",
        message:
          'is true, but no archive the drill can verify is exported: switch on exports.ebs, or exports.rds / exports.aurora with format "dump" or "both" (Parquet and DynamoDB exports are checked by the verify Lambda only)',
      },
    ];
  if (restoreDumps && !workflows.some((w) => (DUMP_DRILL_WORKFLOWS as readonly string[]).includes(w)))
    return [
      {
        path: "drills.restoreDumps",
        message:
          'is true, but no native dump is exported: it needs exports.rds or exports.aurora with format "dump" or "both"',
      },
    ];
  return [];
}
