/**
 * Payload templates: Parameters, ResultSelector, ItemSelector. Keys ending in `.$` are evaluated —
 * `$...` against the state's input, `$$...` against the context object, `States.X(...)` as an intrinsic —
 * and lose the `.$` suffix; every other value is copied, nested objects and arrays recursively.
 */
import { evaluateIntrinsic, isIntrinsic } from "./intrinsics";
import { readPath } from "./paths";
import { Json, runtimeError } from "./types";

export function applyPayloadTemplate(template: Json, input: Json, context: Json): Json {
  if (Array.isArray(template)) return template.map((t) => applyPayloadTemplate(t, input, context));
  if (template === null || typeof template !== "object") return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    if (!key.endsWith(".$")) {
      out[key] = applyPayloadTemplate(value, input, context);
      continue;
    }
    const name = key.slice(0, -2);
    if (typeof value !== "string") {
      throw runtimeError(
        `The value for the field '${key}' must be a path or an intrinsic function, got ${JSON.stringify(value)}`,
      );
    }
    out[name] = evaluateExpression(value, input, context, key);
  }
  return out;
}

function evaluateExpression(expression: string, input: Json, context: Json, field: string): Json {
  if (expression.startsWith("$$")) return readPath(expression, input, context, field);
  if (expression.startsWith("$")) return readPath(expression, input, undefined, field);
  if (isIntrinsic(expression)) return evaluateIntrinsic(expression, input, context);
  throw runtimeError(`The value for the field '${field}' must be a JSONPath or an intrinsic function: '${expression}'`);
}
