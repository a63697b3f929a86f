import { Metrics } from "@aws-lambda-powertools/metrics";
import { RuntimeConfigError } from "../../core/errors";
import { LambdaMetrics, lambdaMetrics } from "../../core/lambda-metrics";
import { dimensionsOf, emfRecord, METRICS, METRICS_NAMESPACE, type MetricDefinition } from "../../core/metrics";

/** What a Powertools Metrics instance prints while `fn` runs, parsed. */
function stdoutLines(fn: () => void): Array<Record<string, any>> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  try {
    fn();
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

describe("metric definitions", () => {
  it("names each metric once, in the one namespace", () => {
    const names = Object.values(METRICS).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(METRICS_NAMESPACE).toBe("BackupActions");
    expect(METRICS.reconcilerMissingFound.name).toBe("ReconcilerMissingFound");
  });

  it("refuses dimensions a metric does not have, naming them", () => {
    expect(() => dimensionsOf(METRICS.workerBytesIn, "p", {})).toThrow(
      "metric WorkerBytesIn takes dimensions [ResourceType], got []",
    );
    expect(() => dimensionsOf(METRICS.starterEventsReceived, "p", { ResourceType: "ebs" })).toThrow(
      "metric StarterEventsReceived takes dimensions [], got [ResourceType]",
    );
  });

  it("refuses to put metrics of other dimensions into one EMF record", () => {
    expect(() =>
      emfRecord(
        "p",
        [
          { metric: METRICS.workerBytesIn, value: 1 },
          { metric: METRICS.starterEventsReceived, value: 1 },
        ],
        { ResourceType: "ebs" },
      ),
    ).toThrow("metric StarterEventsReceived cannot share an EMF record with WorkerBytesIn: other dimensions");
  });
});

describe("the Lambdas' metrics (Powertools Metrics)", () => {
  it("refuses a cold start without the Pipeline dimension", () => {
    expect(() => lambdaMetrics("starter", {})).toThrow(RuntimeConfigError);
    expect(() => lambdaMetrics("starter", {})).toThrow(
      "BACKUP_ACTIONS_PIPELINE is not set: the metrics' Pipeline dimension",
    );
  });

  it("sums per metric and dimension set, one EMF line per set, in the layout emfRecord writes for the worker", () => {
    const metrics = lambdaMetrics("verify", { BACKUP_ACTIONS_PIPELINE: "pipeline-111111111111-us-east-1" });
    metrics.add(METRICS.archivesVerified, 1, { ResourceType: "ebs" });
    metrics.add(METRICS.bytesVerified, 100, { ResourceType: "ebs" });
    metrics.add(METRICS.archivesVerified, 1, { ResourceType: "ebs" });
    metrics.add(METRICS.archivesFailedVerification, 1, { ResourceType: "rds" });
    const lines = stdoutLines(() => metrics.publish());
    expect(lines).toHaveLength(2);
    const [ebs, rds] = lines as [Record<string, any>, Record<string, any>];
    expect(ebs).toMatchObject({
      service: "backup-actions-verify",
      Pipeline: "pipeline-111111111111-us-east-1",
      ResourceType: "ebs",
      ArchivesVerified: 2,
      BytesVerified: 100,
    });
    expect(rds).toMatchObject({ ResourceType: "rds", ArchivesFailedVerification: 1 });
    // The same record the worker builds by hand for the same values (the timestamp aside).
    const byHand = emfRecord(
      "pipeline-111111111111-us-east-1",
      [
        { metric: METRICS.archivesVerified, value: 2 },
        { metric: METRICS.bytesVerified, value: 100 },
      ],
      { ResourceType: "ebs" },
      ebs._aws.Timestamp,
    );
    expect(ebs).toEqual(byHand);
    // Published once: nothing left for the next invocation.
    expect(stdoutLines(() => metrics.publish())).toEqual([]);
  });

  it("refuses a metric of another emitter", () => {
    const metrics = new LambdaMetrics("starter", "p", new Metrics({ namespace: METRICS_NAMESPACE }));
    expect(() => metrics.add(METRICS.bytesVerified as MetricDefinition, 1, { ResourceType: "ebs" })).toThrow(
      "metric BytesVerified belongs to the verify, not the starter",
    );
  });
});
