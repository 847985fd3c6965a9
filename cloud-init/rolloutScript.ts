import type { RuntimeSetting } from "../components/core/runtimeSettings";
import { shellQuote } from "./shellQuote";
import { OPERATOR_CREDENTIALS_FILE } from "./operatorCredentials";
import { APP_USER, EXPORTER_REDIS_USER, exporterUserSpec, OPERATOR_USER, operatorUserSpec, REPLICATION_USER, SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER, SENTINEL_USER, aclPasswordHash, sentinelAdminSpec, sentinelClientSpec, replicationPassword, replicationUserSpec, sentinelUserPassword, sentinelUserSpec } from "../components/core/aclUsers";
import { CLUSTER_FUNCTIONS, SENTINEL_RECONCILE_FUNCTION, failFunction, waitForCloudInit } from "./clusterShell";
import { DEBIAN_PATHS } from "./paths";
import { SWITCHOVER_FUNCTION } from "./switchoverScript";

export interface RolloutScriptInput {
    /** Host the script runs on, for messages. */
    hostName: string;
    masterName: string;
    /**
     * Every data node of the stack, as "address:port". A node the Sentinels know that is not in this
     * list (a replica removed by a lower replicaCount) is detached and forgotten by every Sentinel; if
     * it is the master, a planned switchover moves the role to a node of the list first.
     */
    dataNodes: readonly string[];
    /** Every Sentinel, as "address:port". */
    sentinels: readonly string[];
    settings: readonly RuntimeSetting[];
    /** apply: change what differs; report: only print what differs (the drift report). */
    mode: "apply" | "report";
    /** How long to wait for a settled cluster (a majority of Sentinels naming a master that says so). */
    timeoutSeconds: number;
    /** Read for the Sentinel password and the Redis password the nodes run now. Default: Debian's path. */
    sentinelConfPath?: string;
    /** Seconds between attempts while waiting for a settled cluster. Default 3. */
    intervalSeconds?: number;
    /** How long one Sentinel may take to rediscover its peers and replicas after SENTINEL RESET (s). Default 60. */
    resetTimeoutSeconds?: number;
    /**
     * The stack's passwords. The script logs in with whichever of them the nodes and the Sentinels
     * accept (asked with PING), carries secrets (the command's stdin is a Pulumi secret) and never
     * prints them: secrets reach redis-cli through its environment or stdin (-x), never a command
     * line. Without them the script logs in with the host's operator credentials.
     */
    passwords?: RolloutPasswords;
    /**
     * The app user, as ACL SETUSER takes it after the name (components/core/aclUsers.ts appUserSpec):
     * set on every data node, replicas first, each read back by the password hashes ACL LIST shows,
     * then saved by CONFIG REWRITE.
     */
    appUserSpec?: readonly string[];
    /**
     * Without `passwords`, the operator credentials the script logs in with (cloud-init/operatorCredentials.ts),
     * as an operator running it by hand on a host would. Default OPERATOR_CREDENTIALS_FILE.
     */
    operatorCredentialsPath?: string;
    /** Wait for cloud-init on this host first and stop if it reports an error (VMs: yes; the lab: no). Default false. */
    waitForCloudInit?: boolean;
    /**
     * Whether Redis's default user takes the stack's passwords (the stack's legacyDefaultUser). Off
     * (false), the settings phase leaves it alone on every node where it is off already (a rotation
     * gives it nothing), and the default-user phase turns it off. Default false.
     */
    legacyDefaultUser?: boolean;
    /**
     * settings: everything but the default user (the settings rollout). default-user: only Redis's
     * default user, on or off as legacyDefaultUser says, replicas first; run after every host's
     * credentials step, once no login redis-ha makes is on default (the exporters move there). Off, it
     * first refuses, changing nothing, while a node shows a connection that ran a command as default.
     * Needs `passwords`. Default settings.
     */
    phase?: "settings" | "default-user";
}

export interface RolloutPasswords {
    redis: string;
    /** The Redis password being rotated out; "" when none. */
    previousRedis: string;
    /** The Sentinels' password; "" without Sentinel auth. */
    sentinel: string;
    /** The Sentinel password being rotated out; "" when none. Default "". */
    previousSentinel?: string;
}

/**
 * The settings rollout, run on one Sentinel host. It waits for a settled cluster (a majority of the
 * Sentinels name the same master, and that node answers ROLE master), then goes through the data
 * nodes one at a time, the replicas first and the master last: for each setting, CONFIG GET; if it
 * differs, CONFIG SET and CONFIG GET again, then CONFIG REWRITE once per node so it survives a
 * restart. Then each Sentinel in turn: SENTINEL MASTER, SENTINEL SET, SENTINEL MASTER again
 * (Sentinel saves its own config). The first failure stops it, naming the node, the setting and the
 * reason; the nodes after it are untouched, and a rerun skips what already reads back right.
 * Membership comes last: a node the Sentinels still know but the stack no longer has (a lower
 * replicaCount) is detached (it can no longer authenticate to the master, so it drops out of the
 * master's INFO and no Sentinel rediscovers it), then each Sentinel that lists it is reset, one at a
 * time, each only after the one before has rediscovered every peer and exactly the stack's replicas.
 * A Sentinel the stack no longer has (a lower sentinelCount) stops monitoring the group before the
 * resets (SENTINEL REMOVE on it), so none of them rediscovers it.
 * Its VM is deleted by the engine after this command. A master the stack no longer has is first
 * handed over by a planned switchover (the removed nodes get replica-priority 0, so none is chosen).
 * Output lines: SAME/SET/DRIFT <node> <key> ..., DETACHED, UNMONITORED, RESET, STALE, FAIL ..., and last
 * RESULT ok|fail|drift.
 */
export function renderRolloutScript(input: RolloutScriptInput): string {
    if (input.sentinels.length === 0) throw new Error("the rollout needs at least one Sentinel");
    if (input.dataNodes.length === 0) throw new Error("the rollout needs at least one data node");
    const phase = input.phase ?? "settings";
    const what = phase === "default-user" ? `default-user step${input.mode === "apply" ? "" : " drift report"}` : `settings ${input.mode === "apply" ? "rollout" : "drift report"}`;
    if (phase === "default-user" && !input.passwords) throw new Error("the default-user phase needs the stack's passwords");
    const q = shellQuote;
    // key|value|readBack; none of them can hold a "|" (validated settings, numbers, sizes, policy names).
    const encode = (s: RuntimeSetting) => {
        if ([s.key, s.value, s.readBack].some((v) => v.includes("|") || v.includes("\n"))) throw new Error(`runtime setting ${s.key}: unexpected character in ${JSON.stringify(s.value)}`);
        return q(`${s.key}|${s.value}|${s.readBack}`);
    };
    const redis = input.settings.filter((s) => s.target === "redis").map(encode);
    const sentinel = input.settings.filter((s) => s.target === "sentinel").map(encode);
    return `#!/bin/bash
# redis-ha ${what} from ${input.hostName}, rendered by redis-ha.
# ${input.mode === "apply" ? "Changes running processes only (CONFIG SET + CONFIG REWRITE, SENTINEL SET), one node at a time." : "Reads; never changes anything."}
set -u
host=${q(input.hostName)}
master_name=${q(input.masterName)}
mode=${input.mode}
data_nodes=(${input.dataNodes.map(q).join(" ")})
sentinels=(${input.sentinels.map(q).join(" ")})
redis_settings=(${redis.join(" ")})
sentinel_settings=(${sentinel.join(" ")})
conf=${q(input.sentinelConfPath ?? DEBIAN_PATHS.sentinelConf)}
timeout_seconds=${input.timeoutSeconds}
deadline=$((SECONDS + timeout_seconds))
interval=${input.intervalSeconds ?? 3}
reset_timeout=${input.resetTimeoutSeconds ?? 60}
manage_passwords=${input.passwords ? 1 : 0}
phase=${phase}
legacy_default_user=${input.legacyDefaultUser ? 1 : 0}
# What default takes with legacyDefaultUser: the stack's passwords (both during a rotation), everything.
default_on_spec=(${(input.passwords ? operatorUserSpec(input.passwords.redis, input.passwords.previousRedis) : []).map(q).join(" ")})
# With the stack's passwords (what the program gives) the script asks the nodes which they accept; without, the host's operator credentials.
operator_file=${input.passwords ? "''" : q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)}
new_pass=${q(input.passwords?.redis ?? "")}
previous_pass=${q(input.passwords?.previousRedis ?? "")}
stack_sentinel_pass=${q(input.passwords?.sentinel ?? "")}
previous_sentinel_pass=${q(input.passwords?.previousSentinel ?? "")}
app_user=${APP_USER}
app_user_spec=(${(input.appUserSpec ?? []).map(q).join(" ")})
sentinel_user=${SENTINEL_USER}
sentinel_user_pass=${q(input.passwords ? sentinelUserPassword(input.passwords.redis) : "")}
sentinel_user_spec=(${(input.passwords ? sentinelUserSpec(input.passwords.redis, input.passwords.previousRedis) : []).map(q).join(" ")})
operator_user=${OPERATOR_USER}
operator_user_spec=(${(input.passwords ? operatorUserSpec(input.passwords.redis, input.passwords.previousRedis) : []).map(q).join(" ")})
exporter_user=${EXPORTER_REDIS_USER}
exporter_user_spec=(${(input.passwords ? exporterUserSpec(input.passwords.redis, input.passwords.previousRedis) : []).map(q).join(" ")})
replication_user=${REPLICATION_USER}
replication_pass=${q(input.passwords ? replicationPassword(input.passwords.redis) : "")}
replication_user_spec=(${(input.passwords ? replicationUserSpec(input.passwords.redis, input.passwords.previousRedis) : []).map(q).join(" ")})
sentinel_admin_user=${q(SENTINEL_ADMIN_USER)}
sentinel_client_user=${q(SENTINEL_CLIENT_USER)}
sentinel_admin_spec=(${(input.passwords?.sentinel ? sentinelAdminSpec(input.passwords.sentinel, input.passwords.previousSentinel ?? "") : []).map(q).join(" ")})
sentinel_client_spec=(${(input.passwords?.sentinel ? sentinelClientSpec(input.passwords.sentinel, input.passwords.previousSentinel ?? "") : []).map(q).join(" ")})
# The stack's Sentinel passwords themselves, as ACL LIST shows them: what apps of a deployment made
# before the client user still ask with.
sentinel_legacy_hashes=(${[input.passwords?.sentinel ?? "", input.passwords?.previousSentinel ?? ""].filter((p) => p !== "").map((p) => q(`#${aclPasswordHash(p)}`)).join(" ")})
pause_ms=15000
paused=""
changed=0
drift=0

${failFunction("fail changed=$changed", `redis-ha ${what} stopped on $host after $changed change(s)`)}
# A host without rolling replacement has no handoff that waited for its first boot: on day 1 the
# rollout may log in before cloud-init has installed Redis and Sentinel. Wait for it, as the check does.
${waitForCloudInit(input.waitForCloudInit, "$timeout_seconds", 'fail "$unfinished: nothing was changed"')}
${CLUSTER_FUNCTIONS}
${SENTINEL_RECONCILE_FUNCTION}
${SWITCHOVER_FUNCTION}
# accepted_password CLI FIRST SECOND TARGET...: FIRST if the first TARGET to answer accepts it, else
# SECOND ("" for none) if it does; a target that does not answer is skipped. Prints nothing and
# returns 1 when one answered but refused both, 2 when none answered.
accepted_password() {
    local cli=$1 first=$2 second=$3 target out
    shift 3
    for target in "$@"; do
        out=$($cli "$first" "$target" PING 2>&1)
        if [ "$out" = PONG ]; then printf '%s' "$first"; return 0; fi
        case $out in *WRONGPASS*|*NOAUTH*|*"invalid username-password"*) ;; *) continue ;; esac
        if [ -n "$second" ] && [ "$($cli "$second" "$target" PING 2>&1)" = PONG ]; then printf '%s' "$second"; return 0; fi
        return 1
    done
    return 2
}
# The password every node and Sentinel accepts now, asked of them rather than read from a config
# (the configs' auth-pass and masterauth are the Sentinels' and replication's logins, not the
# operator's). During a rotation, the previous one first: until its step 2 every node keeps it,
# while a step 1 cut short may have given the new one to some only. Nodes that do not answer (a
# failover, a restart) are waited for, until the deadline.
login_password() {
    local cli=$1 stack=$2 previous=$3 what=$4 password=$5 setting=$6 previous_setting=$7 status
    shift 7
    while :; do
        if [ -n "$previous" ]; then login=$(accepted_password "$cli" "$previous" "$stack" "$@"); else login=$(accepted_password "$cli" "$stack" "" "$@"); fi
        status=$?
        [ "$status" = 0 ] && return 0
        [ "$status" = 1 ] && fail "the $what run $password that is neither redis-ha:$setting nor redis-ha:$previous_setting. To rotate, set redis-ha:$previous_setting to the password they run now (the old $setting), so that both are accepted while the apps move; nothing was changed"
        [ "$SECONDS" -ge "$deadline" ] && fail "none of the $what answers ($*), so none could say which password it runs: nothing was changed"
        sleep "$interval"
    done
}
if [ "$manage_passwords" = 1 ]; then
    sentinel_pass=""
    if [ -n "$stack_sentinel_pass" ]; then
        login_password scli_as "$stack_sentinel_pass" "$previous_sentinel_pass" Sentinels "a password" sentinelPassword previousSentinelPassword "\${sentinels[@]}"
        sentinel_pass=$login
        remember_sentinel_logins
    fi
    login_password rcli_as "$new_pass" "$previous_pass" nodes "a Redis password" redisPassword previousRedisPassword "\${data_nodes[@]}"
    redis_pass=$login
    remember_redis_logins
fi
# Whether node $1's default user takes password $2 (the operator user may take it without).
accepts() { [ "$(rcli_default_as "$2" "$1" PING 2>&1)" = PONG ]; }
# The secret is the last argument, read from stdin (-x): never on a command line other users can see.
rcli_secret() { local at=$1 auth=$2 secret=$3; shift 3; printf '%s' "$secret" | rcli_as "$auth" "$at" -x "$@"; }
# How many passwords user $2 takes on data node $1 (ACL LIST).
user_password_count() { acl_cli=rcli user_line "$1" "$2" | grep -oE '#[0-9a-f]{64}' | wc -l; }
# Whether data node $1's default user is off: disabled, with no password and not nopass (ACL LIST).
default_is_off() { default_line_off "$(acl_cli=rcli user_line "$1" default)"; }
sentinel_peer_login() { scli "$1" SENTINEL CONFIG GET "sentinel-$2" 2>/dev/null | sed -n 2p; }
# Makes a Sentinel log in to its peers as the admin user with the stack's password (every one of them
# takes it by now): the password first, then the user, each read back.
set_sentinel_peer_login() {
    local out
    out=$(printf '%s' "$stack_sentinel_pass" | scli "$1" -x SENTINEL CONFIG SET sentinel-pass 2>&1)
    [ "$out" = OK ] || fail "sentinel $1: SENTINEL CONFIG SET sentinel-pass refused: $(oneline "$out")"
    [ "$(sentinel_peer_login "$1" pass)" = "$stack_sentinel_pass" ] || fail "sentinel $1: sentinel-pass does not read back as redis-ha:sentinelPassword"
    out=$(scli "$1" SENTINEL CONFIG SET sentinel-user "$sentinel_admin_user" 2>&1)
    [ "$out" = OK ] || fail "sentinel $1: SENTINEL CONFIG SET sentinel-user refused: $(oneline "$out")"
    [ "$(sentinel_peer_login "$1" user)" = "$sentinel_admin_user" ] || fail "sentinel $1: sentinel-user does not read back as $sentinel_admin_user"
    echo "PEERLOGIN sentinel $1 logs in to the other Sentinels as $sentinel_admin_user with redis-ha:sentinelPassword"
    changed=$((changed + 1))
}
# Waits until every other Sentinel has logged in to Sentinel $1 again since $2 (ms), when its links
# were dropped; fails naming the first that has not, with why they were dropped ($3) and what to do ($4).
peers_logged_in_again() {
    local s=$1 dropped=$2 peer
    for peer in "\${sentinels[@]}"; do
        [ "$peer" = "$s" ] && continue
        wait_for_login "$peer" sentinel "$s" "$dropped" "sentinel $peer has not logged in to sentinel $s again within 15 s of $3; $4"
    done
}
# The IDs of the links other Sentinels hold to Sentinel $1 (named sentinel-<id>-cmd) not logged in as admin.
sentinel_links_not_admin() {
    scli "$1" CLIENT LIST 2>/dev/null | client_links name '^sentinel-' id user | awk -v admin="$sentinel_admin_user" '$2 != admin { print $1 }'
}
# Whether every link other Sentinels hold to Sentinel $1 is logged in as admin.
peers_all_admin() { [ -z "$(sentinel_links_not_admin "$1")" ]; }
now_ms() { date +%s%3N; }
# Closes every link a Sentinel holds to the given Redis (cli rcli) or Sentinel (scli), so that each
# must log in again, with the password it has now.
drop_sentinel_links() {
    local cli=$1 at=$2 id
    for id in $($cli "$at" CLIENT LIST 2>/dev/null | client_links name '^sentinel-' id); do $cli "$at" CLIENT KILL ID "$id" >/dev/null 2>&1; done
}
# Waits (at most 15 s) until Sentinel $1 has its links to $3 (a master, replica or sentinel: $2) up
# and a PING answered after $4 (ms), when they were dropped: it logged in again. Fails with $5.
wait_for_login() {
    wait_until 15 logged_in_since "$1" "$2" "$3" "$4" || fail "$5"
}
# Whether $1 sees its link to $2 ($3: master, replica or sentinel) up, unflagged, and answered since $4 ms.
logged_in_since() {
    local observer=$1 kind=$2 target=$3 dropped=$4 seen flags age
    case $kind in
        master) seen=$(scli "$observer" SENTINEL MASTER "$master_name" 2>/dev/null | awk '{ v[previous] = $0; previous = $0 } END { print v["flags"], v["last-ok-ping-reply"] }') ;;
        replica) seen=$(scli "$observer" SENTINEL REPLICAS "$master_name" 2>/dev/null | awk -v n="$target" 'previous == "name" { name = $0 } name == n { v[previous] = $0 } { previous = $0 } END { print v["flags"], v["last-ok-ping-reply"] }') ;;
        sentinel) seen=$(scli "$observer" SENTINEL SENTINELS "$master_name" 2>/dev/null | awk -v want="$target" '
            function emit() { if (ip ":" port == want) print flags, age }
            previous == "name" { emit(); ip = ""; port = ""; flags = ""; age = "" }
            previous == "ip" { ip = $0 } previous == "port" { port = $0 } previous == "flags" { flags = $0 } previous == "last-ok-ping-reply" { age = $0 }
            { previous = $0 } END { emit() }') ;;
    esac
    read -r flags age <<<"$seen"
    [[ -n "$age" && "$flags" != *disconnected* && "$flags" != *s_down* ]] && [ $(( $(now_ms) - age )) -gt "$dropped" ]
}
# Step 1 of a rotation on one data node: it accepts the new password and the previous one ("" for
# none), saved with CONFIG REWRITE so that a restart keeps both.
accept_both() {
    local node=$1 new=$2 previous=$3 auth out which secret missing=()
    # Off, it takes no password: the operator user carries the rotation (OPERUSER below).
    if default_is_off "$node"; then echo "SAME $node default user off"; return 0; fi
    # What default takes (the point of this step), and what this script can log in with (the operator user may take it without).
    answers() { [ "$(rcli_default_as "$1" "$node" PING 2>&1)" = PONG ]; }
    logs_in() { [ "$(rcli_as "$1" "$node" PING 2>&1)" = PONG ]; }
    answers "$new" || missing+=(new)
    [ -n "$previous" ] && ! answers "$previous" && missing+=(previous)
    if [ \${#missing[@]} -eq 0 ]; then echo "SAME $node passwords"; return 0; fi
    if [ "$mode" = report ]; then echo "DRIFT $node does not accept the \${missing[*]} password"; drift=$((drift + 1)); return 0; fi
    if logs_in "$new"; then auth=$new; elif [ -n "$previous" ] && logs_in "$previous"; then auth=$previous; else
        fail "$node accepts neither redis-ha:redisPassword nor redis-ha:previousRedisPassword; nothing more was changed"
    fi
    for which in "\${missing[@]}"; do
        secret=$new; [ "$which" = previous ] && secret=$previous
        out=$(printf '>%s' "$secret" | rcli_as "$auth" "$node" -x ACL SETUSER default 2>&1)
        [ "$out" = OK ] || fail "$node: ACL SETUSER default (adding the $which password) refused: $(oneline "$out")"
    done
    answers "$new" || fail "$node does not accept the new password after ACL SETUSER"
    [ -z "$previous" ] || answers "$previous" || fail "$node does not accept the previous password after ACL SETUSER"
    out=$(rcli_as "$new" "$node" CONFIG REWRITE 2>&1)
    [ "$out" = OK ] || fail "$node: CONFIG REWRITE failed: $(oneline "$out"); it accepts the new password only until a restart"
    echo "ACCEPTS $node the \${missing[*]} password"
    changed=$((changed + 1))
}
# A user's line in ACL LIST on a data node (cli rcli) or a Sentinel (scli).
user_line() { $acl_cli "$1" ACL LIST 2>/dev/null | tr -d '\r' | awk -v u="$2" '$1 == "user" && $2 == u'; }
# The "#hash" words of a spec or an ACL LIST line, sorted, one line.
hashes_of() { printf '%s\n' "$@" | tr ' ' '\n' | grep -E '^#[0-9a-f]{64}$' | sort -u | paste -sd' ' -; }
# ensure_user TAG USER NODE KEEP SPEC...: sets USER on NODE to SPEC, and with KEEP=1 also to the
# passwords it takes now (so a login in use is never cut); reads it back by the password hashes ACL
# LIST shows, and saves it (CONFIG REWRITE) when it changed. Prints "TAG NODE USER user set and saved".
# ensure_sentinel_user does the same on a Sentinel (saved with SENTINEL FLUSHCONFIG).
# Where user_line and ensure_acl_user act: data nodes unless a caller says otherwise.
acl_cli=rcli
acl_save="CONFIG REWRITE"
acl_label=""
ensure_user() { acl_cli=rcli acl_save="CONFIG REWRITE" acl_label="" ensure_acl_user "$@"; }
ensure_sentinel_user() { acl_cli=scli acl_save="SENTINEL FLUSHCONFIG" acl_label="sentinel " ensure_acl_user "$@"; }
ensure_acl_user() {
    local tag=$1 user=$2 node=$3 keep=$4 before after out want kept=()
    shift 4
    before=$(user_line "$node" "$user")
    if [ "$mode" = report ]; then
        [ "$keep" = 1 ] && return 0
        [[ "$before" == "user $user on "* ]] && [ "$(hashes_of $before)" = "$(hashes_of "$@")" ] && { echo "SAME $acl_label$node $user user"; return 0; }
        echo "DRIFT $acl_label$node $user user is missing, disabled or takes other passwords"
        drift=$((drift + 1))
        return 0
    fi
    [ "$keep" = 1 ] && [[ "$before" == "user $user on "* ]] && read -r -a kept <<<"$(hashes_of $before)"
    want=$(hashes_of "$@" "\${kept[@]}")
    out=$($acl_cli "$node" ACL SETUSER "$user" "$@" "\${kept[@]}" 2>&1)
    [ "$out" = OK ] || fail "$acl_label$node: ACL SETUSER $user refused: $(oneline "$out")"
    after=$(user_line "$node" "$user")
    [[ "$after" == "user $user on "* ]] && [ "$(hashes_of $after)" = "$want" ] || fail "$acl_label$node: the $user user does not read back enabled with exactly the stack's passwords for it after ACL SETUSER"
    if [ "$before" = "$after" ]; then echo "SAME $acl_label$node $user user"; return 0; fi
    # shellcheck disable=SC2086 # the save command's words
    out=$($acl_cli "$node" $acl_save 2>&1)
    [ "$out" = OK ] || fail "$acl_label$node: $acl_save failed: $(oneline "$out"); the $user user would not survive a restart"
    echo "$tag $acl_label$node $user user set and saved"
    changed=$((changed + 1))
}
# The users the connections Sentinel $1 holds to node $2 logged in as (Sentinel names them
# sentinel-<the first 8 characters of its id>-cmd and -pubsub), sorted, one line.
sentinel_login_users() {
    local id
    id=$(scli "$1" SENTINEL MYID 2>/dev/null | head -c 8)
    [ -n "$id" ] || return 0
    rcli "$2" CLIENT LIST 2>/dev/null | client_links name "^sentinel-$id-" user | sort -u | paste -sd' ' -
}
# Whether Sentinel $1's links to node $2 are all logged in as user $3 (sets users).
logs_in_as() { users=$(sentinel_login_users "$1" "$2"); [ "$users" = "$3" ]; }
# Makes Sentinel $1 log in to the nodes as the Sentinels' user with its password (auth-user and
# auth-pass in one SENTINEL SET, the secret last, from stdin; Sentinel drops its links at once and
# saves its config), then waits until it has logged in to the master again, as that user.
move_sentinel_login() {
    local s=$1 out dropped_at users
    dropped_at=$(now_ms)
    out=$(printf '%s' "$sentinel_user_pass" | scli "$s" -x SENTINEL SET "$master_name" auth-user "$sentinel_user" auth-pass 2>&1)
    [ "$out" = OK ] || fail "sentinel $s: SENTINEL SET $master_name auth-user auth-pass refused: $(oneline "$out")"
    wait_for_login "$s" master "$master" "$dropped_at" "sentinel $s has not logged in to the master $master again within 15 s of being given the $sentinel_user user; the Sentinels after it were left as they were"
    wait_until 15 logs_in_as "$s" "$master" "$sentinel_user" || fail "sentinel $s logs in to the master $master as '\${users:-nobody}', not as $sentinel_user, 15 s after SENTINEL SET; the Sentinels after it were left as they were"
}
# Drops replica $1's link to $master and waits until it is back: a new link on the master (an id
# above any it had), a replica's, logged in as the replication user, and the replica reporting it up.
relink_replica() {
    local node=$1 since
    since=$(rcli "$master" CLIENT ID 2>/dev/null)
    [[ "$since" =~ ^[0-9]+$ ]] || fail "the master $master does not answer CLIENT ID; $node's link was left as it was"
    rcli "$node" CLIENT KILL TYPE master >/dev/null 2>&1
    wait_until "$timeout_seconds" relinked "$node" "$since" || fail "$node has not replicated from the master $master again as $replication_user within $timeout_seconds s of its link being dropped (the master's log says why; ACL LOG names a refused login): the nodes after it were left as they were"
}
# Whether replica $1 reports its link up and the master holds a replica link newer than id $2 logged in as the replication user.
relinked() {
    rcli "$1" INFO replication 2>/dev/null | tr -d '\\r' | grep -qx 'master_link_status:up' || return 1
    rcli "$master" CLIENT LIST 2>/dev/null | client_links flags S id user | awk -v since="$2" -v want="$replication_user" '$2 == want && $1 + 0 > since + 0 { found = 1 } END { exit !found }'
}
# The connections on nodes $@ that ran a command as default, one "address (client name) on node" a
# line, from CLIENT LIST every second for 5 s (an app that connects per request, as PHP does, is seen
# only while it is connected). A connection that has not logged in shows user=default too; its last
# command is none (NULL), AUTH, HELLO or COMMAND (redis-cli's first) unless it sent others without a
# password, which fail anyway: such a client is named too.
default_logins() {
    local round node
    for round in 0 1 2 3 4 5; do
        [ "$round" = 0 ] || sleep 1
        for node in "$@"; do
            rcli "$node" CLIENT LIST 2>/dev/null | client_links user '^default$' addr name cmd \
                | awk -v node="$node" '$3 != "NULL" && $3 != "auth" && $3 != "hello" && $3 != "command" && $3 !~ /^command\\|/ { sub(/:[0-9]+$/, "", $1); print $1 ($2 == "-" ? "" : " (" $2 ")") " on " node }'
        done
    done | sort -u
}
# Turns node $1's default user off with no password, in one transaction: requirepass "" alone would
# make it nopass, which turns protected mode on (refusing every client but loopback); reset then
# takes nopass away again. CONFIG REWRITE drops the requirepass line, so the file holds no password for it.
turn_default_off() {
    local node=$1 out
    out=$(printf 'MULTI\nCONFIG SET requirepass ""\nACL SETUSER default reset\nEXEC\n' | rcli "$node" 2>&1)
    default_is_off "$node" || fail "$node: default does not read back off with no password after ACL SETUSER default reset (it answered $(oneline "$out")); the nodes after it were left as they were"
    out=$(rcli "$node" CONFIG REWRITE 2>&1)
    [ "$out" = OK ] || fail "$node: CONFIG REWRITE failed: $(oneline "$out"); default is off only until a restart"
    echo "DEFAULTOFF $node default user off and saved"
    changed=$((changed + 1))
}
# Redis's default user on every node, replicas first: off (no login without a user name), or with
# legacyDefaultUser on with the stack's passwords where it is off (where it is on, the settings phase
# keeps its passwords). Before turning any off, a node showing a connection that runs commands as
# default stops it, changing nothing, naming the addresses: those apps would lose Redis.
default_user_phase() {
    local node pending=() logins
    for node in "\${order[@]}"; do
        if [ "$legacy_default_user" = 1 ]; then
            default_is_off "$node" || { echo "SAME $node default user on"; continue; }
            [ "$mode" = report ] && { echo "DRIFT $node default user is off; legacyDefaultUser wants it on"; drift=$((drift + 1)); continue; }
            ensure_user DEFAULTON default "$node" 0 "\${default_on_spec[@]}"
            continue
        fi
        default_is_off "$node" && { echo "SAME $node default user off"; continue; }
        [ "$mode" = report ] && { echo "DRIFT $node default user is on"; drift=$((drift + 1)); continue; }
        pending+=("$node")
    done
    [ \${#pending[@]} -gt 0 ] || return 0
    logins=$(default_logins "\${pending[@]}")
    [ -z "$logins" ] || fail "connections run commands as default, without a user name (apps on the stack's password, or clients that send commands without logging in): $(printf '%s' "$logins" | paste -sd';' - | sed 's/;/; /g'). Turning default off would cut them off, so nothing was changed. Move them to clientEnvironment's user (REDIS_USERNAME and REDIS_PASSWORD), or set redis-ha:legacyDefaultUser true until they have moved"
    for node in "\${pending[@]}"; do turn_default_off "$node"; done
}
wait_for_settled_master
echo "MASTER $master"

# Every node some Sentinel or the master knows that the stack no longer has.
removed=()
while read -r node; do
    [ -n "$node" ] && ! in_stack "$node" && removed+=("$node")
done < <({ for s in "\${sentinels[@]}"; do replicas_of "$s" | awk '{ print $1 }'; done; echo "$master"; } | sort -u)
for node in "\${removed[@]}"; do
    [ "$phase" = settings ] || break
    [ "$mode" = report ] && { echo "STALE $node is known to the Sentinels but is not a data node of this stack"; drift=$((drift + 1)); continue; }
    # Never promoted again, whatever happens before its VM is gone (unreachable: it is gone already).
    rcli "$node" CONFIG SET replica-priority 0 >/dev/null 2>&1 || true
done
if [ "$phase" = settings ] && ! in_stack "$master"; then
    [ "$mode" = report ] && { echo "RESULT drift=$drift"; exit 0; }
    # The stack drops the current master: hand the role to one of its nodes first, as ops switchover does.
    expected_replicas=\${#data_nodes[@]}
    echo "HANDOVER the master $master is not a data node of this stack: planned switchover first"
    planned_switchover
    in_stack "$master" || fail "the switchover promoted $master, which is not a data node of this stack either; set replica-priority 0 on it and rerun"
fi

order=()
for node in "\${data_nodes[@]}"; do [ "$node" != "$master" ] && order+=("$node"); done
order+=("$master")

if [ "$phase" = default-user ]; then
    default_user_phase
    if [ "$mode" = report ]; then echo "RESULT drift=$drift"; exit 0; fi
    echo "RESULT ok changed=$changed"
    exit 0
fi

# A data node replicating anything but the master (a new node whose boot guard found no majority,
# for example while the others' firewalls did not yet admit it, so it followed the plan's first
# node) is pointed at the master: Sentinels learn replicas only from the master's INFO.
for node in "\${order[@]}"; do
    [ "$node" = "$master" ] && continue
    upstream=$(upstream_of "$node")
    [ -z "$upstream" ] || [ "$upstream" = "$master" ] && continue
    if [ "$mode" = report ]; then echo "DRIFT $node replicates $upstream, not the master $master"; drift=$((drift + 1)); continue; fi
    repoint_to_master "$node"
    echo "REPOINTED $node from $upstream to the master $master"
    changed=$((changed + 1))
done

# The Sentinels' users (components/core/aclUsers.ts): admin takes the stack's Sentinel password (both
# during a rotation), for the scripts and for the Sentinels' logins to each other; default is the
# apps' user, which may only read where the master is. A deployment made before them, or a rotation,
# gets them here, in an order where nothing depends on what a Sentinel does not take yet:
# 1. admin on every Sentinel, keeping any password it takes (a rotation cut short loses none);
# 2. each Sentinel logs in to its peers as admin with the stack's password (sentinel-user,
#    sentinel-pass, which Sentinel saves itself); then on each Sentinel the links its peers still
#    hold as another user are dropped, and every peer must log in again, as admin, before the next;
# 3. default gets the apps' rules and the client passwords derived from the stack's (both during a
#    rotation) and, where a Sentinel's default takes them now (a deployment made before the client
#    user, whose apps ask with it), the stack's passwords themselves, until a rotation retires them.
# A Sentinel password rotation's second step (previousSentinelPassword removed) is at the end.
if [ "$manage_passwords" = 1 ] && [ -n "$stack_sentinel_pass" ]; then
    # Every Sentinel must answer before any is changed: the steps below go through all of them.
    for s in "\${sentinels[@]}"; do
        out=$(scli "$s" PING 2>&1)
        [ "$out" = PONG ] || fail "sentinel $s does not answer (PING: $(oneline "\${out:-no answer}")); nothing was changed on the Sentinels: start it and rerun"
    done
    for s in "\${sentinels[@]}"; do ensure_sentinel_user SENTINELADMIN "$sentinel_admin_user" "$s" 1 "\${sentinel_admin_spec[@]}"; done
    if [ "$mode" = apply ]; then
        sentinel_pass=$stack_sentinel_pass
        remember_sentinel_logins
    fi
    for s in "\${sentinels[@]}"; do
        if [ "$(sentinel_peer_login "$s" user)" = "$sentinel_admin_user" ] && [ "$(sentinel_peer_login "$s" pass)" = "$stack_sentinel_pass" ]; then echo "SAME sentinel $s logs in to its peers as $sentinel_admin_user"; continue; fi
        if [ "$mode" = report ]; then echo "DRIFT sentinel $s does not log in to its peers as $sentinel_admin_user with redis-ha:sentinelPassword"; drift=$((drift + 1)); continue; fi
        set_sentinel_peer_login "$s"
    done
    for s in "\${sentinels[@]}"; do
        stale_links=$(sentinel_links_not_admin "$s")
        [ -z "$stale_links" ] && continue
        if [ "$mode" = report ]; then echo "DRIFT sentinel $s has peers logged in as another user than $sentinel_admin_user"; drift=$((drift + 1)); continue; fi
        dropped_at=$(now_ms)
        for id in $stale_links; do scli "$s" CLIENT KILL ID "$id" >/dev/null 2>&1; done
        peers_logged_in_again "$s" "$dropped_at" "being made to log in as $sentinel_admin_user" "the Sentinels after it were left as they were"
        wait_until 15 peers_all_admin "$s" || fail "sentinel $s: its peers still log in as another user than $sentinel_admin_user 15 s after their links were dropped"
        echo "PEERLINKS sentinel $s: every other Sentinel logged in again as $sentinel_admin_user"
        changed=$((changed + 1))
    done
    legacy=()
    for hash in "\${sentinel_legacy_hashes[@]}"; do
        for s in "\${sentinels[@]}"; do
            if [[ " $(acl_cli=scli user_line "$s" "$sentinel_client_user") " == *" $hash "* ]]; then legacy+=("$hash"); break; fi
        done
    done
    for s in "\${sentinels[@]}"; do ensure_sentinel_user SENTINELCLIENT "$sentinel_client_user" "$s" 0 "\${sentinel_client_spec[@]}" "\${legacy[@]}"; done
fi

# Password rotation, step 1 (redis-ha:previousRedisPassword set): every node accepts both passwords
# (ACL SETUSER default >new adds one; Redis keeps both) before anything uses the new one. Nothing
# ever depends on a password a node does not accept yet, so replication, Sentinel and clients never break.
if [ "$manage_passwords" = 1 ]; then
    for node in "\${order[@]}"; do accept_both "$node" "$new_pass" "$previous_pass"; done
fi

# The operator user (components/core/aclUsers.ts), replicas first: the stack's password (and the
# previous one during a rotation), everything. From here on this script logs in as it, as the checks,
# the switchover and the handoff do, with the new password (until here the one every node took: with
# default off, only the operator user carries a rotation).
if [ \${#operator_user_spec[@]} -gt 0 ]; then
    for node in "\${order[@]}"; do ensure_user OPERUSER "$operator_user" "$node" 0 "\${operator_user_spec[@]}"; done
    if [ "$mode" = apply ]; then
        redis_pass=$new_pass
        remember_redis_logins
    fi
fi

# The exporters' user (components/core/aclUsers.ts), replicas first: the password derived for it
# (both during a rotation), INFO and little else. Nothing logs in as it until each host's
# credentials step, after this rollout, gives its exporter the login.
if [ \${#exporter_user_spec[@]} -gt 0 ]; then
    for node in "\${order[@]}"; do ensure_user EXPORTERUSER "$exporter_user" "$node" 0 "\${exporter_user_spec[@]}"; done
fi

# The replication user (components/core/aclUsers.ts): every node takes it, keeping any password it
# takes now (both derived passwords during a rotation). Then each node, replicas first and the
# master last, logs in to its master as that user with the stack's password for it (masteruser and
# masterauth, read back and saved). A replica's link is dropped and must come back, logged in as
# that user (a new link on the master, PSYNC continuing from the backlog), before the next node: a
# login that fails stops the rollout with one replica out, not all. The master's login is tried on
# every replica (AUTH and PING). Then the user keeps exactly the stack's passwords for it.
if [ "$manage_passwords" = 1 ]; then
    for node in "\${order[@]}"; do ensure_user REPLUSER "$replication_user" "$node" 1 "\${replication_user_spec[@]}"; done
    for node in "\${order[@]}"; do
        if [ "$(rcli "$node" CONFIG GET masteruser 2>/dev/null | sed -n 2p)" = "$replication_user" ] && [ "$(rcli "$node" CONFIG GET masterauth 2>/dev/null | sed -n 2p)" = "$replication_pass" ]; then
            echo "SAME $node replicates as $replication_user"
            continue
        fi
        if [ "$mode" = report ]; then echo "DRIFT $node does not log in to its master as $replication_user with the stack's password for it"; drift=$((drift + 1)); continue; fi
        # Both in one CONFIG SET (atomic): a link that drops in between never logs in with half of it.
        out=$(rcli_secret "$node" "$redis_pass" "$replication_pass" CONFIG SET masteruser "$replication_user" masterauth 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG SET masteruser masterauth refused: $(oneline "$out")"
        [ "$(rcli "$node" CONFIG GET masteruser 2>/dev/null | sed -n 2p)" = "$replication_user" ] && [ "$(rcli "$node" CONFIG GET masterauth 2>/dev/null | sed -n 2p)" = "$replication_pass" ] || fail "$node: masteruser and masterauth do not read back as the replication user's login"
        out=$(rcli "$node" CONFIG REWRITE 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG REWRITE failed: $(oneline "$out"); its replication login would not survive a restart"
        if [ "$node" = "$master" ]; then
            for other in "\${order[@]}"; do
                [ "$other" = "$master" ] && continue
                [ "$(REDISCLI_AUTH="$replication_pass" timeout 5 redis-cli --no-auth-warning --user "$replication_user" -h "\${other%:*}" -p "\${other##*:}" --raw PING 2>&1)" = PONG ] || fail "$other does not take the master $master's replication login: were it demoted, it could not replicate"
            done
        else
            relink_replica "$node"
        fi
        echo "REPLLOGIN $node logs in to its master as $replication_user"
        changed=$((changed + 1))
    done
    for node in "\${order[@]}"; do ensure_user REPLUSER "$replication_user" "$node" 0 "\${replication_user_spec[@]}"; done
fi

for node in "\${order[@]}"; do
    touched=0
    for entry in "\${redis_settings[@]}"; do
        IFS='|' read -r key value want <<<"$entry"
        got=$(rcli "$node" CONFIG GET "$key" 2>&1)
        if [ "$(printf '%s\\n' "$got" | head -n 1)" != "$key" ]; then fail "$node: CONFIG GET $key failed: $(oneline "\${got:-no answer}")"; fi
        current=$(printf '%s\\n' "$got" | sed -n 2p)
        if [ "$current" = "$want" ]; then echo "SAME $node $key"; continue; fi
        if [ "$mode" = report ]; then echo "DRIFT $node $key running=$current stack=$want"; drift=$((drift + 1)); continue; fi
        if [ "$key" = maxmemory ] && [ "$want" != 0 ]; then
            used=$(rcli "$node" INFO memory 2>/dev/null | tr -d '\\r' | awk -F: '$1 == "used_memory" { print $2 }')
            if [ -n "$used" ] && [ "$used" -gt "$want" ]; then
                fail "$node: maxmemory $value ($want bytes) is below the $used bytes it holds now; it would refuse writes or evict at once. Raise maxmemory, or free memory first"
            fi
        fi
        out=$(rcli "$node" CONFIG SET "$key" "$value" 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG SET $key $value refused: $(oneline "\${out:-no answer}")"
        now=$(rcli "$node" CONFIG GET "$key" 2>&1 | sed -n 2p)
        [ "$now" = "$want" ] || fail "$node: $key reads back '$now' after CONFIG SET, not '$want'"
        echo "SET $node $key $current -> $now"
        changed=$((changed + 1))
        touched=1
    done
    if [ "$touched" = 1 ]; then
        out=$(rcli "$node" CONFIG REWRITE 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG REWRITE failed: $(oneline "\${out:-no answer}"); the new values run but would not survive a restart"
        echo "SAVED $node"
    fi
done

# The app user, replicas first. During a rotation it accepts the app passwords of both stack
# passwords; after it, only the new one's.
if [ \${#app_user_spec[@]} -gt 0 ]; then
    for node in "\${order[@]}"; do ensure_user APPUSER "$app_user" "$node" 0 "\${app_user_spec[@]}"; done
fi

for s in "\${sentinels[@]}"; do
    info=$(scli "$s" SENTINEL MASTER "$master_name" 2>&1)
    if [ "$(printf '%s\\n' "$info" | head -n 1)" != name ]; then fail "sentinel $s: SENTINEL MASTER $master_name failed: $(oneline "\${info:-no answer}")"; fi
    for entry in "\${sentinel_settings[@]}"; do
        IFS='|' read -r key value want <<<"$entry"
        current=$(printf '%s\\n' "$info" | awk -v k="$key" 'previous == k { print; exit } { previous = $0 }')
        [ -n "$current" ] || fail "sentinel $s: SENTINEL MASTER $master_name has no $key"
        if [ "$current" = "$want" ]; then echo "SAME sentinel $s $key"; continue; fi
        if [ "$mode" = report ]; then echo "DRIFT sentinel $s $key running=$current stack=$want"; drift=$((drift + 1)); continue; fi
        out=$(scli "$s" SENTINEL SET "$master_name" "$key" "$value" 2>&1)
        [ "$out" = OK ] || fail "sentinel $s: SENTINEL SET $master_name $key $value refused: $(oneline "\${out:-no answer}")"
        now=$(scli "$s" SENTINEL MASTER "$master_name" 2>&1 | awk -v k="$key" 'previous == k { print; exit } { previous = $0 }')
        [ "$now" = "$want" ] || fail "sentinel $s: $key reads back '$now' after SENTINEL SET, not '$want'"
        echo "SET sentinel $s $key $current -> $now"
        changed=$((changed + 1))
    done
done

# The Sentinels' own user on every node, replicas first, keeping any password it takes now; then
# each Sentinel in turn logs in to the nodes as that user, with the stack's password for it: a
# deployment made before the user gets it here, and so does a Sentinel on a host created since (its
# first boot logs in as default, with the stack's password, which works whatever the nodes run).
# Sentinel does not show its auth-pass: while a rotation is under way (or its step 2 has not yet
# retired the old password) every Sentinel is given it again. Then the user keeps exactly the stack's
# passwords for it (during a rotation both, after it the new one's), once no Sentinel uses another.
if [ "$manage_passwords" = 1 ]; then
    for node in "\${order[@]}"; do ensure_user SENTINELUSER "$sentinel_user" "$node" 1 "\${sentinel_user_spec[@]}"; done
    rotating=0
    # Under way, or its step 2 has not yet retired the Sentinels' old password on the master.
    if [ "$mode" = apply ] && { [ -n "$previous_pass" ] || [ "$(user_password_count "$master" "$sentinel_user")" != 1 ]; }; then rotating=1; fi
    for s in "\${sentinels[@]}"; do
        users=$(sentinel_login_users "$s" "$master")
        if [ "$users" = "$sentinel_user" ] && [ "$rotating" = 0 ]; then echo "SAME sentinel $s logs in as $sentinel_user"; continue; fi
        if [ "$mode" = report ]; then echo "DRIFT sentinel $s logs in to the master as '\${users:-nobody}', not as $sentinel_user"; drift=$((drift + 1)); continue; fi
        move_sentinel_login "$s"
        echo "SENTINELLOGIN sentinel $s logs in to the nodes as $sentinel_user"
        [ "$users" != "$sentinel_user" ] && changed=$((changed + 1))
    done
    for node in "\${order[@]}"; do ensure_user SENTINELUSER "$sentinel_user" "$node" 0 "\${sentinel_user_spec[@]}"; done
fi

# Password rotation, step 2 (redis-ha:previousRedisPassword removed): each node, replicas first and
# the master last, keeps only the new password (CONFIG SET requirepass resets the default user to
# it). After each, the Sentinels' links to that node are dropped and every Sentinel must log in
# again with its auth-pass, before the next node: a Sentinel still on the old password is found
# on a replica, while the master still accepts it.
if [ "$manage_passwords" = 1 ] && [ -z "$previous_pass" ]; then
    for node in "\${order[@]}"; do
        default_is_off "$node" && { echo "SAME $node default user off"; continue; }
        [ "$(user_password_count "$node" default)" = 1 ] && accepts "$node" "$new_pass" && { echo "SAME $node single password"; continue; }
        if [ "$mode" = report ]; then echo "DRIFT $node still accepts a previous password"; drift=$((drift + 1)); continue; fi
        out=$(rcli_secret "$node" "$new_pass" "$new_pass" CONFIG SET requirepass 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG SET requirepass refused: $(oneline "$out")"
        [ "$(user_password_count "$node" default)" = 1 ] && accepts "$node" "$new_pass" || fail "$node: after CONFIG SET requirepass it does not accept exactly the new password"
        out=$(rcli "$node" CONFIG REWRITE 2>&1)
        [ "$out" = OK ] || fail "$node: CONFIG REWRITE failed: $(oneline "$out")"
        dropped_at=$(now_ms)
        drop_sentinel_links rcli "$node"
        kind=replica; [ "$node" = "$master" ] && kind=master
        for s in "\${sentinels[@]}"; do
            wait_for_login "$s" "$kind" "$node" "$dropped_at" "sentinel $s has not logged in to $node again within 15 s of the old password's retirement there: its auth-pass may still be the old one. Set redis-ha:previousRedisPassword back and rerun (the nodes after $node still accept it)"
        done
        echo "RETIRED $node the previous password; every Sentinel logged in again with the new one"
        changed=$((changed + 1))
    done
fi

# Sentinel password rotation, step 2 (redis-ha:previousSentinelPassword removed): each Sentinel in
# turn keeps only the new password for admin (every peer logs in with it since step 2 above). Its
# peers' links to it are dropped, and every peer must log in again (a PING answered after the drop)
# before the next one.
if [ "$manage_passwords" = 1 ] && [ -n "$stack_sentinel_pass" ] && [ -z "$previous_sentinel_pass" ]; then
    for s in "\${sentinels[@]}"; do
        before=$changed
        ensure_sentinel_user SENTINELADMIN "$sentinel_admin_user" "$s" 0 "\${sentinel_admin_spec[@]}"
        [ "$changed" = "$before" ] && continue
        dropped_at=$(now_ms)
        drop_sentinel_links scli "$s"
        peers_logged_in_again "$s" "$dropped_at" "the old password's retirement there: it may still use the old one" "set redis-ha:previousSentinelPassword back and rerun (the Sentinels after $s still accept it)"
        echo "RETIRED sentinel $s the previous password; every other Sentinel logged in again with the new one"
    done
fi

if [ "$mode" = apply ]; then
    deadline=$((SECONDS + timeout_seconds))
    for node in "\${removed[@]}"; do
        # A replica that cannot authenticate drops out of the master's INFO, so no Sentinel rediscovers
        # it; it still names the master, so no Sentinel "fixes" it back either. Not rewritten to its
        # config: the VM is deleted next, and a restart before that would only rejoin as before.
        if ! rcli "$node" PING >/dev/null 2>&1; then echo "GONE $node does not answer"; continue; fi
        out=$(rcli "$node" CONFIG SET masterauth "retired-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" 2>&1)
        [ "$out" = OK ] || fail "$node: could not detach it from the master (CONFIG SET masterauth): $(oneline "$out"); nothing was reset"
        rcli "$node" CLIENT KILL TYPE master >/dev/null 2>&1
        until ! rcli "$master" INFO replication 2>/dev/null | tr -d '\\r' | grep -qE "^slave[0-9]+:ip=\${node%:*},port=\${node##*:},"; do
            [ "$SECONDS" -ge "$deadline" ] && fail "$node: the master $master still lists it as a replica after it was detached; nothing was reset"
            sleep 0.5
        done
        echo "DETACHED $node"
    done
fi

# Every Sentinel a Sentinel of the stack knows that the stack no longer has: a lower sentinelCount,
# its host deleted by the engine after this command. It stops monitoring the group first (SENTINEL
# REMOVE: its settings go, but so does the Sentinel), so it sends no more hellos and the resets below
# do not rediscover it. A replaced Sentinel's old run id has a stack address and is left to the resets.
in_sentinels() { in_list "$1" "\${sentinels[@]}"; }
peers_of() { scli "$1" SENTINEL SENTINELS "$master_name" 2>/dev/null | awk 'previous == "ip" { ip = $0 } previous == "port" { print ip ":" $0 } { previous = $0 }'; }
while read -r s; do
    [ -z "$s" ] || in_sentinels "$s" && continue
    if [ "$mode" = report ]; then echo "STALE sentinel $s monitors $master_name but is not a Sentinel of this stack"; drift=$((drift + 1)); continue; fi
    if [ "$(scli "$s" PING 2>/dev/null)" != PONG ]; then echo "GONE sentinel $s does not answer"; continue; fi
    out=$(scli "$s" SENTINEL REMOVE "$master_name" 2>&1)
    # Read back: an error is fine when it no longer monitors the group (a rerun).
    [ -z "$(named_by "$s")" ] || fail "sentinel $s (not a Sentinel of this stack) still monitors $master_name after SENTINEL REMOVE (it answered $(oneline "\${out:-nothing}")); nothing was reset"
    echo "UNMONITORED sentinel $s no longer monitors $master_name (not a Sentinel of this stack; its host goes next)"
    changed=$((changed + 1))
done < <(for s in "\${sentinels[@]}"; do peers_of "$s"; done | sort -u)

reconcile_sentinels

if [ "$mode" = report ]; then echo "RESULT drift=$drift"; exit 0; fi
echo "RESULT ok changed=$changed"
`;
}
