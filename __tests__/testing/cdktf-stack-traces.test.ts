/**
 * testing/cdktf-stack-traces.ts (every tier's setup): cdktf still records where each token was created, with the
 * frames V8 formats itself, and leaves jest's source-mapping formatter in place for everything else.
 */
import { Lazy, Tokenization } from "cdktf";
import * as stackTrace from "cdktf/lib/tokens/private/stack-trace";

function createdHere(): string[] {
  return stackTrace.captureStackTrace();
}

describe("cdktf's token stack traces under jest", () => {
  it("are the setup's capture, and still name the frames that created a token", () => {
    expect(stackTrace.captureStackTrace.name).toBe("captureStackTrace");
    expect(String(stackTrace.captureStackTrace)).toContain("Error.prepareStackTrace = plain");
    const frames = createdHere();
    expect(frames[0]).toMatch(/^createdHere \(.*__tests__\/testing\/cdktf-stack-traces\.test\.ts:\d+:\d+\)$/);
    expect(frames.length).toBeGreaterThan(5);
    // a token's creation stack is taken by it: cdktf's Lazy records the frames of this test
    const lazy = Tokenization.reverseString(Lazy.stringValue({ produce: () => "x" })).firstToken as unknown as {
      creationStack: string[];
    };
    expect(lazy.creationStack.some((f) => f.includes("cdktf-stack-traces.test.ts"))).toBe(true);
  });

  it("leave Error.prepareStackTrace as it was, so a test's errors are still source-mapped", () => {
    const before = Error.prepareStackTrace;
    createdHere();
    expect(Error.prepareStackTrace).toBe(before);
    // a thrown error's frame points into this TypeScript file at the line of `new Error` (mapped by jest)
    const line = Number(/cdktf-stack-traces\.test\.ts:(\d+):/.exec(new Error("here").stack ?? "")?.[1]);
    expect(line).toBe(31);
  });
});
