/**
 * RDS snapshot export (StartExportTask) as AWS runs it, around moto's. moto 5.2.1 records an export
 * task, answers it "complete" at once and writes nothing; it accepts what AWS refuses. This fake is
 * registered on the interpreter's resolver (`install`) in front of the two aws-sdk Tasks, and:
 *
 * - refuses what AWS refuses, before moto sees the call (StartExportTask API reference; RDS user guide
 *   "Exporting DB snapshot data to Amazon S3"): a sixth concurrent task of the account
 *   (`ExportTaskLimitReachedFault`, unmodeled: Step Functions' `Rds.RdsException`), a snapshot already
 *   exporting (`InvalidExportSourceStateFault`), an identifier that is not 1–60 letters, digits and
 *   single hyphens starting with a letter, no KmsKeyId or IamRoleArn, an S3Prefix with `:`
 *   (`InvalidParameterValue` / `InvalidParameterCombination`, unmodeled);
 * - forwards the rest to moto (so moto holds the task and the IAM proof records the request as the
 *   child's role), also the rerun of an identifier (moto answers ExportTaskAlreadyExists itself);
 * - answers DescribeExportTasks with AWS's life cycle: STARTING, IN_PROGRESS for `polls` answers, then
 *   COMPLETE (after writing the export's files as RDS does) or FAILED with the outcome's cause;
 * - writes, on COMPLETE, under `<S3Prefix>/<id>/`: export_info_<id>.json,
 *   export_tables_info_<id>_from_1_to_<n>.json and a real Parquet file per exported table under
 *   `<database>/<schema.table>/1/` (hyparquet-writer), as the exporting role would (not recorded).
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { parquetWriteBuffer } from "hyparquet-writer";
import { TaskResolver, type TaskCall, type TaskHandler } from "./asl";
import { StatesError, type Json } from "./asl/types";
import { runAs, type Caller } from "./iam/recorder";

export interface FakeTable {
  /** db.schema.table (PostgreSQL) or db.table (MySQL, MariaDB) */
  readonly target: string;
  readonly rows: number;
  /** COMPLETE (default), SKIPPED or FAILED, with the message RDS gives. */
  readonly status?: "COMPLETE" | "SKIPPED" | "FAILED";
  readonly warningMessage?: string;
  /** Write this table's data file as bytes that are no Parquet file (a damaged or replaced object). */
  readonly damaged?: boolean;
}

export interface ExportOutcome {
  /** DescribeExportTasks answers before the end (IN_PROGRESS). @default 1 */
  readonly polls?: number;
  readonly status?: "COMPLETE" | "FAILED";
  readonly failureCause?: string;
  readonly tables?: readonly FakeTable[];
}

interface FakeTask {
  readonly id: string;
  readonly sourceArn: string;
  readonly bucket: string;
  readonly s3Prefix: string;
  readonly iamRoleArn: string;
  readonly kmsKeyId: string;
  readonly outcome: ExportOutcome;
  answered: number;
  status: "STARTING" | "IN_PROGRESS" | "COMPLETE" | "FAILED";
}

/** Other exports of the account (other pipelines, people): they hold slots until `refusals` calls were refused. */
interface Occupant {
  readonly sourceArn: string;
  remaining: number;
}

export const ACCOUNT_EXPORT_LIMIT = 5;
const IDENTIFIER = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{0,59}$/;

export const DEFAULT_TABLES: readonly FakeTable[] = [
  { target: "shop.public.orders", rows: 3 },
  { target: "shop.public.customers", rows: 2 },
];

export class RdsExportFake {
  readonly tasks = new Map<string, FakeTask>();
  /** What each StartExportTask attempt answered, in order: "started", or the refusal's code. */
  readonly attempts: string[] = [];
  private readonly occupants: Occupant[] = [];
  private nextOutcome: ExportOutcome = {};

  /** `s3` writes the export's files as `exportRole` (the StartExportTask IamRoleArn) would, judged as it. */
  constructor(
    private readonly s3: S3Client,
    private readonly exportRole?: Caller,
  ) {}

  /** The outcome of the next task started (then the default again). */
  outcome(outcome: ExportOutcome): this {
    this.nextOutcome = outcome;
    return this;
  }

  /** `count` other export tasks run in the account; they end after `refusals` refused StartExportTask calls. */
  occupy(count: number, refusals: number, sourceArn = "arn:aws:rds:us-east-1:111111111111:snapshot:other"): this {
    for (let i = 0; i < count; i++) this.occupants.push({ sourceArn: `${sourceArn}-${i}`, remaining: refusals });
    return this;
  }

  /** Another task exports `sourceArn` until `refusals` calls for it were refused. */
  exporting(sourceArn: string, refusals: number): this {
    this.occupants.push({ sourceArn, remaining: refusals });
    return this;
  }

  install(resolver: TaskResolver): TaskResolver {
    const start = resolver.resolve("arn:aws:states:::aws-sdk:rds:startExportTask");
    const describe = resolver.resolve("arn:aws:states:::aws-sdk:rds:describeExportTasks");
    return resolver
      .on("arn:*:states:::aws-sdk:rds:startExportTask", (call) => this.start(call, start))
      .on("arn:*:states:::aws-sdk:rds:describeExportTasks", (call) => this.describe(call, describe));
  }

  private refuse(code: string, message: string, modeled: boolean): never {
    this.attempts.push(code);
    for (const o of this.occupants) o.remaining--;
    this.occupants.splice(0, this.occupants.length, ...this.occupants.filter((o) => o.remaining > 0));
    const name = modeled ? `Rds.${code.replace(/Fault$/, "")}Exception` : "Rds.RdsException";
    throw new StatesError(
      name,
      `${message} (Service: Rds, Status Code: 400, Error Code: ${code}, Request ID: fake-rds-export)`,
    );
  }

  private async start(call: TaskCall, moto: TaskHandler): Promise<Json | undefined> {
    const p = (call.parameters ?? {}) as Record<string, unknown>;
    const id = String(p.ExportTaskIdentifier ?? "");
    const sourceArn = String(p.SourceArn ?? "");
    if (!IDENTIFIER.test(id) || id.endsWith("-"))
      this.refuse("InvalidParameterValue", `The export task identifier ${JSON.stringify(id)} is not valid`, false);
    if (typeof p.KmsKeyId !== "string" || p.KmsKeyId === "")
      this.refuse("InvalidParameterCombination", "KmsKeyId is required to export a snapshot", false);
    if (typeof p.IamRoleArn !== "string" || p.IamRoleArn === "")
      this.refuse("IamRoleNotFoundFault", "The IAM role is missing for exporting to an Amazon S3 bucket", true);
    if (typeof p.S3Prefix === "string" && p.S3Prefix.includes(":"))
      this.refuse("InvalidParameterValue", `S3Prefix ${JSON.stringify(p.S3Prefix)} must not contain ':'`, false);
    if (!this.tasks.has(id)) {
      const active = [...this.tasks.values()].filter((t) => t.status === "STARTING" || t.status === "IN_PROGRESS");
      const sources = [...active.map((t) => t.sourceArn), ...this.occupants.map((o) => o.sourceArn)];
      if (sources.includes(sourceArn))
        this.refuse(
          "InvalidExportSourceStateFault",
          `The snapshot ${sourceArn} is already being exported by another task`,
          true,
        );
      if (sources.length >= ACCOUNT_EXPORT_LIMIT)
        this.refuse(
          "ExportTaskLimitReachedFault",
          `You can't start more than ${ACCOUNT_EXPORT_LIMIT} export tasks at once in this account`,
          false,
        );
    }
    const out = await moto(call);
    this.attempts.push("started");
    this.tasks.set(id, {
      id,
      sourceArn,
      bucket: String(p.S3BucketName),
      s3Prefix: String(p.S3Prefix ?? ""),
      iamRoleArn: String(p.IamRoleArn),
      kmsKeyId: String(p.KmsKeyId),
      outcome: this.nextOutcome,
      answered: 0,
      status: "STARTING",
    });
    this.nextOutcome = {};
    return { ...(out as Record<string, Json>), Status: "STARTING" };
  }

  private async describe(call: TaskCall, moto: TaskHandler): Promise<Json | undefined> {
    const out = (await moto(call)) as { ExportTasks?: Record<string, Json>[] };
    const tasks = await Promise.all(
      (out.ExportTasks ?? []).map(async (t) => {
        const task = this.tasks.get(String(t.ExportTaskIdentifier));
        if (!task) return t;
        await this.advance(task);
        return {
          ...t,
          Status: task.status,
          ...(task.status === "FAILED" && task.outcome.failureCause ? { FailureCause: task.outcome.failureCause } : {}),
        };
      }),
    );
    return { ...out, ExportTasks: tasks } as Json;
  }

  private async advance(task: FakeTask): Promise<void> {
    if (task.status === "COMPLETE" || task.status === "FAILED") return;
    task.answered++;
    if (task.answered <= (task.outcome.polls ?? 1)) {
      task.status = "IN_PROGRESS";
      return;
    }
    if (task.outcome.status === "FAILED") {
      task.status = "FAILED";
      return;
    }
    await runAs(this.exportRole, () => this.writeExport(task));
    task.status = "COMPLETE";
  }

  private async writeExport(task: FakeTask): Promise<void> {
    await writeRdsExport(this.s3, { ...task, tables: task.outcome.tables ?? DEFAULT_TABLES });
  }
}

/** What an export task writes: where, and of which tables. */
export interface RdsExportFiles {
  readonly id: string;
  readonly sourceArn: string;
  readonly bucket: string;
  /** StartExportTask's S3Prefix (without a trailing `/`): the files go under `<s3Prefix>/<id>/`. */
  readonly s3Prefix: string;
  readonly iamRoleArn: string;
  readonly kmsKeyId: string;
  readonly tables: readonly FakeTable[];
}

/**
 * Writes the files RDS writes at the end of an export task, under `<s3Prefix>/<id>/`: a Parquet file per
 * exported table, export_tables_info (status, size, partitions and column types per table: no row counts,
 * none in AWS's either) and export_info last.
 */
export async function writeRdsExport(s3: S3Client, task: RdsExportFiles): Promise<void> {
  const base = `${task.s3Prefix}/${task.id}/`;
  const tables = task.tables;
  const put = (key: string, body: string | Uint8Array) =>
    s3.send(new PutObjectCommand({ Bucket: task.bucket, Key: `${base}${key}`, Body: body }));
  const now = new Date().toISOString();
  for (const table of tables) {
    if ((table.status ?? "COMPLETE") !== "COMPLETE") continue;
    const ids = Array.from({ length: table.rows }, (_, i) => BigInt(i + 1));
    const names = ids.map((i) => `row ${i} of ${table.target}`);
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", data: ids, type: "INT64" },
        { name: "name", data: names, type: "STRING" },
      ],
    });
    const parts = table.target.split(".");
    const dir = parts.length >= 3 ? `${parts[0]}/${parts.slice(1).join(".")}` : `${parts[0]}/${table.target}`;
    const bytes = table.damaged ? new TextEncoder().encode("PAR1 this is no Parquet file") : new Uint8Array(buffer);
    await put(`${dir}/1/part-00000-${task.id}.gz.parquet`, bytes);
  }
  const perTableStatus = tables.map((t) => ({
    TableStatistics: {
      extractionStartTime: now,
      extractionEndTime: now,
      partitioningInfo: {
        numberOfPartitions: 1,
        numberOfCompletedPartitions: (t.status ?? "COMPLETE") === "COMPLETE" ? 1 : 0,
      },
    },
    schemaMetadata: {
      originalTypeMappings: [
        { columnName: "id", originalType: "bigint", expectedExportedType: "int64" },
        { columnName: "name", originalType: "text", expectedExportedType: "binary (UTF8)" },
      ],
    },
    status: t.status ?? "COMPLETE",
    sizeGB: t.rows > 0 && (t.status ?? "COMPLETE") === "COMPLETE" ? 0.001 : 0,
    target: t.target,
    ...(t.warningMessage ? { warningMessage: t.warningMessage } : {}),
  }));
  await put(`export_tables_info_${task.id}_from_1_to_${tables.length}.json`, JSON.stringify({ perTableStatus }));
  await put(
    `export_info_${task.id}.json`,
    JSON.stringify({
      exportTaskIdentifier: task.id,
      sourceArn: task.sourceArn,
      exportOnly: [],
      taskStartTime: now,
      taskEndTime: now,
      s3Bucket: task.bucket,
      s3Prefix: task.s3Prefix,
      exportedFilesPath: `${task.s3Prefix}/${task.id}`,
      iamRoleArn: task.iamRoleArn,
      kmsKeyId: task.kmsKeyId,
      status: "COMPLETE",
      percentProgress: 100,
      totalExportedDataInGB: 0.001,
    }),
  );
}
