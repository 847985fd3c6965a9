/**
 * The hardening half of the post-deploy check: facts of the host itself that must hold whatever
 * the cluster's state, each judged by what it lets happen rather than by a config line.
 *
 * - The Redis build carries the fixes for the Redis CVEs of 2025 (PATCHED_REDIS_BUILDS).
 * - Redis and Sentinel listen on the deployment's private addresses and loopback only (what `ss`
 *   sees, not what `bind` says).
 * - Redis runs with protected-mode on and no ACL users but `default` (off, with no password, unless
 *   the stack keeps it on: legacyDefaultUser), the operators', the app's, the Sentinels', the
 *   replication and the exporters', each with a password; the app user is refused what would
 *   reconfigure or stop the server, the Sentinels' user everything but failing over, and every
 *   Sentinel logs in as that user; Sentinel's protected-mode is as rendered (on whenever it has a
 *   password).
 * - Sentinel (with a password) has no ACL users but `default`, which apps ask with and which is
 *   refused whatever would change a Sentinel's view, and `admin`, as which every other Sentinel
 *   logs in to it.
 * - No file an unprivileged user can read holds a password (found by content, then confirmed by
 *   reading it as `nobody`).
 *
 * A bash function for renderCheckScript, check_hardening, run once the cluster is healthy (so every
 * process is up to be judged): it expects `host`, `conf`, `sentinel_pass`, `redis_pass`,
 * `sentinels` and `data_nodes` set, and leaves its findings in `hardening_report` and
 * `hardening_failures`. It changes nothing.
 */
import { PATCHED_REDIS_BUILDS, REDIS_BINARIES_PACKAGE } from "../components/core/hardening";
import { APP_USER, EXPORTER_REDIS_USER, OPERATOR_USER, REPLICATION_USER, SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER, SENTINEL_USER } from "../components/core/aclUsers";
import { shellQuote } from "./shellQuote";
import { EXPORTERS } from "./exporters";
import { REDIS_EXPORTER_PORT } from "../components/core/monitoring";
import { CLIENT_LINKS_FUNCTION, DEFAULT_USER_OFF_FUNCTION } from "./clusterShell";

/** Commands the app user must be refused (asked with ACL DRYRUN, which runs nothing). */
export const APP_REFUSED_PROBES = ["CONFIG SET maxmemory 0", "FLUSHALL", "DEBUG SLEEP 0", "REPLICAOF NO ONE", "ACL SETUSER redis-ha-probe", "SHUTDOWN NOSAVE", "MONITOR"] as const;

/** Commands the Sentinels' user must be refused: it fails over, and reads, writes and reconfigures nothing. */
export const SENTINEL_USER_REFUSED_PROBES = ["SET redis-ha-probe 1", "GET redis-ha-probe", "FLUSHALL", "CONFIG SET maxmemory 0", "DEBUG SLEEP 0", "ACL SETUSER redis-ha-probe", "SHUTDOWN NOSAVE", "MONITOR"] as const;

/** Commands the replication user must be refused: it streams the data to a replica, and reads, writes, reconfigures or promotes nothing. */
export const REPLICATION_USER_REFUSED_PROBES = ["SET redis-ha-probe 1", "GET redis-ha-probe", "FLUSHALL", "CONFIG SET maxmemory 0", "DEBUG SLEEP 0", "REPLICAOF NO ONE", "ACL SETUSER redis-ha-probe", "SHUTDOWN NOSAVE", "MONITOR", "PUBLISH __sentinel__:hello redis-ha-probe"] as const;

/** Commands the exporters' user must be refused: it reads INFO, and no key, no config (CONFIG GET shows masterauth), nothing it could change. */
export const EXPORTER_USER_REFUSED_PROBES = ["GET redis-ha-probe", "SET redis-ha-probe 1", "CONFIG GET masterauth", "FLUSHALL", "DEBUG SLEEP 0", "ACL SETUSER redis-ha-probe", "SHUTDOWN NOSAVE", "MONITOR", "CLIENT KILL ID 1", "SUBSCRIBE __sentinel__:hello"] as const;

/**
 * Commands the Sentinels' client user (`default`, which apps ask with) must be refused: whatever
 * changes a Sentinel's view or votes, forges its peers' messages, or stops it.
 */
export const SENTINEL_CLIENT_REFUSED_PROBES = [
    "SENTINEL SET redis-ha-probe quorum 1", "SENTINEL MONITOR redis-ha-probe 127.0.0.1 6379 2", "SENTINEL REMOVE redis-ha-probe",
    "SENTINEL FAILOVER redis-ha-probe", "SENTINEL RESET redis-ha-probe", "SENTINEL CONFIG SET sentinel-user redis-ha-probe",
    "SENTINEL IS-MASTER-DOWN-BY-ADDR 127.0.0.1 6379 0 redis-ha-probe", "PUBLISH __sentinel__:hello redis-ha-probe",
    "ACL SETUSER redis-ha-probe", "CLIENT KILL ID 1", "SHUTDOWN NOSAVE",
] as const;

/** Where a leaked password would be found: configuration, cloud-init's copies and logs, Redis's files, runtime files. */
export const SECRET_SEARCH_DIRS = ["/etc", "/var/lib/cloud", "/var/log", "/var/lib/redis", "/run"] as const;

export interface HardeningCheckInput {
    /** Directories searched for world-readable files holding a password. Default SECRET_SEARCH_DIRS. */
    secretSearchDirs?: readonly string[];
    /** Whether Redis's default user should take the stack's password (the stack's legacyDefaultUser); off otherwise. Default false. */
    legacyDefaultUser?: boolean;
}

export function renderHardeningCheck(input: HardeningCheckInput = {}): string {
    const q = shellQuote;
    const builds = Object.entries(PATCHED_REDIS_BUILDS).map(([release, b]) => `        ${release}) minimum=${q(b.minimum)}; fixes=${q(b.fixes.join(", "))} ;;`).join("\n");
    return `# Facts of this host itself, checked once the cluster is healthy (cloud-init/hardeningCheck.ts).
check_hardening() {
hardening_report=()
hardening_failures=()
redis_port=""
[ \${#data_nodes[@]} -gt 0 ] && redis_port=\${data_nodes[0]##*:}
sentinel_port=\${sentinels[0]##*:}
allowed_listeners=" 127.0.0.1 ::1 $(printf '%s ' "\${sentinels[@]%:*}" "\${data_nodes[@]%:*}")"

${CLIENT_LINKS_FUNCTION}
${DEFAULT_USER_OFF_FUNCTION}

# granted_to CLI USER PROBE...: prints, comma-separated, which of the probes ACL DRYRUN lets USER run.
granted_to() {
    local cli=$1 user=$2 probe words found=""
    shift 2
    for probe in "$@"; do
        read -ra words <<<"$probe"
        [ "$($cli ACL DRYRUN "$user" "\${words[@]}")" = OK ] && found="$found, $probe"
    done
    printf '%s' "\${found#, }"
}

release=$(. /etc/os-release 2>/dev/null && printf '%s' "\${VERSION_ID:-unknown}")
build=$(dpkg-query -W -f='\${Version}' ${REDIS_BINARIES_PACKAGE} 2>/dev/null)
case "$release" in
${builds}
        *) minimum=""; fixes="" ;;
esac
if [ -z "$build" ]; then
    hardening_failures+=("$host: ${REDIS_BINARIES_PACKAGE} is not installed (dpkg-query knows no version), so the Redis build cannot be judged")
elif [ -z "$minimum" ]; then
    hardening_failures+=("$host: Debian $release is not a release redis-ha knows the patched Redis builds of; ${REDIS_BINARIES_PACKAGE} $build cannot be judged")
elif dpkg --compare-versions "$build" ge "$minimum"; then
    hardening_report+=("HARDEN build ok ${REDIS_BINARIES_PACKAGE}=$build minimum=$minimum")
else
    hardening_failures+=("$host: ${REDIS_BINARIES_PACKAGE} $build lacks fixes for $fixes (Debian $release's first build with all of them is $minimum): apt-get update && apt-get install --only-upgrade redis-server redis-sentinel redis-tools, then restart one node at a time, replicas first")
fi

for port in $redis_port $sentinel_port; do
    listeners=$(ss -H -ltn "sport = :$port" 2>/dev/null | awk '{ a = $4; sub(/:[0-9]+$/, "", a); gsub(/[][]/, "", a); sub(/%.*/, "", a); print a }' | sort -u | paste -sd' ' -)
    [ -z "$listeners" ] && continue
    stray=""
    for a in $listeners; do [[ "$allowed_listeners" == *" $a "* ]] || stray="$stray $a"; done
    if [ -n "$stray" ]; then
        hardening_failures+=("$host: port $port listens on$stray, beyond this deployment's private addresses and loopback: reachable from any network that address is on; restore the rendered bind (private address, 127.0.0.1, -::1)")
    else
        hardening_report+=("HARDEN listen ok $port $listeners")
    fi
done

if [ -n "$redis_port" ] && ss -H -ltn "sport = :$redis_port" 2>/dev/null | grep -q .; then
    local_redis() { rcli_as "$redis_pass" "127.0.0.1:$redis_port" "$@" 2>&1; }
    # What the stack wants of Redis's default user (legacyDefaultUser): on, or off.
    default_state=${input.legacyDefaultUser ? "on" : "off"}
    # Asked here, in this shell, so that every local_redis below logs in as the same user without asking again.
    redis_login_user_for "$redis_pass" "127.0.0.1:$redis_port"
    checked_as=$login_user
    protected=$(local_redis CONFIG GET protected-mode | sed -n 2p)
    if [ "$protected" = yes ]; then hardening_report+=("HARDEN protected-mode ok redis"); else hardening_failures+=("$host: Redis runs with protected-mode \${protected:-unknown}, not yes: CONFIG SET protected-mode yes, then CONFIG REWRITE"); fi
    acl=$(local_redis ACL LIST)
    others=$(printf '%s\\n' "$acl" | awk '$1 == "user" && $2 != "default" && $2 != "${OPERATOR_USER}" && $2 != "${APP_USER}" && $2 != "${SENTINEL_USER}" && $2 != "${REPLICATION_USER}" && $2 != "${EXPORTER_REDIS_USER}" { printf "%s ", $2 }')
    # Every connection a Sentinel holds here (named sentinel-<id>-cmd|pubsub) and the user it logged in as.
    sentinel_logins=$(local_redis CLIENT LIST | client_links name '^sentinel-' name user)
    not_sentinel_user=$(printf '%s\\n' "$sentinel_logins" | awk 'NF == 2 && $2 != "${SENTINEL_USER}" { printf "%s as %s, ", $1, $2 }')
    # Every link a replica holds here (flags=S: this node is its master) and the user it logged in as.
    replica_logins=$(local_redis CLIENT LIST | client_links flags '^S$' addr user)
    not_replication_user=$(printf '%s\\n' "$replica_logins" | awk 'NF == 2 && $2 != "${REPLICATION_USER}" { printf "%s as %s, ", $1, $2 }')
    default_line=$(printf '%s\\n' "$acl" | awk '$1 == "user" && $2 == "default"')
    if [ "$default_state" = on ] && [[ "$default_line" != "user default on "* ]]; then
        hardening_failures+=("$host: Redis's default user is not enabled, and redis-ha:legacyDefaultUser wants it on with the stack's password (the default-user step turns it on: pulumi up)")
    elif [ "$default_state" = off ] && ! default_line_off "$default_line"; then
        hardening_failures+=("$host: Redis's default user is on or takes a password: whoever holds it logs in without a user name, with every permission it has (turn it off by hand: ACL SETUSER default reset, then CONFIG REWRITE; pulumi up does it, refusing while apps log in as it, when its default-user step runs: a changed legacyDefaultUser or a replaced host)")
    elif printf '%s\\n' "$acl" | grep -qE '^user (default|${OPERATOR_USER}|${APP_USER}|${SENTINEL_USER}|${REPLICATION_USER}|${EXPORTER_REDIS_USER}) .*nopass'; then
        hardening_failures+=("$host: a Redis user takes no password (nopass): anyone who reaches the port may log in as it")
    elif ! printf '%s\\n' "$acl" | grep -q '^user ${OPERATOR_USER} on '; then
        hardening_failures+=("$host: Redis has no enabled ${OPERATOR_USER} user as rendered: the checks and the day-2 scripts log in as default, which apps made before the ${APP_USER} user may share (the settings rollout makes it: pulumi up)")
    elif ! printf '%s\\n' "$acl" | grep -q '^user ${APP_USER} on '; then
        hardening_failures+=("$host: Redis has no enabled ${APP_USER} user as rendered: apps would need the stack's password, which can do everything")
    elif ! printf '%s\\n' "$acl" | grep -q '^user ${SENTINEL_USER} on '; then
        hardening_failures+=("$host: Redis has no enabled ${SENTINEL_USER} user as rendered: the Sentinels would need the stack's password, which can do everything")
    elif ! printf '%s\\n' "$acl" | grep -q '^user ${REPLICATION_USER} on '; then
        hardening_failures+=("$host: Redis has no enabled ${REPLICATION_USER} user as rendered: replicas would need the stack's password, which can do everything (the settings rollout makes it: pulumi up)")
    elif ! printf '%s\\n' "$acl" | grep -q '^user ${EXPORTER_REDIS_USER} on '; then
        hardening_failures+=("$host: Redis has no enabled ${EXPORTER_REDIS_USER} user as rendered: the exporter would need the stack's password, whose file the prometheus group reads (the settings rollout makes it: pulumi up)")
    elif [ -n "$others" ]; then
        hardening_failures+=("$host: Redis has ACL users redis-ha did not create: \${others% } (ACL LIST; remove them with ACL DELUSER, or find who added them)")
    elif [ -n "$not_sentinel_user" ]; then
        hardening_failures+=("$host: Sentinels log in here as another user than ${SENTINEL_USER}: \${not_sentinel_user%, } (the settings rollout moves them: pulumi up)")
    elif [ -n "$not_replication_user" ]; then
        hardening_failures+=("$host: replicas log in here as another user than ${REPLICATION_USER}: \${not_replication_user%, } (the settings rollout moves them: pulumi up)")
    else
        granted=$(granted_to local_redis ${APP_USER} ${APP_REFUSED_PROBES.map((p) => q(p)).join(" ")})
        sentinel_granted=$(granted_to local_redis ${SENTINEL_USER} ${SENTINEL_USER_REFUSED_PROBES.map((p) => q(p)).join(" ")})
        replication_granted=$(granted_to local_redis ${REPLICATION_USER} ${REPLICATION_USER_REFUSED_PROBES.map((p) => q(p)).join(" ")})
        exporter_granted=$(granted_to local_redis ${EXPORTER_REDIS_USER} ${EXPORTER_USER_REFUSED_PROBES.map((p) => q(p)).join(" ")})
        if [ -n "$granted" ]; then
            hardening_failures+=("$host: Redis's ${APP_USER} user may run $granted: a leaked app password could reconfigure or stop the server (the rollout sets its rules again)")
        elif [ -n "$sentinel_granted" ]; then
            hardening_failures+=("$host: Redis's ${SENTINEL_USER} user may run $sentinel_granted: a leaked Sentinel login could do more than fail over (the rollout sets its rules again)")
        elif [ -n "$replication_granted" ]; then
            hardening_failures+=("$host: Redis's ${REPLICATION_USER} user may run $replication_granted: a leaked replication login (masterauth is in every redis.conf) could do more than replicate (the rollout sets its rules again)")
        elif [ -n "$exporter_granted" ]; then
            hardening_failures+=("$host: Redis's ${EXPORTER_REDIS_USER} user may run $exporter_granted: a leaked exporter login (its file is readable by the prometheus group) could do more than read INFO (the rollout sets its rules again)")
        else
            hardening_report+=("HARDEN acl ok redis default=$default_state users=default,${OPERATOR_USER},${APP_USER},${SENTINEL_USER},${REPLICATION_USER},${EXPORTER_REDIS_USER} ${APP_USER}-refused=${APP_REFUSED_PROBES.map((p) => p.split(" ")[0]).join(",")} ${SENTINEL_USER}-refused=${SENTINEL_USER_REFUSED_PROBES.map((p) => p.split(" ")[0]).join(",")} ${REPLICATION_USER}-refused=${REPLICATION_USER_REFUSED_PROBES.map((p) => p.split(" ")[0]).join(",")} ${EXPORTER_REDIS_USER}-refused=${EXPORTER_USER_REFUSED_PROBES.map((p) => p.split(" ")[0]).join(",")} sentinel-logins=$(printf '%s\\n' "$sentinel_logins" | grep -c .) replica-logins=$(printf '%s\\n' "$replica_logins" | grep -c .) checked-as=$checked_as")
        fi
    fi
    # The exporter beside this node, as it runs now: the user its environment gives it (the login
    # drop-in's REDIS_USER; none is default, with the stack's password in its file).
    exporter_pid=$(ss -ltnpH "sport = :${REDIS_EXPORTER_PORT}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2)
    if [ -z "$exporter_pid" ]; then
        hardening_report+=("HARDEN exporter-login ok redis none running")
    else
        exporter_login=$(tr '\\0' '\\n' < "/proc/$exporter_pid/environ" 2>/dev/null | sed -n 's/^REDIS_USER=//p')
        exporter_login=\${exporter_login:-default}
        if [ "$exporter_login" = ${EXPORTER_REDIS_USER} ]; then
            hardening_report+=("HARDEN exporter-login ok redis user=$exporter_login")
        elif [ -e ${q(EXPORTERS.redis.unitPath)} ]; then
            hardening_failures+=("$host: the Redis exporter logs in as $exporter_login, not ${EXPORTER_REDIS_USER}: its file, which the prometheus group reads, holds a password that can do more than read INFO (the credentials step moves it: pulumi up)")
        else
            hardening_report+=("HARDEN exporter-login ok redis user=$exporter_login kept: its unit is not at ${EXPORTERS.redis.unitPath}, so redis-ha leaves its login as it is")
        fi
    fi
fi
if [ -r "$conf" ]; then
    want=$([ -n "$sentinel_pass" ] && echo yes || echo no)
    have=$(awk '$1 == "protected-mode" { print $2 }' "$conf" | tail -n 1)
    if [ "$have" = "$want" ]; then hardening_report+=("HARDEN protected-mode ok sentinel=$have"); else hardening_failures+=("$host: Sentinel's protected-mode is \${have:-unset} in $conf, rendered $want"); fi
fi
if [ -r "$conf" ] && [ -n "$sentinel_pass" ] && ss -H -ltn "sport = :$sentinel_port" 2>/dev/null | grep -q .; then
    local_sentinel() { scli_as "$sentinel_pass" "127.0.0.1:$sentinel_port" "$@" 2>&1; }
    sentinel_acl=$(local_sentinel ACL LIST | tr -d '\r')
    sentinel_others=$(printf '%s\n' "$sentinel_acl" | awk '$1 == "user" && $2 != "${SENTINEL_CLIENT_USER}" && $2 != "${SENTINEL_ADMIN_USER}" { printf "%s ", $2 }')
    # The links the other Sentinels hold here (named sentinel-<id>-cmd) not logged in as admin.
    peers_not_admin=$(local_sentinel CLIENT LIST | client_links name '^sentinel-' name user | awk '$2 != "${SENTINEL_ADMIN_USER}" { printf "%s as %s, ", $1, $2 }')
    if ! printf '%s\n' "$sentinel_acl" | grep -q '^user ${SENTINEL_ADMIN_USER} on '; then
        hardening_failures+=("$host: Sentinel has no enabled ${SENTINEL_ADMIN_USER} user: the stack's Sentinel password still opens its default user, which apps ask with (the settings rollout makes it: pulumi up)")
    elif ! printf '%s\n' "$sentinel_acl" | grep -q '^user ${SENTINEL_CLIENT_USER} on '; then
        hardening_failures+=("$host: Sentinel's ${SENTINEL_CLIENT_USER} user is disabled: apps cannot ask it where the master is (the settings rollout sets it again: pulumi up)")
    elif printf '%s\n' "$sentinel_acl" | grep -qE '^user (${SENTINEL_CLIENT_USER}|${SENTINEL_ADMIN_USER}) .*nopass'; then
        hardening_failures+=("$host: a Sentinel user takes no password (nopass): anyone who reaches the port may log in as it")
    elif [ -n "$sentinel_others" ]; then
        hardening_failures+=("$host: Sentinel has ACL users redis-ha did not create: \${sentinel_others% } (ACL LIST; remove them with ACL DELUSER, or find who added them)")
    elif [ -n "$peers_not_admin" ]; then
        hardening_failures+=("$host: other Sentinels log in here as another user than ${SENTINEL_ADMIN_USER}: \${peers_not_admin%, } (the settings rollout moves them: pulumi up)")
    else
        client_granted=$(granted_to local_sentinel ${SENTINEL_CLIENT_USER} ${SENTINEL_CLIENT_REFUSED_PROBES.map((p) => q(p)).join(" ")})
        if [ -n "$client_granted" ]; then
            hardening_failures+=("$host: Sentinel's ${SENTINEL_CLIENT_USER} user, which apps ask with, may run $client_granted: a leaked app secret could point the apps at another master (the settings rollout sets its rules again: pulumi up)")
        else
            hardening_report+=("HARDEN acl ok sentinel users=${SENTINEL_CLIENT_USER},${SENTINEL_ADMIN_USER} ${SENTINEL_CLIENT_USER}-refused=${SENTINEL_CLIENT_REFUSED_PROBES.map((p) => p.split(" ").slice(0, p.startsWith("SENTINEL") ? 2 : 1).join("-")).join(",")} peer-logins=$(local_sentinel CLIENT LIST | grep -c ' name=sentinel-')")
        fi
    fi
fi

# A password in a file anyone can read is a password anyone on the host has: found by content (the
# stack's, and those the operator credentials list as derived from them: the app's, the Sentinels'
# and the Sentinels' client one), then confirmed by reading the file as nobody (its directories must
# let nobody through too).
secrets=$(printf '%s\\n' "$redis_pass" "$sentinel_pass" "\${derived_passes:-}" | grep . | sort -u)
leaks=""
if [ -n "$secrets" ]; then
    while IFS= read -r -d '' file; do
        if setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$file" 2>/dev/null; then leaks="$leaks $file"; fi
    done < <(timeout 60 find ${(input.secretSearchDirs ?? SECRET_SEARCH_DIRS).map(q).join(" ")} -xdev -type f -perm -o=r -size -8M -print0 2>/dev/null \\
        | timeout 60 xargs -0 -r grep -lsZF -f <(printf '%s\\n' "$secrets"))
fi
if [ -n "$leaks" ]; then
    hardening_failures+=("$host: a password is readable by every user of the host in$leaks: chmod o-r them (and find what wrote them)")
else
    hardening_report+=("HARDEN secrets ok none world-readable")
fi
}
`;
}
