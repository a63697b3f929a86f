/**
 * Jest setupFilesAfterEnv: cdktf's token stack traces without jest's source-map formatting.
 *
 * cdktf records where every token was created (`captureStackTrace`, cdktf/lib/tokens/private/stack-trace.js) by
 * reading a full `Error.stack`, only to print it if resolving the token fails. Under jest each read runs jest's
 * `Error.prepareStackTrace`, which maps every frame through source maps: measured, a third of the CPU time of a
 * synthesis in a test (tens of thousands of tokens per pipeline stack). Here the trace is formatted as V8 does by
 * default (CallSite#toString): the same frames, with the transpiled positions of our TypeScript instead of the
 * mapped ones. Nothing else changes: a test's own errors and failures are still source-mapped.
 */
import * as stackTrace from "cdktf/lib/tokens/private/stack-trace";

const mapped = stackTrace.captureStackTrace;

/** V8's own format of a stack (Node falls back to jest's formatter, in the worker's main realm, if none is set here). */
const plain = (error: Error, frames: NodeJS.CallSite[]) =>
  `${String(error)}${frames.map((frame) => `\n    at ${frame.toString()}`).join("")}`;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- cdktf's own signature
function captureStackTrace(below?: Function): string[] {
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = plain;
  try {
    return mapped(below ?? captureStackTrace);
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

(stackTrace as { captureStackTrace: typeof captureStackTrace }).captureStackTrace = captureStackTrace;
