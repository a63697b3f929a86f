/**
 * EBS child state machine: restore the snapshot as a gp3 volume in the AZ of a Batch
 * job queue, wait (bounded) until it is available, run the worker as a Batch job
 * (`submitJob.sync`), and delete the volume on every path — success, worker failure,
 * timeout, or any error after the volume exists (detaching it first when needed).
 *
 * With readPath `direct` (ADR 0008) the volume is a blank scratch instead: the snapshot's size
 * (DescribeSnapshots), no SnapshotId, encrypted with the pipeline's key, tagged as the scratch of
 * this snapshot; the worker fills it through the EBS direct APIs, then exports it. Everything
 * after CreateVolume — the bounded wait, the job, the cleanup on every path — is the same states.
 *
 * Input:  { recoveryPointArn, archiveUrl, placementIndex }
 * Output: { volumeId, jobId, archiveUrl }
 */
import type { Partition } from "../../core/partition";
import { RECOVERY_POINT_TAG_KEY, SCRATCH_TAG_KEY } from "../../core/tags";
import type { ReadPath, WorkerJobParametersAsl } from "../../core/worker-job";
import { Retrier, StateMachineDefinition, TRANSIENT_TASK_RETRY } from "./asl";

export interface Placement {
  /** AZ of the job queue's compute environment; the volume must be created there. */
  readonly availabilityZone: string;
  readonly jobQueueArn: string;
}

export interface EbsExportProps {
  /** Partition of the state machine's region: the Task integrations are `arn:<partition>:states:::…`. */
  readonly partition: Partition;
  /** One per AZ; the starter picks `placementIndex` from the recovery point's hash. */
  readonly placements: readonly Placement[];
  /**
   * Job definition name without revision: Batch runs its latest ACTIVE revision, so registering a
   * new revision leaves this definition (and the plan) unchanged.
   */
  readonly jobDefinitionName: string;
  readonly volume: {
    /** gp3 throughput, MiB/s. */
    readonly throughputMiBps: number;
    readonly iops: number;
    /** Snapshot initialization rate, MiB/s (faster first read of each block). @default none */
    readonly initializationRateMiBps?: number;
  };
  /**
   * `volume`: CreateVolume from the snapshot; `direct`: a blank scratch volume of the snapshot's size the worker
   * fills through the EBS direct APIs. @default "volume"
   */
  readonly readPath?: ReadPath;
  /** The key a direct read's scratch volume is encrypted with (the pipeline's); required with readPath `direct`. */
  readonly scratchKmsKeyArn?: string;
  /** Tags on the restored volume: the pipeline tag (janitor), the recovery point, the security tag. */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** @default none */
  readonly securityTag?: string;
  readonly compressionLevel: number;
  /** Polls of the volume's state before giving up. @default 90 */
  readonly maxVolumePolls?: number;
  /** Seconds between polls. @default 10 */
  readonly pollSeconds?: number;
  /** Polls while waiting for a detach during cleanup. @default 30 */
  readonly maxCleanupPolls?: number;
}

/**
 * Step Functions reports every EC2 error of an aws-sdk integration as `Ec2.Ec2Exception`
 * (the EC2 code — RequestLimitExceeded, VolumeInUse, InvalidVolume.NotFound — is only in
 * the Cause), so throttling cannot be told apart from other EC2 errors: retry them all a
 * bounded number of times with backoff and full jitter, then let the Catch decide.
 */
export const EC2_RETRY: Retrier = {
  ErrorEquals: ["Ec2.Ec2Exception", "Ec2.SdkClientException"],
  IntervalSeconds: 2,
  MaxAttempts: 5,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

export function ebsExportDefinition(props: EbsExportProps): StateMachineDefinition {
  if (props.placements.length === 0) throw new Error("ebsExportDefinition: placements must not be empty");
  const readPath = props.readPath ?? "volume";
  if (readPath === "direct" && !props.scratchKmsKeyArn)
    throw new Error("ebsExportDefinition: readPath direct needs scratchKmsKeyArn (the scratch volume is encrypted)");
  const maxVolumePolls = props.maxVolumePolls ?? 90;
  const pollSeconds = props.pollSeconds ?? 10;
  const maxCleanupPolls = props.maxCleanupPolls ?? 30;
  const states = `arn:${props.partition}:states:::`;

  const volumeTags = [
    { Key: props.pipelineTag.key, Value: props.pipelineTag.value },
    { Key: RECOVERY_POINT_TAG_KEY, "Value.$": "$.recoveryPointArn" },
    ...(props.securityTag ? [{ Key: props.securityTag, Value: "true" }] : []),
  ];
  const createCommon = {
    "AvailabilityZone.$": "$.placement.availabilityZone",
    VolumeType: "gp3",
    Throughput: props.volume.throughputMiBps,
    Iops: props.volume.iops,
    // Idempotent: a retried CreateVolume returns the same volume, never a second one.
    "ClientToken.$": "States.Hash($$.Execution.Name, 'MD5')",
  };
  const createVolume =
    readPath === "direct"
      ? {
          // Blank: no SnapshotId, so nothing is lazily loaded; the worker writes every block of the snapshot.
          ...createCommon,
          "Size.$": "$.snapshot.sizeGiB",
          Encrypted: true,
          KmsKeyId: props.scratchKmsKeyArn,
          TagSpecifications: [
            { ResourceType: "volume", Tags: [...volumeTags, { Key: SCRATCH_TAG_KEY, "Value.$": "$.snapshotId" }] },
          ],
        }
      : {
          ...createCommon,
          "SnapshotId.$": "$.snapshotId",
          ...(props.volume.initializationRateMiBps
            ? { VolumeInitializationRate: props.volume.initializationRateMiBps }
            : {}),
          TagSpecifications: [{ ResourceType: "volume", Tags: volumeTags }],
        };
  // The direct branch's one extra state: the scratch gets the snapshot's size (no resource exists yet).
  const describeSnapshot = {
    DescribeSnapshot: {
      Type: "Task" as const,
      Resource: `${states}aws-sdk:ec2:describeSnapshots`,
      Parameters: { "SnapshotIds.$": "States.Array($.snapshotId)" },
      ResultSelector: { "sizeGiB.$": "$.Snapshots[0].VolumeSize" },
      ResultPath: "$.snapshot",
      Retry: [EC2_RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
      Next: "CreateVolume",
    },
  };

  return {
    Comment:
      readPath === "direct"
        ? "Export one EBS snapshot: a blank gp3 scratch volume the worker fills through the EBS direct APIs, run on Batch Spot, always delete the volume"
        : "Export one EBS snapshot: restore a gp3 volume, run the worker on Batch Spot, always delete the volume",
    StartAt: "Placements",
    States: {
      Placements: {
        Type: "Pass",
        Result: props.placements.map((p) => ({ availabilityZone: p.availabilityZone, jobQueueArn: p.jobQueueArn })),
        ResultPath: "$.placements",
        Next: "Prepare",
      },
      Prepare: {
        Type: "Pass",
        Comment: `snapshot id from arn:${props.partition}:ec2:<region>::snapshot/<id>; placement chosen by the starter`,
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPointArn",
          "archiveUrl.$": "$.archiveUrl",
          "snapshotId.$": "States.ArrayGetItem(States.StringSplit($.recoveryPointArn, '/'), 1)",
          "placement.$": "States.ArrayGetItem($.placements, $.placementIndex)",
          polls: { count: 0 },
          cleanupPolls: { count: 0 },
        },
        Next: readPath === "direct" ? "DescribeSnapshot" : "CreateVolume",
      },
      ...(readPath === "direct" ? describeSnapshot : {}),
      CreateVolume: {
        Type: "Task",
        Resource: `${states}aws-sdk:ec2:createVolume`,
        Parameters: createVolume,
        ResultSelector: { "volumeId.$": "$.VolumeId" },
        ResultPath: "$.volume",
        Retry: [EC2_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
        Next: "WaitForVolume",
      },
      WaitForVolume: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeVolume" },
      DescribeVolume: {
        Type: "Task",
        Resource: `${states}aws-sdk:ec2:describeVolumes`,
        Parameters: { "VolumeIds.$": "States.Array($.volume.volumeId)" },
        ResultSelector: { "state.$": "$.Volumes[0].State" },
        ResultPath: "$.volumeState",
        Retry: [EC2_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "CleanupDescribe" }],
        Next: "VolumeReady",
      },
      VolumeReady: {
        Type: "Choice",
        Choices: [
          { Variable: "$.volumeState.state", StringEquals: "available", Next: "RunWorker" },
          {
            And: [
              { Variable: "$.volumeState.state", StringEquals: "creating" },
              { Variable: "$.polls.count", NumericLessThan: maxVolumePolls },
            ],
            Next: "CountPoll",
          },
        ],
        Default: "VolumeNotAvailable",
      },
      CountPoll: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.polls.count, 1)" },
        ResultPath: "$.polls",
        Next: "WaitForVolume",
      },
      VolumeNotAvailable: {
        Type: "Pass",
        Parameters: {
          Error: "VolumeNotAvailable",
          "Cause.$": `States.Format('volume {} is {} after ${maxVolumePolls} polls', $.volume.volumeId, $.volumeState.state)`,
        },
        ResultPath: "$.error",
        Next: "CleanupDescribe",
      },
      RunWorker: {
        Type: "Task",
        Comment: "Spot reclaims are retried by the job definition's retry strategy (Host EC2*), nothing else is",
        Resource: `${states}batch:submitJob.sync`,
        Parameters: {
          "JobName.$": "States.Format('ebs-export-{}', $.volume.volumeId)",
          "JobQueue.$": "$.placement.jobQueueArn",
          JobDefinition: props.jobDefinitionName,
          Parameters: {
            "volumeId.$": "$.volume.volumeId",
            "targetUrl.$": "$.archiveUrl",
            compressionLevel: String(props.compressionLevel),
            "snapshotId.$": "$.snapshotId",
            readPath,
          } satisfies WorkerJobParametersAsl,
          Tags: { [props.pipelineTag.key]: props.pipelineTag.value },
        },
        ResultSelector: { "jobId.$": "$.JobId", "status.$": "$.Status" },
        ResultPath: "$.job",
        Retry: [
          { ...TRANSIENT_TASK_RETRY, ErrorEquals: ["Batch.AWSBatchException", "Batch.TooManyRequestsException"] },
        ],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "CleanupDescribe" }],
        Next: "CleanupDescribe",
      },
      // ── cleanup: reached on success and on every failure once the volume exists ──
      CleanupDescribe: {
        Type: "Task",
        Resource: `${states}aws-sdk:ec2:describeVolumes`,
        Parameters: { "VolumeIds.$": "States.Array($.volume.volumeId)" },
        ResultSelector: { "state.$": "$.Volumes[0].State", "attachments.$": "$.Volumes[0].Attachments" },
        ResultPath: "$.cleanup",
        Retry: [EC2_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DeleteVolume" }],
        Next: "IsAttached",
      },
      IsAttached: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.cleanup.attachments[0]", IsPresent: true },
              { Variable: "$.cleanupPolls.count", NumericLessThan: maxCleanupPolls },
            ],
            Next: "DetachVolume",
          },
        ],
        Default: "DeleteVolume",
      },
      DetachVolume: {
        Type: "Task",
        Comment: "Only when the worker could not detach (killed, instance reclaimed)",
        Resource: `${states}aws-sdk:ec2:detachVolume`,
        Parameters: { "VolumeId.$": "$.volume.volumeId", Force: true },
        ResultPath: null,
        Retry: [EC2_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "CountCleanupPoll" }],
        Next: "CountCleanupPoll",
      },
      CountCleanupPoll: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.cleanupPolls.count, 1)" },
        ResultPath: "$.cleanupPolls",
        Next: "WaitForDetach",
      },
      WaitForDetach: { Type: "Wait", Seconds: pollSeconds, Next: "CleanupDescribe" },
      DeleteVolume: {
        Type: "Task",
        Resource: `${states}aws-sdk:ec2:deleteVolume`,
        Parameters: { "VolumeId.$": "$.volume.volumeId" },
        ResultPath: null,
        // VolumeInUse (a detach still settling) is an Ec2.Ec2Exception too: longer, bounded retries.
        Retry: [{ ...EC2_RETRY, IntervalSeconds: 10, MaxAttempts: 8, BackoffRate: 1.5, MaxDelaySeconds: 120 }],
        // Left for the janitor (it deletes tagged, unattached volumes); the outcome of the export still stands.
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "AfterCleanup" }],
        Next: "AfterCleanup",
      },
      AfterCleanup: {
        Type: "Choice",
        Choices: [{ Variable: "$.error", IsPresent: true, Next: "ExportFailed" }],
        Default: "ExportSucceeded",
      },
      ExportSucceeded: {
        Type: "Pass",
        Parameters: { "volumeId.$": "$.volume.volumeId", "jobId.$": "$.job.jobId", "archiveUrl.$": "$.archiveUrl" },
        End: true,
      },
      ExportFailed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    },
  };
}
