/** Test helpers for AWS Backup events: fixtures and a classification config. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../../config/load";
import type { Config } from "../../config/schema";

export const FIXTURES = path.join(__dirname, "..", "fixtures", "events");

export function fixturePath(name: string): string {
  return path.join(FIXTURES, name);
}

/** A parsed fixture; each call returns a fresh copy the test may change. */
export function loadEvent(name: string): any {
  return JSON.parse(readFileSync(fixturePath(name), "utf8"));
}

/** Account 111111111111 in us-east-1 and us-west-2, vaults Default and archive, every type on. */
export function eventsConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    accounts: [{ id: "111111111111", regions: ["us-east-1", "us-west-2"] }],
    backupVaults: ["Default", "archive"],
    tags: { project: "backup-actions" },
    stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1" },
    ...overrides,
  });
}
