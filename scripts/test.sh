#!/usr/bin/env bash
# `npm test`: the type-check and lint, then each test tier on its own (jest.config.js), one after another, and a
# table of each one's wall time. Every tier runs even when an earlier one failed; the exit status is
# non-zero if any did. The last line counts the tests of every tier: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .work
steps=(typecheck lint test:unit test:moto test:disk test:terraform)
declare -A seconds status
failed=0
for step in "${steps[@]}"; do
  echo "── npm run $step"
  [[ $step == test:* ]] && rm -f ".work/jest-${step#test:}.json"
  start=$(date +%s%N)
  npm run -s "$step"
  status[$step]=$?
  seconds[$step]=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "${status[$step]}" -eq 0 ] || failed=1
done
echo "── wall time per tier"
for step in "${steps[@]}"; do
  printf '%-16s %6d.%01d s  %s\n' "$step" $((seconds[$step] / 1000)) $(((seconds[$step] % 1000) / 100)) \
    "$([ "${status[$step]}" -eq 0 ] && echo ok || echo "FAILED (exit ${status[$step]})")"
done
# jest writes each tier's results to .work/jest-<tier>.json (package.json scripts)
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const tier of ["unit", "moto", "disk", "terraform"]) {
    const file = `.work/jest-${tier}.json`;
    if (!fs.existsSync(file)) { console.log(`${tier}: no results (${file})`); failed++; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; skipped += r.numPendingTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $failed
