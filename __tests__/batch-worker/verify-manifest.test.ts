/**
 * `backup-actions verify` and `restore` refuse a malformed manifest before they read a byte of any
 * object, naming the file, the item and the field; a version 1 manifest is read with a note that
 * its byte accounting is not checked.
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli/main";
import { MANIFEST_NAME } from "../../core/manifest";
import { restoreExport } from "../../batch-worker/src/restore";
import { FileStore } from "../../batch-worker/src/store";
import { verifyExport } from "../../batch-worker/src/verify";
import { MALFORMED, validManifest } from "../helpers/malformed-manifests";

describe("backup-actions verify and restore refuse a malformed manifest", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "verify-manifest-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An export directory whose only file is the manifest: nothing else may be read. */
  async function exportWith(json: string, name: string): Promise<FileStore> {
    const store = new FileStore(path.join(dir, name));
    await store.put(MANIFEST_NAME, json);
    const get = store.get.bind(store);
    jest.spyOn(store, "get").mockImplementation((key) => {
      if (key !== MANIFEST_NAME) throw new Error(`read ${key} of a manifest that should have been refused`);
      return get(key);
    });
    jest.spyOn(store, "size").mockImplementation((key) => Promise.reject(new Error(`sized ${key}`)));
    return store;
  }

  it.each(MALFORMED.map((c, i) => [c.title, c, i] as const))("%s", async (_t, c, i) => {
    const store = await exportWith(c.json, `m${i}`);
    const message = `invalid manifest ${store.url}${MANIFEST_NAME}: ${c.issue}`;
    await expect(verifyExport(store)).rejects.toThrow(message);
    const to = path.join(dir, `restored-${i}`);
    await expect(restoreExport({ store, to })).rejects.toThrow(message);
    expect(existsSync(to)).toBe(false);
  });

  it("the command exits 1 and prints the file, the item and the field", async () => {
    const c = MALFORMED.find((m) => m.title === "a key that is not the item's")!;
    const store = await exportWith(c.json, "cli");
    const err: string[] = [];
    const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
    const o = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      await expect(main(["verify", store.url])).resolves.toBe(1);
    } finally {
      e.mockRestore();
      o.mockRestore();
    }
    // the manifest's SHA-256 and the warning that nothing was compared come first (cli/manifest-trust.ts)
    const lines = err.join("").split("\n");
    expect(lines[0]).toMatch(/^manifest\.json SHA-256 [0-9a-f]{64}$/);
    expect(lines.slice(2)).toEqual([
      `backup-actions verify: invalid manifest ${store.url}${MANIFEST_NAME}: ${c.issue}`,
      "",
    ]);
  });

  it("reads a version 1 manifest (no byte ranges) and says that byte accounting was not checked", async () => {
    const v1 = validManifest((m) => {
      (m as { version: number }).version = 1;
      delete m.ranges;
      m.items.splice(0, 1); // only the skipped item: no object to read
      m.totals = { uncompressedBytes: 0, compressedBytes: 0 };
    });
    const store = await exportWith(v1, "v1");
    const report = await verifyExport(store);
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([
      `${store.url}${MANIFEST_NAME} is version 1: it records no byte ranges, so that every byte of the device is in the archive is not checked`,
    ]);
  });
});
