/**
 * The resolved deployment: a validated config worked out once into one record per account and
 * region, which stacks/app.ts hands to that region's network and pipeline stacks. Pure (no
 * cdktf): what a stack needs to know about where it is and what it talks to is decided here,
 * and no stack derives it again.
 */
import {
  DispatcherRoutes,
  DispatcherRoutesEnv,
  expandDispatcherRoutes,
  type Dispatcher,
} from "../core/dispatcher-routes";
import { intakeConfigOf, type IntakeConfig } from "../core/intake-config";
import { partitionOf, type Partition } from "../core/partition";
import { placementCountOf } from "../core/placements";
import { archiveBucketName } from "../core/s3-layout";
import {
  childStateMachineName,
  lambdaRoleName,
  rdsExportRoleName,
  stateMachineRoleName,
  verifyFunctionName,
  workerJobRoleName,
} from "../core/role-names";
import { archiveStackName, BOOTSTRAP_STACK, networkStackName, pipelineStackName } from "../core/stack-names";
import { dynamodbExportEnabled } from "../core/dynamodb-export";
import { hasParquet } from "../core/workflows";
import { interfaceEndpointKeysOf, type InterfaceEndpointKey } from "../core/interface-endpoints";
import { databaseFormatsOf } from "./database-exports";
import { dispatcherStateMachineName } from "../core/state-machines";
import {
  stateBucketAccountId,
  type Config,
  type EgressMode,
  type NetworkConfig,
  type S3BackendConfig,
  type StateBackendConfig,
} from "./schema";

/** The settings of a pipeline that are the same in every region (slices of the config). */
export type PipelineSettings = Pick<
  Config,
  | "worker"
  | "exports"
  | "drills"
  | "lifecycleRules"
  | "accessLogs"
  | "archive"
  | "securityTag"
  | "notificationEmail"
  | "deleteRecoveryPoint"
  | "reconciler"
>;

/** One account and region: what its network and pipeline stacks are built from. */
export interface RegionDeployment {
  /** config.name: prefix of every resource name. */
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: Partition;
  /** Role Terraform assumes in the account (accounts[].assumeRoleArn). @default the deployer's own credentials */
  readonly assumeRoleArn?: string;
  /** accounts[].network, else the top-level network. */
  readonly network: NetworkConfig;
  readonly egress: EgressMode;
  /** The interface endpoints of its network in `endpoints` egress mode: those its workers call. */
  readonly interfaceEndpoints: readonly InterfaceEndpointKey[];
  /** AZs with a subnet: one Batch placement (compute environment + job queue) each. */
  readonly placementCount: number;
  /**
   * Name of each placement's zone, in subnet order, when the config names them (network.availabilityZones): the
   * subnets and lanes are addressed by it. @default none: addressed by position
   */
  readonly zoneNames?: readonly string[];
  /** config.kmsKeyArn as this region sees it (keyArnInRegion). @default none: the pipeline creates its own key */
  readonly kmsKeyArn?: string;
  /** What the starter of this region gets in its environment (core/dispatcher-routes.ts). */
  readonly routes: DispatcherRoutesEnv;
  /** This region's own dispatcher: its state machine name and ARN, archive bucket and placement count. */
  readonly dispatcher: Dispatcher & { readonly stateMachineName: string };
  /** The slice of the config the starter classifies events with. */
  readonly intake: IntakeConfig;
  readonly stackNames: { readonly network: string; readonly pipeline: string };
  /**
   * The central archive this pipeline writes to instead of an archive of its own (config centralArchive,
   * mode "write"). Its key ARN is read from the archive stack's state. @default none: its own archive
   */
  readonly centralArchive?: CentralArchiveRef;
  readonly backend: StateBackendConfig;
  readonly tags: Readonly<Record<string, string>>;
  readonly settings: PipelineSettings;
}

/** Where a member pipeline finds the central archive. */
export interface CentralArchiveRef {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
  readonly bucketName: string;
}

/** One member pipeline as the central archive's policies see it: the roles that read or write the archive. */
export interface ArchiveMember {
  readonly accountId: string;
  readonly region: string;
  /** Write exports (S3 objects under the member's own prefixes) and use the key through S3. */
  readonly writerRoleArns: readonly string[];
  /** Only read (the verify Lambda). */
  readonly readerRoleArns: readonly string[];
  /** StartExportTask callers: kms:CreateGrant (for AWS resources) and kms:DescribeKey on the key. */
  readonly exportCallerRoleArns: readonly string[];
}

/** The `archive-<account>-<region>` stack (mode "write"). */
export interface ArchiveDeployment extends CentralArchiveRef {
  readonly name: string;
  readonly partition: Partition;
  /** centralArchive.assumeRoleArn, else that account's accounts[].assumeRoleArn. @default the deployer's credentials */
  readonly assumeRoleArn?: string;
  readonly organizationId?: string;
  readonly members: readonly ArchiveMember[];
  readonly backend: StateBackendConfig;
  readonly tags: Readonly<Record<string, string>>;
  readonly settings: Pick<PipelineSettings, "lifecycleRules" | "accessLogs" | "archive">;
}

export interface Deployment {
  /** Only with an S3 state backend (Terraform Cloud keeps state itself). */
  readonly bootstrap?: {
    readonly stackName: string;
    readonly stateBackend: S3BackendConfig;
    /** The state bucket's account: the bootstrap provider's `allowed_account_ids`. */
    readonly accountId: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly egress: EgressMode;
  };
  /** The central archive's stack: only with centralArchive mode "write". */
  readonly archive?: ArchiveDeployment;
  /** In config order: accounts, then each account's regions. */
  readonly regions: readonly RegionDeployment[];
}

export function resolveDeployment(config: Config): Deployment {
  const bootstrap =
    config.stateBackend.type === "s3"
      ? {
          stackName: BOOTSTRAP_STACK,
          stateBackend: config.stateBackend,
          accountId: stateBucketAccountId(config),
          tags: config.tags,
          egress: config.network.egress,
        }
      : undefined;
  const intake = intakeConfigOf(config);
  const settings: PipelineSettings = {
    worker: config.worker,
    exports: config.exports,
    drills: config.drills,
    lifecycleRules: config.lifecycleRules,
    archive: config.archive,
    accessLogs: config.accessLogs,
    securityTag: config.securityTag,
    notificationEmail: config.notificationEmail,
    deleteRecoveryPoint: config.deleteRecoveryPoint,
    reconciler: config.reconciler,
  };
  const central = centralArchiveRefOf(config);
  const interfaceEndpoints = interfaceEndpointKeysOf(config);
  const regions = config.accounts.flatMap((account) =>
    account.regions.map((region): RegionDeployment => {
      const network = account.network ?? config.network;
      const routes = dispatcherRoutesEnvOf(config, account.id, region);
      const stateMachineName = dispatcherStateMachineName(config.name);
      return {
        name: config.name,
        accountId: account.id,
        region,
        partition: partitionOf(region),
        assumeRoleArn: account.assumeRoleArn,
        network,
        egress: network.egress,
        interfaceEndpoints,
        placementCount: placementCountOf(network),
        ...(zoneNamesOf(network, region) ? { zoneNames: zoneNamesOf(network, region) } : {}),
        kmsKeyArn: config.kmsKeyArn ? keyArnInRegion(config.kmsKeyArn, region) : undefined,
        routes,
        dispatcher: { ...expandDispatcherRoutes(routes).dispatchers[region]!, stateMachineName },
        intake,
        stackNames: { network: networkStackName(account.id, region), pipeline: pipelineStackName(account.id, region) },
        ...(central ? { centralArchive: central } : {}),
        backend: config.stateBackend,
        tags: config.tags,
        settings,
      };
    }),
  );
  const archive = central && archiveDeploymentOf(config, central, regions);
  return { bootstrap, ...(archive ? { archive } : {}), regions };
}

/** The central archive the pipelines write to (mode "write"), or none. */
function centralArchiveRefOf(config: Config): CentralArchiveRef | undefined {
  const c = config.centralArchive;
  if (c?.mode !== "write") return undefined;
  return {
    stackName: archiveStackName(c.account, c.region),
    accountId: c.account,
    region: c.region,
    // The name the archive account's own pipeline would give its archive there (core/s3-layout.ts).
    bucketName: archiveBucketName(config.name, c.account, c.region),
  };
}

function archiveDeploymentOf(
  config: Config,
  central: CentralArchiveRef,
  regions: readonly RegionDeployment[],
): ArchiveDeployment {
  const c = config.centralArchive!;
  return {
    ...central,
    name: config.name,
    partition: partitionOf(c.region),
    assumeRoleArn: c.assumeRoleArn ?? config.accounts.find((a) => a.id === c.account)?.assumeRoleArn,
    ...(c.organizationId ? { organizationId: c.organizationId } : {}),
    members: regions.map((d) => archiveMemberOf(config, d.accountId, d.region)),
    backend: config.stateBackend,
    tags: config.tags,
    settings: { lifecycleRules: config.lifecycleRules, accessLogs: config.accessLogs, archive: config.archive },
  };
}

/**
 * The roles of one member pipeline that touch the archive, named as its stack names them
 * (core/role-names.ts), for the exports the config switches on.
 */
export function archiveMemberOf(config: Config, accountId: string, region: string): ArchiveMember {
  const role = (name: string) => `arn:${partitionOf(region)}:iam::${accountId}:role/${name}`;
  const parquet = Object.entries(databaseFormatsOf(config.exports))
    .filter(([, format]) => format !== undefined && hasParquet(format))
    .map(([workflow]) => workflow);
  return {
    accountId,
    region,
    writerRoleArns: [
      ...(config.exports.ebs ? [role(workerJobRoleName(config.name, region))] : []),
      ...(parquet.length > 0 ? [role(rdsExportRoleName(config.name, region))] : []),
      ...(dynamodbExportEnabled(config.exports.dynamodb)
        ? [role(stateMachineRoleName(childStateMachineName(config.name, "dynamodb"), region))]
        : []),
    ],
    readerRoleArns: [role(lambdaRoleName(verifyFunctionName(config.name), region))],
    exportCallerRoleArns: parquet.map((w) => role(stateMachineRoleName(childStateMachineName(config.name, w), region))),
  };
}

/** The zone names of network.availabilityZones in `region` (`us-east-1` + `a`), or none. */
export function zoneNamesOf(network: NetworkConfig, region: string): readonly string[] | undefined {
  return "availabilityZones" in network && network.availabilityZones
    ? network.availabilityZones.map((letter) => `${region}${letter}`)
    : undefined;
}

export { placementCountOf };

/**
 * The routes the starter of `accountId`/`region` gets in its environment: the placement
 * count of each region the config deploys for that account (ADR 0006). The dispatchers'
 * ARNs and archive buckets follow from `config.name` (core/dispatcher-routes.ts).
 */
export function dispatcherRoutesEnvOf(config: Config, accountId: string, region: string): DispatcherRoutesEnv {
  const account = config.accounts.find((a) => a.id === accountId);
  if (!account || !account.regions.includes(region))
    throw new Error(`dispatcher routes: ${accountId}/${region} is not deployed by the config`);
  const placementCount = placementCountOf(account.network ?? config.network);
  return {
    account: accountId,
    region,
    name: config.name,
    placements: Object.fromEntries(account.regions.map((r) => [r, placementCount])),
    ...(config.centralArchive?.mode === "write"
      ? { archiveBucket: archiveBucketName(config.name, config.centralArchive.account, config.centralArchive.region) }
      : {}),
  };
}

/**
 * The dispatchers the starter of `accountId`/`region` may start, as it reads them: one per
 * region the config deploys for that account, named as each region's pipeline stack names its
 * own. (The starter's logic tests take their routes from here.)
 */
export function dispatcherRoutesOf(config: Config, accountId: string, region: string): DispatcherRoutes {
  return expandDispatcherRoutes(dispatcherRoutesEnvOf(config, accountId, region));
}

/**
 * The configured key as this region sees it: a multi-Region key (`key/mrk-…`) by its replica here
 * (same key id, this region); a single-Region key as it is (the config allows one only when it is in
 * the one region deployed, see keyProblems in config/rules.ts).
 */
export function keyArnInRegion(keyArn: string, region: string): string {
  return /:key\/mrk-/.test(keyArn) ? keyArn.replace(/^(arn:[^:]+:kms:)[^:]+:/, `$1${region}:`) : keyArn;
}
