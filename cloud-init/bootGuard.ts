import { shellQuote } from "./shellQuote";
import { DEBIAN_PATHS } from "./paths";
import { REPLACE_FILE_FUNCTION, waitForCloudInit } from "./clusterShell";

export interface BootGuardInput {
    hostName: string;
    masterName: string;
    /** Sentinels known when the user-data is rendered ("address:port"); empty where the cloud assigns addresses. */
    sentinels: readonly string[];
    /** Root-only file holding the Sentinel password. */
    passwordFile: string;
    /** Where redis.conf and sentinel.conf are; Debian's paths unless a test says otherwise. */
    redisConfPath?: string;
    sentinelConfPath?: string;
}

export const BOOT_GUARD_PATH = "/usr/local/sbin/redis-ha-boot-guard";
export const BOOT_GUARD_PASSWORD_FILE = "/etc/redis-ha/sentinel-password";
export const BOOT_GUARD_DROPIN_PATH = "/etc/systemd/system/redis-server.service.d/redis-ha-boot-guard.conf";
/** `+`: the guard runs as root (it reads the password file and may edit redis.conf) although the unit runs as redis. */
export const BOOT_GUARD_DROPIN = ["[Service]", `ExecStartPre=+${BOOT_GUARD_PATH}`, ""].join("\n");

/**
 * Runs before every start of redis-server (reboot, crash restart): asks the other Sentinels who
 * the master is and, when a majority of those that answer name another node and that node answers
 * ROLE master, makes this node start as its replica. A node that was master before a failover then
 * never accepts writes that the new master's history would throw away. It never blocks a start:
 * with no majority (first boot, a full outage), or a named master that is not serving as one,
 * Redis starts with its configuration as it is. The ROLE check matters most at first boot, when
 * one Sentinel may be all that answers: a Sentinel with a wrong view (a VM test's replica booted
 * with a wrong master address did it) would otherwise turn the real master into a replica of an
 * address where nothing runs, and the quorum would never be healthy.
 */
export function renderBootGuard(input: BootGuardInput): string {
    const q = shellQuote;
    return `#!/bin/bash
# Boot guard of ${input.hostName}, rendered by redis-ha. Read the comment in cloud-init/bootGuard.ts.
set -u
conf=${q(input.redisConfPath ?? DEBIAN_PATHS.redisConf)}
sentinel_conf=${q(input.sentinelConfPath ?? DEBIAN_PATHS.sentinelConf)}
master_name=${q(input.masterName)}
candidates=(${input.sentinels.map(q).join(" ")})
say() { echo "redis-ha boot guard: $*"; }

own=$(awk '$1 == "bind" { gsub(/"/, "", $2); print $2; exit }' "$conf")
port=$(awk '$1 == "port" { print $2; exit }' "$conf")
password=$(cat ${q(input.passwordFile)} 2>/dev/null || true)
# An empty password file means Sentinels without auth (redis-ha:sentinelAuth false); an empty AUTH would be an error.
sentinel_cli() { if [ -n "$password" ]; then REDISCLI_AUTH="$password" "$@"; else "$@"; fi; }
# Sentinels this node's own Sentinel has met (it records them in its config).
if [ -r "$sentinel_conf" ]; then
    while read -r address sport; do candidates+=("$address:$sport"); done < <(awk -v n="$master_name" '$1 == "sentinel" && $2 == "known-sentinel" && $3 == n { print $4, $5 }' "$sentinel_conf")
fi

declare -A votes=()
answered=0
for s in $(printf '%s\\n' "\${candidates[@]}" | sort -u); do
    # This node's own Sentinel went down with it: its view is the stale one.
    [ "\${s%:*}" = "$own" ] && continue
    answer=$(sentinel_cli timeout 2 redis-cli --no-auth-warning -h "\${s%:*}" -p "\${s##*:}" --raw SENTINEL get-master-addr-by-name "$master_name" 2>/dev/null | paste -sd: -)
    [[ "$answer" =~ ^[0-9.]+:[0-9]+$ ]] || continue
    answered=$((answered + 1))
    votes[$answer]=$(( \${votes[$answer]:-0} + 1 ))
done
master=""
for candidate in "\${!votes[@]}"; do
    [ $(( votes[$candidate] * 2 )) -gt "$answered" ] && master=$candidate
done
if [ -z "$master" ]; then
    say "no majority among $answered answering Sentinels: starting as configured"
    exit 0
fi
# Rewrite in place (printf >), so the file keeps its owner and mode.
if [ "$master" = "$own:$port" ]; then
    # A stale replicaof (written before a failback) would make the master everyone names start as a replica.
    updated=$(grep -vE '^(replicaof|slaveof) ' "$conf")
    printf '%s\\n' "$updated" > "$conf"
    say "the Sentinels name this node ($master) as master: starting as master"
    exit 0
fi
# Only a node that is serving as master: what this one is about to replicate from.
# Asked with this node's own replication login (masteruser, which may run ROLE; none on a node made
# before the replication user, whose masterauth is the stack's password).
masterauth=$(awk '$1 == "masterauth" { v = $2; gsub(/"/, "", v); print v; exit }' "$conf")
masteruser=$(awk '$1 == "masteruser" { v = $2; gsub(/"/, "", v); print v; exit }' "$conf")
# Asked up to 5 times (about 20 s at most): a master just promoted may be forking for its replicas'
# sync, or this node's network still settling after its reboot, and one unanswered question would
# start a former master as a master, which is what this guard is for. A VM test on a loaded machine
# met a single 2 s try that went unanswered.
role=""
for attempt in 1 2 3 4 5; do
    role=$(REDISCLI_AUTH="$masterauth" timeout 3 redis-cli --no-auth-warning \${masteruser:+--user "$masteruser"} -h "\${master%:*}" -p "\${master##*:}" --raw ROLE 2>&1 | head -n 1)
    [ "$role" = master ] && break
    [ "$attempt" -lt 5 ] && sleep 1
done
if [ "$role" != "master" ]; then
    say "the Sentinels name $master as master, but it does not answer as one (\${role:-no answer}): starting as configured"
    exit 0
fi
updated=$(grep -vE '^(replicaof|slaveof) ' "$conf"; echo "replicaof \${master%:*} \${master##*:}")
printf '%s\\n' "$updated" > "$conf"
say "the Sentinels name $master as master: starting as its replica"
exit 0
`;
}


export interface BootGuardInstallInput {
    /** The boot guard as renderBootGuard renders it for this host. */
    script: string;
    /** Wait for cloud-init first (VMs: yes; the lab: no), so first boot's own copy is in place. Default false. */
    waitForCloudInit?: boolean;
    /** Where the guard is. Default BOOT_GUARD_PATH (tests point it elsewhere). */
    path?: string;
}

/**
 * Brings a running host's boot guard up to date, run as root over SSH before the settings rollout.
 * The guard is redis-ha's own program, not a config Redis or Sentinel rewrites, so it may be
 * replaced: a host made by an earlier redis-ha keeps the guard of that day otherwise, and the
 * rollout may change what that guard relies on (the replication user moved masterauth to a password
 * the old guard sent as default's, so its ROLE question failed and a restarting former master started
 * as one). Written beside itself and renamed over it, so a start never runs half a script. A host
 * without a guard (none was rendered for it) is left alone.
 */
export function renderBootGuardInstall(input: BootGuardInstallInput): string {
    const q = shellQuote;
    return `#!/bin/bash
set -eu
umask 077
guard=${q(input.path ?? BOOT_GUARD_PATH)}
${waitForCloudInit(input.waitForCloudInit, "600", 'echo "FAIL $unfinished: the boot guard was left as it was" >&2; exit 1')}
wanted=${q(input.script.replace(/\n$/, ""))}
${REPLACE_FILE_FUNCTION}
if [ ! -e "$guard" ]; then echo "NOGUARD this host has no boot guard to update"; exit 0; fi
replace "$guard" root 0700 "$wanted" "boot guard" || true
`;
}
