#!/usr/bin/env bash
# Everything redis-ha's tests need on a Debian 12 machine, once. Idempotent: a second run checks
# and returns in seconds. Run as root (or with sudo available) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

# redis-server/redis-sentinel/redis-tools: the lab and the check-script tests run the real daemons.
# cloud-init: `cloud-init schema` validates every rendered user-data. php-cli: `php -l` on the PHP snippets.
APT_PACKAGES=(redis-server redis-sentinel redis-tools cloud-init php-cli)

missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
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
echo "setup: done"
