import { applyFilterPath, applyResultPath, readPath, tryReadPath } from "../../../testing/asl/paths";
import { applyPayloadTemplate } from "../../../testing/asl/payload";
import { Json, StatesError } from "../../../testing/asl/types";

const input: Json = {
  volume: {
    id: "vol-1",
    tags: [
      { Key: "a", Value: "1" },
      { Key: "b", Value: "2" },
    ],
  },
  "odd key": "x",
  items: [1, 2, 3, 4],
};

describe("readPath", () => {
  test.each([
    ["$", input],
    ["$.volume.id", "vol-1"],
    ["$['odd key']", "x"],
    ["$.items[1]", 2],
    ["$.items[-1]", 4],
    ["$.volume.tags[0].Value", "1"],
  ])("definite path %s yields one value", (path, expected) => {
    expect(readPath(path, input)).toEqual(expected);
  });

  test.each([
    ["$.volume.tags[*].Key", ["a", "b"]],
    ["$.items[1:3]", [2, 3]],
    ["$.items[0,2]", [1, 3]],
    ["$..Value", ["1", "2"]],
    ["$.volume.tags[?(@.Key == 'b')].Value", ["2"]],
    ["$.items[?(@.missing)]", []],
  ])("indefinite path %s yields an array of matches", (path, expected) => {
    expect(readPath(path, input)).toEqual(expected);
  });

  test("a missing definite path is a States.Runtime error naming the path and field", () => {
    expect(() => readPath("$.nope", input, undefined, "Id.$")).toThrow(
      expect.objectContaining({
        name: "States.Runtime",
        message: expect.stringContaining("The JSONPath '$.nope' specified for the field 'Id.$' could not be found"),
      }),
    );
  });

  test("$$ paths read the context object", () => {
    expect(tryReadPath("$$.Execution.Name", input, { Execution: { Name: "run-1" } })).toBe("run-1");
  });

  test("malformed paths are rejected with the reason", () => {
    expect(() => readPath("volume.id", input)).toThrow("it must start with '$'");
    expect(() => readPath("$.items[", input)).toThrow("unclosed '['");
  });
});

describe("InputPath/OutputPath and ResultPath", () => {
  test("a null filter path yields an empty object", () => {
    expect(applyFilterPath(null, input, "OutputPath")).toEqual({});
  });

  test("ResultPath writes into a copy, creating missing objects", () => {
    const out = applyResultPath("$.a.b", { keep: 1 }, { r: true });
    expect(out).toEqual({ keep: 1, a: { b: { r: true } } });
  });

  test("ResultPath null keeps the input, $ replaces it", () => {
    expect(applyResultPath(null, { keep: 1 }, 5)).toEqual({ keep: 1 });
    expect(applyResultPath("$", { keep: 1 }, 5)).toBe(5);
  });

  test("ResultPath through a non-object is States.ResultPathMatchFailure", () => {
    expect(() => applyResultPath("$.keep.x", { keep: 1 }, 5)).toThrow(StatesError);
    expect(() => applyResultPath("$.keep.x", { keep: 1 }, 5)).toThrow(
      expect.objectContaining({ name: "States.ResultPathMatchFailure" }),
    );
  });
});

describe("payload templates (Parameters, ResultSelector, ItemSelector)", () => {
  const context: Json = {
    Execution: { Name: "exec-7", Input: { original: true } },
    Map: { Item: { Index: 2, Value: "v" } },
  };

  test("evaluates .$ keys from the input, the context and intrinsics; copies the rest", () => {
    const out = applyPayloadTemplate(
      {
        "Volume.$": "$.volume.id",
        "Name.$": "$$.Execution.Name",
        "Original.$": "$$.Execution.Input",
        "Item.$": "$$.Map.Item.Value",
        "Label.$": "States.Format('{}-{}', $.volume.id, $$.Map.Item.Index)",
        Static: { Nested: ["a", { "Deep.$": "$.items[0]" }] },
      },
      input,
      context,
    );
    expect(out).toEqual({
      Volume: "vol-1",
      Name: "exec-7",
      Original: { original: true },
      Item: "v",
      Label: "vol-1-2",
      Static: { Nested: ["a", { Deep: 1 }] },
    });
  });

  test("a .$ value that is neither a path nor an intrinsic is rejected", () => {
    expect(() => applyPayloadTemplate({ "x.$": "plain" }, input, context)).toThrow(
      "must be a JSONPath or an intrinsic function",
    );
  });
});
