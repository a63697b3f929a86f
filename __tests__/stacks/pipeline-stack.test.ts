import { compose, synth, testConfig } from "../helpers/synth";

describe("pipeline stack", () => {
  const out = synth(compose(testConfig()).pipelines[0]!);

  it("reads the network stack's outputs from its remote state, not from an in-process reference", () => {
    expect(out.tf.data.terraform_remote_state.network).toEqual({
      backend: "s3",
      config: { bucket: "state-bucket-111", key: "ba/network-111111111111-us-east-1.tfstate", region: "us-east-1" },
    });
    expect(out.json).not.toMatch(/aws_vpc\./);
    expect(out.tf.output.network_vpc_id.value).toBe("${data.terraform_remote_state.network.outputs.vpc_id}");
  });
});
