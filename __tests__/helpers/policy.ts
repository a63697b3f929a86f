/** Reads IAM policy documents (`data.aws_iam_policy_document`) out of synthesized JSON. */
import type { Synthesized } from "./synth";

/**
 * The statements of the one policy document whose construct id is `id` (logical ids are
 * the construct path joined by `_` plus a hash, e.g. `worker-job_job-role-policy_1A2B3C4D`).
 */
export function statementsOf(out: Synthesized, id: string): any[] {
  const documents = out.tf.data?.aws_iam_policy_document ?? {};
  const pattern = new RegExp(`(^|_)${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}_[0-9A-F]{8}$`);
  const found = Object.keys(documents).filter((key) => pattern.test(key));
  if (found.length !== 1)
    throw new Error(
      `expected one policy document with id ${id}, found ${found.length} (${Object.keys(documents).join(", ")})`,
    );
  return documents[found[0]!].statement;
}

/** The statement with this sid. */
export function statementWithSid(statements: any[], sid: string): any {
  const found = statements.filter((s) => s.sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement with sid ${sid}, found ${found.length}`);
  return found[0];
}
