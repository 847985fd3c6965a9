import { shellQuote } from "./shellQuote";
import { DEBIAN_PATHS } from "./paths";

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
masterauth=$(awk '$1 == "masterauth" { v = $2; gsub(/"/, "", v); print v; exit }' "$conf")
role=$(REDISCLI_AUTH="$masterauth" timeout 2 redis-cli --no-auth-warning -h "\${master%:*}" -p "\${master##*:}" --raw ROLE 2>&1 | head -n 1)
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

