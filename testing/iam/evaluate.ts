/**
 * Judges recorded requests with a real IAM evaluator, @cloud-copilot/iam-simulate (AGPL, test-only:
 * docs/adr/0007), against the synthesized policies of the role that makes them: the role's identity
 * policies, the resource's own policy (bucket, key, topic, queue) and, for roles inside the VPC, the
 * S3 gateway endpoint's policy. Also: the grants no request used (the reverse report) and the trust
 * policies (each role assumable by exactly its service).
 */
import { runSimulation, runUnsafeSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { iamRequestsOf, type IamRequest } from "./action-map";
import type { IamModel, ModelRole, Policy } from "./model";
import { ROLES } from "./model";
import type { RecordedRequest } from "./recorder";

export interface Verdict {
  readonly record: RecordedRequest;
  readonly request: IamRequest;
  readonly role: ModelRole;
  readonly result: "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Error";
  /** Identity statements that allowed it: `<policy>/<sid>`. */
  readonly allowedBy: readonly string[];
  /** Why it was denied (the layer that blocked it), or the simulator's validation error. */
  readonly detail?: string;
}

const sessionArn = (role: ModelRole, account: string) =>
  `arn:aws:sts::${account}:assumed-role/${role.name}/backup-actions-test`;

function sidOf(statement: unknown, index: number): string {
  const s = statement as { sid?: () => string | undefined; index?: () => number };
  return (typeof s.sid === "function" ? s.sid() : undefined) ?? `#${typeof s.index === "function" ? s.index() : index}`;
}

function isS3(action: string): boolean {
  return action.startsWith("s3:");
}

/** One IAM request of one role, judged. */
export async function judge(
  model: IamModel,
  role: ModelRole,
  request: IamRequest,
  record: RecordedRequest,
): Promise<Verdict> {
  const context = {
    ...request.context,
    "aws:PrincipalArn": role.arn,
    "aws:PrincipalAccount": model.account,
    "aws:PrincipalType": "AssumedRole",
  };
  const simulation: Simulation = {
    request: {
      principal: sessionArn(role, model.account),
      action: request.action,
      resource: { resource: request.resource, accountId: model.account },
      contextVariables: context,
    },
    identityPolicies: role.policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resource === "*" ? undefined : model.resourcePolicyFor(request.resource),
    vpcEndpointPolicies:
      role.inVpc && isS3(request.action)
        ? model.vpcEndpointPolicies.map((p) => ({ name: p.name, policy: p.policy }))
        : undefined,
  };
  if (request.untypedBecause) {
    // The simulator refuses ARNs its tables do not type; AWS authorizes them (see the action map's source).
    if (simulation.vpcEndpointPolicies)
      throw new Error("an untyped request through a VPC endpoint cannot be judged: extend testing/iam/evaluate.ts");
    const result = runUnsafeSimulation(simulation, {});
    const allowedBy = result === "Allowed" ? identityAllowsByHand(role, request.action) : [];
    return {
      record,
      request,
      role,
      result,
      allowedBy,
      detail: result === "Allowed" ? undefined : `${result} (${request.untypedBecause})`,
    };
  }
  const out = await runSimulation(simulation, {});
  if (out.resultType === "error")
    return { record, request, role, result: "Error", allowedBy: [], detail: JSON.stringify(out.errors) };
  const results = out.resultType === "single" ? [out.result] : out.results;
  const allowedBy = results.flatMap((r) =>
    (r.analysis.identityAnalysis?.allowStatements ?? []).map((s, i) => `${s.policyId}/${sidOf(s.statement, i)}`),
  );
  const blocked = results.flatMap((r) => r.analysis.blockedBy ?? []);
  const ignored = results.flatMap((r) => r.ignoredContextKeys ?? []);
  const detail =
    out.overallResult === "Allowed"
      ? undefined
      : `blocked by ${[...new Set(blocked)].join(", ") || "no allowing statement"}${ignored.length ? `; context keys the simulator ignored: ${ignored.join(", ")}` : ""}`;
  return { record, request, role, result: out.overallResult, allowedBy: [...new Set(allowedBy)], detail };
}

/** For untyped requests: the identity statements whose actions cover the action (the simulator allowed it). */
function identityAllowsByHand(role: ModelRole, action: string): string[] {
  return role.policies.flatMap((p) =>
    p.policy.Statement.filter((s) => s.Effect === "Allow" && (s.Action ?? []).some((a) => globMatch(a, action))).map(
      (s, i) => `${p.name}/${s.Sid ?? `#${i}`}`,
    ),
  );
}

export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\?/g, "."))
      .join(".*")}$`,
    "i",
  );
  return re.test(value);
}

/** Every recorded request → its IAM requests → verdicts. Records of other deployments must be filtered by the caller. */
export async function evaluate(model: IamModel, records: readonly RecordedRequest[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const record of records) {
    const role = model.roleFor(record.role);
    for (const request of iamRequestsOf(record, model.facts)) verdicts.push(await judge(model, role, request, record));
  }
  return verdicts;
}

/** One line per denied request: role, action, resource, context, and what made it. */
export function describeDenial(v: Verdict): string {
  const what =
    v.record.kind === "integration" ? `Task ${v.record.operation}` : `${v.record.service}:${v.record.operation}`;
  return (
    `${v.role.name} (${v.role.key}) may not ${v.request.action} on ${v.request.resource}: ${v.result}, ${v.detail ?? ""}\n` +
    `    made by ${what}${v.record.test ? ` in "${v.record.test}"` : ""}; context ${JSON.stringify(v.request.context)}`
  );
}

export function denials(verdicts: readonly Verdict[]): Verdict[] {
  return verdicts.filter((v) => v.result !== "Allowed");
}

/** Fails with every denied request, named. */
export function assertAllAllowed(verdicts: readonly Verdict[]): void {
  const denied = denials(verdicts);
  if (denied.length === 0) return;
  const unique = [
    ...new Map(denied.map((v) => [`${v.role.key}|${v.request.action}|${v.request.resource}`, v])).values(),
  ];
  throw new Error(
    `IAM proof: AWS would deny ${unique.length} request(s):\n  ${unique.map(describeDenial).join("\n  ")}`,
  );
}

/** Granted (role, statement, action) triples no allowed request used: `{ role: { sid: [actions] } }`. */
export function unusedGrants(model: IamModel, verdicts: readonly Verdict[]): Record<string, Record<string, string[]>> {
  const used = new Map<string, Set<string>>(); // `${role}|${policy}/${sid}` → actions used
  for (const v of verdicts) {
    if (v.result !== "Allowed") continue;
    for (const by of v.allowedBy) {
      const k = `${v.role.key}|${by}`;
      if (!used.has(k)) used.set(k, new Set());
      used.get(k)!.add(v.request.action);
    }
  }
  const out: Record<string, Record<string, string[]>> = {};
  for (const role of Object.values(model.roles)) {
    for (const p of role.policies) {
      p.policy.Statement.forEach((s, i) => {
        if (s.Effect !== "Allow") return;
        const sid = s.Sid ?? `#${i}`;
        const actionsUsed = used.get(`${role.key}|${p.name}/${sid}`) ?? new Set<string>();
        const unused = (s.Action ?? []).filter((a) => ![...actionsUsed].some((u) => globMatch(a, u)));
        if (unused.length > 0) (out[role.key] ??= {})[sid] = unused;
      });
    }
  }
  return out;
}

/** Principals the trust policies are tried with: every service that assumes one of our roles, and others. */
export const TRUST_CANDIDATES = [
  ...new Set([
    ...Object.values(ROLES).map((r) => r.service),
    "batch.amazonaws.com",
    "events.amazonaws.com",
    "scheduler.amazonaws.com",
    "ecs.amazonaws.com",
    "codebuild.amazonaws.com",
    "edgelambda.amazonaws.com",
  ]),
];

/** For each role: which candidate principals may sts:AssumeRole it (with the account as aws:SourceAccount). */
export async function trustedPrincipals(
  model: IamModel,
  extraPrincipals: readonly string[] = [],
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const principals = [
    ...TRUST_CANDIDATES,
    `arn:aws:iam::${model.account}:root`,
    "arn:aws:iam::999999999999:root",
    ...extraPrincipals,
  ];
  for (const role of Object.values(model.roles)) {
    out[role.key] = [];
    for (const principal of principals) {
      const service = principal.endsWith(".amazonaws.com");
      const r = await runSimulation(
        {
          request: {
            principal,
            action: "sts:AssumeRole",
            resource: { resource: role.arn, accountId: model.account },
            contextVariables: service
              ? { "aws:SourceAccount": model.account, "aws:SecureTransport": "true" }
              : { "aws:SecureTransport": "true" },
          },
          // A principal of the account would also need an identity policy allowing it: grant it, so the
          // trust policy alone decides.
          identityPolicies: service ? [] : [{ name: "allow-assume", policy: allowAll("sts:AssumeRole") }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: role.trust,
        },
        {},
      );
      if (r.resultType === "error")
        throw new Error(`IAM proof: the trust policy of ${role.name} cannot be simulated: ${JSON.stringify(r.errors)}`);
      if (r.overallResult === "Allowed") out[role.key]!.push(principal);
    }
  }
  return out;
}

function allowAll(action: string): Policy {
  return { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: [action], Resource: ["*"] }] };
}
