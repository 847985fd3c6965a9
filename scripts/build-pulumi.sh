#!/usr/bin/env bash
# Provides the Pulumi toolchain the project runs on, in the git-ignored .tools/pulumi/bin/:
#   pulumi                    CLI v3.248.0, built from the wrapper module tools/pulumi/cli (Go module proxy)
#   pulumi-language-nodejs    Node language host v3.248.0, built from its source archive
#   pulumi-language-yaml      YAML language host of pulumi-yaml v1.25.0 (Go module proxy), loading schemas
#                             through the engine (tools/pulumi/language-yaml/main.go says why); it runs
#                             examples/lab-yaml
#   pulumi-resource-command   the @pulumi/command 1.2.1 provider, built from its source archives into
#                             .tools/pulumi/plugins/ and installed into the engine's plugin cache
#                             ($PULUMI_HOME, default .state/pulumi-home, the one scripts/pulumi-lab.sh uses)
# No prebuilt Pulumi binary can be downloaded on these machines. Each binary is skipped when the
# machine already has it: the CLI when another `pulumi` is on PATH, the language host when one sits
# on PATH or beside that CLI, the command provider when `pulumi plugin ls` lists command 1.2.1 or a
# pulumi-resource-command is on PATH. The two plugins are built from the archives in
# $REDIS_HA_VENDOR_DIR (default ../shared/vendor), verified against tools/pulumi/vendor.sha256
# first; without the archives they are installed the ordinary way (`pulumi plugin install`, which
# needs the internet). tools/pulumi/README.md says exactly what is built from what.
#
# Usage: scripts/build-pulumi.sh [--force] [--rebuild]
#   (none)     build what is missing, unless .tools/pulumi/bin is up to date for the current inputs
#              (then it returns in well under a second)
#   --force    build all three even if the machine has them
#   --rebuild  build even if up to date (implies --force)
# Then: export PATH="$PWD/.tools/pulumi/bin:$PATH"
#
# Go's module and build caches stay where Go keeps them (GOMODCACHE, GOCACHE), so a rebuild after
# `rm -rf .tools` only recompiles what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools_dir=$root/.tools/pulumi
bin_dir=$tools_dir/bin
vendor_dir=${REDIS_HA_VENDOR_DIR:-$root/../shared/vendor}
PULUMI_VERSION=v3.248.0
COMMAND_VERSION=1.2.1
# The newest pulumi-yaml the proxy serves with `packages:` support; it builds against its own
# pulumi v3.206.0 (its plugin context API changed by v3.248) and talks to the v3.248 CLI over gRPC.
YAML_VERSION=v1.25.0

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
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
total_start=$(now)

# What the machine already has, other than what this script built.
ours() { [ "$(readlink -f "$1")" = "$(readlink -f "$bin_dir/$(basename "$1")" 2>/dev/null || true)" ]; }
foreign() { local found; found=$(command -v "$1" 2>/dev/null) && ! ours "$found" && echo "$found"; }
other_cli=$(foreign pulumi || true)

wanted=()
if [ "$force" -eq 1 ] || [ -z "$other_cli" ]; then
    wanted+=(pulumi)
else
    say "pulumi already on PATH: $other_cli (not built; --force builds it anyway)"
fi
if [ "$force" -eq 0 ] && [ -n "$other_cli" ] && { [ -x "$(dirname "$other_cli")/pulumi-language-nodejs" ] || foreign pulumi-language-nodejs >/dev/null; }; then
    say "pulumi-language-nodejs found beside that CLI or on PATH (not built)"
else
    wanted+=(pulumi-language-nodejs)
fi
if [ "$force" -eq 0 ] && [ -n "$other_cli" ] && { [ -x "$(dirname "$other_cli")/pulumi-language-yaml" ] || foreign pulumi-language-yaml >/dev/null; }; then
    say "pulumi-language-yaml found beside that CLI or on PATH (not built)"
else
    wanted+=(pulumi-language-yaml)
fi
if [ "$force" -eq 0 ] && { foreign pulumi-resource-command >/dev/null || { [ -n "$other_cli" ] && "$other_cli" plugin ls 2>/dev/null | grep -Eq "^command +resource +$COMMAND_VERSION "; }; }; then
    say "the command provider $COMMAND_VERSION is already installed (not built)"
else
    wanted+=(pulumi-resource-command)
fi
[ ${#wanted[@]} -gt 0 ] || exit 0

# The official Go install lives outside the default PATH of non-login shells (CI's, cron's).
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
fi

have_archives() {
    [ -d "$vendor_dir" ] || return 1
    local name
    for name in $(awk '{ print $2 }' "$root/tools/pulumi/vendor.sha256"); do [ -f "$vendor_dir/$name" ] || return 1; done
}

# What a binary depends on: this script, its Go inputs, the toolchain. The archives enter through
# their pinned checksums (verified before any build), so a changed archive cannot be built silently.
inputs_hash() {
    {
        echo "$1"
        sha256sum "$root/scripts/build-pulumi.sh"
        case "$1" in
            pulumi) sha256sum "$root/tools/pulumi/cli/go.mod" "$root/tools/pulumi/cli/go.sum" ;;
            pulumi-language-nodejs) sha256sum "$root/tools/pulumi/language-nodejs/go.mod" "$root/tools/pulumi/language-nodejs/go.sum" "$root/tools/pulumi/vendor.sha256" ;;
            pulumi-language-yaml) sha256sum "$root/tools/pulumi/language-yaml/go.mod" "$root/tools/pulumi/language-yaml/go.sum" "$root/tools/pulumi/language-yaml/main.go" ;;
            pulumi-resource-command) sha256sum "$root/tools/pulumi/vendor.sha256" ;;
        esac
        go env GOVERSION GOOS GOARCH
    } | sed "s|$root/||" | sha256sum | cut -d' ' -f1
}
stamp_of() { echo "$tools_dir/$1.stamp"; }
# The CLI and the language host go on PATH; the provider into the plugin cache (below), not on PATH.
plugin_dir=$tools_dir/plugins
dest_of() { if [ "$1" = pulumi-resource-command ]; then echo "$plugin_dir/$1"; else echo "$bin_dir/$1"; fi; }
up_to_date() { [ -x "$(dest_of "$1")" ] && [ "$(cat "$(stamp_of "$1")" 2>/dev/null)" = "$2" ]; }

mkdir -p "$bin_dir" "$plugin_dir"
# One build at a time; a second run waits, then finds the first one's result up to date.
exec 9>"$tools_dir/.lock"
if ! flock -n 9; then
    say "another build is running; waiting for it"
    flock -w 3600 9
fi

tmp_dir=$(mktemp -d "$tools_dir/.build.XXXXXX")
trap 'chmod -R u+w "$tmp_dir" 2>/dev/null; rm -rf "$tmp_dir"' EXIT

# Module mode only from go.mod/go.sum as given (no silent edits, no go.work from elsewhere);
# static binaries like the upstream releases; the toolchain as installed.
go_build() { # dir version_var version output package
    (cd "$1" && GOFLAGS=-mod=readonly GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $2=$3" -o "$4" "$5")
}

extract_verified() { # archive... -> into $tmp_dir/src
    mkdir -p "$tmp_dir/src"
    local name expected
    for name in "$@"; do
        expected=$(awk -v n="$name" '$2 == n { print $1 }' "$root/tools/pulumi/vendor.sha256")
        if [ "$(sha256sum "$vendor_dir/$name" | cut -d' ' -f1)" != "$expected" ]; then
            say "$vendor_dir/$name does not match its checksum in tools/pulumi/vendor.sha256: refusing to build from it" >&2
            exit 1
        fi
        tar -xzf "$vendor_dir/$name" -C "$tmp_dir/src"
    done
}

build() { # name -> $tmp_dir/name
    local out=$tmp_dir/$1 src=$tmp_dir/src
    case "$1" in
        pulumi)
            go_build "$root/tools/pulumi/cli" github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "$PULUMI_VERSION" "$out" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi ;;
        pulumi-language-yaml)
            go_build "$root/tools/pulumi/language-yaml" github.com/pulumi/pulumi-yaml/pkg/version.Version "$YAML_VERSION" "$out" . ;;
        pulumi-language-nodejs)
            extract_verified "pulumi-language-nodejs-${PULUMI_VERSION#v}.tar.gz"
            local dir=$src/pulumi-${PULUMI_VERSION#v}/sdk/nodejs/cmd/pulumi-language-nodejs
            cp "$root/tools/pulumi/language-nodejs/go.mod" "$root/tools/pulumi/language-nodejs/go.sum" "$dir/"
            go_build "$dir" github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "$PULUMI_VERSION" "$out" . ;;
        pulumi-resource-command)
            extract_verified "pulumi-command-$COMMAND_VERSION-provider.tar.gz" pulumi-go-provider-1.3.0.tar.gz
            local dir=$src/pulumi-command-$COMMAND_VERSION/provider
            # The provider requires pulumi-go-provider v1.3.0, which the proxy refuses: the same
            # version from its archive. Its go.sum already lists that module's dependencies.
            (cd "$dir" && go mod edit -replace "github.com/pulumi/pulumi-go-provider=$src/pulumi-go-provider-1.3.0")
            go_build "$dir" github.com/pulumi/pulumi-command/provider/pkg/version.Version "$COMMAND_VERSION" "$out" ./cmd/pulumi-resource-command ;;
    esac
}

# Without the archives, a machine with internet access installs the plugins from Pulumi's own releases.
install_ordinary_way() { # name
    local cli=${other_cli:-$bin_dir/pulumi}
    # Into the plugin cache that scripts/pulumi-lab.sh runs the engine with.
    export PULUMI_HOME=${PULUMI_HOME:-$root/.state/pulumi-home}
    case "$1" in
        pulumi-language-nodejs) "$cli" plugin install language nodejs "${PULUMI_VERSION#v}" ;;
        pulumi-resource-command) "$cli" plugin install resource command "$COMMAND_VERSION" ;;
    esac
}

for name in "${wanted[@]}"; do
    if [ "$name" != pulumi ] && [ "$name" != pulumi-language-yaml ] && ! have_archives; then
        say "$name: no source archives in $vendor_dir (set REDIS_HA_VENDOR_DIR); installing it with 'pulumi plugin install'"
        install_ordinary_way "$name"
        continue
    fi
    if ! command -v go >/dev/null 2>&1; then
        say "go not found on PATH: a Go toolchain (>= the go line of tools/pulumi/cli/go.mod) is needed to build $name" >&2
        exit 1
    fi
    hash=$(inputs_hash "$name")
    if [ "$rebuild" -eq 0 ] && up_to_date "$name" "$hash"; then
        say "$name up to date"
        continue
    fi
    start=$(now)
    say "$name: building with $(go env GOVERSION) ..."
    rm -f "$(stamp_of "$name")"
    build "$name"
    mv -f "$tmp_dir/$name" "$(dest_of "$name")"
    echo "$hash" >"$(stamp_of "$name")"
    say "$name built in $(elapsed "$start")"
done

# Pulumi's own releases ship the dynamic-provider host (the lab platform's resources) beside the CLI,
# where the engine takes it as bundled; it is a small script of the @pulumi/pulumi npm package.
if [ -x "$bin_dir/pulumi" ] && [ -f "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" ] &&
    ! cmp -s "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$bin_dir/pulumi-resource-pulumi-nodejs"; then
    install -m 755 "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$bin_dir/pulumi-resource-pulumi-nodejs"
fi

# The command provider goes into the engine's plugin cache, as `pulumi plugin install` would put a
# downloaded one (a plugin found on PATH instead makes every run warn). The cache is the one
# scripts/pulumi-lab.sh uses unless PULUMI_HOME says otherwise.
if [ -x "$plugin_dir/pulumi-resource-command" ]; then
    engine_home=${PULUMI_HOME:-$root/.state/pulumi-home}
    installed=$engine_home/plugins/resource-command-v$COMMAND_VERSION/pulumi-resource-command
    if ! cmp -s "$installed" "$plugin_dir/pulumi-resource-command"; then
        cli=${other_cli:-$bin_dir/pulumi}
        mkdir -p "$engine_home"
        PULUMI_HOME=$engine_home "$cli" plugin install resource command "$COMMAND_VERSION" --file "$plugin_dir/pulumi-resource-command" >/dev/null
        say "pulumi-resource-command $COMMAND_VERSION installed into $engine_home/plugins"
    fi
fi
say "done in $(elapsed "$total_start"); use: export PATH=\"$bin_dir:\$PATH\""
