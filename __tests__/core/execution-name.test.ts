import { createHash } from "node:crypto";
import { executionName, MAX_EXECUTION_NAME_LENGTH, sanitizeNamePart, shortIdOf } from "../../core/execution-name";

const ALLOWED = /^[A-Za-z0-9_-]+$/;

describe("executionName", () => {
  it("is prefix, readable id and 32 hex of the ARN's SHA-256", () => {
    expect(executionName("arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180", "ebs")).toBe(
      "ebs-snap-0726fe70935586180-767f49bf4c6c0e793d30ada7c40fc117",
    );
  });

  it("is identical for duplicate deliveries and different for different ARNs", () => {
    const a = "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890";
    expect(executionName(a, "rds")).toBe(executionName(`${a}`, "rds"));
    expect(executionName(a, "rds")).not.toBe(executionName(a.replace("us-east-1", "us-west-2"), "rds"));
  });

  it("keeps different ARNs with the same readable id apart by the hash", () => {
    const one = executionName("arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180", "ebs");
    const two = executionName("arn:aws:ec2:eu-west-1::snapshot/snap-0726fe70935586180", "ebs");
    expect(one.slice(0, -32)).toBe(two.slice(0, -32));
    expect(one).not.toBe(two);
  });

  it("stays within 80 characters for a very long ARN", () => {
    const arn = `arn:aws:backup:us-east-1:111111111111:recovery-point:${"continuous:".repeat(20)}db-${"x".repeat(200)}`;
    const name = executionName(arn, "aurora");
    expect(name.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_LENGTH);
    expect(name.length).toBe(80);
    expect(name).toMatch(ALLOWED);
    expect(name).toMatch(/^aurora-db-x+-[0-9a-f]{32}$/);
  });

  it("replaces characters Step Functions does not allow (spaces, brackets, wildcards, unicode, control characters)", () => {
    const arn = "arn:aws:backup:us-east-1:111111111111:recovery-point:my backup [1]*?{ü}\u0001\t\"'<>#%~`";
    const name = executionName(arn, "dyn amo/db");
    expect(name).toMatch(ALLOWED);
    expect(name).toMatch(/^dyn-amo-db-my-backup-1-[0-9a-f]{32}$/);
  });

  it("drops the readable part when nothing of the id survives sanitizing", () => {
    expect(executionName("arn:aws:backup:us-east-1:111111111111:recovery-point:ðŸ’¾", "ebs")).toMatch(
      /^ebs-[0-9a-f]{32}$/,
    );
  });

  it("uses 'rp' when the prefix sanitizes to nothing, and caps a long prefix", () => {
    expect(executionName("arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180", "***")).toMatch(
      /^rp-snap-0726fe70935586180-[0-9a-f]{32}$/,
    );
    const name = executionName("arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180", "p".repeat(100));
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name.startsWith(`${"p".repeat(16)}-snap-`)).toBe(true);
  });

  it("does not leave separators where the readable id is cut", () => {
    // "rp-" + 44 characters of room + "-" + hash: the cut falls right after "-_"
    const arn = `arn:aws:backup:us-east-1:111111111111:recovery-point:${"a".repeat(42)}-_${"b".repeat(20)}`;
    const hash = createHash("sha256").update(arn).digest("hex").slice(0, 32);
    expect(executionName(arn, "")).toBe(`rp-${"a".repeat(42)}-${hash}`);
  });

  it("refuses an empty ARN", () => {
    expect(() => executionName("", "ebs")).toThrow("executionName needs a recovery point ARN");
  });
});

describe("helpers", () => {
  it("shortIdOf takes the last ARN segment", () => {
    expect(shortIdOf("arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-4ece7121")).toBe(
      "job-4ece7121",
    );
    expect(shortIdOf("arn:aws:dynamodb:us-east-1:111111111111:table/T/backup/01700000000000-abcd1234")).toBe(
      "01700000000000-abcd1234",
    );
  });

  it("sanitizeNamePart collapses and trims separators", () => {
    expect(sanitizeNamePart("--a  b::c__")).toBe("a-b-c");
    expect(sanitizeNamePart("__a--b-:-c")).toBe("a-b-c");
  });

  it("shortIdOf skips empty segments (a trailing separator)", () => {
    expect(shortIdOf("arn:aws:ec2:us-east-1::snapshot/snap-0abc/")).toBe("snap-0abc");
  });
});
