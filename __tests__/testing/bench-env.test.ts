/**
 * MOTO_PORT is read once, by jest's global setup: a value the bench cannot use is refused there, naming why.
 */
import { FETCH_BLOCKED_PORTS, motoPortFromEnv } from "../../testing/moto/bench-env";

/** The reason Node's fetch gives for not reaching 127.0.0.1:<port> ("bad port", or the connection's error). */
async function fetchFailure(port: number): Promise<string> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    return "answered";
  } catch (error) {
    return String((error as { cause?: { message?: string } }).cause?.message ?? error);
  }
}

describe("motoPortFromEnv", () => {
  it("defaults to 5055 and reads MOTO_PORT", () => {
    expect(motoPortFromEnv({})).toBe(5055);
    expect(motoPortFromEnv({ MOTO_PORT: "5161" })).toBe(5161);
  });

  it("refuses what is not a TCP port", () => {
    expect(() => motoPortFromEnv({ MOTO_PORT: "http" })).toThrow('MOTO_PORT must be a TCP port number, got "http"');
    expect(() => motoPortFromEnv({ MOTO_PORT: "70000" })).toThrow('MOTO_PORT must be a TCP port number, got "70000"');
  });

  it("refuses a port that fetch will not reach, naming why", () => {
    expect(() => motoPortFromEnv({ MOTO_PORT: "5061" })).toThrow(
      /^MOTO_PORT 5061 is a port Node's fetch refuses to reach \("bad port" in the Fetch standard's port blocking list\)/,
    );
  });

  it("lists exactly the ports this Node's fetch refuses", async () => {
    const refused = [];
    for (const port of FETCH_BLOCKED_PORTS) if ((await fetchFailure(port)) === "bad port") refused.push(port);
    expect(refused).toEqual([...FETCH_BLOCKED_PORTS]);
    // Its neighbours are ordinary ports: fetch tries to connect (and finds nothing, or something, listening).
    for (const port of [5059, 5062, 10081]) expect(await fetchFailure(port)).not.toBe("bad port");
  });
});
