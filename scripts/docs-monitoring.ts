/**
 * `npm run docs:monitoring`: rewrites the README's "Dashboard and alarms" lists (between
 * <!-- monitoring:begin --> and <!-- monitoring:end -->) from the first pipeline stack of
 * config/default.json. An argument names another README file.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/load";
import { composeStacks } from "../stacks/app";
import { monitoringReadmeBlock, replaceMonitoringBlock } from "../stacks/monitoring-doc";

const root = path.join(__dirname, "..");
const stacks = composeStacks(Testing.app(), loadConfig(DEFAULT_CONFIG_PATH));
const readmePath = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, "README.md");
const before = readFileSync(readmePath, "utf8");
const after = replaceMonitoringBlock(before, monitoringReadmeBlock(stacks.pipelines[0]!.monitored));
if (after !== before) writeFileSync(readmePath, after);
process.stdout.write(
  `${path.basename(readmePath)} monitoring block ${after === before ? "already up to date" : "rewritten"}\n`,
);
