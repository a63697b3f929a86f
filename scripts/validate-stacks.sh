#!/usr/bin/env bash
# `terraform init` + `terraform validate` of every stack that the default config and
# each example config (config/examples/*.json) synthesize. Works on a copy of each
# stack: S3-backend stacks get a local-backend override file, Terraform Cloud stacks
# are initialised with -backend=false, so no credentials or remote state are needed.
# Configs are synthesized, and stacks validated, VALIDATE_JOBS at a time (default: the
# number of CPUs); the report is printed in order once all are done.
# Usage: scripts/validate-stacks.sh [config.json ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/terraform-env.sh"
cd "$ROOT"

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(config/default.json config/examples/*.json)
jobs_max="${VALIDATE_JOBS:-$(nproc)}"

# Runs "$@" in the background once fewer than $jobs_max jobs run.
limited() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  "$@" &
}

synthesize() { # config -> $WORK/validate/<name>; writes synth.status (0, or why not)
  local config="$1" out="$WORK/validate/$(basename "$1" .json)"
  mkdir -p "$out"
  local status=0
  BACKUP_ACTIONS_CONFIG="$config" CDKTF_OUTDIR="$out" npx tsx main.ts >"$out/synth.log" 2>"$out/synth.err" || status=$?
  # A valid config synthesizes silently: a warning on stderr fails too (__tests__/main.test.ts relies on it).
  [ "$status" != 0 ] || [ ! -s "$out/synth.err" ] || status="exit 0, but wrote to stderr"
  echo "$status" >"$out/synth.status"
}

validate() { # stack directory; writes result (one line) and, on failure, the log below it
  local dir="$1" name stack
  name="$(basename "$(dirname "$(dirname "$dir")")")"
  stack="$(basename "$dir")"
  # The workspaces stack (Terraform Cloud configs) needs only the tfe provider, which the offline
  # provider mirror of this bench does not hold (it holds the aws provider): terraform init cannot
  # install it here. Its synthesized JSON is asserted by __tests__/stacks/workspaces-stack.test.ts.
  if grep -q '"tfe": {' "$dir/cdk.tf.json" && ! grep -q '"aws": {' "$dir/cdk.tf.json"; then
    echo "- $name/$stack: not validated: the tfe provider is not in the offline provider mirror" >"$dir/result"
    return
  fi
  local init_args=(-input=false -no-color)
  if grep -q '"cloud"' "$dir/cdk.tf.json"; then
    init_args+=(-backend=false)
  else
    echo '{"terraform":{"backend":{"local":{"path":"terraform.tfstate"}}}}' >"$dir/zz_validate_override.tf.json"
  fi
  local lock=()
  [ -z "${TF_PLUGIN_CACHE_LOCK:-}" ] || lock=(flock "$TF_PLUGIN_CACHE_LOCK")
  if ! (cd "$dir" && "${lock[@]}" terraform init "${init_args[@]}" >"$dir/init.log" 2>&1); then
    { echo "✗ $name/$stack: terraform init failed"; cat "$dir/init.log"; } >"$dir/result"
    return
  fi
  local result
  if result="$(cd "$dir" && terraform validate -no-color 2>&1)"; then
    echo "✓ $name/$stack" >"$dir/result"
  else
    { echo "✗ $name/$stack: terraform validate failed"; echo "$result"; } >"$dir/result"
  fi
}

rm -rf "$WORK/validate"
for config in "${configs[@]}"; do limited synthesize "$config"; done
wait

status=0
stacks=()
for config in "${configs[@]}"; do
  out="$WORK/validate/$(basename "$config" .json)"
  if [ "$(cat "$out/synth.status")" != 0 ]; then
    echo "✗ $config: synthesis failed ($(cat "$out/synth.status"))"
    cat "$out/synth.log" "$out/synth.err"
    status=1
    continue
  fi
  for dir in "$out"/stacks/*/; do stacks+=("${dir%/}"); done
done
if [ ${#stacks[@]} -gt 0 ]; then
  for dir in "${stacks[@]}"; do limited validate "$dir"; done
  wait
fi

for config in "${configs[@]}"; do
  out="$WORK/validate/$(basename "$config" .json)"
  [ "$(cat "$out/synth.status")" = 0 ] || continue
  echo "── $config"
  for dir in "$out"/stacks/*/; do
    cat "$dir/result"
    grep -q '^[✓-]' "$dir/result" || status=1
  done
done
[ $status -eq 0 ] && echo "terraform validate: every stack is valid" || echo "terraform validate: FAILED"
exit $status
