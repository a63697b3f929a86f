/** Test helpers: compose the stacks of a config and read their synthesized JSON. */
import { App, Testing, TerraformStack } from "cdktf";
import { parseConfig } from "../../config/load";
import type { Config } from "../../config/schema";
import { ComposeOptions, composeStacks } from "../../stacks/app";

export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
    tags: { project: "backup-actions" },
    stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1", keyPrefix: "ba" },
    ...overrides,
  });
}

export function compose(config: Config, options?: ComposeOptions) {
  const app: App = Testing.app();
  return composeStacks(app, config, options);
}

export interface Synthesized {
  readonly json: string;
  readonly tf: any;
  /** Every resource of a type: `{ id: config }`. */
  resources(type: string): Record<string, any>;
  /** The single resource of a type; fails when there is not exactly one. */
  only(type: string): any;
}

export function synth(stack: TerraformStack): Synthesized {
  const json = Testing.synth(stack);
  const tf = JSON.parse(json);
  return {
    json,
    tf,
    resources: (type) => tf.resource?.[type] ?? {},
    only: (type) => {
      const all = Object.values(tf.resource?.[type] ?? {});
      if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
      return all[0];
    },
  };
}

/**
 * The `moved` blocks that keep a log group and its key in state once they live in the construct's
 * EncryptedLogGroup `<scope>_log-group`: from their old addresses (`from`) to the new ones.
 */
export function movedIntoEncryptedLogGroup(scope: string, from: { logGroup: string; key: string }) {
  return [
    {
      from: `aws_cloudwatch_log_group.${from.logGroup}`,
      to: expect.stringMatching(new RegExp(`^aws_cloudwatch_log_group\\.${scope}_log-group_this_[0-9A-F]{8}$`)),
    },
    {
      from: `aws_kms_key.${from.key}`,
      to: expect.stringMatching(new RegExp(`^aws_kms_key\\.${scope}_log-group_key_[0-9A-F]{8}$`)),
    },
  ];
}
