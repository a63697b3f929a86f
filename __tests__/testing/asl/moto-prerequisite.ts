/**
 * Tests that talk to moto rely only on the SDK's standard variables (the jest globalSetup of the moto
 * launcher exports them). Outside CI a missing AWS_ENDPOINT_URL skips those tests with a message naming it;
 * under CI=true it is a failing test.
 */
import { NO_SERVERS_ENV } from "../../../testing/moto/bench-env";
import { describeWithPrereqs } from "../../../testing/prereq";

export const motoEndpoint = process.env.AWS_ENDPOINT_URL;

export function describeWithMoto(name: string, body: () => void): void {
  const noServers = process.env[NO_SERVERS_ENV];
  const why = noServers
    ? `moto server (${noServers})`
    : "AWS_ENDPOINT_URL is not set: these tests need a moto server " +
      "(start it through the moto launcher's jest globalSetup)";
  describeWithPrereqs(name, motoEndpoint ? [] : [why], body);
}
