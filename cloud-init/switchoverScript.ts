import { OPERATOR_CREDENTIALS_FILE } from "./operatorCredentials";
import { shellQuote } from "./shellQuote";
import { CLUSTER_FUNCTIONS, failFunction } from "./clusterShell";
import { DEBIAN_PATHS } from "./paths";

export interface SwitchoverScriptInput {
    /** Host the script runs on, for messages. */
    hostName: string;
    masterName: string;
    /** Every Sentinel, as "address:port". */
    sentinels: readonly string[];
    /** How many replicas the master must see online before it may hand over. */
    expectedReplicas: number;
    /** How long writes may stay paused (ms); the replicas get half of it to catch up, the failover the rest. Default 15000. */
    pauseMs?: number;
    /** How long to wait for a settled cluster before refusing, and for the new master after (s). Default 30. */
    timeoutSeconds?: number;
    /** Read for the passwords on a host without operator credentials. Default: Debian's path. */
    sentinelConfPath?: string;
    /** The operator credentials the script logs in with (cloud-init/operatorCredentials.ts). Default OPERATOR_CREDENTIALS_FILE. */
    operatorCredentialsPath?: string;
    intervalSeconds?: number;
}

/**
 * The switchover itself, a bash function for the scripts that include it (this one, and the settings
 * rollout when the stack no longer has the current master). Expects CLUSTER_FUNCTIONS, a settled
 * $master, fail() that unpauses $paused, and expected_replicas, pause_ms, timeout_seconds and
 * interval. Leaves the new master in $master; prints PAUSED, CAUGHT-UP, SWITCHED and RESUMED.
 */
export const SWITCHOVER_FUNCTION = `planned_switchover() {
    local old=$master s named stale online out info offset behind caught_up candidates candidate promoted needed attached node following
    # Settled means every Sentinel agrees, not just a majority, and none would undo the promotion.
    for s in "\${sentinels[@]}"; do
        named=$(scli "$s" SENTINEL get-master-addr-by-name "$master_name" 2>&1 | paste -sd: -)
        [[ "$named" =~ ^[0-9a-fA-F.:]+:[0-9]+$ ]] || fail "sentinel $s cannot name master $master_name: $(oneline "\${named:-no answer}"): nothing was changed"
        [ "$named" = "$old" ] || fail "sentinel $s names $named, not $old: nothing was changed"
        stale=$(scli "$s" SENTINEL REPLICAS "$master_name" 2>/dev/null | awk 'previous == "name" { name = $0 } previous == "role-reported" && $0 == "master" { printf "%s ", name } { previous = $0 }')
        [ -z "$stale" ] && continue
        fail "sentinel $s still sees replica \${stale% } as a master; it would undo the promotion (it rereads INFO within 10 s): nothing was changed"
    done
    online=$(online_replicas "$old")
    [ "$online" -ge "$expected_replicas" ] || fail "the master $old sees $online of $expected_replicas replicas online: nothing was changed"

    out=$(rcli "$old" CLIENT PAUSE "$pause_ms" WRITE 2>&1)
    [ "$out" = OK ] || fail "$old: CLIENT PAUSE WRITE refused: $(oneline "$out")"
    paused=$old
    echo "PAUSED $old for at most $pause_ms ms"
    caught_up=""
    for _ in $(seq 1 $((pause_ms / 400))); do
        info=$(rcli "$old" INFO replication 2>/dev/null | tr -d '\\r')
        offset=$(printf '%s\\n' "$info" | awk -F: '$1 == "master_repl_offset" { print $2 }')
        behind=$(printf '%s\\n' "$info" | grep -E '^slave[0-9]+:' | sed -n 's/.*offset=\\([0-9]*\\).*/\\1/p' | awk -v o="$offset" '$1 != o' | wc -l)
        if [ -n "$offset" ] && [ "$behind" = 0 ]; then caught_up=$offset; break; fi
        sleep 0.2
    done
    [ -n "$caught_up" ] || fail "the replicas did not reach the paused master's offset within half the pause: writes resumed on $old, nothing switched"
    echo "CAUGHT-UP offset=$caught_up"

    candidates=$(printf '%s\\n' "$info" | replica_addresses)
    out=$(scli "\${sentinels[0]}" SENTINEL FAILOVER "$master_name" 2>&1)
    [ "$out" = OK ] || fail "sentinel \${sentinels[0]}: SENTINEL FAILOVER refused: $(oneline "$out")"
    deadline=$((SECONDS + timeout_seconds))
    # Writes are paused on the promoted replica too, from the moment it answers ROLE master (clients
    # learn of it later, from +switch-master) until it has the replicas min-replicas-to-write asks
    # for: a client that reaches it first then waits instead of getting NOREPLICAS.
    promoted=""
    until [ -n "$promoted" ] || [ "$SECONDS" -ge "$deadline" ]; do
        for candidate in $candidates; do
            [ "$(role_of "$candidate")" = master ] && promoted=$candidate && break
        done
        [ -n "$promoted" ] || sleep 0.1
    done
    if [ -n "$promoted" ] && [ "$(rcli "$promoted" CLIENT PAUSE "$pause_ms" WRITE 2>&1)" = OK ]; then paused="$old $promoted"; fi
    until settled_master && [ "$master" != "$old" ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "no new master within $timeout_seconds s of SENTINEL FAILOVER ($(oneline "\${unsettled:-the Sentinels still name $old}")); the Sentinels may still finish it: run the check"
        sleep "$interval"
    done
    needed=$(rcli "$master" CONFIG GET min-replicas-to-write 2>/dev/null | sed -n 2p)
    for _ in $(seq 1 $((pause_ms / 400))); do
        attached=$(online_replicas "$master")
        [ "$attached" -ge "\${needed:-0}" ] && break
        sleep 0.2
    done
    [ -n "$promoted" ] && rcli "$promoted" CLIENT UNPAUSE >/dev/null 2>&1
    # The old master stays paused until it is a replica, its clients dropped so they reconnect to the
    # new one: unpaused before, it would answer their writes with NOREPLICAS, its replicas gone.
    # Sentinel converts it only after it has reported master for 8 s, at its next INFO (every 10 s),
    # so up to 18 s: longer than the pause, and longer than a leave waits before its VM goes. The
    # Sentinels already name the new master, so do now what their +convert-to-slave would do later,
    # in one transaction as they do (CLIENT KILL skips our own connection).
    if [ "$(role_of "$old")" != slave ]; then
        printf '%s\\n' MULTI "REPLICAOF \${master%:*} \${master##*:}" "CONFIG REWRITE" "CLIENT KILL TYPE normal" "CLIENT KILL TYPE pubsub" EXEC | rcli "$old" >/dev/null 2>&1
    fi
    following=""
    for _ in $(seq 1 $((pause_ms / 200))); do
        [ "$(upstream_of "$old")" = "$master" ] && following=1 && break
        sleep 0.2
    done
    [ -n "$following" ] || echo "NOTE $old is not yet a replica of $master; the Sentinels will convert it"
    for node in $paused; do rcli "$node" CLIENT UNPAUSE >/dev/null 2>&1; done
    paused=""
    echo "SWITCHED $old -> $master"
    echo "RESUMED writes with $attached replica(s) attached to $master"
}
`;

/**
 * A planned switchover, the way the lab's switchover drill proved it loses nothing: from a settled
 * cluster only (every Sentinel names the same master, that node says ROLE master and sees every
 * replica online, and no Sentinel still remembers a replica as a master, which would undo the
 * promotion), pause writes on the master (CLIENT PAUSE WRITE: clients block, they do not fail),
 * wait until every replica has the master's last offset, SENTINEL FAILOVER, pause writes on the
 * promoted replica as soon as it answers ROLE master, wait until a majority of the Sentinels name
 * it and it has the replicas min-replicas-to-write asks for, then unpause both.
 * Output: MASTER, PAUSED, CAUGHT-UP, SWITCHED <old> -> <new>, RESUMED, or FAIL and RESULT fail.
 */
export function renderSwitchoverScript(input: SwitchoverScriptInput): string {
    if (input.sentinels.length === 0) throw new Error("the switchover needs at least one Sentinel");
    const q = shellQuote;
    const pauseMs = input.pauseMs ?? 15000;
    return `#!/bin/bash
# redis-ha planned switchover from ${input.hostName}, rendered by redis-ha (cloud-init/switchoverScript.ts).
set -u
host=${q(input.hostName)}
master_name=${q(input.masterName)}
sentinels=(${input.sentinels.map(q).join(" ")})
expected_replicas=${input.expectedReplicas}
# Known only once the Sentinels have named the master: then each node's login is asked once, below.
data_nodes=()
pause_ms=${pauseMs}
conf=${q(input.sentinelConfPath ?? DEBIAN_PATHS.sentinelConf)}
operator_file=${q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)}
timeout_seconds=${input.timeoutSeconds ?? 30}
deadline=$((SECONDS + timeout_seconds))
interval=${input.intervalSeconds ?? 1}
paused=""
${failFunction("fail", "redis-ha switchover from $host stopped")}
${CLUSTER_FUNCTIONS}
${SWITCHOVER_FUNCTION}
wait_for_settled_master
# The master and the replicas it has, asked here once which user takes the password, so the calls
# made while writes are paused do not each ask it again in their subshells.
mapfile -t data_nodes < <(printf '%s\\n' "$master"; rcli "$master" INFO replication 2>/dev/null | replica_addresses)
remember_redis_logins
echo "MASTER $master"
planned_switchover
echo "RESULT ok"
`;
}
