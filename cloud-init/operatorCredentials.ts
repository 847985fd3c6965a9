/**
 * The operator credentials: what the scripts that run on a host as root without the stack's
 * passwords on their stdin (the post-deploy check, the host hardening check, the handoff and the
 * switchover) log in to Redis and Sentinel with. One root-only file per host, written at first boot
 * and kept the stack's by the credentials step on every `pulumi up` that changes a password.
 *
 * Before it, those scripts took the admin passwords out of sentinel.conf (`auth-pass`,
 * `requirepass`) and redis.conf (`masterauth`, `requirepass`). That ties the configs to the admin
 * password: a Sentinel's `auth-pass` could never become a Sentinel user's, nor `masterauth` a
 * replication user's, without the scripts losing their login (docs/security.md, "Decided for the
 * remaining users"). A host made by an earlier redis-ha has no file until its credentials step runs;
 * the scripts then fall back to the configs.
 *
 * The settings rollout reads neither, on purpose: it has the stack's passwords on stdin and asks the
 * nodes and the Sentinels which of them they accept, so a credentials step that failed after a
 * rotation's first step cannot leave it logging in with a stale file. (Run by hand without them, it
 * uses this file like the others.)
 */
import { APP_USER, EXPORTER_REDIS_USER, REPLICATION_USER, SENTINEL_CLIENT_USER, SENTINEL_USER, appPassword, exporterPassword, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../components/core/aclUsers";
import { configToken } from "../components/core/tokens";

export const OPERATOR_CREDENTIALS_FILE = "/etc/redis-ha/operator.conf";

export interface OperatorCredentials {
    /** The stack's Redis password (the data nodes' default user). */
    redisPassword: string;
    /** The stack's Sentinel password; "" for Sentinels without auth (redis-ha:sentinelAuth false). */
    sentinelPassword: string;
}

const KEYS = { redisPassword: "redis-password", sentinelPassword: "sentinel-password" } as const;

/**
 * The file: one `key value` line per password, no quoting. Passwords are config tokens already (no
 * whitespace, quotes or control characters: passwordPolicy.ts); one that is not is refused here
 * rather than written as a line that reads back as something else.
 */
export function renderOperatorCredentials(credentials: OperatorCredentials): string {
    const lines = ["# redis-ha operator credentials (cloud-init/operatorCredentials.ts): root only, read by the checks, the handoff and the switchover."];
    for (const key of Object.keys(KEYS) as Array<keyof typeof KEYS>) {
        const value = credentials[key];
        if (value === "") continue;
        lines.push(`${KEYS[key]} ${configToken(`the operator credentials' ${KEYS[key]}`, value)}`);
    }
    // What this host's files may hold besides the two above (the boot guard's and the exporters'
    // copies): the check searches world-readable files for these too. Nothing logs in with them.
    lines.push(...derivedPasswords(credentials).map(([user, password]) => `${DERIVED_KEY} ${user} ${password}`));
    return lines.join("\n") + "\n";
}

const DERIVED_KEY = "derived-password";

/** The passwords derived from the stack's (components/core/aclUsers.ts), by the user they are for. */
function derivedPasswords(credentials: OperatorCredentials): Array<[string, string]> {
    return [
        ...(credentials.redisPassword === "" ? [] : [[APP_USER, appPassword(credentials.redisPassword)], [SENTINEL_USER, sentinelUserPassword(credentials.redisPassword)], [REPLICATION_USER, replicationPassword(credentials.redisPassword)], [EXPORTER_REDIS_USER, exporterPassword(credentials.redisPassword)]] as Array<[string, string]>),
        ...(credentials.sentinelPassword === "" ? [] : [[`sentinel-${SENTINEL_CLIENT_USER}`, sentinelClientPassword(credentials.sentinelPassword)]] as Array<[string, string]>),
    ];
}

/**
 * Bash: reads the operator file named by $operator_file into redis_pass and sentinel_pass (and the
 * derived passwords, one per line, into derived_passes) and returns 0, or returns 1 (setting
 * nothing) when it is absent or unreadable. A file without a sentinel-password line means Sentinels
 * without auth; one written before the derived lines has none of them.
 */
export const READ_OPERATOR_CREDENTIALS = `read_operator_credentials() {
    [ -n "\${operator_file:-}" ] && [ -r "$operator_file" ] || return 1
    redis_pass=$(awk '$1 == "${KEYS.redisPassword}" { print $2; exit }' "$operator_file")
    sentinel_pass=$(awk '$1 == "${KEYS.sentinelPassword}" { print $2; exit }' "$operator_file")
    # shellcheck disable=SC2034 # read by the hardening check, in the scripts that have one
    derived_passes=$(awk '$1 == "${DERIVED_KEY}" { print $3 }' "$operator_file")
}`;
