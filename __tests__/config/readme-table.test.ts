import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { cloudBackend, configSchema, existingVpc, newVpc, s3Backend } from "../../config/schema";

// The README's configuration reference is checked against config/schema.ts: every key the schema
// accepts is documented (by its own row, or named in its parent's row), every documented key exists,
// with its type, its "required", and the default a config that leaves it out gets.

interface Row {
  readonly keys: string[];
  readonly types: string[];
  readonly defaults: string[];
  readonly rules: string;
}

const README = readFileSync(join(__dirname, "../../README.md"), "utf8");

function readmeRows(): Row[] {
  const lines = README.split("\n");
  const start = lines.findIndex((l) => l.startsWith("| key | type | default | rules |"));
  if (start === -1) throw new Error("README.md: no configuration table (| key | type | default | rules |)");
  const rows: Row[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith("|")) break;
    // Cells split on " | " outside backticks (a rule may contain `"GOVERNANCE" \| "COMPLIANCE"`).
    const cells = line.slice(2, -2).split(/ \| (?=(?:[^`]*`[^`]*`)*[^`]*$)/);
    const [keyCell, typeCell, defaultCell, rules] = cells as [string, string, string, string];
    const named = [...keyCell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const parent = named[0]!.includes(".") ? named[0]!.slice(0, named[0]!.lastIndexOf(".") + 1) : "";
    const keys = named.map((k, i) => (i === 0 || k.includes(".") ? k : parent + k));
    // One row may document several keys: a cell with one value per key (" / ") or one for all.
    const perKey = (cell: string) =>
      keys.map((_, i) => (cell.split(" / ").length === keys.length ? cell.split(" / ")[i]! : cell));
    rows.push({ keys, types: perKey(typeCell), defaults: perKey(defaultCell), rules });
  }
  return rows;
}

interface Leaf {
  readonly types: Set<string>;
  readonly required: boolean;
  readonly default?: unknown;
  readonly hasKeys: boolean;
}

/** Every key path of the schema (arrays of objects as `key[].sub`), unions merged. */
function schemaKeys(): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  const visit = (node: any, path: string, required: boolean) => {
    const options: any[] = node.anyOf ?? node.oneOf ?? [node];
    const types = new Set<string>(options.flatMap((o) => (o.enum ? ["enum"] : o.type ? [o.type] : [])));
    const previous = out.get(path);
    const hasKeys = options.some((o) => o.properties);
    if (path) {
      out.set(path, {
        types: new Set([...(previous?.types ?? []), ...types]),
        required: required || !!previous?.required,
        default: previous?.default ?? node.default,
        hasKeys: hasKeys || !!previous?.hasKeys,
      });
    }
    for (const option of options) {
      const object = option.type === "array" && option.items?.type === "object" ? option.items : option;
      const prefix = path + (object === option ? "" : "[]");
      for (const [name, child] of Object.entries<any>(object.properties ?? {})) {
        visit(child, prefix ? `${prefix}.${name}` : name, (object.required ?? []).includes(name));
      }
    }
  };
  // network and stateBackend pick their schema by a key of the value (z.custom), which JSON Schema
  // cannot show: put the schemas they pick from in their place.
  const json = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as any;
  const root = json(configSchema);
  root.properties.network = { anyOf: [json(newVpc), json(existingVpc)] };
  root.properties.stateBackend = { anyOf: [json(s3Backend), json(cloudBackend)] };
  visit(root, "", true);
  return out;
}

/** What a config that sets only the required keys resolves to. */
const resolved = configSchema.parse({
  accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
  tags: { team: "backup" },
  stateBackend: { type: "s3", bucket: "state-bucket", region: "us-east-1" },
});

function effectiveDefault(path: string, leaf: Leaf): unknown {
  if (!path.includes("[]")) {
    let value: any = resolved;
    for (const part of path.split(".")) value = value?.[part];
    if (value !== undefined) return value;
  }
  return leaf.default;
}

const TYPE_WORDS: Record<string, RegExp> = {
  string: /string/,
  integer: /integer|days/,
  number: /number/,
  boolean: /boolean/,
  array: /list/,
  object: /object/,
  enum: /`"[a-z]+"` \\\|/,
};

describe("README configuration table", () => {
  const rows = readmeRows();
  const keys = schemaKeys();
  const documented = rows.flatMap((r) =>
    r.keys.map((key, i) => ({ key, row: r, typeCell: r.types[i]!, defaultCell: r.defaults[i]! })),
  );

  it("reads the table", () => {
    expect(rows.length).toBeGreaterThan(30);
    expect(documented.map((d) => d.key)).toEqual(
      expect.arrayContaining(["name", "worker.volume.iops", "exports.dynamodb"]),
    );
  });

  it("documents only keys the schema has", () => {
    expect(documented.map((d) => d.key).filter((k) => !keys.has(k))).toEqual([]);
  });

  it("documents every key the schema has, in its own row or its parent's", () => {
    const undocumented = [...keys.entries()].filter(([path, leaf]) => {
      if (leaf.hasKeys) return false; // an object is documented by its keys
      if (documented.some((d) => d.key === path)) return false;
      const name = path.slice(path.lastIndexOf(".") + 1);
      const parents = documented.filter((d) => path.startsWith(`${d.key}.`));
      return !parents.some((p) => p.row.rules.includes(`"${name}"`) || p.row.rules.includes(`\`${name}\``));
    });
    expect(undocumented.map(([path]) => path)).toEqual([]);
  });

  it.each(documentedKeys())("gives %s the schema's type and required-ness", (key) => {
    const d = documented.find((x) => x.key === key)!;
    const leaf = keys.get(key)!;
    for (const t of leaf.types) expect([key, d.typeCell]).toEqual([key, expect.stringMatching(TYPE_WORDS[t]!)]);
    // "required" is shown for top-level keys; inside an object the rules say what it needs.
    if (!/[.[]/.test(key)) expect([key, /required/.test(d.typeCell)]).toEqual([key, leaf.required]);
  });

  it.each(documentedKeys())("gives %s the default a config without it gets", (key) => {
    const d = documented.find((x) => x.key === key)!;
    const leaf = keys.get(key)!;
    // A required top-level key has none; a required key inside an object has its parent's default.
    const expected = leaf.required && !/[.[]/.test(key) ? undefined : effectiveDefault(key, leaf);
    const literal = /^`([^`]+)`/.exec(d.defaultCell.trim());
    let shown: unknown;
    try {
      shown = literal ? JSON.parse(literal[1]!) : undefined;
    } catch {
      shown = undefined; // prose such as `network` or a backticked name: no literal default
    }
    if (expected === undefined || (typeof expected === "object" && !Array.isArray(expected))) {
      expect([key, shown]).toEqual([key, undefined]);
    } else {
      expect([key, shown]).toEqual([key, expected]);
    }
    // The key's own default (a config that sets its parent without it) must be the same one.
    if (leaf.default !== undefined && typeof leaf.default !== "object")
      expect([key, shown]).toEqual([key, leaf.default]);
  });

  function documentedKeys(): string[] {
    return readmeRows().flatMap((r) => r.keys);
  }
});
