import type { Partition } from "../../core/partition";

/**
 * What every construct of a pipeline needs to know about where it is: one prop (`context`)
 * instead of the same fields passed to each construct. The pipeline stack builds it from its
 * resolved deployment (config/deployment.ts) and the key it uses.
 */
export interface PipelineContext {
  /** config.name: prefix of every resource name. */
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  /** Partition of `region`: every ARN a construct builds names it. */
  readonly partition: Partition;
  /** KMS key of the pipeline (config.kmsKeyArn in this region, or the key the stack creates). */
  readonly kmsKeyArn: string;
}
