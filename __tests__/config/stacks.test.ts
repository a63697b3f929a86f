import { resolveDeployment } from "../../config/deployment";
import { assertDeployOrder, planStacks, STACK_KINDS } from "../../config/stacks";
import { compose, testConfig } from "../helpers/synth";

describe("planStacks", () => {
  const config = testConfig({
    accounts: [
      { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
      { id: "222222222222", regions: ["us-west-2"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
    ],
  });

  it("is the list composeStacks builds, in the same order", () => {
    const plan = planStacks(resolveDeployment(config));
    expect(compose(config, { warn: () => undefined }).all.map((s) => s.node.id)).toEqual(plan.map((s) => s.name));
    expect(plan.map((s) => [s.kind, s.accountId, s.region])).toEqual([
      ["bootstrap", "111111111111", "us-east-1"],
      ["network", "111111111111", "us-east-1"],
      ["network", "111111111111", "eu-west-1"],
      ["network", "222222222222", "us-west-2"],
      ["pipeline", "111111111111", "us-east-1"],
      ["pipeline", "111111111111", "eu-west-1"],
      ["pipeline", "222222222222", "us-west-2"],
    ]);
  });

  it("has each pipeline read its own region's network, and every S3-state stack wait for bootstrap", () => {
    const plan = planStacks(resolveDeployment(config));
    const pipeline = plan.find((s) => s.name === "pipeline-222222222222-us-west-2")!;
    expect(pipeline.readsFrom).toEqual(["network-222222222222-us-west-2"]);
    expect(pipeline.dependsOn).toEqual(["bootstrap", "network-222222222222-us-west-2"]);
    expect(pipeline.state).toEqual({
      type: "s3",
      bucket: "state-bucket-111",
      key: "ba/pipeline-222222222222-us-west-2.tfstate",
      region: "us-east-1",
    });
    expect(plan[0]!.state).toEqual({ type: "local", path: "terraform.bootstrap.tfstate" });
  });

  it("with Terraform Cloud: no bootstrap, workspaces on the default host unless one is set", () => {
    const cloud = (hostname?: string) =>
      planStacks(
        resolveDeployment(
          testConfig({
            stateBackend: {
              type: "cloud",
              organization: "acme",
              workspacePrefix: "ba",
              hostname,
              runRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/tfc" },
            },
            worker: { imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/worker:1" },
          }),
        ),
      );
    const plan = cloud();
    expect(plan.map((s) => s.kind)).toEqual(["workspaces", "network", "pipeline"]);
    expect(plan[0]!).toMatchObject({ name: "workspaces", readsFrom: [], dependsOn: [] });
    expect(plan[0]!.state).toEqual({ type: "local", path: "terraform.workspaces.tfstate" });
    expect(plan[1]!.dependsOn).toEqual(["workspaces"]);
    expect(plan[2]!.dependsOn).toEqual(["workspaces", "network-111111111111-us-east-1"]);
    expect(plan[1]!.state).toEqual({
      type: "cloud",
      hostname: "app.terraform.io",
      organization: "acme",
      workspace: "ba-network-111111111111-us-east-1",
    });
    expect(cloud("tfe.example.com")[1]!.state).toMatchObject({ hostname: "tfe.example.com" });
  });

  it("knows the kinds still to come, in deploy order", () => {
    expect(STACK_KINDS).toEqual(["bootstrap", "workspaces", "archive", "network", "pipeline"]);
  });
});

describe("assertDeployOrder", () => {
  const stack = (name: string, kind: (typeof STACK_KINDS)[number], dependsOn: string[] = []) => ({
    name,
    kind,
    dependsOn,
  });

  it("accepts dependencies on earlier kinds", () => {
    expect(() =>
      assertDeployOrder([stack("bootstrap", "bootstrap"), stack("network-a", "network", ["bootstrap"])]),
    ).not.toThrow();
  });

  it("refuses a dependency listed after the stack, or not at all", () => {
    expect(() =>
      assertDeployOrder([stack("pipeline-a", "pipeline", ["network-a"]), stack("network-a", "network")]),
    ).toThrow("stack pipeline-a depends on network-a, which is not listed before it");
  });

  it("refuses a dependency of the same kind (the kind deploys together)", () => {
    expect(() =>
      assertDeployOrder([stack("network-a", "network"), stack("network-b", "network", ["network-a"])]),
    ).toThrow("stack network-b depends on network-a of its own kind (network)");
  });

  it("refuses kinds out of order, and a name listed twice", () => {
    expect(() => assertDeployOrder([stack("network-a", "network"), stack("bootstrap", "bootstrap")])).toThrow(
      "stack bootstrap (bootstrap) is listed after a network stack",
    );
    expect(() => assertDeployOrder([stack("network-a", "network"), stack("network-a", "network")])).toThrow(
      "stack network-a is listed twice",
    );
  });
});
