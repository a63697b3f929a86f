import { TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { checkBaseline, EgressMode, Violation } from "../../../stacks/aspects/security-baseline";

/** A fresh app with one stack `test` and an AWS provider: the smallest thing the baseline judges. */
export function newStack(id = "test"): TerraformStack {
  const stack = new TerraformStack(Testing.app(), id);
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  return stack;
}

export function violationsOf(stack: TerraformStack, egress: EgressMode = "endpoints"): Violation[] {
  return checkBaseline(stack, { egress });
}
