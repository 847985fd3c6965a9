import { OPERATOR_CREDENTIALS_FILE } from "./operatorCredentials";
import { BOOT_GUARD_PASSWORD_FILE } from "./bootGuard";
import { shellQuote } from "./shellQuote";
import { CLUSTER_FUNCTIONS, SENTINEL_RECONCILE_FUNCTION, failFunction, waitForCloudInit } from "./clusterShell";
import { DEBIAN_PATHS } from "./paths";
import { SWITCHOVER_FUNCTION } from "./switchoverScript";

export interface HandoffScriptInput {
    /** The host this runs on: the one that leaves (before its VM is deleted) or joins (after it is created). */
    hostName: string;
    masterName: string;
    /** This host's Redis ("address:port"); undefined on a dedicated Sentinel host. */
    dataNode?: string;
    /** This host's Sentinel ("address:port"); undefined on a data node without one. */
    sentinel?: string;
    /** Every data node of the stack ("address:port"). */
    dataNodes: readonly string[];
    /** Every Sentinel of the stack ("address:port"). */
    sentinels: readonly string[];
    /**
     * Data nodes replaced before this one in a rolling replacement ("address:port"): a handover
     * promotes one of them if it can (they go first in Sentinel's choice), so the role moves once.
     */
    replacedBefore?: readonly string[];
    /** How long a join may wait for the node to boot and sync, and a leave for a settled cluster (s). */
    timeoutSeconds: number;
    /** Wait for cloud-init before joining (VMs: yes; the lab: no). */
    waitForCloudInit: boolean;
    /** Seconds between attempts. Default 2. */
    intervalSeconds?: number;
    /** How long one Sentinel may take to rediscover its peers and replicas after SENTINEL RESET (s). Default 60. */
    resetTimeoutSeconds?: number;
    /** Where the host keeps its configs (read for the passwords). Default: Debian's paths. */
    sentinelConfPath?: string;
    redisConfPath?: string;
    /** The operator credentials the script logs in with (cloud-init/operatorCredentials.ts). Default OPERATOR_CREDENTIALS_FILE. */
    operatorCredentialsPath?: string;
}

/**
 * One host's handoff, run on the host itself by the remote.Command that lives exactly as long as its
 * VM (its triggers hold the VM's id, so replacing the VM replaces it): `leave` is the command's
 * delete, run before the engine deletes the VM; `join` its create, run after the new VM is up. The
 * next host's replacement waits for this host's join, so a rolling replacement goes one node at a
 * time, and each node only after the one before has rejoined.
 *
 * leave: a replica gets replica-priority 0 (never promoted while it goes) and goes. The master first
 * hands its role over by a planned switchover (CLIENT PAUSE WRITE, every replica at its offset,
 * SENTINEL FAILOVER), and the leave fails, so the engine stops before deleting it, if that cannot be
 * done. Not run by `pulumi destroy` (the command is deletedWith the deployment).
 * join: waits until the node boots, is a replica of the master the Sentinels name now, in sync (link
 * up, no sync in progress, listed online by the master) and listed by every Sentinel; its own Sentinel
 * (if any) names that master; then every Sentinel that still lists the old VM (an address or a
 * Sentinel run id the stack no longer has) is reset, one at a time. A deployment being created has no
 * master yet (no Sentinel knows a replica): its nodes join as they are.
 * Output lines: LEAVING, HANDOVER, PREFERENCE, NEW, MASTER, REPOINTED, SYNCED, KNOWN, MET, RESET, PARTIAL, JOINED, FAIL, RESULT.
 * The passwords are read from the host's own files (sentinel.conf, or redis.conf and the boot guard's
 * copy), so the command carries no secret and a rotation does not touch it.
 */
export function renderHandoffScript(input: HandoffScriptInput): string {
    if (!input.dataNode && !input.sentinel) throw new Error(`${input.hostName}: a host with neither Redis nor Sentinel has nothing to hand off`);
    const q = shellQuote;
    return `#!/bin/bash
# redis-ha handoff of ${input.hostName} ($1 = leave | join), rendered by redis-ha (cloud-init/handoffScript.ts).
set -u
action=\${1:-}
host=${q(input.hostName)}
master_name=${q(input.masterName)}
node=${q(input.dataNode ?? "")}
own_sentinel=${q(input.sentinel ?? "")}
data_nodes=(${input.dataNodes.map(q).join(" ")})
replaced_before=(${(input.replacedBefore ?? []).map(q).join(" ")})
sentinels=(${input.sentinels.map(q).join(" ")})
conf=${q(input.sentinelConfPath ?? DEBIAN_PATHS.sentinelConf)}
redis_conf=${q(input.redisConfPath ?? DEBIAN_PATHS.redisConf)}
sentinel_password_file=${q(BOOT_GUARD_PASSWORD_FILE)}
operator_file=${q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)}
timeout_seconds=${input.timeoutSeconds}
deadline=$((SECONDS + timeout_seconds))
interval=${input.intervalSeconds ?? 2}
reset_timeout=${input.resetTimeoutSeconds ?? 60}
pause_ms=15000
paused=""
mode=apply
drift=0
changed=0
${failFunction("fail", "redis-ha $action of $host stopped")}
case "$action" in leave|join) ;; *) fail "unknown action '$action' (leave or join)" ;; esac
if [ "$action" = join ]; then
${waitForCloudInit(input.waitForCloudInit, "$timeout_seconds", 'fail "$unfinished"')}
    until [ -r "$conf" ] || [ -r "$redis_conf" ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "neither $conf nor $redis_conf exists after $timeout_seconds s: first boot did not finish"
        sleep "$interval"
    done
fi
${CLUSTER_FUNCTIONS}
${SENTINEL_RECONCILE_FUNCTION}
${SWITCHOVER_FUNCTION}
# Whether the first Sentinel, which runs the switchover, would promote replica $1 now, by its own rules
# (Redis's sentinelSelectSlave): not down or disconnected, a PING answered within 5 s, its INFO read
# within 30 s, its link to the master not down for longer than 10 down-after periods, and the
# replica-priority 50 this handoff gave it (so it ranks first). Sets why when not.
promotable() {
    why=$(scli "\${sentinels[0]}" SENTINEL REPLICAS "$master_name" 2>/dev/null | tr -d '\r' | awk -v want="$1" '
        NR % 2 == 1 { key = $0; next }
        key == "name" { name = $0 }
        name == want { value[key] = $0 }
        END {
            if (!("flags" in value)) print "it is not among its replicas"
            else if (value["flags"] ~ /s_down|o_down|disconnected/) print "flags " value["flags"]
            else if (value["slave-priority"] != 50) print "replica-priority " value["slave-priority"] " as it last read it"
            else if (value["last-ok-ping-reply"] + 0 >= 5000) print "its last PING answered " value["last-ok-ping-reply"] " ms ago"
            else if (value["info-refresh"] + 0 >= 30000) print "its INFO last read " value["info-refresh"] " ms ago"
            else if (value["master-link-down-time"] + 0 > 10 * value["down-after-milliseconds"]) print "its link to the master down for " value["master-link-down-time"] " ms"
        }')
    [ -z "$why" ]
}

if [ "$action" = leave ]; then
    if [ -z "$node" ]; then echo "LEAVING $host carries a Sentinel only; the others are reset when its successor joins"; echo "RESULT ok"; exit 0; fi
    # A replica says so itself: no Sentinel need answer (a removed node may already be outside the
    # others' firewalls). Anything else asks the Sentinels who the master is.
    if [ "$(role_of "$node")" = slave ]; then
        rcli "$node" CONFIG SET replica-priority 0 >/dev/null 2>&1 || true
        echo "LEAVING $node is a replica: nothing to hand over"
        echo "RESULT ok"
        exit 0
    fi
    wait_for_settled_master
    if [ "$master" != "$node" ]; then
        # Never promoted while it goes, whatever fails over meanwhile.
        rcli "$node" CONFIG SET replica-priority 0 >/dev/null 2>&1 || true
        echo "LEAVING $node is not the master ($master is): nothing to hand over"
        echo "RESULT ok"
        exit 0
    fi
    expected_replicas=$(online_replicas "$master")
    if [ "$expected_replicas" = 0 ]; then
        echo "LEAVING $node is the master and has no replica to hand over to"
        echo "RESULT ok"
        exit 0
    fi
    echo "HANDOVER $node is the master: planned switchover before its VM goes"
    # Sentinel promotes the replica with the lowest replica-priority first: the nodes already replaced
    # in this roll, which are not replaced again (runtime only; their configs keep the default).
    preferred=()
    for n in "\${replaced_before[@]}"; do
        [ "$(rcli "$n" CONFIG GET replica-priority 2>/dev/null | sed -n 2p)" = 100 ] && rcli "$n" CONFIG SET replica-priority 50 >/dev/null 2>&1 && preferred+=("$n")
    done
    # Sentinel chooses by the priority it last read in each replica's INFO, every 10 s, among the
    # replicas it holds fit: until the Sentinel that runs the failover has read the new one and holds
    # the replica fit, it may promote a node the roll replaces next.
    until_at=$((SECONDS + 15))
    for n in "\${preferred[@]}"; do
        wait_until $((until_at - SECONDS)) promotable "$n" && continue
        echo "PREFERENCE sentinel \${sentinels[0]} would not promote $n within 15 s ($why): the switchover may choose another replica"
        break
    done
    planned_switchover
    if [ \${#preferred[@]} -gt 0 ] && ! in_list "$master" "\${preferred[@]}"; then
        echo "PREFERENCE sentinel \${sentinels[0]} promoted $master, not \${preferred[*]}: the roll hands the master over once more when it replaces $master"
    fi
    for n in "\${preferred[@]}"; do rcli "$n" CONFIG SET replica-priority 100 >/dev/null 2>&1; done
    rcli "$node" CONFIG SET replica-priority 0 >/dev/null 2>&1 || true
    echo "RESULT ok"
    exit 0
fi

# join
if [ -n "$node" ]; then
    until [ "$(rcli "$node" PING 2>/dev/null)" = PONG ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "$node does not answer PING after $timeout_seconds s"
        sleep "$interval"
    done
fi
answers() { [ "$(scli "$1" PING 2>/dev/null)" = PONG ]; }
answering=()
for s in "\${sentinels[@]}"; do answers "$s" && answering+=("$s"); done
# With most Sentinels silent no master can be named by a majority: asking them again would only wait
# on each silent one (the first hosts of a deployment being created, one after another).
if [ \${#answering[@]} -le $((\${#sentinels[@]} / 2)) ] || ! settled_master; then
    # Sentinels learn replicas only from a master's INFO, and keep them while it is down: with most
    # Sentinels not there yet, or none knowing any replica, no master ever ran here (the deployment
    # is being created, its hosts one after another): nothing to join yet.
    known_anywhere=0
    for s in "\${answering[@]}"; do [ -n "$(replicas_of "$s")" ] && known_anywhere=1 && break; done
    if [ \${#answering[@]} -le $((\${#sentinels[@]} / 2)) ] || [ "$known_anywhere" = 0 ]; then
        echo "NEW \${#answering[@]} of \${#sentinels[@]} Sentinels answer and none names a master that runs: the deployment is being created, nothing to join"
        echo "RESULT ok"
        exit 0
    fi
    # A failover under way: wait for its end.
    wait_for_settled_master
fi
echo "MASTER $master"
if [ -n "$node" ] && [ "$node" != "$master" ]; then
    if [ "$(upstream_of "$node")" != "$master" ]; then
        # Its boot guard found no majority (or it booted before the last failover): point it at the master.
        repoint_to_master "$node"
        echo "REPOINTED $node to the master $master"
    fi
    started=$SECONDS
    while :; do
        info=$(rcli "$node" INFO replication 2>/dev/null | tr -d '\\r')
        link=$(awk -F: '$1 == "master_link_status" { print $2 }' <<<"$info")
        syncing=$(awk -F: '$1 == "master_sync_in_progress" { print $2 }' <<<"$info")
        listed=$(rcli "$master" INFO replication 2>/dev/null | tr -d '\\r' | grep -cE "^slave[0-9]+:ip=\${node%:*},port=\${node##*:},state=online")
        [ "$link" = up ] && [ "$syncing" = 0 ] && [ "$listed" = 1 ] && break
        [ "$SECONDS" -ge "$deadline" ] && fail "$node is not in sync with the master $master after $timeout_seconds s (master_link_status \${link:-?}, sync in progress \${syncing:-?}, listed online by the master: $listed); the nodes after it were not replaced"
        sleep "$interval"
    done
    echo "SYNCED $node with the master $master in $((SECONDS - started)) s"
    for s in "\${answering[@]}"; do
        # A Sentinel rereads the master's INFO every 10 s, and learns new replicas from it.
        until replicas_of "$s" | awk -v n="$node" '$1 == n && $2 == "slave" { found = 1 } END { exit !found }'; do
            [ "$SECONDS" -ge "$deadline" ] && fail "sentinel $s does not list $node as a replica after $timeout_seconds s"
            sleep "$interval"
        done
    done
    echo "KNOWN $node to every Sentinel that answers (\${#answering[@]} of \${#sentinels[@]})"
fi
if [ -n "$own_sentinel" ]; then
    until [ "$(named_by "$own_sentinel")" = "$master" ]; do
        [ "$SECONDS" -ge "$deadline" ] && fail "this host's Sentinel $own_sentinel does not name the master $master after $timeout_seconds s"
        sleep "$interval"
    done
    # The others must have met this Sentinel (its hello, every 2 s) before they are judged: until
    # then they list its predecessor's run id as the only one at this address, and no reset is due.
    own_id=$(scli "$own_sentinel" SENTINEL MYID 2>/dev/null)
    [ -n "$own_id" ] || fail "this host's Sentinel $own_sentinel does not answer SENTINEL MYID"
    for s in "\${answering[@]}"; do
        [ "$s" = "$own_sentinel" ] && continue
        until scli "$s" SENTINEL SENTINELS "$master_name" 2>/dev/null | grep -qxF "$own_id"; do
            [ "$SECONDS" -ge "$deadline" ] && fail "sentinel $s has not met this host's Sentinel ($own_id) after $timeout_seconds s"
            sleep "$interval"
        done
    done
    echo "MET every other Sentinel that answers knows this host's Sentinel $own_id"
fi
if [ \${#answering[@]} = \${#sentinels[@]} ]; then
    reconcile_sentinels
else
    # The Sentinels still to come (dedicated ones, created after this host) reset nothing yet; the
    # last of them to join does it, and the check fails meanwhile on any that lists too much.
    echo "PARTIAL \${#answering[@]} of \${#sentinels[@]} Sentinels answer: none is reset"
fi
echo "JOINED $host"
echo "RESULT ok"
`;
}
