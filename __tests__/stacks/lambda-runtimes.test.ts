import { LAMBDA_RUNTIME, LAMBDA_RUNTIME_DEADLINES, runtimeDeadlineWarning } from "../../stacks/lambda-runtimes";

const at = (iso: string) => new Date(`${iso}T12:00:00Z`);

describe("runtimeDeadlineWarning", () => {
  it("says nothing more than 90 days before the creation block", () => {
    expect(runtimeDeadlineWarning("nodejs22.x", at("2027-03-02"))).toBeUndefined();
    expect(runtimeDeadlineWarning("nodejs22.x", at("2026-12-02"))).toBeUndefined();
  });

  it("names both dates and the days left from 90 days before the creation block", () => {
    expect(runtimeDeadlineWarning("nodejs22.x", at("2027-03-03"))).toBe(
      "warning: Lambda runtime nodejs22.x: from 2027-06-01 (in 90 days) Lambda refuses to create functions on it (new pipeline stacks fail to apply), and from 2027-07-01 to update them; move to a newer runtime (ADR 0002: @cdktf/provider-aws 21.x, AWS provider 6.x, accepts nodejs24.x)",
    );
  });

  it("says creation is refused once the block passed, and updates too after the update block", () => {
    expect(runtimeDeadlineWarning("nodejs22.x", at("2027-06-01"))).toMatch(
      /^warning: Lambda runtime nodejs22\.x: since 2027-06-01 Lambda refuses to create functions/,
    );
    expect(runtimeDeadlineWarning("nodejs20.x", at("2026-12-02"))).toBe(
      "warning: Lambda runtime nodejs20.x: since 2026-09-30 Lambda refuses to create or update functions on it; move to a newer runtime (ADR 0002: @cdktf/provider-aws 21.x, AWS provider 6.x, accepts nodejs24.x)",
    );
  });

  it("refuses a runtime whose dates are not written down", () => {
    expect(() => runtimeDeadlineWarning("nodejs26.x", at("2026-12-02"))).toThrow(
      "Lambda runtime nodejs26.x has no row in LAMBDA_RUNTIME_DEADLINES (stacks/lambda-runtimes.ts)",
    );
  });

  it("the runtime in use has its dates, as AWS publishes them", () => {
    expect(LAMBDA_RUNTIME).toBe("nodejs22.x");
    expect(LAMBDA_RUNTIME_DEADLINES[LAMBDA_RUNTIME]).toEqual({
      deprecation: "2027-04-30",
      createBlock: "2027-06-01",
      updateBlock: "2027-07-01",
    });
  });
});
