#!/usr/bin/env bash
# npm run test:node: the suites that exercise our code on the Pulumi SDK (unit, component and program
# under Pulumi's mocks) again on every maintained Node in tools/node-versions (npm run setup installs
# them into .tools/node). The lab, engine and VM tests exercise the machine's daemons rather than Node
# and run once, on the machine's Node; the lab example runs on the engine on the newest of these
# (tests/examples), so a program on a maintained Node is proven end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
while read -r version; do
    [ -n "$version" ] || continue
    bin="$PWD/.tools/node/$version/bin"
    [ -x "$bin/node" ] || { echo "test:node: Node $version is not in $bin; npm run setup installs it" >&2; exit 1; }
    echo "test:node: the unit, component and program suites on Node $version"
    PATH="$bin:$PATH" npx jest tests/unit tests/component tests/program
done < tools/node-versions
