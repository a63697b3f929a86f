/**
 * The native-dump branch of the RDS and Aurora children (stacks/workflows/rds-export.ts): restore
 * the snapshot to a temporary instance or cluster, run the worker's dump as a Batch job, delete
 * everything. Not in this version: the branch answers UNSUPPORTED with the reason, so the recovery
 * point is kept and the ledger says why.
 *
 * Contract with rds-export.ts (what a full implementation must keep):
 * - Entry: the state named `DUMP_ENTRY`. The state's input is the child's state:
 *     { recoveryPointArn, archive: { bucket, prefix, url }, exportTaskIdentifier,
 *       source: { kind: "instance" | "cluster",   // DescribeDBSnapshots or DescribeDBClusterSnapshots
 *                 snapshot: <DBSnapshots[0] or DBClusterSnapshots[0] as RDS answered> },
 *       parquet?: <the Parquet export's result, with format "both"> }
 * - Exit, success or "cannot": `$.dump` is set and the branch goes to `props.next`:
 *     { outcome: "EXPORTED", archiveUrl, manifestKey }  — the dump and its manifest.json are in the archive;
 *     { outcome: "UNSUPPORTED", reason }                — nothing was written, nothing is left behind.
 * - Exit, failure: `$.error` = { Error, Cause } and the branch goes to `props.failed` after it deleted
 *   what it created (instance or cluster, parameter): the child then fails with that error.
 * - State names all start with `Dump`, so they cannot collide with the Parquet path's.
 */
import type { State } from "./asl";

export const DUMP_ENTRY = "DumpDatabase";

export interface RdsDumpProps {
  /** The state that reads `$.dump` (the child's answer). */
  readonly next: string;
  /** The state that fails the child with `$.error` (cleanup done). */
  readonly failed: string;
}

export const DUMP_NOT_IN_VERSION =
  "the native dump path (restore to a temporary instance, dump on Batch) is not in this version yet";

export function rdsDumpStates(props: RdsDumpProps): Record<string, State> {
  return {
    [DUMP_ENTRY]: {
      Type: "Pass",
      Comment: "Placeholder: no dump path yet (see the contract in rds-dump.ts)",
      Parameters: {
        outcome: "UNSUPPORTED",
        "reason.$": `States.Format('{} {} snapshot {}: ${DUMP_NOT_IN_VERSION}', $.source.snapshot.Engine, $.source.snapshot.EngineVersion, $.recoveryPointArn)`,
      },
      ResultPath: "$.dump",
      Next: props.next,
    },
  };
}
