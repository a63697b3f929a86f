/**
 * Integration tests that talk to the local AWS emulator (moto) find it through the
 * SDK's standard AWS_ENDPOINT_URL. Outside CI a missing endpoint skips the suite with a
 * message naming it; under CI=true it fails, so nothing is skipped silently there.
 */
export const ENDPOINT_ENV = "AWS_ENDPOINT_URL";

export function awsEndpoint(): string | undefined {
  const url = process.env[ENDPOINT_ENV];
  return url && url.trim() !== "" ? url : undefined;
}

/** `describe` when the emulator is configured; otherwise a failing test (CI) or a skip with a message. */
export function describeWithEmulator(name: string, body: () => void): void {
  if (awsEndpoint()) {
    describe(name, body);
    return;
  }
  const message = `${name}: needs ${ENDPOINT_ENV} (a moto server, e.g. moto_server -p 5066 and AWS_ENDPOINT_URL=http://127.0.0.1:5066)`;
  if (process.env.CI === "true") {
    describe(name, () => {
      it("has its prerequisite", () => {
        throw new Error(`${message}; under CI=true this is a failure, not a skip`);
      });
    });
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED ${message}`);
  describe.skip(name, body);
}
