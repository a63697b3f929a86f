/** A valid database dump manifest (core/manifest.ts DatabaseManifest): two databases, three dumps of 100 bytes. */
import { type DatabaseManifest, dumpKey } from "../../core/manifest";

export const SHA = "a".repeat(64);

export function dumpManifest(): DatabaseManifest {
  const item = (name: string, format: "pg-custom" | "sql", database?: string, bytes = 100) => ({
    name,
    kind: "dump" as const,
    format,
    ...(database === undefined ? {} : { database }),
    key: dumpKey(name, format),
    uncompressedBytes: bytes * 3,
    compressedBytes: bytes,
    sha256: SHA,
    s3ChecksumSHA256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-1",
    partSize: 8 * 1024 * 1024,
    parts: 1,
  });
  return {
    version: 2,
    tool: "backup-actions",
    database: {
      engine: "postgres",
      host: "db.internal",
      port: 5432,
      serverVersion: "16.4",
      databases: [
        { name: "shop", sizeBytes: 1000, owner: "app" },
        { name: "café ü", sizeBytes: 2000 },
      ],
    },
    items: [item("globals", "sql"), item("db1-shop", "pg-custom", "shop"), item("db2-caf___", "pg-custom", "café ü")],
    compression: { tool: "zstd", level: 3 },
    tools: { pg_dump: "pg_dump (PostgreSQL) 17.2" },
    startedAt: "2026-12-02T00:00:00.000Z",
    finishedAt: "2026-12-02T00:00:01.000Z",
    seconds: 1,
    bytesPerSecond: 900,
    totals: { uncompressedBytes: 900, compressedBytes: 300 },
  };
}
