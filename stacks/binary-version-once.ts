/**
 * cdktf checks the Terraform binary (`terraform version`, a process of its own) in every stack that moves a
 * resource (every network and pipeline stack: stacks/moved.ts) or holds a `terraform_data` resource: 200
 * processes for 100 account-regions, 8.2 s of the 20 s that synthesis took (profile in bench/synth-scale.ts).
 * The binary cannot change during one synthesis, so each check (binary, command, constraint, hint) runs once per
 * process and its result, failure included, is reused.
 *
 * The validation class is not in cdktf's public exports: a deep import, as stacks/moved.ts does, of cdktf pinned
 * at 0.21.0 (ADR 0001). __tests__/stacks/binary-version-once.test.ts pins what it relies on.
 */
import { ValidateBinaryVersion } from "cdktf/lib/validations/validate-binary-version";

const results = new Map<string, string[]>();
let installed = false;

/** Makes every `ValidateBinaryVersion` of this process run its command once per distinct check. Idempotent. */
export function validateBinaryVersionsOnce(): void {
  if (installed) return;
  installed = true;
  const validate = ValidateBinaryVersion.prototype.validate;
  ValidateBinaryVersion.prototype.validate = function (this: ValidateBinaryVersion): string[] {
    const own = this as unknown as Record<"binary" | "versionConstraint" | "versionCommand" | "hint", unknown>;
    const key = JSON.stringify([own.binary, own.versionCommand, own.versionConstraint, own.hint ?? null]);
    let errors = results.get(key);
    if (!errors) {
      errors = validate.call(this);
      results.set(key, errors);
    }
    return [...errors];
  };
}
