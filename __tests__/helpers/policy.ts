/** Reads the IAM policy documents (PolicyDocument locals) out of synthesized JSON. */
import { policyDocument, statementBlock } from "../../testing/policy-documents";
import type { Synthesized } from "./synth";

/**
 * The statements of the one policy document whose construct id is `id` (logical ids are
 * the construct path joined by `_` plus a hash, e.g. `worker-job_job-role-policy_1A2B3C4D`),
 * read from the rendered JSON and written in the statement model (testing/policy-documents.ts
 * statementBlock): `{ sid, actions, resources, principals: [{ type, identifiers }], condition }`.
 */
export function statementsOf(out: Synthesized, id: string): any[] {
  return policyDocument(out.tf, id).Statement.map(statementBlock);
}

/** The statement with this sid. */
export function statementWithSid(statements: any[], sid: string): any {
  const found = statements.filter((s) => s.sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement with sid ${sid}, found ${found.length}`);
  return found[0];
}
