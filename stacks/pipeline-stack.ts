/**
 * `pipeline-<account>-<region>`: the action pipeline. It reads the network through
 * the network stack's remote state (never an in-process reference), so each stack
 * plans and applies from its own state. Later features fill it.
 */
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { Config, NetworkConfig } from "../config/schema";
import { intakeConfigOf } from "../core/intake-config";
import { archiveBucketName } from "../core/s3-layout";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { remoteStateOf } from "./backends";
import { EventIntake } from "./constructs/event-intake";
import { PipelineKey } from "./constructs/pipeline-key";
import { dispatcherStateMachineName, stateMachineArn } from "./names";
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

/** AZs with a subnet — one Batch placement (compute environment + queue) each. */
export function placementCountOf(network: NetworkConfig): number {
  return "vpcId" in network ? network.subnetIds.length : network.azCount;
}

export class PipelineStack extends TerraformStack {
  public readonly network: NetworkRef;
  public readonly archive: ArchiveBucket;
  /** KMS key of the pipeline: config.kmsKeyArn, or the key this stack creates. */
  public readonly kmsKeyArn: string;

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

    this.kmsKeyArn = config.kmsKeyArn ?? new PipelineKey(this, "pipeline-key", { name: config.name, accountId: props.accountId, region: props.region }).arn;

    const account = config.accounts.find((a) => a.id === props.accountId);
    const placementCount = placementCountOf(account?.network ?? config.network);

    this.archive = new ArchiveBucket(this, "archive", {
      bucketName: archiveBucketName(config.name, props.accountId, props.region),
      kmsKeyArn: this.kmsKeyArn,
      lifecycle: config.lifecycleRules,
      accessLogs: config.accessLogs,
    });
    new TerraformOutput(this, "archive_bucket_name", { value: this.archive.bucket.bucket, description: "Bucket the exports are written to." });

    // ── Event intake (issue 5): Backup events → rules → queue → starter → dispatcher ──
    // The dispatcher's ARN is built from its name, so the starter's IAM grant is exact
    // before (and independent of) the state machine resource.
    const intake = new EventIntake(this, "event-intake", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      config: intakeConfigOf(config),
      kmsKeyArn: this.kmsKeyArn,
      dispatcherStateMachineArn: stateMachineArn(props.accountId, props.region, dispatcherStateMachineName(config.name)),
      archiveBucketName: archiveBucketName(config.name, props.accountId, props.region),
      placementCount,
    });
    new TerraformOutput(this, "intake_queue_url", { value: intake.queue.url, description: "Queue of AWS Backup events waiting for the starter." });
    new TerraformOutput(this, "intake_dlq_url", { value: intake.deadLetterQueue.url, description: "Events that could not be delivered or started; inspect and redrive." });
  }
}
