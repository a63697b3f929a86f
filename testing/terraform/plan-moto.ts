/**
 * `npm run plan:moto -- [APPLIED_CONFIG] [PLANNED_CONFIG]`: the plan review of a pull request, on this machine.
 * Starts a moto server of its own, applies APPLIED_CONFIG's stacks to it (default config/default.json), then plans
 * PLANNED_CONFIG against that state (default: APPLIED_CONFIG again, which shows only moto's drift) and prints the
 * comment `backup-actions plan-summary` would post, with each stack's plan as Terraform prints it
 * (`<work>/<stack>/plan.txt`) and as JSON (`<work>/plans/<stack>/plan.json`).
 *
 * A config of one account and region. The worker image is taken as built (worker.imageUri is set: there is no
 * Docker engine to build it), and what moto cannot do is adjusted as in the terraform test tier (moto-deploy.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { freePort } from "../free-port";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { formatPlanSummary, readPlans } from "../../cli/commands/plan-summary";
import { findPythonWithMoto, startLauncher, stopServerProcess } from "../moto/process-control";
import { terraformEnv } from "./moto-apply";
import { forMoto, placeStack, planJson, type StackKind, stacksOf, synthesizeConfig, terraformOk } from "./moto-deploy";

const USAGE = "usage: npm run plan:moto -- [APPLIED_CONFIG] [PLANNED_CONFIG]";
const KINDS: readonly StackKind[] = ["bootstrap", "network", "pipeline"];

function readConfig(file: string): Record<string, any> {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

const say = (line: string) => process.stderr.write(`plan:moto: ${line}\n`);

async function main(args: string[]): Promise<number> {
  if (args.length > 2 || args.some((a) => a.startsWith("-"))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const appliedFile = path.resolve(args[0] ?? "config/default.json");
  const plannedFile = path.resolve(args[1] ?? appliedFile);
  const applied = forMoto(readConfig(appliedFile));
  const planned = forMoto(readConfig(plannedFile));
  const python = findPythonWithMoto();
  if ("missing" in python) throw new Error(python.missing);

  const work = mkdtempSync(path.join(tmpdir(), "plan-moto-"));
  const env = terraformEnv(work);
  say(`synthesizing ${path.relative(process.cwd(), appliedFile)} and ${path.relative(process.cwd(), plannedFile)}`);
  const [appliedSynth, plannedSynth] = await Promise.all([
    synthesizeConfig(applied, path.join(work, "synth-applied")),
    synthesizeConfig(planned, path.join(work, "synth-planned")),
  ]);
  const names = stacksOf(appliedSynth);
  const plannedNames = stacksOf(plannedSynth);
  for (const kind of KINDS)
    if (names[kind] !== plannedNames[kind])
      throw new Error(`the configs deploy other stacks (${names[kind]} / ${plannedNames[kind]}): one plan needs one`);
  const kinds = KINDS.filter((k) => names[k] !== undefined);
  const dirs = Object.fromEntries(kinds.map((k) => [k, path.join(work, names[k]!)])) as Record<StackKind, string>;
  const networkState = path.join(dirs.network, "terraform.tfstate");
  const place = (synthDir: string, motoUrl: string) => {
    for (const kind of kinds)
      placeStack(kind, synthDir, names[kind]!, dirs[kind], motoUrl, kind === "pipeline" ? networkState : undefined);
  };

  const port = await freePort();
  const moto = await startLauncher(python.python, port);
  const motoUrl = `http://127.0.0.1:${port}`;
  try {
    say(`moto on ${motoUrl}; applying ${kinds.map((k) => names[k]).join(", ")} in ${work}`);
    place(appliedSynth, motoUrl);
    const apply = async (kind: StackKind) => {
      await terraformOk(dirs[kind], ["init", "-input=false"], env);
      await terraformOk(dirs[kind], ["apply", "-input=false", "-auto-approve"], env);
      say(`applied ${names[kind]}`);
    };
    await Promise.all([
      ...(names.bootstrap ? [apply("bootstrap")] : []),
      apply("network").then(() => apply("pipeline")),
    ]);
    say(`planning ${path.relative(process.cwd(), plannedFile)} against it`);
    place(plannedSynth, motoUrl);
    const plans = path.join(work, "plans");
    await Promise.all(
      kinds.map(async (kind) => {
        const { json } = await planJson(dirs[kind], "review", env);
        const text = await terraformOk(dirs[kind], ["show", "review.tfplan"], env);
        writeFileSync(path.join(dirs[kind], "plan.txt"), text.stdout);
        mkdirSync(path.join(plans, names[kind]!), { recursive: true });
        writeFileSync(path.join(plans, names[kind]!, "plan.json"), JSON.stringify(json));
      }),
    );
    process.stdout.write(formatPlanSummary(readPlans(plans)));
    say(`plans as Terraform prints them: ${kinds.map((k) => path.join(dirs[k], "plan.txt")).join(" ")}`);
    return 0;
  } finally {
    await stopServerProcess(moto);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`plan:moto: ${e.message}\n`);
    process.exit(1);
  },
);
