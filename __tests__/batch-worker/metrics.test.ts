import { exportMetricsLine, reportExportMetrics } from "../../batch-worker/src/metrics";
import { METRICS, METRICS_NAMESPACE } from "../../core/metrics";

function captureStdout(fn: () => void): string[] {
  const written: string[] = [];
  const out = jest.spyOn(process.stdout, "write").mockImplementation((c) => (written.push(String(c)), true));
  const err = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    fn();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return written.join("").split("\n").filter(Boolean);
}

describe("the worker's end-of-export metrics (EMF on stdout)", () => {
  const totals = { uncompressedBytes: 3 * 2 ** 30, compressedBytes: 2 ** 30, seconds: 30 };

  it("is one EMF record: namespace, the metrics' dimension set, every worker metric with its unit", () => {
    const line = JSON.parse(exportMetricsLine(totals, "pipeline-111111111111-us-east-1", "ebs", 1_700_000_000_000));
    expect(line._aws).toEqual({
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [["service", "Pipeline", "ResourceType"]],
          Metrics: [
            { Name: "WorkerBytesIn", Unit: "Bytes" },
            { Name: "WorkerBytesOut", Unit: "Bytes" },
            { Name: "WorkerCompressionRatio", Unit: "None" },
            { Name: "WorkerDuration", Unit: "Seconds" },
            { Name: "WorkerThroughputMiBps", Unit: "None" },
          ],
        },
      ],
    });
    expect(line).toMatchObject({
      service: "backup-actions-worker",
      Pipeline: "pipeline-111111111111-us-east-1",
      ResourceType: "ebs",
      [METRICS.workerBytesIn.name]: 3 * 2 ** 30,
      [METRICS.workerBytesOut.name]: 2 ** 30,
      [METRICS.workerCompressionRatio.name]: 3,
      [METRICS.workerDuration.name]: 30,
      [METRICS.workerThroughput.name]: 102.4,
    });
  });

  it("prints it in AWS Batch with the pipeline named, and not without", () => {
    const batch = { AWS_BATCH_JOB_ID: "job-1", BACKUP_ACTIONS_PIPELINE: "pipeline-1-us-east-1" };
    const printed = captureStdout(() => reportExportMetrics(totals, "ebs", batch));
    expect(printed).toHaveLength(1);
    expect(JSON.parse(printed[0]!)).toMatchObject({ Pipeline: "pipeline-1-us-east-1", WorkerBytesOut: 2 ** 30 });
    expect(captureStdout(() => reportExportMetrics(totals, "ebs", { AWS_BATCH_JOB_ID: "job-1" }))).toEqual([]);
    expect(captureStdout(() => reportExportMetrics(totals, "ebs", { BACKUP_ACTIONS_PIPELINE: "p" }))).toEqual([]);
  });
});
