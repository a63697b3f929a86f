/**
 * Intrinsic functions (`States.Format(...)` etc.) as used in `.$` fields of JSONPath states.
 * A small recursive-descent parser: arguments are string literals ('...' with \' \{ \} \\ escapes),
 * numbers, true/false/null, paths ($..., $$...) and nested intrinsic calls.
 */
import { createHash, randomUUID } from "node:crypto";
import { readPath } from "./paths";
import { Json, StatesError } from "./types";

type Arg =
  | { kind: "literal"; value: Json; template?: string }
  | { kind: "path"; path: string }
  | { kind: "call"; name: string; args: Arg[] };

const fail = (message: string): never => {
  throw new StatesError("States.IntrinsicFailure", message);
};

export function isIntrinsic(expression: string): boolean {
  return /^States\.[A-Za-z0-9]+\s*\(/.test(expression);
}

export function evaluateIntrinsic(expression: string, input: Json, context: Json): Json {
  const parser = new Parser(expression);
  const call = parser.parseCall();
  parser.expectEnd();
  return evalArg(call, input, context);
}

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseCall(): Arg {
    const m =
      /^States\.[A-Za-z0-9]+/.exec(this.text.slice(this.pos)) ??
      fail(`Expected an intrinsic function at ${this.pos} in ${this.text}`);
    this.pos += m[0].length;
    this.skipSpace();
    this.expect("(");
    const args: Arg[] = [];
    this.skipSpace();
    if (this.peek() !== ")") {
      for (;;) {
        args.push(this.parseArg());
        this.skipSpace();
        if (this.peek() === ",") {
          this.pos++;
          continue;
        }
        break;
      }
    }
    this.expect(")");
    return { kind: "call", name: m[0], args };
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) fail(`Unexpected text after intrinsic function: '${this.text.slice(this.pos)}'`);
  }

  private parseArg(): Arg {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (rest.startsWith("'")) return this.parseString();
    if (rest.startsWith("States.")) return this.parseCall();
    if (rest.startsWith("$")) {
      // A path runs until the next top-level ',' or ')' (brackets may hold either).
      let depth = 0;
      let end = this.pos;
      for (; end < this.text.length; end++) {
        const c = this.text[end];
        if (c === "[") depth++;
        else if (c === "]") depth--;
        else if (depth === 0 && (c === "," || c === ")")) break;
      }
      const path = this.text.slice(this.pos, end).trim();
      this.pos = end;
      return { kind: "path", path };
    }
    const lit =
      /^(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(rest) ?? fail(`Unexpected argument '${rest}'`);
    this.pos += lit[0].length;
    return { kind: "literal", value: JSON.parse(lit[0]) as Json };
  }

  private parseString(): Arg {
    let out = "";
    // States.Format needs to tell `{}` from an escaped `\{\}`: keep brace and backslash escapes in `template`.
    let template = "";
    this.pos++; // opening quote
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos];
      if (c === "\\") {
        const escaped = this.text[++this.pos];
        out += escaped;
        template += escaped === "{" || escaped === "}" || escaped === "\\" ? `\\${escaped}` : escaped;
      } else if (c === "'") {
        this.pos++;
        return { kind: "literal", value: out, template };
      } else {
        out += c;
        template += c;
      }
    }
    return fail(`Unterminated string in ${this.text}`);
  }

  private peek(): string {
    return this.text[this.pos];
  }
  private skipSpace(): void {
    while (/\s/.test(this.text[this.pos] ?? "")) this.pos++;
  }
  private expect(c: string): void {
    if (this.text[this.pos] !== c) fail(`Expected '${c}' at ${this.pos} in ${this.text}`);
    this.pos++;
  }
}

function evalArg(arg: Arg, input: Json, context: Json): Json {
  if (arg.kind === "literal") return arg.value;
  if (arg.kind === "path")
    return arg.path.startsWith("$$") ? readPath(arg.path, input, context) : readPath(arg.path, input);
  const fn = FUNCTIONS[arg.name] ?? fail(`Unknown intrinsic function ${arg.name}`);
  const values = arg.args.map((a) => evalArg(a, input, context));
  const first = arg.args[0];
  if (arg.name === "States.Format" && first?.kind === "literal" && first.template !== undefined)
    values[0] = first.template;
  return fn(values);
}

const str = (v: Json, fn: string): string =>
  typeof v === "string" ? v : fail(`${fn}: expected a string, got ${JSON.stringify(v)}`);
const num = (v: Json, fn: string): number =>
  typeof v === "number" ? v : fail(`${fn}: expected a number, got ${JSON.stringify(v)}`);
const arr = (v: Json, fn: string): Json[] =>
  Array.isArray(v) ? v : fail(`${fn}: expected an array, got ${JSON.stringify(v)}`);
const int = (v: Json, fn: string): number =>
  Number.isInteger(v) ? (v as number) : fail(`${fn}: expected an integer, got ${JSON.stringify(v)}`);
const arity = (args: Json[], n: number, fn: string): void => {
  if (args.length !== n) fail(`${fn} takes ${n} argument(s), got ${args.length}`);
};

const HASHES: Record<string, string> = {
  MD5: "md5",
  "SHA-1": "sha1",
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

const FUNCTIONS: Record<string, (args: Json[]) => Json> = {
  "States.Format": ([template, ...values]) => {
    let n = 0;
    // The template arrives with `\{` / `\}` still escaped (see parseString): only bare `{}` are placeholders.
    const out = str(template, "States.Format").replace(/\\([{}\\])|\{\}/g, (_match, escaped: string | undefined) => {
      if (escaped) return escaped;
      if (n >= values.length) fail("States.Format: more placeholders than arguments");
      const v = values[n++];
      return typeof v === "string" ? v : JSON.stringify(v);
    });
    if (n !== values.length) fail("States.Format: more arguments than placeholders");
    return out;
  },
  "States.StringToJson": (args) => {
    arity(args, 1, "States.StringToJson");
    try {
      return JSON.parse(str(args[0], "States.StringToJson")) as Json;
    } catch (e) {
      return fail(`States.StringToJson: ${(e as Error).message}`);
    }
  },
  "States.JsonToString": (args) => (arity(args, 1, "States.JsonToString"), JSON.stringify(args[0])),
  "States.Array": (args) => args,
  "States.ArrayPartition": ([a, size]) => {
    const items = arr(a, "States.ArrayPartition");
    const n = int(size, "States.ArrayPartition");
    if (n <= 0) fail("States.ArrayPartition: chunk size must be positive");
    const out: Json[] = [];
    for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
    return out;
  },
  "States.ArrayContains": ([a, v]) =>
    arr(a, "States.ArrayContains").some((x) => JSON.stringify(x) === JSON.stringify(v)),
  "States.ArrayRange": ([start, end, stepArg]) => {
    const [s, e, st] = [
      int(start, "States.ArrayRange"),
      int(end, "States.ArrayRange"),
      int(stepArg, "States.ArrayRange"),
    ];
    if (st === 0) fail("States.ArrayRange: step must not be 0");
    const out: number[] = [];
    for (let i = s; st > 0 ? i <= e : i >= e; i += st) out.push(i);
    if (out.length > 1000) fail("States.ArrayRange: more than 1000 items");
    return out;
  },
  "States.ArrayGetItem": ([a, i]) => {
    const items = arr(a, "States.ArrayGetItem");
    const idx = int(i, "States.ArrayGetItem");
    return idx >= 0 && idx < items.length ? items[idx] : fail(`States.ArrayGetItem: index ${idx} out of bounds`);
  },
  "States.ArrayLength": ([a]) => arr(a, "States.ArrayLength").length,
  "States.ArrayUnique": ([a]) => {
    const seen = new Set<string>();
    return arr(a, "States.ArrayUnique").filter((x) => !seen.has(JSON.stringify(x)) && seen.add(JSON.stringify(x)));
  },
  "States.Base64Encode": ([s]) => Buffer.from(str(s, "States.Base64Encode"), "utf8").toString("base64"),
  "States.Base64Decode": ([s]) => Buffer.from(str(s, "States.Base64Decode"), "base64").toString("utf8"),
  "States.Hash": ([data, algorithm]) => {
    const alg =
      HASHES[str(algorithm, "States.Hash")] ?? fail(`States.Hash: unsupported algorithm ${String(algorithm)}`);
    const text = typeof data === "string" ? data : JSON.stringify(data);
    return createHash(alg).update(text, "utf8").digest("hex");
  },
  "States.JsonMerge": ([a, b, deep]) => {
    if (deep !== false) fail("States.JsonMerge: only shallow merge (false) is supported, as in AWS");
    const isObj = (v: Json): v is Record<string, Json> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (!isObj(a) || !isObj(b)) return fail("States.JsonMerge: both arguments must be objects");
    return { ...a, ...b };
  },
  "States.MathRandom": ([start, end]) => {
    const [s, e] = [int(start, "States.MathRandom"), int(end, "States.MathRandom")];
    return s + Math.floor(Math.random() * (e - s));
  },
  "States.MathAdd": ([a, b]) => num(a, "States.MathAdd") + num(b, "States.MathAdd"),
  "States.StringSplit": ([s, sep]) => {
    const chars = str(sep, "States.StringSplit");
    // AWS splits on any of the delimiter characters and drops empty pieces.
    return str(s, "States.StringSplit")
      .split(new RegExp(`[${chars.replace(/[\\\]^-]/g, "\\$&")}]`))
      .filter((p) => p !== "");
  },
  "States.UUID": (args) => (arity(args, 0, "States.UUID"), randomUUID()),
};
