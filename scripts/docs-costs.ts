/**
 * `npm run docs:costs`: rewrites the README's Costs block from core/prices.ts and
 * config/default.json (the block between <!-- costs:begin --> and <!-- costs:end -->).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { costsReadmeBlock, replaceCostsBlock } from "../cli/cost/readme";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../config/load";

const readmePath = path.join(__dirname, "..", "README.md");
const before = readFileSync(readmePath, "utf8");
const after = replaceCostsBlock(before, costsReadmeBlock(loadConfig(DEFAULT_CONFIG_PATH)));
if (after !== before) writeFileSync(readmePath, after);
process.stdout.write(`README.md costs block ${after === before ? "already up to date" : "rewritten"}\n`);
