/**
 * The parts of the Lambda SQS event and response the starter uses (the shapes of
 * `aws-lambda`'s SQSEvent / SQSBatchResponse, without adding that package).
 */
export interface SqsRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

export interface SqsEvent {
  readonly Records: readonly SqsRecord[];
}

export interface SqsBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}
