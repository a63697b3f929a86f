/** Scheduled janitor: thin adapter over `runJanitor`. Configuration from the environment. */
import { EC2Client } from "@aws-sdk/client-ec2";
import { instrumented } from "../../core/aws-client-hook";
import { runJanitor } from "./logic";

const ec2 = instrumented(new EC2Client({}));

export async function handler(): Promise<{ deleted: string[]; failed: number }> {
  const report = await runJanitor(
    { ec2, now: () => new Date(), log: (r) => console.log(JSON.stringify(r)) },
    {
      pipelineTag: { key: requiredEnv("PIPELINE_TAG_KEY"), value: requiredEnv("PIPELINE_TAG_VALUE") },
      maxAgeHours: Number(requiredEnv("MAX_AGE_HOURS")),
    },
  );
  return { deleted: report.deleted, failed: report.failed.length };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
