/**
 * The `workspaces` stack of a Terraform Cloud config, asserted on its synthesized JSON: the tfe
 * provider is not in this bench's offline provider mirror, so `terraform validate` cannot run on it
 * here (scripts/validate-stacks.sh says so and leaves it out).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../../config/load";
import { compose, synth, testConfig } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "..", "..");
const IMAGE = "111111111111.dkr.ecr.us-east-1.amazonaws.com/backup-actions-worker:1.0.0";
const ROLE = (account: string) => `arn:aws:iam::${account}:role/tfc-${account}`;

/** Two accounts, three account-regions. */
function cloudConfig(stateBackend: Record<string, unknown> = {}) {
  return testConfig({
    accounts: [
      { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
      { id: "222222222222", regions: ["us-west-2"] },
    ],
    worker: { imageUri: IMAGE },
    stateBackend: {
      type: "cloud",
      organization: "acme",
      workspacePrefix: "ba",
      runRoleArns: { "111111111111": ROLE("111111111111"), "222222222222": ROLE("222222222222") },
      ...stateBackend,
    },
  });
}

const VCS = { identifier: "acme/deploy", branch: "main", oauthTokenId: "ot-abc123" };

function workspacesTf(stateBackend: Record<string, unknown> = {}) {
  const stacks = compose(cloudConfig(stateBackend));
  return { stacks, out: synth(stacks.workspaces!) };
}

/** The workspace resource id (the stack name) of each variable, run trigger or setting, by its `${tfe_workspace.<id>.id}`. */
const refOf = (expr: string) => /^\$\{tfe_workspace\.([^.]+)\.id\}$/.exec(expr)?.[1];

describe("workspaces stack", () => {
  it("comes first and declares one workspace per network and pipeline stack, named as their cloud blocks", () => {
    const { stacks, out } = workspacesTf({ vcs: VCS });
    expect(stacks.all[0]).toBe(stacks.workspaces);
    const workspaces = out.resources("tfe_workspace");
    const others = [...stacks.networks, ...stacks.pipelines];
    expect(Object.keys(workspaces).sort()).toEqual(others.map((s) => s.node.id).sort());
    for (const stack of others) {
      expect(workspaces[stack.node.id].name).toBe(synth(stack).tf.terraform.cloud.workspaces.name);
      expect(workspaces[stack.node.id].name).toBe(`ba-${stack.node.id}`);
    }
    expect(out.tf.provider.tfe).toEqual([{ organization: "acme" }]);
  });

  it("tags each workspace with its account, region and kind, and never auto-applies", () => {
    const ws = workspacesTf().out.resources("tfe_workspace");
    expect(ws["network-222222222222-us-west-2"].tags).toEqual({
      account: "222222222222",
      region: "us-west-2",
      kind: "network",
    });
    expect(ws["pipeline-111111111111-eu-west-1"].tags).toEqual({
      account: "111111111111",
      region: "eu-west-1",
      kind: "pipeline",
    });
    for (const w of Object.values<any>(ws)) {
      expect(w.auto_apply).toBe(false);
      expect(w).not.toHaveProperty("tag_names");
    }
  });

  it("VCS-driven: each workspace runs its stack's committed cdktf.out directory from the configured repository", () => {
    const ws = workspacesTf({ vcs: VCS }).out.resources("tfe_workspace");
    expect(ws["pipeline-222222222222-us-west-2"]).toMatchObject({
      working_directory: "cdktf.out/stacks/pipeline-222222222222-us-west-2",
      vcs_repo: { identifier: "acme/deploy", branch: "main", oauth_token_id: "ot-abc123" },
      speculative_enabled: true,
    });
  });

  it("CLI-driven (no vcs): no repository and no working directory", () => {
    for (const w of Object.values<any>(workspacesTf().out.resources("tfe_workspace"))) {
      expect(w).not.toHaveProperty("vcs_repo");
      expect(w).not.toHaveProperty("working_directory");
    }
  });

  it("queues each pipeline's plan after its own network's apply: exactly one run trigger per pipeline", () => {
    const triggers = Object.values<any>(workspacesTf().out.resources("tfe_run_trigger"));
    const pairs = triggers.map((t) => [refOf(t.sourceable_id), refOf(t.workspace_id)]);
    expect(pairs.sort()).toEqual(
      [
        ["network-111111111111-eu-west-1", "pipeline-111111111111-eu-west-1"],
        ["network-111111111111-us-east-1", "pipeline-111111111111-us-east-1"],
        ["network-222222222222-us-west-2", "pipeline-222222222222-us-west-2"],
      ].sort(),
    );
  });

  it("shares a network's state with its own pipeline's workspace only", () => {
    const settings = workspacesTf().out.resources("tfe_workspace_settings");
    const of = (stack: string) => Object.values<any>(settings).find((s) => refOf(s.workspace_id) === stack);
    expect(of("network-111111111111-eu-west-1")).toMatchObject({ global_remote_state: false });
    expect(of("network-111111111111-eu-west-1").remote_state_consumer_ids.map(refOf)).toEqual([
      "pipeline-111111111111-eu-west-1",
    ]);
    expect(of("pipeline-111111111111-eu-west-1")).toMatchObject({ global_remote_state: false });
    expect(of("pipeline-111111111111-eu-west-1").remote_state_consumer_ids ?? []).toEqual([]);
  });

  it("gives every workspace AWS dynamic credentials with its own account's run role, as env variables", () => {
    const vars = Object.values<any>(workspacesTf().out.resources("tfe_variable"));
    const ws = workspacesTf().out.resources("tfe_workspace");
    for (const stack of Object.keys(ws)) {
      const own = vars.filter((v) => refOf(v.workspace_id) === stack);
      const account = ws[stack].tags.account;
      expect(own.map((v) => [v.key, v.value, v.category, v.sensitive]).sort()).toEqual([
        ["TFC_AWS_PROVIDER_AUTH", "true", "env", false],
        ["TFC_AWS_RUN_ROLE_ARN", ROLE(account), "env", false],
      ]);
    }
  });

  it("keeps its own state in a local file by default, or in the configured S3 key", () => {
    expect(workspacesTf().out.tf.terraform.backend).toEqual({
      local: { path: "../../../terraform.workspaces.tfstate" },
    });
    expect(
      workspacesTf({ workspacesState: { bucket: "admin-state", region: "eu-west-1" } }).out.tf.terraform.backend,
    ).toEqual({
      s3: {
        bucket: "admin-state",
        key: "backup-actions/workspaces.tfstate",
        region: "eu-west-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it("puts the workspaces into the configured project, looked up by name", () => {
    const { out } = workspacesTf({ project: "backups" });
    expect(out.tf.data.tfe_project.project).toEqual({ name: "backups", organization: "acme" });
    for (const w of Object.values<any>(out.resources("tfe_workspace")))
      expect(w.project_id).toBe("${data.tfe_project.project.id}");
    expect(workspacesTf().out.tf.data?.tfe_project).toBeUndefined();
  });

  it("is made by the terraform-cloud example: three accounts, two regions", () => {
    const file = path.join(ROOT, "config/examples/terraform-cloud.json");
    const stacks = compose(parseConfig(JSON.parse(readFileSync(file, "utf8"))));
    const ws = synth(stacks.workspaces!).resources("tfe_workspace");
    expect(Object.keys(ws)).toHaveLength(10);
    expect(new Set(Object.values<any>(ws).map((w) => w.tags.account)).size).toBe(3);
    expect(new Set(Object.values<any>(ws).map((w) => w.tags.region))).toEqual(new Set(["us-east-1", "eu-west-1"]));
  });

  it("with a central archive (mode write): declares the archive's workspace first, shares its state with every member pipeline and queues their plans", () => {
    // GIVEN two accounts in eu-west-1 writing into the archive of account 999999999999, on Terraform Cloud
    const stacks = compose(
      testConfig({
        accounts: [
          { id: "111111111111", regions: ["eu-west-1"] },
          { id: "222222222222", regions: ["eu-west-1"] },
        ],
        worker: { imageUri: IMAGE },
        centralArchive: { account: "999999999999", region: "eu-west-1", mode: "write" },
        stateBackend: {
          type: "cloud",
          organization: "acme",
          workspacePrefix: "ba",
          runRoleArns: {
            "111111111111": ROLE("111111111111"),
            "222222222222": ROLE("222222222222"),
            "999999999999": ROLE("999999999999"),
          },
        },
      }),
    );
    const archive = "archive-999999999999-eu-west-1";
    const pipelines = stacks.pipelines.map((p) => p.node.id);
    // WHEN the workspaces stack and the archive stack synthesize
    const out = synth(stacks.workspaces!);
    const ws = out.resources("tfe_workspace");
    // THEN the archive keeps its state in its own workspace, declared before the networks' and pipelines'
    expect(stacks.all.map((s) => s.node.id).slice(0, 2)).toEqual(["workspaces", archive]);
    expect(synth(stacks.archive!).tf.terraform.cloud).toEqual({
      organization: "acme",
      workspaces: { name: `ba-${archive}` },
    });
    expect(Object.keys(ws)[0]).toBe(archive);
    expect(ws[archive]).toMatchObject({
      name: `ba-${archive}`,
      tags: { account: "999999999999", region: "eu-west-1", kind: "archive" },
      auto_apply: false,
    });
    // its runs assume the archive account's role
    const role = Object.values<any>(out.resources("tfe_variable")).find(
      (v) => refOf(v.workspace_id) === archive && v.key === "TFC_AWS_RUN_ROLE_ARN",
    );
    expect(role.value).toBe(ROLE("999999999999"));
    // the member pipelines read its key from its workspace, which shares its state with exactly them
    for (const p of stacks.pipelines)
      expect(synth(p).tf.data.terraform_remote_state.archive.config.workspaces).toEqual({ name: `ba-${archive}` });
    const settings = Object.values<any>(out.resources("tfe_workspace_settings")).find(
      (st) => refOf(st.workspace_id) === archive,
    );
    expect(settings.remote_state_consumer_ids.map(refOf).sort()).toEqual([...pipelines].sort());
    // and an apply of the archive queues each member pipeline's plan
    const fromArchive = Object.values<any>(out.resources("tfe_run_trigger"))
      .filter((t) => refOf(t.sourceable_id) === archive)
      .map((t) => refOf(t.workspace_id));
    expect(fromArchive.sort()).toEqual([...pipelines].sort());
  });

  it("is not made with S3 state", () => {
    expect(compose(testConfig()).workspaces).toBeUndefined();
  });
});
