/**
 * The one entry point: validate a definition with asl-validator, then run it to the end either in this
 * process (`mode: "local"`, our interpreter, Task states through a TaskResolver) or in moto
 * (`mode: "moto"`, moto's own interpreter and backends).
 */
import { LocalOptions, runLocal } from "./local";
import { MotoOptions, runInMoto } from "./moto";
import { AslDefinition, ExecutionResult, Json } from "./types";

// asl-validator ships no type declarations; this is the part of its API we use.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- asl-validator ships no type declarations
const aslValidator = require("asl-validator") as (definition: unknown) => {
  isValid: boolean;
  errors: { "Error code": string; Message: string }[];
  errorsText(separator?: string): string;
};

export type ExecuteOptions = ({ readonly mode?: "local" } & LocalOptions) | ({ readonly mode: "moto" } & MotoOptions);

export class InvalidDefinitionError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid state machine definition:\n  - ${problems.join("\n  - ")}`);
    this.name = "InvalidDefinitionError";
  }
}

// asl-validator builds a new Ajv instance on every call (about a second here); tests run one definition
// through many scenarios, so each distinct definition is validated once per test file.
const validated = new Set<string>();

/** Throws InvalidDefinitionError listing every problem asl-validator and our own checks find. */
export function validateDefinition(definition: AslDefinition): void {
  const key = JSON.stringify(definition);
  if (validated.has(key)) return;
  // asl-validator writes QueryLanguage into the object it checks: give it a copy.
  const result = aslValidator(JSON.parse(key));
  const problems = result.isValid ? [] : result.errors.map((e) => `${e["Error code"]}: ${e.Message}`);
  if (JSON.stringify(definition).includes('"QueryLanguage":"JSONata"')) {
    problems.push("JSONata states are not supported by this helper (JSONPath only, see docs/adr/0003)");
  }
  if (problems.length > 0) throw new InvalidDefinitionError(problems);
  validated.add(key);
}

export async function executeStateMachine(
  definition: AslDefinition,
  input: Json = {},
  options: ExecuteOptions = {},
): Promise<ExecutionResult> {
  validateDefinition(definition);
  if (options.mode === "moto") return runInMoto(definition, input, options);
  return runLocal(definition, input, options);
}
