import { withPlainStackTraces } from "../../stacks/stack-traces";

describe("withPlainStackTraces", () => {
  const before = process.sourceMapsEnabled;
  afterEach(() => {
    process.setSourceMapsEnabled(before);
    delete process.env.BACKUP_ACTIONS_SOURCE_MAPS;
  });

  it("runs without source-mapped traces and turns them back on after, also when the run throws", () => {
    process.setSourceMapsEnabled(true);
    expect(withPlainStackTraces(() => process.sourceMapsEnabled)).toBe(false);
    expect(process.sourceMapsEnabled).toBe(true);
    expect(() =>
      withPlainStackTraces(() => {
        throw new Error("composition failed");
      }),
    ).toThrow("composition failed");
    expect(process.sourceMapsEnabled).toBe(true);
  });

  it("keeps them with BACKUP_ACTIONS_SOURCE_MAPS=1", () => {
    process.setSourceMapsEnabled(true);
    process.env.BACKUP_ACTIONS_SOURCE_MAPS = "1";
    expect(withPlainStackTraces(() => process.sourceMapsEnabled)).toBe(true);
  });
});
