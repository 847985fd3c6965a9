#!/usr/bin/env bash
# npm run lab:preview | lab:up | lab:destroy | lab:pulumi -- ARGS: the lab stack on the real Pulumi engine, offline.
# Uses the Pulumi toolchain on PATH, or builds what is missing (scripts/build-pulumi.sh); keeps the engine's state
# in the project's git-ignored .state/ with a local file backend and a passphrase secrets provider.
# LAB_STACK picks another stack (default lab); PULUMI_BACKEND_URL another backend; LAB_PROJECT_DIR
# another Pulumi project (an example program) run with this checkout's toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
action=${1:?usage: pulumi-lab.sh preview|up|destroy [pulumi args...]}
shift

export PULUMI_HOME="$PWD/.state/pulumi-home"
# The CLI, the Node language host and the command provider (remote.Command runs the checks): those
# this machine lacks are built into .tools/pulumi (well under a second when up to date), the
# provider installed into PULUMI_HOME's plugin cache.
bash scripts/build-pulumi.sh >/dev/null
if [ -d .tools/pulumi/bin ]; then export PATH="$PWD/.tools/pulumi/bin:$PATH"; fi
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.state/pulumi}"
stack="${LAB_STACK:-lab}"
# The lab's stack holds nothing worth protecting; a real stack uses its own passphrase or a KMS.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-redis-ha-lab}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
mkdir -p "${PULUMI_BACKEND_URL#file://}" "$PULUMI_HOME"
cd "${LAB_PROJECT_DIR:-$root}"

pulumi stack select "$stack" >/dev/null 2>&1 || pulumi stack init "$stack" >/dev/null
case "$action" in
    preview) exec pulumi preview --stack "$stack" --non-interactive "$@" ;;
    up) exec pulumi up --stack "$stack" --yes --non-interactive --skip-preview "$@" ;;
    destroy) exec pulumi destroy --stack "$stack" --yes --non-interactive --skip-preview "$@" ;;
    output) exec pulumi stack output --stack "$stack" --json "$@" ;;
    rm) exec pulumi stack rm "$stack" --yes --non-interactive "$@" ;;
    # Any other pulumi command on the lab stack, with the same backend and plugins: `config set ...`, `stack`.
    pulumi) exec pulumi --stack "$stack" "$@" ;;
    *) echo "usage: pulumi-lab.sh preview|up|destroy|output|rm|pulumi ARGS..." >&2; exit 64 ;;
esac
