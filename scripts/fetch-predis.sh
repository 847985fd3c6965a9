#!/usr/bin/env bash
# Predis 2.x for the lab's failover drills. Debian 12 ships only Predis 1.1 (php-nrk-predis), and
# Composer's registry is out of reach here, so the tagged release comes from the Go module proxy
# (which serves any tagged GitHub repository as a zip), checked against a pinned SHA-256.
# Installs into .tools/predis/<version>/ (git-ignored); a second run returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.4.1
sha256=a262a7872cd065a2dee120256ab9d8e0012b6b8504fffe0b3ce03d4810e5cae7
target=.tools/predis/$version
if [ -f "$target/autoload.php" ]; then
    echo "setup: Predis $version present"
    exit 0
fi
proxy=${GOPROXY:-https://proxy.golang.org}
proxy=${proxy%%,*}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
curl -fsSL --retry 3 -o "$scratch/predis.zip" "$proxy/github.com/predis/predis/@v/v$version+incompatible.zip"
echo "$sha256  $scratch/predis.zip" | sha256sum -c --quiet
unzip -q "$scratch/predis.zip" -d "$scratch/x"
mkdir -p "$(dirname "$target")"
rm -rf "$target"
mv "$scratch/x/github.com/predis/predis@v$version+incompatible" "$target"
echo "setup: Predis $version installed in $target"
