/**
 * Jest globalSetup of the unit tier (jest.config.js): the IAM recording and the emulators' credentials and
 * region, and no server. Tests that need one are told why there is none (testing/moto/availability.ts).
 */
import { startBench } from "./global-setup";

export default async function unitGlobalSetup(): Promise<void> {
  await startBench({ servers: false });
}
