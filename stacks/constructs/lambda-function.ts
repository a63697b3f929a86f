/**
 * A Lambda function of backup-actions: the code of `lambdas/<entry>/handler.ts` bundled
 * at synth time and shipped as a zipped TerraformAsset, its own least-privilege role
 * (the caller passes the statements), its own KMS-encrypted log group with retention,
 * Node.js 22 (LAMBDA_RUNTIME, stacks/lambda-runtimes.ts) on arm64, X-Ray tracing active.
 */
import { lambdaRoleName } from "../../core/role-names";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction as AwsLambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { AssetType, TerraformAsset, Token } from "cdktf";
import { Construct } from "constructs";
import { PIPELINE_ENV } from "../../core/metrics";
import { pipelineStackName } from "../../core/stack-names";
import { LAMBDA_RUNTIME } from "../lambda-runtimes";
import { lambdaArchive } from "./lambda-archive";
import { bundleLambda } from "./lambda-bundle";
import { PolicyDocument, PolicyStatement } from "./policy-document";

/** Lambda allows 4 KB for all environment variables together (keys and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * The size Lambda checks against LAMBDA_ENVIRONMENT_LIMIT_BYTES: the variables as one JSON object
 * (its InvalidParameterValueException quotes the "String measured": `{"KEY":"value",...}`), so the
 * quotes, separators and the escaping of values that are JSON themselves count too.
 */
export function lambdaEnvironmentBytes(variables: Readonly<Record<string, string>>): number {
  return Buffer.byteLength(JSON.stringify(variables));
}

export interface LambdaFunctionProps {
  /** Directory under `lambdas/` whose `handler.ts` exports `handler`. */
  readonly entry: string;
  /** Function name; the log group is `/aws/lambda/<functionName>`. */
  readonly functionName: string;
  readonly description: string;
  readonly accountId: string;
  readonly region: string;
  /** KMS key ARN that encrypts the log group (its policy must let CloudWatch Logs use it). */
  readonly kmsKeyArn: string;
  /** What the function may do besides writing its logs and traces. */
  readonly statements: PolicyStatement[];
  /** @default 256 */
  readonly memorySize?: number;
  /** Seconds. @default 30 */
  readonly timeout?: number;
  /** @default {} */
  readonly environment?: Record<string, string>;
  /** Runs the function in these subnets with this security group. @default not in a VPC */
  readonly vpc?: { readonly subnetIds: string[]; readonly securityGroupIds: string[] };
  /** @default none (unreserved account concurrency) */
  readonly reservedConcurrency?: number;
  /** @default 365 */
  readonly logRetentionDays?: number;
  /** Powertools log level. @default "INFO" */
  readonly logLevel?: "DEBUG" | "INFO" | "WARN" | "ERROR";
}

export class LambdaFunction extends Construct {
  public readonly function: AwsLambdaFunction;
  public readonly role: IamRole;
  /** Resources that need the permissions in place (e.g. an event source mapping) depend on this. */
  public readonly rolePolicy: IamRolePolicy;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly asset: TerraformAsset;
  public readonly timeout: number;

  constructor(scope: Construct, id: string, props: LambdaFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 256;
    const timeout = props.timeout ?? 30;
    const logRetentionDays = props.logRetentionDays ?? 365;
    const environment = {
      POWERTOOLS_SERVICE_NAME: props.functionName,
      POWERTOOLS_LOG_LEVEL: props.logLevel ?? "INFO",
      NODE_OPTIONS: "--enable-source-maps",
      // The metrics' Pipeline dimension (core/metrics.ts): the stack this function belongs to.
      [PIPELINE_ENV]: pipelineStackName(props.accountId, props.region),
      ...props.environment,
    };
    if (props.statements.length === 0)
      throw new Error(`${props.functionName}: a function needs at least one permission statement`);
    checkEnvironmentSize(props.functionName, environment);
    this.timeout = timeout;

    const bundle = bundleLambda(props.entry);
    // A zip of our own (lambda-archive.ts): the same bundle always gives the same bytes.
    this.asset = new TerraformAsset(this, "code", {
      path: lambdaArchive(props.entry, bundle),
      type: AssetType.FILE,
      assetHash: bundle.hash,
    });

    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    const assume = new PolicyDocument(this, "assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["lambda.amazonaws.com"] }],
        },
      ],
    });
    this.role = new IamRole(this, "role", {
      name: lambdaRoleName(props.functionName, props.region),
      assumeRolePolicy: assume.json,
    });

    const own: PolicyStatement[] = [
      // The log group exists (above), so no logs:CreateLogGroup.
      {
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`${this.logGroup.arn}:*`],
      },
      // X-Ray's write actions do not support resource-level permissions.
      { sid: "WriteTraces", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
    ];
    if (props.vpc) {
      // What AWSLambdaVPCAccessExecutionRole grants: ENI management has no resource-level scoping for Describe.
      own.push({
        sid: "ManageVpcNetworkInterfaces",
        actions: [
          "ec2:CreateNetworkInterface",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DeleteNetworkInterface",
          "ec2:AssignPrivateIpAddresses",
          "ec2:UnassignPrivateIpAddresses",
        ],
        resources: ["*"],
      });
    }
    const policy = new PolicyDocument(this, "policy", { statement: [...own, ...props.statements] });
    this.rolePolicy = new IamRolePolicy(this, "role-policy", {
      role: this.role.id,
      name: "least-privilege",
      policy: policy.json,
    });

    this.function = new AwsLambdaFunction(this, "function", {
      functionName: props.functionName,
      description: props.description,
      role: this.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: ["arm64"],
      handler: bundle.handler,
      filename: this.asset.path,
      sourceCodeHash: this.asset.assetHash,
      memorySize,
      timeout,
      environment: { variables: environment },
      tracingConfig: { mode: "Active" },
      loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
      vpcConfig: props.vpc
        ? { subnetIds: props.vpc.subnetIds, securityGroupIds: props.vpc.securityGroupIds }
        : undefined,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // The log group must exist before the first invocation would create an unencrypted one.
      dependsOn: [this.logGroup],
    });
  }
}

function checkEnvironmentSize(functionName: string, environment: Record<string, string>): void {
  // Tokens resolve at apply time; only literal values can be measured at synth.
  const literal = Object.entries(environment).filter(([, v]) => !Token.isUnresolved(v));
  const bytes = lambdaEnvironmentBytes(Object.fromEntries(literal));
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    throw new Error(
      `${functionName}: its environment is ${bytes} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} in total`,
    );
  }
}
