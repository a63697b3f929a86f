/**
 * The README's "Roll out to many accounts" example (config/examples/fleet.json): three accounts, two
 * regions, a central archive and Terraform Cloud, loaded by the real loader and synthesized; and the
 * same fleet in one region with the archive of mode "write", whose stack then has a workspace too.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { loadConfig, parseConfig } from "../../config/load";
import { checkStacks } from "../../stacks/app";
import { compose, synth } from "../helpers/synth";

const FLEET = path.resolve(__dirname, "..", "..", "config", "examples", "fleet.json");

describe("config/examples/fleet.json", () => {
  const config = loadConfig(FLEET);

  it("has three accounts, two regions, a central archive and Terraform Cloud", () => {
    expect(config.accounts.map((a) => a.id)).toEqual(["111111111111", "222222222222", "999999999999"]);
    expect(new Set(config.accounts.flatMap((a) => a.regions))).toEqual(new Set(["eu-west-1", "us-east-1"]));
    expect(config.centralArchive).toMatchObject({ account: "999999999999", region: "eu-west-1" });
    expect(config.stateBackend.type).toBe("cloud");
  });

  it("synthesizes: a workspace per stack, then the networks and pipelines, within the security baseline", () => {
    const stacks = compose(config, { warn: () => undefined });
    expect(() => checkStacks(stacks)).not.toThrow();
    expect(stacks.bootstrap).toBeUndefined();
    expect(stacks.archive).toBeUndefined(); // mode "copy": the archive account's own pipeline is the archive
    expect(stacks.pipelines.map((p) => p.node.id)).toEqual([
      "pipeline-111111111111-eu-west-1",
      "pipeline-111111111111-us-east-1",
      "pipeline-222222222222-eu-west-1",
      "pipeline-222222222222-us-east-1",
      "pipeline-999999999999-eu-west-1",
    ]);
    const workspaces = synth(stacks.workspaces!).resources("tfe_workspace");
    expect(Object.keys(workspaces).sort()).toEqual(
      [...stacks.networks, ...stacks.pipelines].map((s) => s.node.id).sort(),
    );
    // The archive account's pipeline watches the vault the members copy into.
    const archivePipeline = synth(stacks.pipelines[4]!);
    const rule = Object.values<any>(archivePipeline.resources("aws_cloudwatch_event_rule")).find((r) =>
      r.event_pattern.includes("Backup Job State Change"),
    );
    expect(JSON.parse(rule.event_pattern).detail.backupVaultName).toEqual(["Default", "central"]);
  });

  it('in one region with mode "write": the archive stack has its own workspace, before the networks', () => {
    const raw = JSON.parse(readFileSync(FLEET, "utf8"));
    const oneRegion = parseConfig({
      ...raw,
      accounts: raw.accounts.map((a: { id: string }) => ({ ...a, regions: ["eu-west-1"] })),
      centralArchive: { ...raw.centralArchive, mode: "write" },
    });
    const stacks = compose(oneRegion, { warn: () => undefined });
    expect(() => checkStacks(stacks)).not.toThrow();
    expect(stacks.all.map((s) => s.node.id).slice(0, 3)).toEqual([
      "workspaces",
      "archive-999999999999-eu-west-1",
      "network-111111111111-eu-west-1",
    ]);
    const archive = synth(stacks.workspaces!).resources("tfe_workspace")["archive-999999999999-eu-west-1"];
    expect(archive.name).toBe("backup-actions-archive-999999999999-eu-west-1");
    expect(archive.tags).toEqual({ account: "999999999999", region: "eu-west-1", kind: "archive" });
  });
});
