#!/usr/bin/env bash
# npm run test:node: the suites that exercise our code on the Pulumi SDK (unit, component and program
# under Pulumi's mocks) again on every maintained Node in tools/node-versions (npm run setup installs
# them into .tools/node). The lab, engine and VM tests exercise the machine's daemons rather than Node
# and run once, on the machine's Node; the lab example runs on the engine on the newest of these
# (tests/examples), so a program on a maintained Node is proven end to end. The script suites below
# run rendered bash against real redis-server, redis-sentinel and shellcheck: what they prove does
# not depend on Node (their renderers run under every Node in renderers.test.ts and the program
# suites), so they run once too, in `jest`, which saves most of this step's time.
set -euo pipefail
cd "$(dirname "$0")/.."
script_suites=(rolloutScript checkScript handoffScript switchoverScript bootGuard hostCredentials shellcheck)
script_suites=("${script_suites[@]/#//tests/unit/}")
script_suites=("${script_suites[@]/%/.test.ts}")
for suite in "${script_suites[@]}"; do [ -f ".${suite}" ] || { echo "test:node: ${suite} is gone; update the list in $0" >&2; exit 1; }; done
while read -r version; do
    [ -n "$version" ] || continue
    bin="$PWD/.tools/node/$version/bin"
    [ -x "$bin/node" ] || { echo "test:node: Node $version is not in $bin; npm run setup installs it" >&2; exit 1; }
    echo "test:node: the unit, component and program suites on Node $version"
    PATH="$bin:$PATH" npx jest tests/unit tests/component tests/program --testPathIgnorePatterns /node_modules/ /tests/vm/ "${script_suites[@]}"
done < tools/node-versions
