/** Run only by __tests__/testing/prereq.test.ts (via --testMatch), to observe describeWithPrereqs from outside. */
import { describeWithPrereqs } from "../../../testing/prereq";

describeWithPrereqs("needs a tool", ["imaginary-tool (Debian package nothing)"], () => {
  it("would run", () => {
    expect(true).toBe(true);
  });
});
