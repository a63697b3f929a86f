/**
 * Jest setupFilesAfterEnv: before each test FILE, wipe moto's state and the
 * Backup fake's, so no file sees what another created. (jest.config.js runs
 * one worker at a time because both servers are shared by the whole run.)
 */
import { motoAvailable } from "./availability";

async function post(url: string): Promise<void> {
  const response = await fetch(url, { method: "POST" });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
}

export async function resetBench(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const resets: Promise<void>[] = [];
  if (motoAvailable(env)) resets.push(post(`${env.AWS_ENDPOINT_URL}/moto-api/reset`));
  if (env.AWS_ENDPOINT_URL_BACKUP) resets.push(post(`${env.AWS_ENDPOINT_URL_BACKUP}/_fake/reset`));
  await Promise.all(resets);
}

beforeAll(() => resetBench());
