import { Element, Inventory, blocks, strings } from "../inventory";
import { Statement, fromDocument, localStatements, readPolicy, statementLabel } from "../policy";
import { PolicyDocument } from "../../constructs/policy-document";
import { Violation } from "../types";
import { Rule, violation } from "./rule";

/**
 * Rule 8: no IAM statement allows every action on every resource (administrator access).
 * Policies written as documents are checked once, at the PolicyDocument local (or data source);
 * resources that reference a document of this stack are not checked again. A policy only Terraform can evaluate (a
 * `jsonencode(...)` expression, a variable) cannot be shown to be safe and is reported.
 * `service:*` actions are allowed by this rule: least privilege beyond it is a review matter.
 */
export const iamWildcard: Rule = ({ inventory }) => [
  ...["aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy"].flatMap((type) =>
    inventory.resources(type).flatMap((element) => checkPolicy(element, "policy", element.config.policy, inventory)),
  ),
  ...inventory.resources("aws_iam_role").flatMap((role) => [
    ...blocks(role.config.inline_policy).flatMap((inline, i) =>
      // An inline_policy block without a policy is how the provider says "remove all inline policies".
      inline.policy === undefined ? [] : checkPolicy(role, `inline_policy[${i}]`, inline.policy, inventory),
    ),
    ...strings(role.config.managed_policy_arns)
      .filter(isAdministratorAccess)
      .map((arn) => adminAttached(role, arn)),
  ]),
  ...[
    "aws_iam_role_policy_attachment",
    "aws_iam_user_policy_attachment",
    "aws_iam_group_policy_attachment",
    "aws_iam_policy_attachment",
  ].flatMap((type) =>
    inventory.resources(type).flatMap((attachment) => {
      const arn = attachment.config.policy_arn;
      return typeof arn === "string" && isAdministratorAccess(arn) ? [adminAttached(attachment, arn)] : [];
    }),
  ),
  ...inventory.dataSources("aws_iam_policy_document").flatMap((document) => checkDocument(document, inventory)),
  ...inventory
    .locals()
    .filter((local) => local.construct instanceof PolicyDocument)
    .flatMap((local) => checkLocal(local)),
];

function checkPolicy(element: Element, where: string, policy: unknown, inventory: Inventory): Violation[] {
  const source = readPolicy(policy, inventory);
  switch (source.kind) {
    case "document":
      return [];
    case "opaque":
      return [
        violation(
          "iam-wildcard",
          element,
          `${where} cannot be checked: ${source.reason}; build it from a PolicyDocument or a JSON string`,
        ),
      ];
    case "statements":
      return wildcards(element, where, source.statements);
  }
}

function checkLocal(local: Element): Violation[] {
  const source = localStatements(local.config.value);
  if (source.kind === "opaque")
    return [violation("iam-wildcard", local, `policy document cannot be checked: ${source.reason}`)];
  return wildcards(local, "policy document", source.statements);
}

function checkDocument(document: Element, inventory: Inventory): Violation[] {
  const own = wildcards(document, "policy document", blocks(document.config.statement).map(fromDocument));
  const included = ["source_policy_documents", "override_policy_documents"].flatMap((attribute) =>
    strings(document.config[attribute]).flatMap((policy, i) =>
      checkPolicy(document, `${attribute}[${i}]`, policy, inventory),
    ),
  );
  return [...own, ...included];
}

function wildcards(element: Element, where: string, statements: Statement[]): Violation[] {
  return statements.flatMap((statement, i) =>
    statement.effect === "Allow" && statement.actions.includes("*") && statement.resources.includes("*")
      ? [
          violation(
            "iam-wildcard",
            element,
            `${where} ${statementLabel(statement, i)} allows action "*" on resource "*"`,
          ),
        ]
      : [],
  );
}

function isAdministratorAccess(arn: string): boolean {
  return /^arn:[^:]+:iam::aws:policy\/AdministratorAccess$/.test(arn);
}

function adminAttached(element: Element, arn: string): Violation {
  return violation("iam-wildcard", element, `attaches ${arn}, which allows action "*" on resource "*"`);
}
