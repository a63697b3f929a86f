/** Scheduled janitor: thin adapter over `runJanitor`. Configuration from the environment (core/janitor-contract.ts). */
import { Logger } from "@aws-lambda-powertools/logger";
import { EC2Client } from "@aws-sdk/client-ec2";
import { instrumented } from "../../core/aws-client-hook";
import { parseJanitorEnv } from "../../core/janitor-contract";
import { runJanitor } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-janitor" });
const ec2 = instrumented(new EC2Client({}));

export async function handler(): Promise<{ deleted: string[]; failed: number }> {
  const report = await runJanitor({ ec2, now: () => new Date(), logger }, parseJanitorEnv(process.env));
  return { deleted: report.deleted, failed: report.failed.length };
}
