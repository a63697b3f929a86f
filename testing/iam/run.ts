/**
 * The IAM proof over a whole jest run: global setup names a fresh recording file (every test file's
 * recorder appends to it, testing/iam/recorder.ts), global teardown judges every recorded request
 * against the deployment it was made in and fails the run, naming each request AWS would deny.
 * Each request is judged on its own, so a partial run (one test file) is judged as soundly as a
 * full one; what a full run must exercise is pinned by __tests__/iam/proof.test.ts instead.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { assertAllAllowed, evaluate } from "./evaluate";
import { buildModel } from "./model";
import { RECORDING_ENV, type RecordedRequest } from "./recorder";

const PREFIX = "backup-actions-iam-";

/** Called by jest's global setup: a new recording file for this run (older runs' files are removed after a day). */
export function startRunRecording(env: NodeJS.ProcessEnv = process.env): string {
  const dir = os.tmpdir();
  for (const name of readdirSync(dir).filter((n) => n.startsWith(PREFIX))) {
    const p = path.join(dir, name);
    try {
      if (Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
    } catch {
      // another run's file vanished meanwhile
    }
  }
  const file = path.join(dir, `${PREFIX}${process.pid}-${Date.now()}.jsonl`);
  writeFileSync(file, "");
  env[RECORDING_ENV] = file;
  return file;
}

/** Called by jest's global teardown: judges the run's recording; throws naming every denied request. */
export async function judgeRunRecording(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ requests: number; file?: string }> {
  const file = env[RECORDING_ENV];
  if (!file || !existsSync(file)) return { requests: 0 };
  const records = readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordedRequest);
  if (records.length === 0) return { requests: 0, file };
  const deployments = path.join(path.dirname(file), `${path.basename(file, ".jsonl")}.deployments`);
  const byDeployment = new Map<string, RecordedRequest[]>();
  for (const r of records) byDeployment.set(r.deployment, [...(byDeployment.get(r.deployment) ?? []), r]);
  const verdicts = [];
  for (const [key, list] of byDeployment) {
    const d = JSON.parse(readFileSync(path.join(deployments, `${key}.json`), "utf8")) as {
      tf: unknown;
      account: string;
      region: string;
    };
    verdicts.push(...(await evaluate(buildModel(d.tf, d.account, d.region), list)));
  }
  assertAllAllowed(verdicts);
  return { requests: records.length, file };
}
