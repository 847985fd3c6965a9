/**
 * Bash shared by the scripts that act on a running cluster (the settings rollout, the switchover):
 * the passwords read from the local sentinel.conf, redis-cli towards Sentinels (scli) and data nodes
 * (rcli), and the master as a majority of the Sentinels name it now, confirmed by the node itself.
 * The including script defines host, master_name, sentinels, conf, deadline, interval and fail() first.
 */
export const CLUSTER_FUNCTIONS = `oneline() { printf '%s' "$*" | tr '\\r\\n' '  ' | sed 's/  */ /g; s/ $//'; }
if [ ! -r "$conf" ]; then fail "$host: $conf is missing or unreadable (first boot not finished, or not run as root)"; fi
sentinel_pass=$(awk '$1 == "requirepass" { v = $2; gsub(/"/, "", v); print v; exit }' "$conf")
redis_pass=$(awk -v n="$master_name" '$1 == "sentinel" && $2 == "auth-pass" && $3 == n { v = $4; gsub(/"/, "", v); print v; exit }' "$conf")
scli() { local at=$1; shift; if [ -n "$sentinel_pass" ]; then REDISCLI_AUTH="$sentinel_pass" timeout 5 redis-cli --no-auth-warning -h "\${at%:*}" -p "\${at##*:}" --raw "$@"; else timeout 5 redis-cli -h "\${at%:*}" -p "\${at##*:}" --raw "$@"; fi; }
# redis-cli towards a data node with the given password (through the environment, never argv).
rcli_as() { local auth=$1 at=$2; shift 2; REDISCLI_AUTH="$auth" timeout 5 redis-cli --no-auth-warning -h "\${at%:*}" -p "\${at##*:}" --raw "$@"; }
rcli() { rcli_as "$redis_pass" "$@"; }
# What a data node says it is now: master, slave, or nothing when it does not answer.
role_of() { rcli "$1" ROLE 2>/dev/null | head -n 1; }

# The master as a majority of the Sentinels name it now, confirmed by the node itself: never a plan's
# idea of it, and nothing is changed while a failover is under way.
settled_master() {
    local s addr votes=() majority=$(( \${#sentinels[@]} / 2 + 1 ))
    for s in "\${sentinels[@]}"; do
        addr=$(scli "$s" SENTINEL get-master-addr-by-name "$master_name" 2>/dev/null | paste -sd: -)
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
