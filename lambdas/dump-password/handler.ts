/** The dump branch's password function: thin adapter over `setDumpPassword` (lambdas/dump-password/logic.ts). */
import { Logger } from "@aws-lambda-powertools/logger";
import { RDSClient } from "@aws-sdk/client-rds";
import { SSMClient } from "@aws-sdk/client-ssm";
import { instrumented } from "../../core/aws-client-hook";
import { parseDumpPasswordEnv, parseDumpPasswordRequest, type DumpPasswordAnswer } from "../../core/dump-password";
import { setDumpPassword } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-dump-password" });
const ssm = instrumented(new SSMClient({}));
const rds = instrumented(new RDSClient({}));

export async function handler(event: unknown): Promise<DumpPasswordAnswer> {
  const settings = parseDumpPasswordEnv(process.env);
  const request = parseDumpPasswordRequest(event, settings);
  logger.appendKeys({ identifier: request.identifier, kind: request.kind });
  const answer = await setDumpPassword({ ssm, rds }, settings, request);
  logger.info("master password set", { parameterName: answer.parameterName });
  return answer;
}
