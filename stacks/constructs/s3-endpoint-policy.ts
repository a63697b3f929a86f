/**
 * The policy of the network stack's S3 gateway endpoint, set from the pipeline stack (the
 * endpoint id comes from remote state): traffic through the endpoint may reach only
 *
 * - the archive bucket, with the worker's actions (WORKER_ARCHIVE_ACTIONS);
 * - ECR's image layer bucket of the region (`prod-<region>-starport-layer-bucket`), read only,
 *   so Batch instances can pull the worker image.
 *
 * Everything else in S3 is refused at the endpoint, whatever an IAM policy in the VPC allows:
 * a compromised worker cannot copy data to a bucket of its choosing. The Lambdas run outside
 * the VPC and are not affected. Deleting this resource puts the endpoint back to full access.
 */
import { VpcEndpointPolicy } from "@cdktf/provider-aws/lib/vpc-endpoint-policy";
import { Construct } from "constructs";
import { partitionOf } from "../../core/partition";
import { WORKER_ARCHIVE_ACTIONS } from "./worker-job-definition";
import { PolicyDocument } from "./policy-document";

export interface S3EndpointPolicyProps {
  readonly vpcEndpointId: string;
  readonly region: string;
  readonly archiveBucketArn: string;
}

/** ECR keeps image layers in this AWS-owned bucket (Amazon ECR User Guide, "Amazon ECR interface VPC endpoints"). */
export function ecrLayerBucketArn(region: string): string {
  return `arn:${partitionOf(region)}:s3:::prod-${region}-starport-layer-bucket`;
}

export class S3EndpointPolicy extends Construct {
  public readonly policy: VpcEndpointPolicy;

  constructor(scope: Construct, id: string, props: S3EndpointPolicyProps) {
    super(scope, id);
    const anyone = [{ type: "*", identifiers: ["*"] }];
    const document = new PolicyDocument(this, "document", {
      statement: [
        {
          sid: "ArchiveObjects",
          principals: anyone,
          actions: [...WORKER_ARCHIVE_ACTIONS.objects],
          resources: [`${props.archiveBucketArn}/*`],
        },
        {
          sid: "ArchiveBucket",
          principals: anyone,
          actions: [...WORKER_ARCHIVE_ACTIONS.bucket],
          resources: [props.archiveBucketArn],
        },
        {
          sid: "EcrImageLayers",
          principals: anyone,
          actions: ["s3:GetObject"],
          resources: [`${ecrLayerBucketArn(props.region)}/*`],
        },
      ],
    });
    this.policy = new VpcEndpointPolicy(this, "policy", { vpcEndpointId: props.vpcEndpointId, policy: document.json });
  }
}
