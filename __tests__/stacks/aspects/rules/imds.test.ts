import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { newStack, violationsOf } from "../helpers";

describe("IMDSv2", () => {
  it("passes a launch template and an instance that require session tokens", () => {
    const stack = newStack();
    new LaunchTemplate(stack, "lt", { metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" } });
    new Instance(stack, "vm", {
      ami: "ami-12345678",
      instanceType: "t3.micro",
      metadataOptions: { httpTokens: "required" },
    });
    expect(violationsOf(stack)).toEqual([]);
  });

  it("fails a launch template that leaves IMDSv1 on", () => {
    const stack = newStack();
    new LaunchTemplate(stack, "lt", { metadataOptions: { httpTokens: "optional" } });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "imdsv2",
        path: "test/lt",
        message: 'metadata_options.http_tokens must be "required" (IMDSv2 only); it is "optional"',
      },
    ]);
  });

  it("fails a launch template and an instance without metadata options", () => {
    const stack = newStack();
    new LaunchTemplate(stack, "lt", { namePrefix: "worker-" });
    new Instance(stack, "vm", { ami: "ami-12345678", instanceType: "t3.micro" });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "imdsv2",
        path: "test/lt",
        message: 'metadata_options.http_tokens must be "required" (IMDSv2 only); it is not set',
      },
      {
        rule: "imdsv2",
        path: "test/vm",
        message: 'metadata_options.http_tokens must be "required" (IMDSv2 only); it is not set',
      },
    ]);
  });
});
