/**
 * AWS partitions. Every region is in exactly one partition, and every ARN names it:
 * `arn:<partition>:<service>:<region>:<account>:<resource>`. A stack's ARNs use the
 * partition of the region it deploys to, derived here from the region name at synth time.
 *
 * The region prefixes are those of the AWS SDK's partition table (the `regionRegex` of each
 * partition in the endpoint rules every SDK client resolves with, @aws-sdk/core 3.981):
 *
 *   cn-*        aws-cn       China (Beijing, Ningxia)
 *   us-gov-*    aws-us-gov   AWS GovCloud (US)
 *   us-iso-*    aws-iso      US ISO
 *   us-isob-*   aws-iso-b    US ISOB
 *   eu-isoe-*   aws-iso-e    EU ISOE
 *   us-isof-*   aws-iso-f    US ISOF
 *   otherwise   aws          commercial regions
 */

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"] as const;
export type Partition = (typeof PARTITIONS)[number];

/** Region name prefix → partition. The prefixes end in "-", so `us-iso-` does not match `us-isob-1`. */
const PARTITION_OF_PREFIX: ReadonlyArray<readonly [prefix: string, partition: Partition]> = [
  ["cn-", "aws-cn"],
  ["us-gov-", "aws-us-gov"],
  ["us-iso-", "aws-iso"],
  ["us-isob-", "aws-iso-b"],
  ["eu-isoe-", "aws-iso-e"],
  ["us-isof-", "aws-iso-f"],
];

/** The partition of a region: `us-gov-west-1` → `aws-us-gov`, `cn-north-1` → `aws-cn`, `us-east-1` → `aws`. */
export function partitionOf(region: string): Partition {
  return PARTITION_OF_PREFIX.find(([prefix]) => region.startsWith(prefix))?.[1] ?? "aws";
}
