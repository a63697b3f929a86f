/**
 * describeWithPrereqs: a describe block that needs things this machine may
 * not have (moto, root, loop devices...). `missing` names what is absent.
 * - nothing missing: an ordinary describe;
 * - missing under CI=true: a failing test naming each prerequisite (CI must
 *   never pass by skipping);
 * - missing elsewhere: skipped, with a console message naming them.
 */
export function describeWithPrereqs(name: string, missing: string[], fn: () => void): void {
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const list = missing.join("; ");
  if (process.env.CI === "true") {
    describe(name, () => {
      test("prerequisites are present (CI=true)", () => {
        throw new Error(`missing prerequisite(s) for "${name}": ${list}`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": missing prerequisite(s): ${list}`);
  describe.skip(name, fn);
}
