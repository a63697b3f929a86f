import { spawnSync } from "node:child_process";
import { join } from "node:path";

/** Runs jest on the sample file in a child process, with or without CI=true. */
function runSample(ci: boolean) {
  const env = { ...process.env };
  delete env.CI;
  if (ci) env.CI = "true";
  const jest = join(process.cwd(), "node_modules/jest/bin/jest.js");
  const args = [jest, "--selectProjects=unit", "--testMatch", "**/prereq-sample/*.sample.ts", "--no-cache"];
  const r = spawnSync(process.execPath, args, {
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("describeWithPrereqs", () => {
  it("outside CI skips the block and names what is missing", () => {
    const { code, output } = runSample(false);
    expect(code).toBe(0);
    expect(output).toContain('Skipping "needs a tool": missing prerequisites: imaginary-tool (Debian package nothing)');
    expect(output).toMatch(/Tests:\s+1 skipped, 1 total/);
  }, 60_000);

  it("under CI=true fails and names what is missing", () => {
    const { code, output } = runSample(true);
    expect(code).not.toBe(0);
    expect(output).toContain("missing prerequisites under CI=true: imaginary-tool (Debian package nothing)");
  }, 60_000);
});
