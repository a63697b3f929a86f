#!/usr/bin/env bash
# `terraform init` + `terraform validate` of every stack that the default config and
# each example config (config/examples/*.json) synthesize. Works on a copy of each
# stack: S3-backend stacks get a local-backend override file, Terraform Cloud stacks
# are initialised with -backend=false, so no credentials or remote state are needed.
# Usage: scripts/validate-stacks.sh [config.json ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/terraform-env.sh"
cd "$ROOT"

configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(config/default.json config/examples/*.json)

rm -rf "$WORK/validate"
status=0
for config in "${configs[@]}"; do
  name="$(basename "$config" .json)"
  out="$WORK/validate/$name"
  mkdir -p "$out"
  echo "── $config"
  BACKUP_ACTIONS_CONFIG="$config" CDKTF_OUTDIR="$out" npx tsx main.ts
  for dir in "$out"/stacks/*/; do
    stack="$(basename "$dir")"
    init_args=(-input=false -no-color)
    if grep -q '"cloud"' "$dir/cdk.tf.json"; then
      init_args+=(-backend=false)
    else
      echo '{"terraform":{"backend":{"local":{"path":"terraform.tfstate"}}}}' > "$dir/zz_validate_override.tf.json"
    fi
    if ! (cd "$dir" && terraform init "${init_args[@]}" >"$dir/init.log" 2>&1); then
      echo "✗ $name/$stack: terraform init failed"; cat "$dir/init.log"; status=1; continue
    fi
    if result="$(cd "$dir" && terraform validate -no-color 2>&1)"; then
      echo "✓ $name/$stack"
    else
      echo "✗ $name/$stack: terraform validate failed"; echo "$result"; status=1
    fi
  done
done
[ $status -eq 0 ] && echo "terraform validate: every stack is valid" || echo "terraform validate: FAILED"
exit $status
