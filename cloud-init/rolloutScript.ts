import type { RuntimeSetting } from "../components/core/runtimeSettings";
import { shellQuote } from "./checkScript";
import { CLUSTER_FUNCTIONS } from "./clusterShell";
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
    /** Read for the passwords, so no secret travels with the command. Default: Debian's path. */
    sentinelConfPath?: string;
    /** Seconds between attempts while waiting for a settled cluster. Default 3. */
    intervalSeconds?: number;
    /** How long one Sentinel may take to rediscover its peers and replicas after SENTINEL RESET (s). Default 60. */
    resetTimeoutSeconds?: number;
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
 * Its VM is deleted by the engine after this command. A master the stack no longer has is first
 * handed over by a planned switchover (the removed nodes get replica-priority 0, so none is chosen).
 * Output lines: SAME/SET/DRIFT <node> <key> ..., DETACHED, RESET, STALE, FAIL ..., and last
 * RESULT ok|fail|drift.
 */
export function renderRolloutScript(input: RolloutScriptInput): string {
    if (input.sentinels.length === 0) throw new Error("the rollout needs at least one Sentinel");
    if (input.dataNodes.length === 0) throw new Error("the rollout needs at least one data node");
    const q = shellQuote;
    // key|value|readBack; none of them can hold a "|" (validated settings, numbers, sizes, policy names).
    const encode = (s: RuntimeSetting) => {
        if ([s.key, s.value, s.readBack].some((v) => v.includes("|") || v.includes("\n"))) throw new Error(`runtime setting ${s.key}: unexpected character in ${JSON.stringify(s.value)}`);
        return q(`${s.key}|${s.value}|${s.readBack}`);
    };
    const redis = input.settings.filter((s) => s.target === "redis").map(encode);
    const sentinel = input.settings.filter((s) => s.target === "sentinel").map(encode);
    return `#!/bin/bash
# redis-ha settings ${input.mode === "apply" ? "rollout" : "drift report"} from ${input.hostName}, rendered by redis-ha.
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
pause_ms=15000
paused=""
changed=0
drift=0

fail() {
    [ -n "$paused" ] && rcli "$paused" CLIENT UNPAUSE >/dev/null 2>&1
    echo "FAIL $*"
    echo "RESULT fail changed=$changed"
    echo "redis-ha settings rollout stopped on $host after $changed change(s): $*" >&2
    exit 1
}
${CLUSTER_FUNCTIONS}
${SWITCHOVER_FUNCTION}
in_stack() { local n; for n in "\${data_nodes[@]}"; do [ "$n" = "$1" ] && return 0; done; return 1; }
# Replicas a Sentinel lists, one "address:port flags" per line.
replicas_of() { scli "$1" SENTINEL REPLICAS "$master_name" 2>/dev/null | awk 'previous == "name" { name = $0 } previous == "flags" { print name, $0 } { previous = $0 }'; }
wait_for_settled_master
echo "MASTER $master"

# Every node some Sentinel or the master knows that the stack no longer has.
removed=()
while read -r node; do
    [ -n "$node" ] && ! in_stack "$node" && removed+=("$node")
done < <({ for s in "\${sentinels[@]}"; do replicas_of "$s" | awk '{ print $1 }'; done; echo "$master"; } | sort -u)
for node in "\${removed[@]}"; do
    [ "$mode" = report ] && { echo "STALE $node is known to the Sentinels but is not a data node of this stack"; drift=$((drift + 1)); continue; }
    # Never promoted again, whatever happens before its VM is gone (unreachable: it is gone already).
    rcli "$node" CONFIG SET replica-priority 0 >/dev/null 2>&1 || true
done
if ! in_stack "$master"; then
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
        until ! rcli "$master" INFO replication 2>/dev/null | tr -d '\r' | grep -qE "^slave[0-9]+:ip=\${node%:*},port=\${node##*:},"; do
            [ "$SECONDS" -ge "$deadline" ] && fail "$node: the master $master still lists it as a replica after it was detached; nothing was reset"
            sleep 0.5
        done
        echo "DETACHED $node"
    done
fi

# Each Sentinel that lists a node the stack does not have forgets it: SENTINEL RESET, then wait
# until it knows every other Sentinel again and exactly the stack's replicas, before the next one,
# so at most one Sentinel is ever without its tables.
wanted=$(printf '%s\n' "\${data_nodes[@]}" | grep -vxF "$master" | sort | paste -sd' ' -)
for s in "\${sentinels[@]}"; do
    # After a handover a Sentinel may still be switching: its tables are only final once it names the new master.
    until_at=$((SECONDS + reset_timeout))
    until [ "$(scli "$s" SENTINEL get-master-addr-by-name "$master_name" 2>/dev/null | paste -sd: -)" = "$master" ]; do
        [ "$SECONDS" -ge "$until_at" ] && fail "sentinel $s does not name the master $master after $reset_timeout s; the Sentinels after it were not reset: rerun once it does"
        sleep 0.5
    done
    stale=$(replicas_of "$s" | awk '{ print $1 }' | while read -r node; do in_stack "$node" || printf '%s ' "$node"; done)
    [ -z "$stale" ] && continue
    if [ "$mode" = report ]; then echo "STALE sentinel $s lists \${stale% }"; drift=$((drift + 1)); continue; fi
    started=$SECONDS
    out=$(scli "$s" SENTINEL RESET "$master_name" 2>&1)
    [ "$out" = 1 ] || fail "sentinel $s: SENTINEL RESET $master_name answered $(oneline "\${out:-nothing}"), not 1"
    until_at=$((SECONDS + reset_timeout))
    while :; do
        known=$(replicas_of "$s" | awk '$2 == "slave" { print $1 }' | sort | paste -sd' ' -)
        peers=$(scli "$s" SENTINEL MASTER "$master_name" 2>/dev/null | awk 'previous == "num-other-sentinels" { print; exit } { previous = $0 }')
        named=$(scli "$s" SENTINEL get-master-addr-by-name "$master_name" 2>/dev/null | paste -sd: -)
        [ "$known" = "$wanted" ] && [ "$peers" = $((\${#sentinels[@]} - 1)) ] && [ "$named" = "$master" ] && break
        [ "$SECONDS" -ge "$until_at" ] && fail "sentinel $s: after SENTINEL RESET it knows replicas '$known' (want '$wanted') and $peers other Sentinels (want $((\${#sentinels[@]} - 1))) after $reset_timeout s; the Sentinels after it were not reset: rerun once it has"
        sleep 0.5
    done
    echo "RESET sentinel $s forgot \${stale% }; rediscovered $((\${#sentinels[@]} - 1)) Sentinels and replicas $wanted in $((SECONDS - started)) s"
    changed=$((changed + 1))
done

if [ "$mode" = report ]; then echo "RESULT drift=$drift"; exit 0; fi
echo "RESULT ok changed=$changed"
`;
}
