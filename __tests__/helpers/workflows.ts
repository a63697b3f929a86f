/** Definitions of the state machines built from fixed test props, for tests that read their states. */
import { dispatcherDefinition } from "../../stacks/workflows/dispatcher";

/** The dispatcher with an EBS child and auto-delete on or off (account 111111111111, us-east-1). */
export const testDispatcher = (autoDelete: boolean) =>
  dispatcherDefinition({
    partition: "aws",
    ledgerTableName: "ledger",
    children: { ebs: "arn:aws:states:us-east-1:111111111111:stateMachine:ebs" },
    verifyFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:verify",
    notificationTopicArn: "arn:aws:sns:us-east-1:111111111111:notify",
    pipelineName: "ba",
    deleteRecoveryPoint: { enabled: autoDelete, requiredTag: "backup-actions:delete" },
    childTimeoutSeconds: 86400,
  });
