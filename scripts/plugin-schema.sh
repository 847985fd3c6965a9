#!/usr/bin/env bash
# npm run plugin:schema: the Pulumi schema of the component package in plugin/ (the RedisHa
# component), as `pulumi package get-schema` infers it from the compiled declarations; written to
# plugin/schema.json, which tests/examples pins. Builds dist/ first; offline, with this checkout's
# toolchain (scripts/build-pulumi.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run -s build:package
bash scripts/build-pulumi.sh >/dev/null
export PATH="$PWD/.tools/pulumi/bin:$PATH" PULUMI_HOME="$PWD/.state/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
schema=$(pulumi package get-schema ./plugin)
# The engine runs npm install in a plugin directory; nothing is installed there, but a lock file is left.
rm -f plugin/package-lock.json
printf '%s\n' "$schema" > plugin/schema.json
echo "plugin/schema.json: $(grep -c '' plugin/schema.json) lines"
