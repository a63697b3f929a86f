import { evaluateIntrinsic } from "../../../testing/asl/intrinsics";
import { Json } from "../../../testing/asl/types";

const input: Json = { name: "vol", n: 3, list: [1, 2, 2, 3], json: '{"a":1}', csv: "a,b,,c", obj: { k: "v" } };
const run = (expr: string) => evaluateIntrinsic(expr, input, { Execution: { Name: "e1" } });

describe("intrinsic functions", () => {
  test.each<[string, Json]>([
    ["States.Format('{} has {} items', $.name, $.n)", "vol has 3 items"],
    ["States.Format('name: {}', $$.Execution.Name)", "name: e1"],
    ["States.Format('it\\'s {}', $.obj)", 'it\'s {"k":"v"}'],
    ["States.Format('\\{\\} is literal, {} is not', $.name)", "{} is literal, vol is not"],
    ["States.Format('a\\\\{}', $.name)", "a\\vol"],
    ["States.StringToJson($.json)", { a: 1 }],
    ["States.JsonToString($.obj)", '{"k":"v"}'],
    ["States.Array($.name, 1, true, null)", ["vol", 1, true, null]],
    ["States.ArrayGetItem($.list, 3)", 3],
    ["States.ArrayLength($.list)", 4],
    ["States.ArrayUnique($.list)", [1, 2, 3]],
    ["States.ArrayContains($.list, 2)", true],
    ["States.ArrayPartition($.list, 3)", [[1, 2, 2], [3]]],
    ["States.ArrayRange(1, 9, 4)", [1, 5, 9]],
    ["States.MathAdd($.n, -5)", -2],
    ["States.StringSplit($.csv, ',')", ["a", "b", "c"]],
    ["States.Base64Encode('hello')", "aGVsbG8="],
    ["States.Base64Decode('aGVsbG8=')", "hello"],
    ["States.Hash('abc', 'SHA-256')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["States.JsonMerge($.obj, States.StringToJson($.json), false)", { k: "v", a: 1 }],
    ["States.ArrayLength(States.Array(1, 2))", 2],
  ])("%s", (expr, expected) => {
    expect(run(expr)).toEqual(expected);
  });

  test("States.UUID returns a v4 UUID", () => {
    expect(run("States.UUID()")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  test.each([
    ["States.ArrayGetItem($.list, 9)", "index 9 out of bounds"],
    ["States.Format('{} {}', $.name)", "more placeholders than arguments"],
    ["States.MathAdd($.name, 1)", "expected a number"],
    ["States.Nope(1)", "Unknown intrinsic function States.Nope"],
    ["States.StringToJson('{bad')", "States.StringToJson"],
  ])("%s fails with States.IntrinsicFailure (%s)", (expr, message) => {
    expect(() => run(expr)).toThrow(
      expect.objectContaining({ name: "States.IntrinsicFailure", message: expect.stringContaining(message) }),
    );
  });
});
