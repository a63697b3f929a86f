import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commands, main } from "../../cli/main";

// Every `backup-actions <command> --flag` the docs show is a command with that flag in its usage,
// and every flag a usage line shows is one its argument parser accepts.

const DOCS = ["README.md", "docs/event-intake.md", "batch-worker/README.md"];

function documentedInvocations(): Array<{ doc: string; command: string; flags: string[] }> {
  const out: Array<{ doc: string; command: string; flags: string[] }> = [];
  for (const doc of DOCS) {
    const text = readFileSync(join(__dirname, "../..", doc), "utf8");
    // An invocation runs to the end of its line, its inline code span or a comment.
    for (const m of text.matchAll(/backup-actions ([a-z][a-z-]*)((?: [^`#\n]*)?)/g)) {
      const command = m[1]!;
      if (["the", "and", "is", "a"].includes(command)) continue; // prose: "backup-actions the product"
      out.push({ doc, command, flags: [...(m[2] ?? "").matchAll(/(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]!) });
    }
  }
  return out;
}

function usageFlags(name: string): string[] {
  return [...new Set([...commands[name]!.usage.matchAll(/(--[a-z][a-z0-9-]*)/g)].map((f) => f[1]!))];
}

async function stderrOf(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await main(argv), err: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("the documented CLI", () => {
  const invocations = documentedInvocations();

  it("finds the README's invocations", () => {
    expect(invocations.filter((i) => i.doc === "README.md").map((i) => i.command)).toEqual(
      expect.arrayContaining(["ledger", "verify", "restore", "cost", "plan-event"]),
    );
  });

  it("shows only commands that exist, with flags their usage lists", () => {
    const wrong = invocations.flatMap((i) =>
      !commands[i.command]
        ? [`${i.doc}: backup-actions ${i.command} is no command`]
        : i.flags
            // --help is every command's (cli/main.ts answers it before the command's parser).
            .filter((f) => f !== "--help" && !usageFlags(i.command).includes(f))
            .map((f) => `${i.doc}: backup-actions ${i.command} ${f} is not in its usage`),
    );
    expect(wrong).toEqual([]);
  });

  it.each(Object.keys(commands).filter((c) => usageFlags(c).length > 0))(
    "%s: its parser accepts every flag its usage lists",
    async (name) => {
      for (const flag of usageFlags(name)) {
        // The trailing unknown option stops every command in its parser, before it does any work.
        const { code, err } = await stderrOf([name, flag, "--zz-not-an-option"]);
        expect([flag, code]).toEqual([flag, 2]);
        expect(err).not.toContain(`Unknown option '${flag}'`);
      }
    },
  );
});
