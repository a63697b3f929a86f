/**
 * cdktf runs `terraform version` for every stack that moves a resource; stacks/binary-version-once.ts makes a
 * synthesis run it once. The checks below run real commands: version commands that count their own runs, and
 * cdktf's `terraform version`, whose calls a pass-through spy counts.
 */
import { App } from "cdktf";
import { ValidateBinaryVersion } from "cdktf/lib/validations/validate-binary-version";
import childProcess from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { validateBinaryVersionsOnce } from "../../stacks/binary-version-once";
import { composeStacks } from "../../stacks/app";
import { testConfig } from "../helpers/synth";

let dir: string;
const runs = () => (existsSync(path.join(dir, "runs")) ? readFileSync(path.join(dir, "runs"), "utf8").length : 0);

/** A version command that records each run (one byte) and prints `version`. */
const counting = (version: string) => `printf x >> ${JSON.stringify(path.join(dir, "runs"))}; echo "v${version}"`;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "binary-version-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// First, before anything else in this file installs it: composeStacks must do so itself.
describe("composeStacks", () => {
  it("makes a synthesis of many stacks that move resources run terraform version once", () => {
    // GIVEN four stacks that each move a resource, and cdktf's own calls of execSync counted (and made)
    const app = new App({ outdir: path.join(dir, "out") });
    const stacks = composeStacks(
      app,
      testConfig({
        accounts: [{ id: "111111111111", regions: ["us-east-1", "eu-west-1"] }],
        // A prebuilt image: no terraform_data build, whose own check (>=1.4) would run once more.
        worker: { imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/backup-actions-worker:1.0.0" },
      }),
    );
    expect(stacks.all.filter((s) => s.hasResourceMove()).length).toBe(4);
    const execSync = jest.spyOn(childProcess, "execSync");
    try {
      // WHEN the app synthesizes, with cdktf's validations
      app.synth();
      // THEN terraform ran once, for the first stack; the others reused its answer
      expect(execSync.mock.calls.map(([command]) => command)).toEqual(["terraform version"]);
    } finally {
      execSync.mockRestore();
    }
  });
});

describe("validateBinaryVersionsOnce", () => {
  beforeAll(() => validateBinaryVersionsOnce());

  it("runs one check's command once, however many validations make it", () => {
    const command = counting("1.11.0");
    const checks = [1, 2, 3].map(() => new ValidateBinaryVersion("terraform", ">=1.5", command));
    expect(checks.map((c) => c.validate())).toEqual([[], [], []]);
    expect(runs()).toBe(1);
  });

  it("runs a check with another constraint on its own, and reuses a failure", () => {
    const command = counting("1.4.0");
    expect(new ValidateBinaryVersion("terraform", ">=1.0", command).validate()).toEqual([]);
    const failing = () => new ValidateBinaryVersion("terraform", ">=1.5", command, "Upgrade.").validate();
    const message = "terraform version 1.4.0 is lower than the required version >=1.5 for this construct. Upgrade.";
    expect(failing()).toEqual([message]);
    expect(failing()).toEqual([message]);
    expect(runs()).toBe(2);
  });
});
