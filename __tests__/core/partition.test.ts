import { partitionOf } from "../../core/partition";

describe("partitionOf", () => {
  it.each([
    ["us-east-1", "aws"],
    ["eu-west-1", "aws"],
    ["ap-southeast-4", "aws"],
    ["il-central-1", "aws"],
    ["mx-central-1", "aws"],
    ["cn-north-1", "aws-cn"],
    ["cn-northwest-1", "aws-cn"],
    ["us-gov-west-1", "aws-us-gov"],
    ["us-gov-east-1", "aws-us-gov"],
    ["us-iso-east-1", "aws-iso"],
    ["us-iso-west-1", "aws-iso"],
    ["us-isob-east-1", "aws-iso-b"],
    ["us-isob-west-1", "aws-iso-b"],
    ["eu-isoe-west-1", "aws-iso-e"],
    ["us-isof-east-1", "aws-iso-f"],
    ["us-isof-south-1", "aws-iso-f"],
  ])("%s is in %s", (region, partition) => {
    expect(partitionOf(region)).toBe(partition);
  });

  it("puts a region it does not recognise in the commercial partition", () => {
    expect(partitionOf("xx-unknown-1")).toBe("aws");
  });
});
