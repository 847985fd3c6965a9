import { OPERATOR_USER, SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER } from "../components/core/aclUsers";
import { READ_OPERATOR_CREDENTIALS } from "./operatorCredentials";

/**
 * fail() for the scripts that act on a running cluster: writes paused by a switchover resume, then
 * the reason as FAIL, the RESULT line and, on stderr (what pulumi shows), `stopped` and the reason.
 * Both are bash words, expanded when fail() runs.
 */
export function failFunction(result: string, stopped: string): string {
    return `fail() {
    for node in $paused; do rcli "$node" CLIENT UNPAUSE >/dev/null 2>&1; done
    echo "FAIL $*"
    echo "RESULT ${result}"
    echo "${stopped}: $*" >&2
    exit 1
}`;
}

/**
 * Awk that prints the password a Sentinel host's own Sentinel uses, from its sentinel.conf (the
 * file's path follows). `sentinel sentinel-pass`, set by a Sentinel password rotation, comes first:
 * after the rotation's ACL SETUSER the file keeps its original `requirepass` line (Sentinel rewrites
 * it as it was; the `user default` line it adds is what counts at a restart), so that line may hold
 * the retired password. Without a rotation, requirepass.
 */
export const LOCAL_SENTINEL_PASSWORD = `awk '$1 == "sentinel" && $2 == "sentinel-pass" { v = $3; gsub(/"/, "", v); found = v } $1 == "requirepass" && first == "" { v = $2; gsub(/"/, "", v); first = v } END { print (found != "" ? found : first) }'`;

/**
 * Bash that waits up to `seconds` (a bash word) for cloud-init to finish first boot, on a host booted
 * by it, then runs `onUnfinished` with the reason in $unfinished when it ended in anything but done:
 * a script that logs in before first boot has installed Redis and Sentinel would stop on a missing file.
 */
export function waitForCloudInit(bootsWithCloudInit: boolean | undefined, seconds: string, onUnfinished: string): string {
    if (!bootsWithCloudInit) return "# This host is not booted by cloud-init; nothing to wait for.";
    return `if command -v cloud-init >/dev/null 2>&1; then
    timeout "${seconds}" cloud-init status --wait >/dev/null 2>&1
    ci=$(cloud-init status 2>/dev/null | awk '$1 == "status:" { print $2 }')
    if [ "$ci" != "done" ]; then
        unfinished="cloud-init status is \${ci:-unknown}, not done (see /var/log/cloud-init-output.log)"
        ${onUnfinished}
    fi
fi`;
}

/**
 * Which user takes a password at a node, asked once with PING and remembered per node and password:
 * <kind>_login_user_for AUTH NODE sets login_user to the first of `users` that answers, or to
 * `fallback` (remembered too when `rememberFallback` and the node answered, refusing every user: it
 * is then not asked again at every call; a node that gave no reply at all is asked again, since it
 * may be starting, and a wait for it must log in once it answers). remember_<kind>_logins asks every node in $<nodes> with $<password> in the
 * script's own shell, so that the answers reach the command substitutions the callers mostly run in.
 */
function loginChooser(o: { kind: string; users: readonly string[]; nodes: string; password: string; fallback: string; rememberFallback: boolean }): string {
    const cache = `${o.kind}_login_users`;
    return `declare -A ${cache}=()
remember_${o.kind}_logins() {
    local node login_user
    ${cache}=()
    [ -n "\${${o.password}:-}" ] || return 0
    for node in "\${${o.nodes}[@]}"; do ${o.kind}_login_user_for "$${o.password}" "$node"; done
}
${o.kind}_login_user_for() {
    local auth=$1 at=$2 user reply="" candidates=(${o.users.join(" ")})
    login_user=\${${cache}["$at $auth"]:-}
    [ -n "$login_user" ] && return 0
    for user in "\${candidates[@]}"; do
        [ -n "$auth" ] || break
        reply=$(REDISCLI_AUTH="$auth" timeout 5 redis-cli --no-auth-warning --user "$user" -h "\${at%:*}" -p "\${at##*:}" PING 2>/dev/null </dev/null)
        if [ "$reply" = PONG ]; then
            ${cache}["$at $auth"]=$user
            login_user=$user
            return 0
        fi
        # No reply at all (no host there yet, or not listening): another user would not be answered either.
        [ -n "$reply" ] || break
    done
    login_user="${o.fallback}"${o.rememberFallback ? `
    [ -z "$reply" ] || ${cache}["$at $auth"]=$login_user` : ""}
}`;
}

/**
 * Bash function scli_as PASSWORD ADDRESS:PORT ARGS...: redis-cli towards a Sentinel, the password
 * through the environment, never argv ("" for Sentinels without auth, where an empty AUTH would be an
 * error). The stack's Sentinel password is the admin user's on a Sentinel made by this redis-ha and
 * the default user's on one made before it (until the settings rollout gives it the admin user), so
 * the user that takes it is asked (PING) and remembered. remember_sentinel_logins asks every Sentinel
 * in $sentinels with $sentinel_pass in the script's own shell, so that the answers reach the command
 * substitutions scli_as mostly runs in; the rollout calls it again once it has made the admin users.
 */
export const SENTINEL_LOGIN_FUNCTIONS = `${loginChooser({ kind: "sentinel", users: [SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER], nodes: "sentinels", password: "sentinel_pass", fallback: SENTINEL_ADMIN_USER, rememberFallback: false })}
scli_as() {
    local auth=$1 at=$2 login_user
    shift 2
    if [ -z "$auth" ]; then timeout 5 redis-cli -h "\${at%:*}" -p "\${at##*:}" --raw "$@"; return; fi
    sentinel_login_user_for "$auth" "$at"
    REDISCLI_AUTH="$auth" timeout 5 redis-cli --no-auth-warning --user "$login_user" -h "\${at%:*}" -p "\${at##*:}" --raw "$@"
}`;

/**
 * Bash function read_conf_credentials: sets sentinel_pass and redis_pass from the sentinel.conf at
 * $conf (whose master is $master_name), the login of a host made before the operator credentials;
 * fails when the file is unreadable.
 */
export const READ_CONF_CREDENTIALS = `read_conf_credentials() {
    [ -r "$conf" ] || return 1
    sentinel_pass=$(${LOCAL_SENTINEL_PASSWORD} "$conf")
    redis_pass=$(awk -v n="$master_name" '$1 == "sentinel" && $2 == "auth-pass" && $3 == n { v = $4; gsub(/"/, "", v); print v; exit }' "$conf")
}`;

/**
 * How a host step puts a file in place: written beside it and renamed over it, so a reader (a starting
 * redis-server, an exporter) sees the old file or the new one, never half of one; and left alone, with
 * its timestamps, when it already holds the content. Shared by the credentials and boot guard steps.
 */
export const REPLACE_FILE_FUNCTION = `# replace FILE GROUP MODE CONTENT WHAT: 0 when it rewrote FILE, 1 when FILE already held CONTENT.
replace() {
    if [ -e "$1" ] && [ "$(cat "$1")" = "$4" ]; then echo "SAME $5"; return 1; fi
    mkdir -p "$(dirname "$1")"
    local tmp
    tmp=$(mktemp "$(dirname "$1")/.redis-ha-replace.XXXXXX")
    printf '%s\\n' "$4" > "$tmp"
    chgrp "$2" "$tmp"
    chmod "$3" "$tmp"
    mv -f "$tmp" "$1"
    echo "UPDATED $5"
}`;

/**
 * The one reader of CLIENT LIST the scripts share: which links a Redis or Sentinel holds, and who
 * logged in on each. Fields are read by name, since their order and number change between versions.
 */
export const CLIENT_LINKS_FUNCTION = `# client_links FIELD REGEX SHOW...: CLIENT LIST on stdin; for each link whose FIELD matches REGEX (awk's),
# one line of the SHOW fields' values, space-separated ("-" for an empty one, so columns stay put).
client_links() {
    local field=$1 pattern=$2
    shift 2
    tr -d '\\r' | awk -v field="$field" -v pattern="$pattern" -v show="$*" '
        BEGIN { count = split(show, wanted, " ") }
        {
            split("", value)
            for (i = 1; i <= NF; i++) { eq = index($i, "="); if (eq) value[substr($i, 1, eq - 1)] = substr($i, eq + 1) }
            if (value[field] !~ pattern) next
            line = ""
            for (j = 1; j <= count; j++) line = line (j > 1 ? " " : "") (value[wanted[j]] == "" ? "-" : value[wanted[j]])
            print line
        }'
}`;

/**
 * What "Redis's default user is off" means, for the scripts that turn it off and the check that
 * judges it: its ACL LIST line disabled, with no password and not nopass.
 */
export const DEFAULT_USER_OFF_FUNCTION = `# default_line_off LINE: whether default's ACL LIST line says off, with no password and not nopass.
default_line_off() { [[ "$1" == "user default off "* && "$1" != *"#"* && "$1" != *nopass* ]]; }`;

/** The bounded wait every cluster script's loops share: each keeps its own bound and failure message. */
export const WAIT_UNTIL_FUNCTION = `# wait_until SECONDS CMD...: reruns CMD until it succeeds; returns 1 once SECONDS have passed, so the
# caller names what it waited for. CMD runs in this shell: what it sets, the caller's message can show.
wait_until() {
    local until_at=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -ge "$until_at" ] && return 1
        sleep 0.3
    done
}`;

/**
 * Bash functions rcli_as AUTH NODE ARGS... (redis-cli towards a data node, the password through the
 * environment, never argv) and remember_redis_logins. The scripts log in as the operator user; a node
 * made before it (the settings rollout makes it) takes the same password as `default`. Which user took
 * a password at a node is asked once (PING) and remembered; remember_redis_logins asks every node in
 * $data_nodes with $redis_pass in the script's own shell, so the answers reach the command
 * substitutions rcli_as mostly runs in. A node that refused the operator is remembered as `default`'s,
 * which serves it as before; one that gave no reply (starting, or not there yet) is asked again at its
 * next call, so that a wait for it logs in as the operator once it answers (with default off, as
 * `default` it never would).
 */
export const REDIS_LOGIN_FUNCTIONS = `${loginChooser({ kind: "redis", users: [OPERATOR_USER], nodes: "data_nodes", password: "redis_pass", fallback: "default", rememberFallback: true })}
# As the default user, whoever else takes the password: for what is about default's own passwords.
rcli_default_as() { local auth=$1 at=$2; shift 2; REDISCLI_AUTH="$auth" timeout 5 redis-cli --no-auth-warning -h "\${at%:*}" -p "\${at##*:}" --raw "$@"; }
rcli_as() {
    local auth=$1 at=$2 login_user
    shift 2
    redis_login_user_for "$auth" "$at"
    if [ "$login_user" = default ]; then
        rcli_default_as "$auth" "$at" "$@"
    else
        REDISCLI_AUTH="$auth" timeout 5 redis-cli --no-auth-warning --user "$login_user" -h "\${at%:*}" -p "\${at##*:}" --raw "$@"
    fi
}`;

/**
 * Bash shared by the scripts that act on a running cluster (the settings rollout, the switchover):
 * the passwords read from the local sentinel.conf, redis-cli towards Sentinels (scli) and data nodes
 * (rcli), and the master as a majority of the Sentinels name it now, confirmed by the node itself.
 * The including script defines host, master_name, sentinels, conf, deadline, interval and fail() first,
 * and on a host that may carry no Sentinel also redis_conf and sentinel_password_file. A script that
 * sets operator_file logs in with the operator credentials (cloud-init/operatorCredentials.ts) when the
 * host has them, and with the passwords in the configs when it does not (a host made before them);
 * the settings rollout sets it only when it is run without the stack's passwords (its reasons are in
 * that file).
 */
export const CLUSTER_FUNCTIONS = `oneline() { printf '%s' "$*" | tr '\\r\\n' '  ' | sed 's/  */ /g; s/ $//'; }
${WAIT_UNTIL_FUNCTION}
${CLIENT_LINKS_FUNCTION}
${DEFAULT_USER_OFF_FUNCTION}
${READ_OPERATOR_CREDENTIALS}
${READ_CONF_CREDENTIALS}
if read_operator_credentials; then
    : # The operator file's: the scripts' own login, whatever the configs carry.
elif read_conf_credentials; then
    : # A host made before the operator credentials.
elif [ -n "\${redis_conf:-}" ] && [ -r "$redis_conf" ]; then
    # A data node without a Sentinel: the boot guard's copy of the Sentinels' password.
    sentinel_pass=$(cat "\${sentinel_password_file:?a script that sets redis_conf sets sentinel_password_file too}" 2>/dev/null || true)
else
    fail "$host: $conf is missing or unreadable (first boot not finished, or not run as root)"
fi
# A data node without a Sentinel, or one whose Sentinel the rollout retired (a lower sentinelCount:
# SENTINEL REMOVE leaves no auth-pass), on a host made before the operator credentials: the password
# it replicates with, which is the stack's until the rollout gives it the replication user (masteruser).
if [ -z "\${redis_pass:-}" ] && [ -n "\${redis_conf:-}" ] && [ -r "$redis_conf" ]; then
    redis_pass=$(awk '$1 == "masterauth" && v == "" { v = $2; gsub(/"/, "", v) } $1 == "masteruser" { user = 1 } END { if (!user) print v }' "$redis_conf")
fi
${SENTINEL_LOGIN_FUNCTIONS}
scli() { scli_as "$sentinel_pass" "$@"; }
remember_sentinel_logins
${REDIS_LOGIN_FUNCTIONS}
rcli() { rcli_as "$redis_pass" "$@"; }
remember_redis_logins
# What a data node says it is now: master, slave, or nothing when it does not answer.
role_of() { rcli "$1" ROLE 2>/dev/null | head -n 1; }
# What a replica replicates ("address:port"); nothing for a master or a node that does not answer.
upstream_of() { rcli "$1" ROLE 2>/dev/null | tr -d '\r' | awk 'NR == 1 && $0 != "slave" { exit } NR == 2 { host = $0 } NR == 3 { print host ":" $0; exit }'; }
# The replicas' addresses ("address:port", one a line) in a master's INFO replication, read on stdin.
replica_addresses() { tr -d '\\r' | sed -n 's/^slave[0-9]*:ip=\\([^,]*\\),port=\\([0-9]*\\),.*/\\1:\\2/p'; }
# Replicas a master sees online.
online_replicas() { rcli "$1" INFO replication 2>/dev/null | tr -d '\r' | grep -cE '^slave[0-9]+:.*state=online'; }
# The master one Sentinel names ("address:port"), or nothing.
named_by() { scli "$1" SENTINEL get-master-addr-by-name "$master_name" 2>/dev/null | paste -sd: -; }
# Points a data node at $master and saves it there (REPLICAOF, then CONFIG REWRITE); fails naming the step.
repoint_to_master() {
    local out
    out=$(rcli "$1" REPLICAOF "\${master%:*}" "\${master##*:}" 2>&1)
    [ "$out" = OK ] || fail "$1: REPLICAOF $master refused: $(oneline "$out")"
    out=$(rcli "$1" CONFIG REWRITE 2>&1)
    [ "$out" = OK ] || fail "$1: CONFIG REWRITE failed: $(oneline "$out")"
}

# The master as a majority of the Sentinels name it now, confirmed by the node itself: never a plan's
# idea of it, and nothing is changed while a failover is under way.
settled_master() {
    local s addr votes=() majority=$(( \${#sentinels[@]} / 2 + 1 ))
    for s in "\${sentinels[@]}"; do
        addr=$(named_by "$s")
        [[ "$addr" =~ ^[0-9a-fA-F.:]+:[0-9]+$ ]] && votes+=("$addr")
    done
    addr=$(printf '%s\\n' "\${votes[@]}" | sort | uniq -c | sort -rn | awk -v m="$majority" 'NR == 1 && $1 >= m { print $2 }')
    if [ -z "$addr" ]; then unsettled="no master named by a majority ($majority of \${#sentinels[@]}) of the Sentinels: $(oneline "\${votes[*]:-none answered}")"; return 1; fi
    if [ "$(role_of "$addr")" != master ]; then unsettled="$addr, named by the Sentinels, does not answer ROLE master"; return 1; fi
    master=$addr
}
# Waits (until $deadline, every $interval s) for a settled master; fails, changing nothing, if none comes.
wait_for_settled_master() {
    unsettled=""
    master=""
    until settled_master; do
        [ "$SECONDS" -ge "$deadline" ] && fail "the cluster is not settled ($unsettled): nothing was changed; rerun once the failover is over"
        sleep "$interval"
    done
}
`;

/**
 * Bash that makes every Sentinel know exactly the stack: a Sentinel that lists a node the stack does
 * not have (a removed replica, a replaced node's old address) or more peers than there are Sentinels
 * (a replaced Sentinel's old run id stays listed, with an invalid port) forgets them: SENTINEL RESET,
 * then wait until it knows every other Sentinel again and exactly the stack's replicas, before the
 * next one, so at most one Sentinel is ever without its tables (the Redis docs ask for this after a
 * Sentinel or replica is removed). Expects CLUSTER_FUNCTIONS, a settled $master, data_nodes, mode
 * (apply | report), drift, changed and reset_timeout. Prints RESET or STALE lines.
 */
export const SENTINEL_RECONCILE_FUNCTION = `in_list() { local want=$1 item; shift; for item in "$@"; do [ "$item" = "$want" ] && return 0; done; return 1; }
in_stack() { in_list "$1" "\${data_nodes[@]}"; }
# Replicas a Sentinel lists, one "address:port flags" per line.
replicas_of() { scli "$1" SENTINEL REPLICAS "$master_name" 2>/dev/null | awk 'previous == "name" { name = $0 } previous == "flags" { print name, $0 } { previous = $0 }'; }
# One field of SENTINEL MASTER as a Sentinel reports it.
sentinel_field() { scli "$1" SENTINEL MASTER "$master_name" 2>/dev/null | awk -v k="$2" 'previous == k { print; exit } { previous = $0 }'; }
# Whether Sentinel $1 monitors $master with no failover in progress (sets monitored).
monitors_settled_master() {
    monitored=$(scli "$1" SENTINEL MASTER "$master_name" 2>/dev/null | awk '{ v[previous] = $0; previous = $0 } END { print v["ip"] ":" v["port"], v["flags"] }')
    [[ "$monitored" == "$master "* && "$monitored" != *failover* ]]
}
# Whether Sentinel $1 knows every replica, every peer and $master again after a reset (sets known, peers, named).
rediscovered() {
    known=$(replicas_of "$1" | awk '$2 == "slave" { print $1 }' | sort | paste -sd' ' -)
    peers=$(sentinel_field "$1" num-other-sentinels)
    named=$(named_by "$1")
    [ "$known" = "$wanted" ] && [ "$peers" = $((\${#sentinels[@]} - 1)) ] && [ "$named" = "$master" ]
}
reconcile_sentinels() {
    local s monitored stale peers extra started known named wanted
    wanted=$(printf '%s\\n' "\${data_nodes[@]}" | grep -vxF "$master" | sort | paste -sd' ' -)
    for s in "\${sentinels[@]}"; do
        # After a handover a Sentinel may still be switching, and the one that led it names the new
        # master while its failover still runs (it waits for the other replicas). Its tables are final
        # only once it monitors the new master itself, with no failover in progress: a reset before that
        # would end the failover on the old address, and the switch that follows lists the old master again.
        wait_until "$reset_timeout" monitors_settled_master "$s" || fail "sentinel $s does not monitor the master $master with its failover over after $reset_timeout s (it reports $(oneline "$monitored")); the Sentinels after it were not reset: rerun once it does"
        stale=$(replicas_of "$s" | awk '{ print $1 }' | while read -r node; do in_stack "$node" || printf '%s ' "$node"; done)
        peers=$(sentinel_field "$s" num-other-sentinels)
        extra=""
        [ -n "$peers" ] && [ "$peers" -gt $((\${#sentinels[@]} - 1)) ] && extra="$((peers - \${#sentinels[@]} + 1)) Sentinel(s) that no longer exist"
        [ -z "$stale" ] && [ -z "$extra" ] && continue
        stale="\${stale% }\${stale:+\${extra:+ and }}$extra"
        if [ "$mode" = report ]; then echo "STALE sentinel $s lists $stale"; drift=$((drift + 1)); continue; fi
        started=$SECONDS
        out=$(scli "$s" SENTINEL RESET "$master_name" 2>&1)
        [ "$out" = 1 ] || fail "sentinel $s: SENTINEL RESET $master_name answered $(oneline "\${out:-nothing}"), not 1"
        wait_until "$reset_timeout" rediscovered "$s" || fail "sentinel $s: after SENTINEL RESET it knows replicas '$known' (want '$wanted') and $peers other Sentinels (want $((\${#sentinels[@]} - 1))) after $reset_timeout s; the Sentinels after it were not reset: rerun once it has"
        echo "RESET sentinel $s forgot $stale; rediscovered $((\${#sentinels[@]} - 1)) Sentinels and replicas $wanted in $((SECONDS - started)) s"
        changed=$((changed + 1))
    done
}
`;
