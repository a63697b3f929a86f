# Sourced by the scripts that run terraform, and by `npm run synth` (cdktf runs `terraform version`):
# a CLI config of the project's own, and no version check, so an offline run prints no error.
# When a filesystem mirror of the providers exists (TF_PROVIDER_MIRROR, default: the
# image's /opt/tf-plugins) terraform installs from it and never asks the registry;
# otherwise it uses the registry as usual. Installs from the (unpacked) mirror are symlinks;
# from the registry a shared plugin cache keeps repeated `terraform init` runs from
# downloading the 600 MB AWS provider again. The cache is not safe for concurrent inits:
# callers serialize them with flock on $TF_PLUGIN_CACHE_LOCK when it is set.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${BACKUP_ACTIONS_WORK:-$ROOT/.work}"
MIRROR="${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
mkdir -p "$WORK/plugin-cache"
export TF_CLI_CONFIG_FILE="$WORK/terraformrc"
if [ -d "$MIRROR" ]; then
  unset TF_PLUGIN_CACHE_LOCK
  cat > "$TF_CLI_CONFIG_FILE" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/*/*"]
  }
}
RC
else
  export TF_PLUGIN_CACHE_LOCK="$WORK/plugin-cache.lock"
  cat > "$TF_CLI_CONFIG_FILE" <<RC
plugin_cache_dir = "$WORK/plugin-cache"
RC
fi
export TF_IN_AUTOMATION=1
export TF_INPUT=0
export CHECKPOINT_DISABLE=1
