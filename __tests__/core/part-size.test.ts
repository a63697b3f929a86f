import {
  fitsWorstCase,
  GIB,
  MAX_PART_SIZE,
  MAX_PARTS,
  MIB,
  MIN_PART_SIZE,
  partSizeFor,
  TIB,
  worstCaseCompressedBytes,
} from "../../core/part-size";

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

  it("rejects nonsense sizes, naming them", () => {
    expect(() => partSizeFor(-1)).toThrow(new RangeError("invalid device size: -1"));
    expect(() => partSizeFor(Number.NaN)).toThrow(new RangeError("invalid device size: NaN"));
  });

  it("at the 8 MiB floor's edge: a worst case of exactly 10,000 x 8 MiB still fits, one byte more needs 9 MiB", () => {
    // 83,234,759,862 + ceil(83,234,759,862 / 128) + 1 MiB = 83,886,080,000 = 10,000 x 8 MiB
    const edge = 83_234_759_862;
    expect(worstCaseCompressedBytes(edge)).toBe(MAX_PARTS * MIN_PART_SIZE);
    expect(partSizeFor(edge)).toBe(MIN_PART_SIZE);
    expect(fitsWorstCase(edge, MIN_PART_SIZE)).toBe(true);
    expect(partSizeFor(edge + 1)).toBe(MIN_PART_SIZE + MIB);
    expect(fitsWorstCase(edge + 1, MIN_PART_SIZE)).toBe(false);
  });
});
