/**
 * core/parquet-export.ts on objects held in memory (any store implements ExportObjects): an RDS Parquet
 * export that verifies, and each way it does not, with the reason naming what is wrong.
 */
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  checkParquetExport,
  type ExportObjects,
  tableDirectoryOf,
  verifyParquetExport,
} from "../../core/parquet-export";

const ID = "rds-0123456789abcdef0123456789abcdef";
const PREFIX = "a/parquet/" + ID + "/";

function memory(objects: Map<string, Uint8Array>): ExportObjects {
  return {
    list: async (prefix) =>
      [...objects].filter(([k]) => k.startsWith(prefix)).map(([key, v]) => ({ key, size: v.byteLength })),
    readText: async (key) => {
      const v = objects.get(key);
      return v === undefined ? undefined : new TextDecoder().decode(v);
    },
    readRange: async (key, start, end) => {
      const v = objects.get(key)!;
      return v.slice(start, end).buffer as ArrayBuffer;
    },
    stat: async (key) => {
      const v = objects.get(key);
      return v === undefined ? undefined : { size: v.byteLength };
    },
    read: async (key) => [objects.get(key)!],
    urlOf: (key) => `s3://b/${key}`,
  };
}

function exportOf(
  tables: { target: string; rows: number; status?: string; partitions?: [number, number] }[],
): Map<string, Uint8Array> {
  const text = (s: unknown) => new TextEncoder().encode(JSON.stringify(s));
  const m = new Map<string, Uint8Array>();
  m.set(`${PREFIX}export_info_${ID}.json`, text({ status: "COMPLETE" }));
  m.set(
    `${PREFIX}export_tables_info_${ID}_from_1_to_${tables.length}.json`,
    text({
      perTableStatus: tables.map((t) => ({
        target: t.target,
        status: t.status ?? "COMPLETE",
        sizeGB: 0.01,
        TableStatistics: {
          partitioningInfo: {
            numberOfPartitions: t.partitions?.[1] ?? 1,
            numberOfCompletedPartitions: t.partitions?.[0] ?? 1,
          },
        },
      })),
    }),
  );
  for (const t of tables) {
    const ids = Array.from({ length: t.rows }, (_, i) => BigInt(i + 1));
    const buf = parquetWriteBuffer({ columnData: [{ name: "id", data: ids, type: "INT64" }] });
    m.set(`${PREFIX}${tableDirectoryOf(t.target)}1/part-00000.gz.parquet`, new Uint8Array(buf));
  }
  return m;
}

const parquet = { exportTaskIdentifier: ID, bucket: "b", exportPrefix: PREFIX };
const TABLES = [
  { target: "shop.public.orders", rows: 3 },
  { target: "shop.public.customers", rows: 2 },
];

describe("verifyParquetExport (core)", () => {
  it("passes with every table's footer row count", async () => {
    expect(await verifyParquetExport(memory(exportOf(TABLES)), parquet)).toMatchObject({
      verified: true,
      objects: 2,
      reason: "2 tables exported, 2 Parquet files, 5 rows (shop.public.orders 3, shop.public.customers 2)",
    });
  });

  it("fails naming the table whose Parquet file is missing", async () => {
    const objects = exportOf(TABLES);
    objects.delete(`${PREFIX}shop/public.customers/1/part-00000.gz.parquet`);
    expect(await verifyParquetExport(memory(objects), parquet)).toMatchObject({
      verified: false,
      reason: `export_tables_info says shop.public.customers exported data, but no Parquet file of it is under s3://b/${PREFIX}`,
    });
  });

  it("fails naming a data file that is no Parquet file", async () => {
    const objects = exportOf(TABLES);
    objects.set(`${PREFIX}shop/public.orders/1/part-00000.gz.parquet`, new TextEncoder().encode("PAR1 not at all"));
    expect(await verifyParquetExport(memory(objects), parquet)).toMatchObject({
      verified: false,
      reason: expect.stringMatching(
        /^shop\/public\.orders\/1\/part-00000\.gz\.parquet is not a readable Parquet file: /,
      ),
    });
  });

  it("fails naming the tables RDS did not export", async () => {
    const objects = exportOf([TABLES[0]!, { target: "shop.public.blobs", rows: 0, status: "FAILED" }]);
    expect(await verifyParquetExport(memory(objects), parquet)).toMatchObject({
      verified: false,
      reason: "1 of 2 tables were not exported: shop.public.blobs (FAILED)",
    });
  });

  it("fails when export_info is missing: the export did not finish", async () => {
    const objects = exportOf(TABLES);
    objects.delete(`${PREFIX}export_info_${ID}.json`);
    expect(await verifyParquetExport(memory(objects), parquet)).toMatchObject({
      verified: false,
      reason: `export_info_${ID}.json is missing under s3://b/${PREFIX}: the export did not finish`,
    });
  });

  it("answers every table's files and footer rows (export_tables_info has no row counts to compare them with)", async () => {
    const { result, tables } = await checkParquetExport(memory(exportOf(TABLES)), parquet);
    expect(result.verified).toBe(true);
    expect(tables).toEqual([
      { target: "shop.public.orders", files: 1, rows: 3n },
      { target: "shop.public.customers", files: 1, rows: 2n },
    ]);
  });

  it("fails naming a table whose partitions did not all complete", async () => {
    const objects = exportOf([TABLES[0]!, { ...TABLES[1]!, partitions: [2, 3] }]);
    expect(await verifyParquetExport(memory(objects), parquet)).toMatchObject({
      verified: false,
      reason:
        "export_tables_info says 1 of 2 tables did not complete every partition: shop.public.customers (2 of 3 partitions)",
    });
  });
});
