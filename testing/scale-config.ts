/**
 * The configs of the synthesis-at-scale bench (bench/synth-scale.ts) and of the size-limit test
 * (__tests__/stacks/size-limits.test.ts): `n` account-regions, accounts of up to ten regions each.
 */
import { COMMERCIAL_REGIONS } from "./regions";

/** Regions per account: the first ten of COMMERCIAL_REGIONS. */
export const SCALE_REGIONS_PER_ACCOUNT = 10;

/** A config with `n` account-regions: accounts of up to ten regions each. */
export function scaleConfig(n: number): Record<string, unknown> {
  const regions = COMMERCIAL_REGIONS.slice(0, SCALE_REGIONS_PER_ACCOUNT);
  const accounts: { id: string; regions: string[] }[] = [];
  for (let i = 0; i < n; i += regions.length)
    accounts.push({ id: String(100000000000 + accounts.length + 1), regions: regions.slice(0, Math.min(10, n - i)) });
  return {
    name: "backup-actions",
    accounts,
    backupVaults: ["Default"],
    tags: { project: "backup-actions" },
    stateBackend: { type: "s3", bucket: "bench-state-bucket", region: "us-east-1", keyPrefix: "ba" },
    worker: { imageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/backup-actions-worker:1.0.0" },
  };
}
