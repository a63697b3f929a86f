/**
 * `pipeline-<account>-<region>`: the action pipeline. It reads the network through
 * the network stack's remote state (never an in-process reference), so each stack
 * plans and applies from its own state. Later features fill it.
 */
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { Config } from "../config/schema";
import { remoteStateOf } from "./backends";
import { NETWORK_OUTPUTS } from "./network-stack";
import { awsProvider } from "./provider";

export interface PipelineStackProps {
  readonly config: Config;
  readonly accountId: string;
  readonly region: string;
  readonly assumeRoleArn?: string;
  /** Name of the network stack whose outputs this pipeline uses. */
  readonly networkStackName: string;
}

/** Typed accessors over the network stack's outputs. */
export interface NetworkRef {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly subnetAzs: string[];
  readonly workerSecurityGroupId: string;
  readonly s3EndpointId: string;
  readonly egressMode: string;
}

export class PipelineStack extends TerraformStack {
  public readonly network: NetworkRef;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const { config } = props;
    awsProvider(this, { region: props.region, accountId: props.accountId, assumeRoleArn: props.assumeRoleArn, tags: config.tags });

    const remote = remoteStateOf(this, "network", config.stateBackend, props.networkStackName);
    this.network = {
      vpcId: remote.getString(NETWORK_OUTPUTS.vpcId),
      subnetIds: remote.getList(NETWORK_OUTPUTS.subnetIds),
      subnetAzs: remote.getList(NETWORK_OUTPUTS.subnetAzs),
      workerSecurityGroupId: remote.getString(NETWORK_OUTPUTS.workerSecurityGroupId),
      s3EndpointId: remote.getString(NETWORK_OUTPUTS.s3EndpointId),
      egressMode: remote.getString(NETWORK_OUTPUTS.egressMode),
    };

    new TerraformOutput(this, "network_vpc_id", { value: this.network.vpcId, description: "VPC this pipeline runs in (from the network stack)." });
  }
}
