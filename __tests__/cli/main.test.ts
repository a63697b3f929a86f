import { commands, main } from "../../cli/main";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  return { out, err, restore: () => (o.mockRestore(), e.mockRestore()) };
}

describe("backup-actions dispatcher", () => {
  it("lists the worker commands", () => {
    expect(Object.keys(commands)).toEqual(expect.arrayContaining(["export-volume", "verify", "restore"]));
  });

  it("exits 2 with usage for no or an unknown command, 0 for --help", async () => {
    const c = capture();
    try {
      await expect(main([])).resolves.toBe(2);
      await expect(main(["frobnicate"])).resolves.toBe(2);
      await expect(main(["--help"])).resolves.toBe(0);
    } finally {
      c.restore();
    }
    expect(c.err.join("")).toContain('unknown command "frobnicate"');
    expect(c.out.join("")).toContain("export-volume --device DEV");
  });

  it.each(Object.keys(commands))("prints %s's usage on stdout and exits 0 for --help and -h", async (name) => {
    for (const flag of ["--help", "-h"]) {
      const c = capture();
      try {
        await expect(main([name, flag])).resolves.toBe(0);
      } finally {
        c.restore();
      }
      expect(c.err.join("")).toBe("");
      expect(c.out.join("")).toContain(`usage: backup-actions ${name}`);
      // A command with a help text of its own prints exactly that; the others, their summary.
      expect(c.out.join("")).toContain(commands[name]!.help ?? commands[name]!.summary);
    }
  });

  it("treats --help after -- as an argument, not a request for help", async () => {
    const c = capture();
    try {
      await expect(main(["verify", "--", "--help"])).resolves.toBe(2);
    } finally {
      c.restore();
    }
    expect(c.out.join("")).toBe("");
    expect(c.err.join("")).toContain("unsupported");
  });

  it("exits 2 naming the problem for bad options", async () => {
    const c = capture();
    try {
      await expect(main(["export-volume", "--to", "s3://bkt/p/"])).resolves.toBe(2);
      await expect(main(["export-volume", "--device", "/dev/x", "--to", "ftp://x/"])).resolves.toBe(2);
      await expect(
        main(["export-volume", "--device", "/dev/x", "--to", "s3://bkt/p/", "--concurrency", "0"]),
      ).resolves.toBe(2);
      await expect(main(["verify"])).resolves.toBe(2);
      await expect(main(["restore", "s3://bkt/p/"])).resolves.toBe(2);
      await expect(main(["verify", "s3://bkt/p/", "--bogus"])).resolves.toBe(2);
    } finally {
      c.restore();
    }
    const err = c.err.join("");
    expect(err).toContain("--device is required");
    expect(err).toContain("unsupported target ftp://x/");
    expect(err).toContain("--concurrency must be an integer from 1 to 64");
    expect(err).toContain("expected 1 argument(s), got 0");
    expect(err).toContain("--to DIR, --device DEV, --to-database URL or --to-dynamodb-table NAME is required");
    expect(err).toContain("Unknown option '--bogus'");
  });

  it("exits 1 when verify finds no archive of any kind", async () => {
    const c = capture();
    try {
      await expect(main(["verify", "file:///nonexistent/export/"])).resolves.toBe(1);
    } finally {
      c.restore();
    }
    expect(c.err.join("")).toMatch(
      /file:\/\/\/nonexistent\/export\/ holds no manifest.json, no export_info_\*\.json \(here or under parquet\/<id>\/\) and no table.json or AWSDynamoDB\/<id>\/manifest-summary.json/,
    );
  });
});
