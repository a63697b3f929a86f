import { emfLine, emfWanted, Progress, ProgressSnapshot } from "../../batch-worker/src/progress";

describe("progress", () => {
  it("reports bytes, rate, percent of used space and ETA", () => {
    const lines: ProgressSnapshot[] = [];
    const p = new Progress(1000, { sink: (s) => lines.push(s) });
    p.beginItem("p1", () => 250);
    p.report();
    expect(lines[0]).toMatchObject({ item: "p1", bytesRead: 250, totalBytes: 1000, percent: 25 });
    expect(lines[0].etaSeconds).toBeGreaterThanOrEqual(0);
    p.finishItem(300);
    p.beginItem("p2", () => 100);
    expect(p.snapshot().bytesRead).toBe(400);
  });

  it("emits CloudWatch embedded metric format with the dimensions", () => {
    const s: ProgressSnapshot = {
      item: "p1",
      bytesRead: 5,
      totalBytes: 10,
      mibPerSecond: 1.5,
      percent: 50,
      etaSeconds: 3,
    };
    const j = JSON.parse(emfLine(s, { VolumeId: "vol-1" }, 1700000000000));
    expect(j._aws.Timestamp).toBe(1700000000000);
    expect(j._aws.CloudWatchMetrics[0].Dimensions).toEqual([["VolumeId"]]);
    expect(j._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual([
      "BytesRead",
      "Throughput",
      "PercentDone",
      "EtaSeconds",
    ]);
    expect(j).toMatchObject({ VolumeId: "vol-1", BytesRead: 5, PercentDone: 50, EtaSeconds: 3 });
  });

  it("sends EMF inside AWS Batch unless turned off", () => {
    expect(emfWanted({ AWS_BATCH_JOB_ID: "j" })).toBe(true);
    expect(emfWanted({ AWS_BATCH_JOB_ID: "j", BACKUP_ACTIONS_EMF: "0" })).toBe(false);
    expect(emfWanted({})).toBe(false);
  });
});
