/**
 * Integration tests that need things from the machine (root, loop devices, servers) declare them here.
 * Outside CI a missing prerequisite skips the block with a message naming it; under CI=true it is a failure,
 * because a CI run that silently skipped the integration tier would prove nothing.
 */
export function describeWithPrereqs(name: string, missing: readonly string[], fn: () => void): void {
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const list = missing.join("; ");
  if (process.env.CI === "true") {
    describe(name, () => {
      it("has its prerequisites", () => {
        throw new Error(`missing prerequisites under CI=true: ${list}`);
      });
    });
    return;
  }
  console.warn(`Skipping "${name}": missing prerequisites: ${list}`);
  describe.skip(name, fn);
}
