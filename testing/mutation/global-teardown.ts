/**
 * jest globalTeardown for mutation runs: nothing to stop between mutants; moto and the Backup fake end with
 * the process (testing/mutation/global-setup.ts).
 */
export default async function globalTeardown(): Promise<void> {}
