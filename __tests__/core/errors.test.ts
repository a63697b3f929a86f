import { BackupActionsError, CommandError } from "../../core/errors";

describe("CommandError: the one error for a system tool that failed", () => {
  it("names the command, how it ended and the end of its stderr", () => {
    const err = new CommandError("tar -c .", 2, null, "tar: x: Cannot open\n");
    expect(err).toBeInstanceOf(BackupActionsError);
    expect(err.name).toBe("CommandError");
    expect(err.message).toBe("tar -c . failed (exit 2): tar: x: Cannot open");
  });

  it("says the signal when the tool was killed, and falls back to stdout, then to '(no output)'", () => {
    expect(new CommandError("zstd", null, "SIGKILL", "").message).toBe("zstd failed (signal SIGKILL): (no output)");
    expect(new CommandError("sfdisk --json /dev/loop0", 1, null, "  ", "no partition table\n").message).toBe(
      "sfdisk --json /dev/loop0 failed (exit 1): no partition table",
    );
  });

  it("keeps only the last 2000 characters of a long stderr", () => {
    const err = new CommandError("lvs", 5, null, `${"a".repeat(3000)}END`);
    expect(err.message.endsWith("END")).toBe(true);
    expect(err.message.length).toBe("lvs failed (exit 5): ".length + 2000);
  });
});
