/**
 * A random master password for the dump branch's temporary instance or cluster: stored first (SSM
 * SecureString under the pipeline key, so the worker can read it and the cleanup can delete it), then
 * set on the database with ApplyImmediately. Answers only the parameter's name (core/dump-password.ts).
 */
import { ModifyDBClusterCommand, ModifyDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import {
  randomPassword,
  type DumpPasswordAnswer,
  type DumpPasswordRequest,
  type DumpPasswordSettings,
} from "../../core/dump-password";

export interface DumpPasswordDeps {
  readonly ssm: SSMClient;
  readonly rds: RDSClient;
  readonly password?: () => string;
}

export async function setDumpPassword(
  deps: DumpPasswordDeps,
  settings: DumpPasswordSettings,
  request: DumpPasswordRequest,
): Promise<DumpPasswordAnswer> {
  const password = (deps.password ?? randomPassword)();
  // Overwrite: a retried invocation replaces its own earlier password (SSM refuses Tags with Overwrite).
  await deps.ssm.send(
    new PutParameterCommand({
      Name: request.parameterName,
      Description: `Master password of the temporary ${request.kind} ${request.identifier} (backup-actions dump)`,
      Value: password,
      Type: "SecureString",
      KeyId: settings.keyArn,
      Overwrite: true,
    }),
  );
  if (request.kind === "instance") {
    await deps.rds.send(
      new ModifyDBInstanceCommand({
        DBInstanceIdentifier: request.identifier,
        MasterUserPassword: password,
        ApplyImmediately: true,
      }),
    );
  } else {
    await deps.rds.send(
      new ModifyDBClusterCommand({
        DBClusterIdentifier: request.identifier,
        MasterUserPassword: password,
        ApplyImmediately: true,
      }),
    );
  }
  return { parameterName: request.parameterName };
}
