import { readFileSync } from "node:fs";
import path from "node:path";
import { READ_PATHS_BEGIN, READ_PATHS_END, ROWS, table } from "../../bench/read-paths";

describe("bench/read-paths: the 1 TiB read-path table", () => {
  it("is the README's table (regenerate with npm run bench:read-paths)", () => {
    const readme = readFileSync(path.join(__dirname, "../../README.md"), "utf8");
    const block = readme.slice(
      readme.indexOf(READ_PATHS_BEGIN) + READ_PATHS_BEGIN.length,
      readme.indexOf(READ_PATHS_END),
    );
    expect(block.trim()).toBe(table().trim());
  });

  it("computes each time from its rate: 1 TiB at 3.5 MiB/s is 83.2 h, at 500 MiB/s 35 min", () => {
    const t = table([
      { path: "a", how: "slow", mibps: 3.5, source: "s" },
      { path: "b", how: "fast", mibps: 500, source: "s" },
    ]);
    expect(t).toContain("| a | slow | 3.5 | 83.2 h | s |");
    expect(t).toContain("| b | fast | 500 | 35 min | s |");
  });

  it("gives the direct path's rates from the default budget: 600 requests/s alone, 150 each of 4, the 18 floor", () => {
    expect(ROWS.find((r) => r.how.startsWith("one job alone"))).toMatchObject({ mibps: 300 });
    expect(ROWS.find((r) => r.how.startsWith("each of 4 jobs"))).toMatchObject({ mibps: 75 });
    expect(ROWS.find((r) => r.how.startsWith("each job when all can run"))).toMatchObject({ mibps: 9 });
  });
});
