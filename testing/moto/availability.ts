/**
 * For tests: is the bench's moto server running? Use with describeWithPrereqs:
 *
 *   describeWithPrereqs("archive bucket on moto", motoMissing(), () => { ... });
 */
import { MOTO_MISSING_ENV, NO_SERVERS_ENV } from "./bench-env";

/** [] when moto runs, else one entry naming the missing prerequisite and how to get it. */
export function motoMissing(env: NodeJS.ProcessEnv = process.env): string[] {
  const reason = env[MOTO_MISSING_ENV];
  if (reason) return [reason];
  if (!env.MOTO_PORT || !env.AWS_ENDPOINT_URL) {
    return ["moto server (not started: run the tests through jest.config.js, whose globalSetup starts it)"];
  }
  return [];
}

export function motoAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return motoMissing(env).length === 0;
}

/** [] when the AWS Backup fake runs (it needs only Node, so this is empty under jest.config.js). */
export function backupFakeMissing(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env[NO_SERVERS_ENV]) return [`AWS Backup fake (${env[NO_SERVERS_ENV]})`];
  return env.AWS_ENDPOINT_URL_BACKUP ? [] : ["AWS Backup fake (not started: run the tests through jest.config.js)"];
}

export function motoEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = env.AWS_ENDPOINT_URL;
  if (!endpoint) throw new Error(`moto is not running: ${motoMissing(env).join("; ")}`);
  return endpoint;
}
