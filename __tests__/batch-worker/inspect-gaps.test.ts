import { gapsBetween } from "../../batch-worker/src/inspect";

const MiB = 1 << 20;

describe("gapsBetween: the bytes no partition covers", () => {
  it("before, between and after partitions, named by their neighbours", () => {
    const parts = [
      { name: "p2", startBytes: 40 * MiB, sizeBytes: 10 * MiB },
      { name: "p1", startBytes: 1 * MiB, sizeBytes: 20 * MiB },
    ];
    expect(gapsBetween(parts, 64 * MiB)).toEqual([
      { offsetBytes: 0, sizeBytes: 1 * MiB, where: "before p1" },
      { offsetBytes: 21 * MiB, sizeBytes: 19 * MiB, where: "between p1 and p2" },
      { offsetBytes: 50 * MiB, sizeBytes: 14 * MiB, where: "after p2" },
    ]);
  });

  it("the whole device when there is no partition; nothing when partitions fill it", () => {
    expect(gapsBetween([], 8 * MiB)).toEqual([{ offsetBytes: 0, sizeBytes: 8 * MiB, where: "the whole device" }]);
    expect(gapsBetween([{ name: "p1", startBytes: 0, sizeBytes: 8 * MiB }], 8 * MiB)).toEqual([]);
  });

  it("overlapping partitions leave no negative gap (the manifest's reader refuses the overlap)", () => {
    const parts = [
      { name: "p1", startBytes: 1 * MiB, sizeBytes: 10 * MiB },
      { name: "p2", startBytes: 5 * MiB, sizeBytes: 2 * MiB },
    ];
    expect(gapsBetween(parts, 12 * MiB)).toEqual([
      { offsetBytes: 0, sizeBytes: 1 * MiB, where: "before p1" },
      { offsetBytes: 11 * MiB, sizeBytes: 1 * MiB, where: "after p1" },
    ]);
  });
});
