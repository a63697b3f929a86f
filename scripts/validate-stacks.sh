#!/usr/bin/env bash
# Synthesizes every stack from the config (BACKUP_ACTIONS_CONFIG, default
# config/default.json), then `terraform init` + `terraform validate` on a copy of
# each one with a local-backend override, so no credentials or remote state are needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/terraform-env.sh"
cd "$ROOT"

OUT="$WORK/validate/cdktf.out"
rm -rf "$WORK/validate"
mkdir -p "$WORK/validate"
echo "synth → $OUT"
CDKTF_OUTDIR="$OUT" npx tsx main.ts

status=0
for dir in "$OUT"/stacks/*/; do
  stack="$(basename "$dir")"
  # An override file replaces the backend block without editing the synthesized JSON.
  echo '{"terraform":{"backend":{"local":{"path":"terraform.tfstate"}}}}' > "$dir/zz_validate_override.tf.json"
  if ! (cd "$dir" && terraform init -input=false -no-color >"$dir/init.log" 2>&1); then
    echo "✗ $stack: terraform init failed"; cat "$dir/init.log"; status=1; continue
  fi
  if (cd "$dir" && terraform validate -no-color); then
    echo "✓ $stack"
  else
    echo "✗ $stack: terraform validate failed"; status=1
  fi
done
exit $status
