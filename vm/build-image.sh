#!/usr/bin/env bash
# Builds the VM test's Debian 12 image and the apt repository the guests install Redis from.
#   build-image.sh OUT_DIR
# Writes OUT_DIR/{vmlinuz,initrd.img,base.img,repo/}. Run as root. Called by vm/image.ts, which
# caches the result by a hash of this file and the Debian package versions; see docs/vm.md.
#
# The image is close to a cloud's stock Debian 12 (genericcloud): cloud-init, sshd, sudo, no Redis.
# What a cloud adds around its stock image lives in /etc/cloud/cloud.cfg.d/90-redis-ha-vm.cfg and
# /etc/apt/sources.list (the "regional mirror" at 10.0.2.100), never in the user-data under test.
set -euo pipefail
out=${1:?usage: build-image.sh OUT_DIR}
mirror=${REDIS_HA_VM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${REDIS_HA_VM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Packages of the stock-like image (debootstrap minbase + these). Not redis-*: cloud-init installs them.
include=linux-image-cloud-amd64,systemd-sysv,udev,dbus,locales,python3-cffi-backend,cloud-init,openssh-server,sudo,iproute2,netbase,procps,ca-certificates
# What the guests' mirror serves: the user-data's packages and what they pull that the image lacks.
repo_packages=(redis-server redis-sentinel redis-tools prometheus-redis-exporter)

mkdir -p "$out"
work=$(mktemp -d "$out/build.XXXXXX")
rootfs=$work/rootfs
cleanup() {
    mountpoint -q "$rootfs/proc" && umount "$rootfs/proc"
    rm -rf "$work"
}
trap cleanup EXIT
log() { echo "build-image: $*" >&2; }

log "debootstrap bookworm (minbase + ${include//,/ })"
debootstrap --variant=minbase --include="$include" bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    exit 1
}

# The guest repository: download (as the guest would install) the closure the image lacks,
# from the same suites a cloud mirror serves (bookworm, -updates, -security).
cat >"$rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security_mirror bookworm-security main
EOF
# Snapshot mirrors carry old Release files; the host accepts them, so does this one-off download.
cat >"$rootfs/etc/apt/apt.conf.d/99redis-ha-build" <<'EOF'
Acquire::Check-Valid-Until "false";
EOF
mount -t proc proc "$rootfs/proc"
log "downloading ${repo_packages[*]} and their dependencies for the guests' mirror"
# debootstrap leaves its own .debs in the cache: only what the install below fetches goes to the mirror.
chroot "$rootfs" apt-get clean
chroot "$rootfs" apt-get update -qq
chroot "$rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only "${repo_packages[@]}" >/dev/null
mkdir -p "$work/repo"
mv "$rootfs"/var/cache/apt/archives/*.deb "$work/repo/"
(cd "$work/repo" && apt-ftparchive packages . >Packages && gzip -9kn Packages && apt-ftparchive release . >Release)
log "repository: $(ls "$work/repo"/*.deb | wc -l) packages, $(du -sh "$work/repo" | cut -f1)"
umount "$rootfs/proc"

# Back to a stock-like state: no package lists, no caches, the mirror a cloud would configure.
rm -f "$rootfs/etc/apt/apt.conf.d/99redis-ha-build"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
echo "deb [trusted=yes] http://10.0.2.100/ ./" >"$rootfs/etc/apt/sources.list"

mkdir -p "$rootfs/etc/cloud/cloud.cfg.d"
cat >"$rootfs/etc/cloud/cloud.cfg.d/90-redis-ha-vm.cfg" <<'EOF'
# redis-ha VM test: what the cloud's image carries around the user-data (see docs/vm.md).
datasource_list: [NoCloud, None]
# sources.list already names the mirror (the host, through QEMU's guestfwd); keep it.
apt:
  preserve_sources_list: true
# As Debian's cloud images: the host name resolves (sudo asks) without DNS.
manage_etc_hosts: true
system_info:
  network:
    renderers: [networkd]
EOF

# No time sync, apt timers or anything else that would call out (the guests have no route anyway).
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer \
    systemd-timesyncd.service man-db.timer dpkg-db-backup.timer getty@tty1.service serial-getty@ttyS0.service; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
done
chroot "$rootfs" systemctl enable systemd-networkd.service >/dev/null 2>&1
# The default locale cloud-init sets (en_US.UTF-8) exists, as on a cloud's image; else cc_locale fails.
sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' "$rootfs/etc/locale.gen"
chroot "$rootfs" locale-gen >/dev/null
echo "LANG=en_US.UTF-8" >"$rootfs/etc/default/locale"

echo "/dev/vda / ext4 defaults,errors=remount-ro 0 1" >"$rootfs/etc/fstab"
# Per-guest identity comes from the first boot, as on a cloud.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id" "$rootfs"/etc/ssh/ssh_host_* "$rootfs/etc/hostname"
rm -rf "$rootfs"/var/cache/apt/archives/partial/* "$rootfs"/var/log/*.log "$rootfs/var/lib/cloud"

cp -L "$rootfs/vmlinuz" "$work/vmlinuz"
cp -L "$rootfs/initrd.img" "$work/initrd.img"
log "mkfs.ext4 -d (no loop mount)"
mkfs.ext4 -q -F -L root -d "$rootfs" "$work/base.img" 1536M
umask 022
for f in vmlinuz initrd.img base.img; do mv "$work/$f" "$out/$f"; done
rm -rf "$out/repo" && mv "$work/repo" "$out/repo"
log "done: $out"
