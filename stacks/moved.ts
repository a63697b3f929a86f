/**
 * `moved` blocks for refactors that change a resource's construct path, so Terraform
 * moves the resource in state instead of destroying it and creating it again (a log
 * group with its events, a KMS key with what it encrypted).
 *
 * A resource's address is its type and a logical id that cdktf derives from the
 * construct ids below the stack (the ids joined by `_`, plus a hash of the path).
 * `makeUniqueId` is that derivation; it is not part of cdktf's public API, but cdktf is
 * pinned at 0.21.0 (ADR 0001) and the tests pin the former addresses this produces.
 */
import { TerraformResource, TerraformStack } from "cdktf";
import { makeUniqueId } from "cdktf/lib/private/unique";
import { Construct } from "constructs";

/** Moves the state of `resource` from where it was: the construct path `scope`/`formerIds`. */
export function movedFrom(resource: TerraformResource, scope: Construct, ...formerIds: string[]): void {
  const scopes = scope.node.scopes;
  const below = scopes.slice(scopes.indexOf(TerraformStack.of(scope)) + 1).map((c) => c.node.id);
  resource.moveFromId(`${resource.terraformResourceType}.${makeUniqueId([...below, ...formerIds])}`);
}
