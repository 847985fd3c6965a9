import type { RuntimeSetting } from "../components/core/runtimeSettings";
import { shellQuote } from "./checkScript";
import { CLUSTER_FUNCTIONS } from "./clusterShell";
import { DEBIAN_PATHS } from "./paths";

export interface RolloutScriptInput {
    /** Host the script runs on, for messages. */
    hostName: string;
    masterName: string;
    /** Every data node of the stack, as "address:port". */
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
}

/**
 * The settings rollout, run on one Sentinel host. It waits for a settled cluster (a majority of the
 * Sentinels name the same master, and that node answers ROLE master), then goes through the data
 * nodes one at a time, the replicas first and the master last: for each setting, CONFIG GET; if it
 * differs, CONFIG SET and CONFIG GET again, then CONFIG REWRITE once per node so it survives a
 * restart. Then each Sentinel in turn: SENTINEL MASTER, SENTINEL SET, SENTINEL MASTER again
 * (Sentinel saves its own config). The first failure stops it, naming the node, the setting and the
 * reason; the nodes after it are untouched, and a rerun skips what already reads back right.
 * Output lines: SAME/SET/DRIFT <node> <key> ..., FAIL ..., and last RESULT ok|fail|drift.
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
deadline=$((SECONDS + ${input.timeoutSeconds}))
interval=${input.intervalSeconds ?? 3}
changed=0
drift=0

fail() {
    echo "FAIL $*"
    echo "RESULT fail changed=$changed"
    echo "redis-ha settings rollout stopped on $host after $changed change(s): $*" >&2
    exit 1
}
${CLUSTER_FUNCTIONS}
wait_for_settled_master
echo "MASTER $master"
in_stack=0
for node in "\${data_nodes[@]}"; do [ "$node" = "$master" ] && in_stack=1; done
[ "$in_stack" = 1 ] || fail "the master $master is not one of this stack's data nodes ($(oneline "\${data_nodes[*]}")): nothing was changed"

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

if [ "$mode" = report ]; then echo "RESULT drift=$drift"; exit 0; fi
echo "RESULT ok changed=$changed"
`;
}
