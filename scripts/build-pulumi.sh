#!/usr/bin/env bash
# Builds the Pulumi CLI and the Node.js language host from pinned Go modules into .tools/pulumi/bin/
# (git-ignored). No prebuilt Pulumi binary can be downloaded here, so they are compiled from the
# wrapper modules in tools/pulumi/*/ (go.mod + go.sum pin every dependency; see
# tools/pulumi/README.md for the versions and why).
#
# Usage: scripts/build-pulumi.sh [--force] [--rebuild]
#   (none)     nothing to do if a pulumi CLI other than ours is on PATH; otherwise build, unless
#              .tools/pulumi/bin is already up to date for the current inputs (then it returns at once)
#   --force    build even if another pulumi CLI is on PATH
#   --rebuild  build even if up to date (implies --force)
# Then: export PATH="$PWD/.tools/pulumi/bin:$PATH"
#
# Go's module and build caches stay where Go keeps them (GOMODCACHE, GOCACHE), so a rebuild after
# `rm -rf .tools` only recompiles what changed. A cold build takes several minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools_dir=$root/.tools/pulumi
bin_dir=$tools_dir/bin
stamp=$tools_dir/build.stamp

# One line per binary: output name | wrapper module (its go.mod has a `tool` line for the package) |
# main package | module whose version goes into the binary | the variable that holds it.
TOOLS=(
    "pulumi|tools/pulumi/cli|github.com/pulumi/pulumi/pkg/v3/cmd/pulumi|github.com/pulumi/pulumi/pkg/v3|github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
    "pulumi-language-nodejs|tools/pulumi/language-nodejs|github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs|github.com/pulumi/pulumi/sdk/v3|github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
)
# pulumi-resource-command (the @pulumi/command provider) is not in TOOLS: its module,
# github.com/pulumi/pulumi-command/provider, has no version tags and the module proxy reachable here
# refuses its pseudo-versions. tools/pulumi/README.md says what would be needed to add it.

force=0
rebuild=0
for arg in "$@"; do
    case "$arg" in
        --force) force=1 ;;
        --rebuild) force=1; rebuild=1 ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
        *) echo "build-pulumi: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "build-pulumi: $*"; }
names() { local entry; for entry in "${TOOLS[@]}"; do printf '%s ' "${entry%%|*}"; done; }

# A pulumi CLI already on PATH (and not the one this script builds) wins.
if [ "$force" -eq 0 ] && found=$(command -v pulumi 2>/dev/null); then
    if [ "$(readlink -f "$found")" != "$(readlink -f "$bin_dir/pulumi" 2>/dev/null || true)" ]; then
        say "pulumi already on PATH: $found (nothing built; --force builds .tools/pulumi/bin anyway)"
        exit 0
    fi
fi

# The official Go install lives outside the default PATH of non-login shells (CI's, cron's).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
    say "go not found on PATH: a Go toolchain (>= the go line of tools/pulumi/cli/go.mod) is needed" >&2
    exit 1
fi

# What the binaries depend on: this script, every wrapper module's go.mod/go.sum, and the toolchain.
inputs_hash() {
    {
        sha256sum "$root/scripts/build-pulumi.sh"
        local entry dir
        for entry in "${TOOLS[@]}"; do
            IFS='|' read -r _ dir _ _ _ <<<"$entry"
            sha256sum "$root/$dir/go.mod" "$root/$dir/go.sum"
        done
        go env GOVERSION GOOS GOARCH
    } | sed "s|$root/||" | sha256sum | cut -d' ' -f1
}

up_to_date() {
    [ -f "$stamp" ] || return 1
    [ "$(cat "$stamp")" = "$1" ] || return 1
    local entry name
    for entry in "${TOOLS[@]}"; do
        IFS='|' read -r name _ _ _ _ <<<"$entry"
        [ -x "$bin_dir/$name" ] || return 1
    done
}

hash=$(inputs_hash)
if [ "$rebuild" -eq 0 ] && up_to_date "$hash"; then
    say "up to date: $bin_dir ($(names))"
    exit 0
fi

# One build at a time; a second run waits, then finds the first one's result up to date.
mkdir -p "$bin_dir"
exec 9>"$tools_dir/.lock"
if ! flock -n 9; then
    say "another build is running; waiting for it"
    flock -w 3600 9
fi
hash=$(inputs_hash)
if [ "$rebuild" -eq 0 ] && up_to_date "$hash"; then
    say "up to date: $bin_dir (built by the other run)"
    exit 0
fi

tmp_dir=$(mktemp -d "$tools_dir/.build.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
rm -f "$stamp"

# Module mode only from go.mod/go.sum as committed (no silent edits, no go.work from elsewhere);
# static binaries like the upstream releases; the toolchain as installed.
export GOFLAGS=-mod=readonly GOWORK=off CGO_ENABLED=0

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

say "building into $bin_dir with $(go env GOVERSION) (module cache $(go env GOMODCACHE), build cache $(go env GOCACHE))"
total_start=$(now)
for entry in "${TOOLS[@]}"; do
    IFS='|' read -r name dir package version_module version_var <<<"$entry"
    start=$(now)
    version=$(cd "$root/$dir" && go list -m -f '{{.Version}}' "$version_module")
    say "$name $version ($package) ..."
    (
        cd "$root/$dir"
        go build -trimpath -ldflags "-s -w -X $version_var=$version" -o "$tmp_dir/$name" "$package"
    )
    mv -f "$tmp_dir/$name" "$bin_dir/$name"
    say "$name built in $(elapsed "$start")"
done
echo "$hash" >"$stamp"
say "done in $(elapsed "$total_start"): $(names)"
say "not built: pulumi-resource-command (not obtainable from the module proxy; see tools/pulumi/README.md)"
say "use: export PATH=\"$bin_dir:\$PATH\""
