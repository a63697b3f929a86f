import { fitsWorstCase, GIB, MAX_PART_SIZE, MAX_PARTS, MIB, MIN_PART_SIZE, partSizeFor, TIB, worstCaseCompressedBytes } from "../../core/part-size";

describe("partSizeFor", () => {
  it.each([
    // device, expected part size: smallest whole MiB so that 10,000 parts hold device + 1/128 + 1 MiB
    [GIB, 8 * MIB], // worst case ~1.01 GiB needs only 104 KiB parts: the 8 MiB floor applies
    [TIB, 106 * MIB],
    [16 * TIB, 1691 * MIB],
    [48 * TIB, 5073 * MIB],
  ])("device of %d bytes -> part size %d", (device, expected) => {
    const size = partSizeFor(device);
    expect(size).toBe(expected);
    expect(size % MIB).toBe(0);
    // 10,000 parts hold incompressible data plus zstd's and tar's worst-case overhead
    expect(size * MAX_PARTS).toBeGreaterThanOrEqual(worstCaseCompressedBytes(device));
    expect(fitsWorstCase(device)).toBe(true);
    // and one MiB less would not (except where the floor applies)
    if (size > MIN_PART_SIZE) expect((size - MIB) * MAX_PARTS).toBeLessThan(worstCaseCompressedBytes(device));
  });

  it("never exceeds S3's 5 GiB part limit; beyond ~48.4 TiB the worst case no longer fits", () => {
    expect(partSizeFor(64 * TIB)).toBe(MAX_PART_SIZE);
    expect(fitsWorstCase(64 * TIB)).toBe(false);
  });

  it("worst case exceeds zstd's compress bound (n + n/256)", () => {
    expect(worstCaseCompressedBytes(TIB)).toBeGreaterThan(TIB + TIB / 256);
  });

  it("rejects nonsense sizes", () => {
    expect(() => partSizeFor(-1)).toThrow(RangeError);
    expect(() => partSizeFor(Number.NaN)).toThrow(RangeError);
  });
});
