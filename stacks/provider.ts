import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";

export interface AwsProviderProps {
  readonly region: string;
  /** The account the stack must deploy to; Terraform refuses any other. */
  readonly accountId?: string;
  /** Role to assume in that account (deploying from a central account). @default none */
  readonly assumeRoleArn?: string;
  /** Applied to every taggable resource through `default_tags`. */
  readonly tags: Record<string, string>;
}

export function awsProvider(scope: Construct, props: AwsProviderProps): AwsProvider {
  return new AwsProvider(scope, "aws", {
    region: props.region,
    allowedAccountIds: props.accountId ? [props.accountId] : undefined,
    assumeRole: props.assumeRoleArn
      ? [{ roleArn: props.assumeRoleArn, sessionName: "backup-actions-terraform" }]
      : undefined,
    defaultTags: [{ tags: props.tags }],
  });
}
