import { BOOT_GUARD_PASSWORD_FILE } from "./bootGuard";
import { READ_CONF_CREDENTIALS, REDIS_LOGIN_FUNCTIONS, SENTINEL_LOGIN_FUNCTIONS, waitForCloudInit } from "./clusterShell";
import { DEBIAN_PATHS } from "./paths";
import { OPERATOR_CREDENTIALS_FILE, READ_OPERATOR_CREDENTIALS } from "./operatorCredentials";
import { HardeningCheckInput, renderHardeningCheck } from "./hardeningCheck";
import { shellQuote } from "./shellQuote";

export interface CheckScriptInput {
    /** Host the script runs on, for messages. */
    hostName: string;
    masterName: string;
    /** Every Sentinel as "address:port". */
    sentinels: readonly string[];
    expectedReplicas: number;
    /**
     * Every data node of the stack ("address:port"). A Sentinel that lists any other node as a replica
     * still remembers a removed one; the check fails until the rollout has reset it. Default: not checked.
     */
    dataNodes?: readonly string[];
    /** Replica lag (seconds) above which the replica does not count as healthy. */
    maxLagSeconds: number;
    timeoutSeconds: number;
    /** Read for the passwords on a host without operator credentials (made before them). Default: Debian's path. */
    sentinelConfPath?: string;
    /** The operator credentials the check logs in with (cloud-init/operatorCredentials.ts). Default OPERATOR_CREDENTIALS_FILE. */
    operatorCredentialsPath?: string;
    /** Wait for cloud-init to finish first and fail if it reports an error (VMs: yes; the lab: no). */
    waitForCloudInit: boolean;
    /** Seconds between attempts. Default 3. */
    intervalSeconds?: number;
    /** The host's own facts (cloud-init/hardeningCheck.ts), checked once; false leaves them out. Default: checked. */
    hardening?: HardeningCheckInput | false;
}

/**
 * finish ok|fail: prints the report lines, then (on fail) a FAIL line per failure, the RESULT line
 * parseCheckOutput() reads, and the failures on stderr, which is what `pulumi up` shows. Expects
 * `host`, `attempt` and the `report` and `failures` arrays.
 */
function finishFunction(what: string): string {
    return `finish() {
    printf '%s\\n' "\${report[@]}"
    if [ "$1" = ok ]; then echo "RESULT ok attempts=$attempt"; exit 0; fi
    printf 'FAIL %s\\n' "\${failures[@]}"
    echo "RESULT fail attempts=$attempt"
    { echo "redis-ha ${what} failed on $host after $attempt attempts:"; printf '  - %s\\n' "\${failures[@]}"; } >&2
    exit 1
}`;
}

/**
 * The post-deploy check, run on every Sentinel host. It retries until every Sentinel names the
 * same master, knows every replica (and no longer remembers one as a master), and passes SENTINEL
 * CKQUORUM, and that master reports every replica online with small lag, or until the deadline,
 * then names each failing node and fact. Once the cluster is healthy it judges the host itself
 * (cloud-init/hardeningCheck.ts), once: those facts do not change by waiting. The passwords are
 * read from the host's operator credentials (root only; on a host made before them, from its
 * sentinel.conf), so the command carries no secret. Output is
 * line-oriented for parseCheckOutput(); the last line is RESULT ok|fail.
 */
export function renderCheckScript(input: CheckScriptInput): string {
    if (input.sentinels.length === 0) throw new Error("the check needs at least one Sentinel");
    const q = shellQuote;
    return `#!/bin/bash
# redis-ha health check on ${input.hostName}, rendered by redis-ha. Reads; never changes anything.
set -u
host=${q(input.hostName)}
master_name=${q(input.masterName)}
sentinels=(${input.sentinels.map(q).join(" ")})
expected_replicas=${input.expectedReplicas}
data_nodes=(${(input.dataNodes ?? []).map(q).join(" ")})
max_lag=${input.maxLagSeconds}
conf=${q(input.sentinelConfPath ?? DEBIAN_PATHS.sentinelConf)}
operator_file=${q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)}
deadline=$((SECONDS + ${input.timeoutSeconds}))
interval=${input.intervalSeconds ?? 3}

oneline() { printf '%s' "$*" | tr '\\r\\n' '  ' | sed 's/  */ /g; s/ $//'; }
${finishFunction("check")}
${READ_OPERATOR_CREDENTIALS}
# A host made before the operator credentials: the passwords its sentinel.conf holds.
${READ_CONF_CREDENTIALS}
${SENTINEL_LOGIN_FUNCTIONS}
${REDIS_LOGIN_FUNCTIONS}

${input.hardening === false ? "check_hardening() { hardening_report=(); hardening_failures=(); }" : renderHardeningCheck(input.hardening)}
attempt=0
report=()
failures=()
${waitForCloudInit(input.waitForCloudInit, "$((deadline - SECONDS))", 'failures=("$host: $unfinished"); finish fail')}

while :; do
    attempt=$((attempt + 1))
    report=()
    failures=()
    masters=()
    if ! read_operator_credentials && ! read_conf_credentials; then
        failures=("$host: neither $operator_file nor $conf is readable (first boot not finished, or not run as root)")
    else
        remember_sentinel_logins
        remember_redis_logins
        for s in "\${sentinels[@]}"; do
            out=$(scli_as "$sentinel_pass" "$s" SENTINEL get-master-addr-by-name "$master_name" 2>&1)
            addr=$(printf '%s\\n' "$out" | paste -sd: -)
            if ! [[ "$addr" =~ ^[0-9a-fA-F.:]+:[0-9]+$ ]]; then
                failures+=("sentinel $s cannot name master $master_name: $(oneline "\${out:-no answer}")")
                continue
            fi
            report+=("SENTINEL $s master=$addr")
            masters+=("$s=$addr")
            # A Sentinel that does not know every replica can win the election after a crash and then find
            # no replica to promote, which stalls failover for 2 x failover-timeout.
            replicas=$(scli_as "$sentinel_pass" "$s" SENTINEL REPLICAS "$master_name" 2>&1)
            known=$(printf '%s\\n' "$replicas" | awk 'previous == "flags" && $0 == "slave" { n++ } { previous = $0 } END { print n + 0 }')
            report+=("KNOWS $s replicas=$known")
            if [ "$known" -lt "$expected_replicas" ]; then
                failures+=("sentinel $s knows $known of $expected_replicas replicas as healthy: a failover it led could find no replica to promote")
            fi
            # A Sentinel whose last INFO of a replica still said "master" (an old master that another
            # Sentinel reconfigured since) will "fix" that replica back the moment it is promoted by a
            # SENTINEL FAILOVER, and the failover stalls until failover-timeout. It rereads INFO within 10 s.
            stale=$(printf '%s\\n' "$replicas" | awk 'previous == "name" { name = $0 } previous == "role-reported" && $0 == "master" { printf "%s ", name } { previous = $0 }')
            if [ -n "$stale" ]; then
                failures+=("sentinel $s still sees replica \${stale% } as a master (role-reported master, from an INFO older than its reconfiguration): a failover now could be undone; it rereads INFO within 10 s")
            fi
            if [ \${#data_nodes[@]} -gt 0 ]; then
                foreign=$(printf '%s\\n' "$replicas" | awk 'previous == "name" { print } { previous = $0 }' | grep -vxF -f <(printf '%s\\n' "\${data_nodes[@]}") | paste -sd' ' -)
                if [ -n "$foreign" ]; then
                    failures+=("sentinel $s lists $foreign as replicas, which are not data nodes of this stack (removed nodes it still remembers; the settings rollout resets it)")
                fi
            fi
            quorum=$(scli_as "$sentinel_pass" "$s" SENTINEL CKQUORUM "$master_name" 2>&1)
            if [[ "$quorum" == OK* ]]; then
                report+=("QUORUM $s ok $(oneline "$quorum")")
            else
                report+=("QUORUM $s fail $(oneline "$quorum")")
                failures+=("sentinel $s: SENTINEL CKQUORUM fails: $(oneline "\${quorum:-no answer}")")
            fi
        done
        distinct=$(printf '%s\\n' "\${masters[@]}" | sed -n 's/^[^=]*=//p' | sort -u)
        if [ "$(printf '%s' "$distinct" | grep -c .)" -gt 1 ]; then
            failures+=("sentinels disagree on the master: $(oneline "\${masters[*]}")")
        elif [ -n "$distinct" ]; then
            master=$distinct
            info=$(rcli_as "$redis_pass" "$master" INFO replication 2>&1 | tr -d '\\r')
            role=$(printf '%s\\n' "$info" | awk -F: '$1 == "role" { print $2 }')
            if [ "$role" != master ]; then
                failures+=("master $master (named by the Sentinels) is not serving as master: $(oneline "\${role:+role:$role}\${role:-$info}")")
            else
                online=0
                while IFS= read -r line; do
                    ip=$(sed -n 's/.*ip=\\([^,]*\\).*/\\1/p' <<<"$line")
                    port=$(sed -n 's/.*port=\\([^,]*\\).*/\\1/p' <<<"$line")
                    state=$(sed -n 's/.*state=\\([^,]*\\).*/\\1/p' <<<"$line")
                    lag=$(sed -n 's/.*lag=\\([0-9]*\\).*/\\1/p' <<<"$line")
                    report+=("REPLICA $master $ip:$port state=$state lag=$lag")
                    if [ "$state" = online ] && [ "\${lag:-999999}" -le "$max_lag" ]; then
                        online=$((online + 1))
                    else
                        failures+=("replica $ip:$port of master $master: state=$state lag=\${lag:-?}s (want online, lag <= \${max_lag}s)")
                    fi
                done < <(printf '%s\\n' "$info" | grep -E '^slave[0-9]+:')
                if [ "$online" -lt "$expected_replicas" ]; then
                    failures+=("master $master sees $online of $expected_replicas replicas online")
                fi
            fi
        fi
    fi
    if [ \${#failures[@]} -eq 0 ]; then
        check_hardening
        report+=("\${hardening_report[@]}")
        failures+=("\${hardening_failures[@]}")
        # What a host is does not change by waiting: a failed fact fails at once.
        [ \${#failures[@]} -eq 0 ] && finish ok
        finish fail
    fi
    [ "$SECONDS" -ge "$deadline" ] && finish fail
    sleep "$interval"
done
`;
}

export interface HostHardeningScriptInput {
    hostName: string;
    /** Every Sentinel as "address:port". */
    sentinels: readonly string[];
    /** Every data node of the stack as "address:port". */
    dataNodes: readonly string[];
    /** Read for the Redis password on a host without operator credentials. Default: Debian's path. */
    redisConfPath?: string;
    /** Read for the Sentinel password the boot guard keeps, on a host without operator credentials. Default: the boot guard's. */
    sentinelPasswordPath?: string;
    /** The operator credentials the check logs in with (cloud-init/operatorCredentials.ts). Default OPERATOR_CREDENTIALS_FILE. */
    operatorCredentialsPath?: string;
    /** What the host's facts are judged against (where to search for readable secrets, the default user). Default: cloud-init/hardeningCheck.ts's. */
    hardening?: HardeningCheckInput;
}

/**
 * The host half of the check alone, for a data node without a Sentinel (more data nodes than
 * Sentinels), where the cluster half does not run: the same facts, judged the same way. Prints
 * HARDEN lines and RESULT ok|fail, as the check does.
 */
export function renderHostHardeningScript(input: HostHardeningScriptInput): string {
    const q = shellQuote;
    return `#!/bin/bash
# redis-ha hardening check on ${input.hostName} (a data node without a Sentinel), rendered by redis-ha. Reads; never changes anything.
set -u
host=${q(input.hostName)}
sentinels=(${input.sentinels.map(q).join(" ")})
data_nodes=(${input.dataNodes.map(q).join(" ")})
redis_conf=${q(input.redisConfPath ?? DEBIAN_PATHS.redisConf)}
# No Sentinel here: nothing of Sentinel's to judge.
conf=/nonexistent
attempt=1
report=()
${finishFunction("hardening check")}
operator_file=${q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)}
${READ_OPERATOR_CREDENTIALS}
if [ ! -r "$redis_conf" ]; then
    failures=("$host: $redis_conf is missing or unreadable (first boot not finished, or not run as root)")
    finish fail
fi
if ! read_operator_credentials; then
    # A host made before the operator credentials: its redis.conf's and the boot guard's copy.
    redis_pass=$(awk '$1 == "requirepass" { v = $2; gsub(/"/, "", v); print v; exit }' "$redis_conf")
    sentinel_pass=$(cat ${q(input.sentinelPasswordPath ?? BOOT_GUARD_PASSWORD_FILE)} 2>/dev/null || true)
fi
${REDIS_LOGIN_FUNCTIONS}
${renderHardeningCheck(input.hardening)}
check_hardening
report=("\${hardening_report[@]}")
failures=("\${hardening_failures[@]}")
[ \${#failures[@]} -eq 0 ] && finish ok
finish fail
`;
}
