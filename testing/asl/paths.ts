/**
 * JSONPath as Step Functions uses it: `Path`s that read (InputPath, `.$` fields, Choice Variable, ItemsPath)
 * and `Reference Path`s that write (ResultPath). Reading supports the operators AWS documents for JSONPath
 * states: `.name`, `['name']`, `[n]`, `[*]`, `.*`, `..name`, `[a,b]`, `[start:end]` and simple filters
 * `[?(@.key op literal)]`. A path with none of the multi-value operators is "definite" and yields one value;
 * otherwise it yields an array of matches, like AWS.
 */
import { Json, runtimeError, StatesError } from "./types";

type Segment =
  | { kind: "key"; key: string }
  | { kind: "index"; index: number }
  | { kind: "wildcard" }
  | { kind: "deep"; key: string | null }
  | { kind: "union"; indexes: number[] }
  | { kind: "slice"; start?: number; end?: number }
  | { kind: "filter"; key: string[]; op?: string; literal?: Json };

const NOT_FOUND = Symbol("not-found");

export function parsePath(path: string): { root: "$" | "$$"; segments: Segment[] } {
  const root = path.startsWith("$$") ? "$$" : "$";
  if (!path.startsWith("$")) throw runtimeError(`Invalid JSONPath '${path}': it must start with '$'`);
  const segments: Segment[] = [];
  let i = root.length;
  const fail = (why: string): never => {
    throw runtimeError(`Invalid JSONPath '${path}': ${why}`);
  };
  while (i < path.length) {
    if (path.startsWith("..", i)) {
      i += 2;
      const m = /^(\*|[^.[\]]+)/.exec(path.slice(i)) ?? fail("'..' must be followed by a name or '*'");
      segments.push({ kind: "deep", key: m[1] === "*" ? null : m[1] });
      i += m[1].length;
    } else if (path[i] === ".") {
      const m = /^(\*|[^.[\]]+)/.exec(path.slice(i + 1)) ?? fail(`empty name at ${i}`);
      segments.push(m[1] === "*" ? { kind: "wildcard" } : { kind: "key", key: m[1] });
      i += 1 + m[1].length;
    } else if (path[i] === "[") {
      const close = findClose(path, i) ?? fail(`unclosed '[' at ${i}`);
      segments.push(parseBracket(path.slice(i + 1, close).trim(), fail));
      i = close + 1;
    } else {
      fail(`unexpected '${path[i]}' at ${i}`);
    }
  }
  return { root, segments };
}

function findClose(path: string, open: number): number | undefined {
  let quote: string | null = null;
  for (let j = open + 1; j < path.length; j++) {
    const c = path[j];
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "]") return j;
  }
  return undefined;
}

function parseBracket(body: string, fail: (why: string) => never): Segment {
  if (body === "*") return { kind: "wildcard" };
  const quoted = /^(['"])(.*)\1$/s.exec(body);
  if (quoted) return { kind: "key", key: quoted[2].replace(/\\(.)/g, "$1") };
  if (/^-?\d+$/.test(body)) return { kind: "index", index: Number(body) };
  if (/^-?\d+(\s*,\s*-?\d+)+$/.test(body)) return { kind: "union", indexes: body.split(",").map(Number) };
  const slice = /^(-?\d*)\s*:\s*(-?\d*)$/.exec(body);
  if (slice) {
    return {
      kind: "slice",
      start: slice[1] ? Number(slice[1]) : undefined,
      end: slice[2] ? Number(slice[2]) : undefined,
    };
  }
  const filter = /^\?\(\s*@((?:\.[\w-]+)+)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*\)$/.exec(body);
  if (filter) {
    const literal = filter[3] === undefined ? undefined : parseLiteral(filter[3], fail);
    return { kind: "filter", key: filter[1].slice(1).split("."), op: filter[2], literal };
  }
  return fail(`unsupported bracket expression '[${body}]'`);
}

function parseLiteral(text: string, fail: (why: string) => never): Json {
  if (/^'.*'$/s.test(text)) return text.slice(1, -1);
  try {
    return JSON.parse(text) as Json;
  } catch {
    return fail(`unsupported filter literal ${text}`);
  }
}

function isDefinite(segments: Segment[]): boolean {
  return segments.every((s) => s.kind === "key" || s.kind === "index");
}

function children(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object") return Object.values(value);
  return [];
}

function step(values: unknown[], seg: Segment): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    switch (seg.kind) {
      case "key":
        if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.hasOwn(v, seg.key)) {
          out.push((v as Record<string, unknown>)[seg.key]);
        }
        break;
      case "index":
        if (Array.isArray(v)) {
          const idx = seg.index < 0 ? v.length + seg.index : seg.index;
          if (idx >= 0 && idx < v.length) out.push(v[idx]);
        }
        break;
      case "wildcard":
        out.push(...children(v));
        break;
      case "union":
        if (Array.isArray(v)) for (const idx of seg.indexes) if (idx < v.length) out.push(v[idx]);
        break;
      case "slice":
        if (Array.isArray(v)) out.push(...v.slice(seg.start, seg.end));
        break;
      case "filter":
        for (const item of children(v)) if (filterMatches(item, seg)) out.push(item);
        break;
      case "deep":
        collectDeep(v, seg.key, out);
        break;
    }
  }
  return out;
}

function collectDeep(value: unknown, key: string | null, out: unknown[]): void {
  if (value === null || typeof value !== "object") return;
  if (!Array.isArray(value)) {
    for (const [k, child] of Object.entries(value)) if (key === null || k === key) out.push(child);
  } else if (key === null) {
    out.push(...value);
  }
  for (const child of children(value)) collectDeep(child, key, out);
}

function filterMatches(item: unknown, seg: Extract<Segment, { kind: "filter" }>): boolean {
  let v: unknown = item;
  for (const k of seg.key) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, k)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  if (!seg.op) return true;
  const lit = seg.literal as unknown;
  switch (seg.op) {
    case "==":
      return JSON.stringify(v) === JSON.stringify(lit);
    case "!=":
      return JSON.stringify(v) !== JSON.stringify(lit);
    default: {
      if (typeof v !== typeof lit || (typeof v !== "number" && typeof v !== "string")) return false;
      const [a, b] = [v as number | string, lit as number | string];
      return seg.op === "<" ? a < b : seg.op === ">" ? a > b : seg.op === "<=" ? a <= b : a >= b;
    }
  }
}

/** Reads `path` from `input` (or from `context` for `$$` paths). Returns `undefined` when nothing matches a definite path. */
export function tryReadPath(path: string, input: unknown, context?: unknown): unknown {
  const { root, segments } = parsePath(path);
  const start = root === "$$" ? context : input;
  const values = segments.reduce<unknown[]>((acc, seg) => step(acc, seg), [start]);
  if (isDefinite(segments)) return values.length > 0 ? values[0] : NOT_FOUND;
  return values;
}

/** Reads a path that must exist: a missing value is a States.Runtime error, as in AWS. */
export function readPath(path: string, input: unknown, context?: unknown, field = "path"): Json {
  const value = tryReadPath(path, input, context);
  if (value === NOT_FOUND) {
    throw runtimeError(
      `The JSONPath '${path}' specified for the field '${field}' could not be found in the input '${JSON.stringify(input)}'`,
    );
  }
  return value as Json;
}

export function pathExists(path: string, input: unknown, context?: unknown): boolean {
  return tryReadPath(path, input, context) !== NOT_FOUND;
}

/**
 * InputPath / OutputPath: `null` means "an empty object", absent means `$`.
 */
export function applyFilterPath(path: string | null | undefined, value: Json, field: string): Json {
  if (path === null) return {};
  if (path === undefined || path === "$") return value;
  return readPath(path, value, undefined, field);
}

/**
 * ResultPath: writes `result` into a copy of `input`. `null` discards the result, `$` replaces the input.
 * Missing objects on the way are created; a non-object on the way is States.ResultPathMatchFailure.
 */
export function applyResultPath(path: string | null | undefined, input: Json, result: Json): Json {
  if (path === null) return input;
  if (path === undefined || path === "$") return result;
  const { root, segments } = parsePath(path);
  if (root !== "$" || !segments.every((s) => s.kind === "key" || s.kind === "index")) {
    throw runtimeError(`ResultPath '${path}' is not a reference path (only '.name', "['name']" and '[n]' are allowed)`);
  }
  const copy = structuredClone(input);
  if (copy === null || typeof copy !== "object") {
    throw new StatesError(
      "States.ResultPathMatchFailure",
      `Unable to apply ResultPath '${path}' to input ${JSON.stringify(input)}: it is not an object`,
    );
  }
  let cursor: Record<string | number, Json> = copy as Record<string, Json>;
  segments.forEach((seg, n) => {
    const key = seg.kind === "key" ? seg.key : (seg as { index: number }).index;
    if (n === segments.length - 1) {
      cursor[key] = result;
      return;
    }
    if (cursor[key] === undefined) cursor[key] = {};
    const next = cursor[key];
    if (next === null || typeof next !== "object") {
      throw new StatesError(
        "States.ResultPathMatchFailure",
        `Unable to apply ResultPath '${path}': '${String(key)}' holds ${JSON.stringify(next)}, not an object`,
      );
    }
    cursor = next as Record<string, Json>;
  });
  return copy;
}
