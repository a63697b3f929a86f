/**
 * Integration tests that talk to the local AWS emulator (moto) find it through the
 * SDK's standard AWS_ENDPOINT_URL. Outside CI a missing endpoint skips the suite with a
 * message naming it; under CI=true it fails, so nothing is skipped silently there.
 */
import { NO_SERVERS_ENV } from "../../testing/moto/bench-env";
import { describeWithPrereqs } from "../../testing/prereq";

export const ENDPOINT_ENV = "AWS_ENDPOINT_URL";

export function awsEndpoint(): string | undefined {
  const url = process.env[ENDPOINT_ENV];
  return url && url.trim() !== "" ? url : undefined;
}

/** `describe` when the emulator is configured; otherwise a failing test (CI) or a skip with a message. */
export function describeWithEmulator(name: string, body: () => void): void {
  const noServers = process.env[NO_SERVERS_ENV];
  const missing = awsEndpoint()
    ? []
    : [
        noServers
          ? `moto server (${noServers})`
          : `${ENDPOINT_ENV} (a moto server, e.g. moto_server -p 5066 and AWS_ENDPOINT_URL=http://127.0.0.1:5066)`,
      ];
  describeWithPrereqs(name, missing, body);
}
