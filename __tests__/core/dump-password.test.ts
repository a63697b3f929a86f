import {
  parseDumpPasswordEnv,
  parseDumpPasswordRequest,
  PASSWORD_ALPHABET,
  randomPassword,
} from "../../core/dump-password";
import { InvalidEventError, RuntimeConfigError } from "../../core/errors";

const settings = { keyArn: "arn:aws:kms:us-east-1:111111111111:key/k", parameterPath: "/backup-actions/p/dump/" };
const ID = "dump-0123456789abcdef0123456789abcdef";

describe("the dump's master passwords", () => {
  it("draw from the printable ASCII RDS takes: no space, '/', '@' or '\"'", () => {
    expect(PASSWORD_ALPHABET).toHaveLength(94 - 3);
    for (const c of ["/", "@", '"', " "]) expect(PASSWORD_ALPHABET).not.toContain(c);
    for (const c of ["!", "~", "'", "\\", "a", "Z", "0"]) expect(PASSWORD_ALPHABET).toContain(c);
  });

  it("are 32 characters of that alphabet, different each time", () => {
    const a = randomPassword();
    expect(a).toHaveLength(32);
    expect([...a].every((c) => PASSWORD_ALPHABET.includes(c))).toBe(true);
    expect(randomPassword()).not.toBe(a);
  });

  it("skip the bytes that would bias the draw (rejection sampling)", () => {
    // 91 characters: bytes from 182 (2 × 91) up are dropped, so 181 is the last character, 182 is skipped.
    const bytes = Buffer.from([182, 255, 0, 90, 181]);
    expect(randomPassword(3, () => bytes)).toBe(
      `${PASSWORD_ALPHABET[0]}${PASSWORD_ALPHABET[90]}${PASSWORD_ALPHABET[90]}`,
    );
  });
});

describe("the password function's request", () => {
  it("takes a temporary instance or cluster and its parameter under the path", () => {
    expect(
      parseDumpPasswordRequest(
        { kind: "cluster", identifier: ID, parameterName: `${settings.parameterPath}${ID}` },
        settings,
      ),
    ).toEqual({
      kind: "cluster",
      identifier: ID,
      parameterName: `${settings.parameterPath}${ID}`,
    });
  });

  it.each([
    [
      { kind: "db", identifier: ID, parameterName: `/backup-actions/p/dump/${ID}` },
      'kind must be "instance" or "cluster" (got "db")',
    ],
    [
      { kind: "instance", identifier: "orders", parameterName: "/backup-actions/p/dump/orders" },
      'identifier "orders" is not a temporary instance (dump-…)',
    ],
    [
      { kind: "instance", identifier: "dump--x", parameterName: "/backup-actions/p/dump/dump--x" },
      'identifier: "dump--x" holds two consecutive hyphens',
    ],
    [
      { kind: "instance", identifier: ID, parameterName: "/elsewhere/x" },
      `parameterName must be "/backup-actions/p/dump/${ID}" (got "/elsewhere/x")`,
    ],
  ])("refuses %j", (event, message) => {
    expect(() => parseDumpPasswordRequest(event, settings)).toThrow(InvalidEventError);
    expect(() => parseDumpPasswordRequest(event, settings)).toThrow(`dump password request: ${message}`);
  });

  it("needs its key and path in the environment", () => {
    expect(() => parseDumpPasswordEnv({ DUMP_PASSWORD_KEY_ARN: "k" })).toThrow(RuntimeConfigError);
    expect(() => parseDumpPasswordEnv({})).toThrow(
      "the dump password function's environment is invalid: DUMP_PASSWORD_KEY_ARN, DUMP_PASSWORD_PARAMETER_PATH not set",
    );
    expect(parseDumpPasswordEnv({ DUMP_PASSWORD_KEY_ARN: "k", DUMP_PASSWORD_PARAMETER_PATH: "/p/" })).toEqual({
      keyArn: "k",
      parameterPath: "/p/",
    });
  });
});
