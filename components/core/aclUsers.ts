/**
 * The application's own ACL user on the Redis nodes, and the Sentinels' (below). The stack's Redis
 * password stays with the operators and the machinery (replication, the checks and rollouts); apps get
 * a user that can read and write data, and nothing that changes or stops the servers. A leaked
 * application secret is then a leaked dataset, not a leaked cluster: it cannot CONFIG SET, FLUSHALL,
 * DEBUG, REPLICAOF, SHUTDOWN, change ACLs, or forge the Sentinels' hello messages.
 *
 * Its password is derived from the stack's (HMAC-SHA256 with a label), so a stack keeps its secrets,
 * a rotation of redisPassword rotates the app user with it, and the app password does not reveal the
 * stack's. Redis only ever sees its SHA-256 (`#` in an ACL rule), so the config files on the nodes
 * hold no app password in the clear.
 *
 * On the Sentinels (the end of this file), Predis 2 (and so the WordPress plugin, which bundles it)
 * drops any user name it is given for a Sentinel (SentinelReplication::createSentinelConnection sets
 * it to null), so the apps' restricted user there is Sentinel's `default`, and the operators and the
 * Sentinels' logins to each other use a named user, `admin`.
 */
import { createHash, createHmac } from "crypto";

/** The application's user on the Redis nodes. */
export const APP_USER = "app";

/**
 * Pub/Sub channels the app may use: every channel but those starting with "__", where the Sentinels
 * talk (`__sentinel__:hello`, whose messages carry the master's address and epoch: a forged one could
 * point Sentinels elsewhere), apart from keyspace notifications, which apps do subscribe to.
 */
export const APP_CHANNELS = ["[^_]*", "_[^_]*", "__keyspace@*", "__keyevent@*"] as const;

/**
 * Commands of Redis's @dangerous category the clients need: ioredis's ready check runs INFO, the
 * phpredis helper and Predis check ROLE, and the WordPress plugin flushes its cache with FLUSHDB (no
 * more than the DEL of every key the app may already do). FLUSHALL, CONFIG, DEBUG, REPLICAOF, ACL,
 * SHUTDOWN, KEYS, MONITOR, CLIENT KILL/LIST/PAUSE and the rest of @dangerous stay refused.
 */
export const APP_DANGEROUS_ALLOWED = ["info", "role", "flushdb"] as const;

export interface AppUserOptions {
    /** EVAL, EVALSHA, FUNCTION and SCRIPT for the app (the stack's appScripting). */
    scripting: boolean;
}

/** The app user's rules on a Redis node, without its passwords. */
export function appUserRules(options: AppUserOptions): string[] {
    return [
        "~*", "resetchannels", ...APP_CHANNELS.map((c) => `&${c}`),
        "+@all", "-@dangerous", ...APP_DANGEROUS_ALLOWED.map((c) => `+${c}`),
        // Lua ran CVE-2025-49844 and its kin; turning scripting off takes that surface from a leaked app secret.
        ...(options.scripting ? [] : ["-@scripting"]),
    ];
}

/**
 * A user's password, derived from the stack's Redis password (HMAC-SHA256 with a label naming the
 * user). Base64url, so it passes the password rules and needs no quoting in a config line, a URI or
 * an environment variable.
 */
export function derivedPassword(redisPassword: string, user: string): string {
    if (redisPassword === "") throw new Error(`the ${user} user's password is derived from the stack's Redis password, which is empty`);
    return createHmac("sha256", redisPassword).update(`redis-ha/redis/${user}`).digest("base64url");
}

/** The app user's password. */
export function appPassword(redisPassword: string): string {
    return derivedPassword(redisPassword, APP_USER);
}

/** The form Redis keeps a password in (ACL LIST shows it; `#` sets it without the password itself). */
export function aclPasswordHash(password: string): string {
    return createHash("sha256").update(password).digest("hex");
}

/**
 * The rules that define a user in full, for a `user` line in redis.conf or for ACL
 * SETUSER (which takes the same words after the name): `reset` first, so the result never depends on
 * what the user was before; one `#hash` per accepted password (two while a rotation is under way).
 */
export function aclUserSpec(passwords: readonly string[], rules: readonly string[]): string[] {
    if (passwords.length === 0) throw new Error("an ACL user needs at least one password");
    return ["reset", "on", ...passwords.map((p) => `#${aclPasswordHash(p)}`), ...rules];
}

/**
 * What ACL SETUSER takes after the app user's name on every data node: while redisPassword is being
 * rotated (previousRedisPassword set, "" otherwise), the app user accepts the app passwords derived
 * from both, so apps move at their own pace, as they do with the stack's.
 */
export function appUserSpec(redisPassword: string, previousRedisPassword: string, scripting: boolean): string[] {
    return aclUserSpec([redisPassword, previousRedisPassword].filter((p) => p !== "").map(appPassword), appUserRules({ scripting }));
}

/**
 * The user the Sentinels log in to the Redis nodes with (`sentinel auth-user`): what the Redis docs
 * give Sentinel (monitor with INFO, PING and ROLE, talk on the hello channel, fail over with MULTI,
 * SLAVEOF, CONFIG REWRITE, CLIENT KILL and EXEC, and SCRIPT KILL for a busy master), with its
 * channels narrowed to `__sentinel__:hello`, the only one Sentinel uses. It cannot read or write a
 * key, CONFIG SET, FLUSHALL, DEBUG, change an ACL or SHUTDOWN: a leaked Sentinel login can fail the
 * cluster over, and nothing more.
 */
export const SENTINEL_USER = "sentinel";

export const SENTINEL_USER_RULES = [
    "resetchannels", "&__sentinel__:hello",
    "+ping", "+info", "+role", "+subscribe", "+publish", "+client|setname",
    "+multi", "+exec", "+slaveof", "+config|rewrite", "+client|kill", "+script|kill",
] as const;

/** The Sentinels' password on the Redis nodes. */
export function sentinelUserPassword(redisPassword: string): string {
    return derivedPassword(redisPassword, SENTINEL_USER);
}

/** What ACL SETUSER takes after the Sentinels' user name; both derived passwords during a rotation. */
export function sentinelUserSpec(redisPassword: string, previousRedisPassword: string): string[] {
    return aclUserSpec([redisPassword, previousRedisPassword].filter((p) => p !== "").map(sentinelUserPassword), SENTINEL_USER_RULES);
}

/**
 * The user every data node logs in to its master with (`masteruser`): what the Redis docs give a
 * replica (PSYNC, REPLCONF, PING), and ROLE, which the boot guard asks a named master with this
 * login before it follows it. It reads and writes no key and changes nothing: a leaked replication
 * login (masterauth sits in every redis.conf) can stream a copy of the data, which any replica can,
 * and no longer reconfigure, flush or stop the cluster, as the stack's password could.
 */
export const REPLICATION_USER = "replica";

export const REPLICATION_USER_RULES = ["+psync", "+replconf", "+ping", "+role"] as const;

/** The replication password, derived from the stack's Redis password. */
export function replicationPassword(redisPassword: string): string {
    return derivedPassword(redisPassword, REPLICATION_USER);
}

/** What ACL SETUSER takes after the replication user's name; both derived passwords during a rotation. */
export function replicationUserSpec(redisPassword: string, previousRedisPassword: string): string[] {
    return aclUserSpec([redisPassword, previousRedisPassword].filter((p) => p !== "").map(replicationPassword), REPLICATION_USER_RULES);
}

/**
 * The operators' own user on the data nodes, and the one the checks, the rollouts, the switchover and
 * the handoff log in as: everything, with the stack's Redis password itself (default's too, for now).
 * With every machine login on a user of its own, `default` is left to apps made before the app
 * user, and can be turned off once none is (docs/security.md).
 */
export const OPERATOR_USER = "operator";

export const OPERATOR_RULES = ["allkeys", "allchannels", "+@all"] as const;

/** What ACL SETUSER takes after the operator user's name: the stack's password, and the previous one during a rotation. */
export function operatorUserSpec(redisPassword: string, previousRedisPassword: string): string[] {
    return aclUserSpec([redisPassword, previousRedisPassword].filter((p) => p !== ""), OPERATOR_RULES);
}

/**
 * The user the Redis exporter beside each node logs in as (Debian's prometheus-redis-exporter reads
 * it from REDIS_USER): what exporter 1.45 runs for its metrics, found by running it against a user
 * with no commands and reading ACL LOG (INFO, PING, CLIENT SETNAME, LATENCY LATEST, SLOWLOG GET and
 * LEN). Not CONFIG GET, which the exporter's config metrics would use: it shows masterauth in the
 * clear. No key, no channel: a leaked exporter login (its file is readable by the prometheus group)
 * reads what INFO shows, and nothing else.
 */
export const EXPORTER_REDIS_USER = "exporter";

export const EXPORTER_REDIS_RULES = ["resetchannels", "-@all", "+ping", "+info", "+client|setname", "+latency|latest", "+slowlog|get", "+slowlog|len"] as const;

/** The Redis exporter's password, derived from the stack's Redis password. */
export function exporterPassword(redisPassword: string): string {
    return derivedPassword(redisPassword, EXPORTER_REDIS_USER);
}

/** What ACL SETUSER takes after the exporter user's name; both derived passwords during a rotation. */
export function exporterUserSpec(redisPassword: string, previousRedisPassword: string): string[] {
    return aclUserSpec([redisPassword, previousRedisPassword].filter((p) => p !== "").map(exporterPassword), EXPORTER_REDIS_RULES);
}

/**
 * On the Sentinels: the user that holds the stack's sentinelPassword and may do everything, for the
 * scripts (checks, rollouts, handoffs, switchovers) and for the Sentinels' logins to each other
 * (`sentinel sentinel-user`/`sentinel-pass`). Apps never get its password.
 */
export const SENTINEL_ADMIN_USER = "admin";

export const SENTINEL_ADMIN_RULES = ["allkeys", "allchannels", "+@all"] as const;

/**
 * On the Sentinels, `default` is the apps' user, because Predis 2 (and the WordPress plugin, which
 * bundles it) cannot send a user name to a Sentinel. It may ask where the master and the replicas
 * are and hear of a failover (+switch-master, ioredis's failover detector), and read Sentinel's state
 * as the Sentinel exporter does (INFO, SENTINEL MASTERS and CKQUORUM, naming its connection). It
 * cannot change anything: no SENTINEL SET, MONITOR, REMOVE, FAILOVER, RESET, CONFIG SET or
 * IS-MASTER-DOWN-BY-ADDR (a vote), no PUBLISH (a forged hello could point the Sentinels elsewhere),
 * no ACL, CLIENT KILL or SHUTDOWN. A leaked app secret can then no longer point the apps at a master
 * of the attacker's choosing.
 */
export const SENTINEL_CLIENT_USER = "default";

export const SENTINEL_CLIENT_RULES = [
    "resetchannels", "&+switch-master", "-@all",
    "+ping", "+auth", "+hello", "+subscribe", "+unsubscribe",
    "+sentinel|get-master-addr-by-name", "+sentinel|sentinels", "+sentinel|replicas", "+sentinel|slaves",
    "+info", "+client|setname", "+sentinel|masters", "+sentinel|ckquorum",
] as const;

/** The apps' password on the Sentinels, derived from the stack's sentinelPassword, which it does not reveal. */
export function sentinelClientPassword(sentinelPassword: string): string {
    if (sentinelPassword === "") throw new Error("the Sentinels' client password is derived from the stack's Sentinel password, which is empty");
    return createHmac("sha256", sentinelPassword).update("redis-ha/sentinel/default").digest("base64url");
}

/**
 * What ACL SETUSER takes after `default` on a Sentinel: the client passwords derived from the stack's
 * Sentinel passwords (both during a rotation) and, on a deployment made before this user, any other
 * password `default` still takes (the rollout keeps those until a rotation's second step).
 */
export function sentinelClientSpec(sentinelPassword: string, previousSentinelPassword: string): string[] {
    return aclUserSpec([sentinelPassword, previousSentinelPassword].filter((p) => p !== "").map(sentinelClientPassword), SENTINEL_CLIENT_RULES);
}

/** What ACL SETUSER takes after the admin user's name on a Sentinel: the stack's Sentinel passwords. */
export function sentinelAdminSpec(sentinelPassword: string, previousSentinelPassword: string): string[] {
    return aclUserSpec([sentinelPassword, previousSentinelPassword].filter((p) => p !== ""), SENTINEL_ADMIN_RULES);
}

/**
 * The environment the client snippets read (clientEnvironment): the app user and its password, and
 * the Sentinels' client password (none when the Sentinels run without auth). Secret.
 */
export function clientEnvironmentOf(redisPassword: string, sentinelPassword: string): Record<string, string> {
    return {
        REDIS_USERNAME: APP_USER,
        REDIS_PASSWORD: appPassword(redisPassword),
        ...(sentinelPassword === "" ? {} : { REDIS_SENTINEL_PASSWORD: sentinelClientPassword(sentinelPassword) }),
    };
}
