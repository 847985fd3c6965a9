import { appendOnly, savePoints } from "../components/core/runtimeSettings";
import { configToken } from "../components/core/tokens";
import type { MaxmemoryPolicy, Persistence } from "../components/core/model";
import type { RedisRole } from "../components/core/topology";
import { APP_USER, EXPORTER_REDIS_RULES, EXPORTER_REDIS_USER, OPERATOR_RULES, OPERATOR_USER, REPLICATION_USER, REPLICATION_USER_RULES, SENTINEL_USER, SENTINEL_USER_RULES, aclUserSpec, appUserRules } from "../components/core/aclUsers";
import { DEBIAN_PATHS, RedisPaths } from "./paths";

export interface RedisConfInput {
    hostName: string;
    zone: string;
    /** This node's private address (or the boot-time placeholder on clouds that assign it). */
    bindAddress: string;
    port: number;
    role: RedisRole;
    /** Required for a replica: where the master is at first boot. */
    masterAddress?: string;
    /** The master's port. Default: `port` (every node listens on the same one). */
    masterPort?: number;
    /** The stack's Redis password: the operator user's (and default's with legacyDefaultUser). */
    password: string;
    /**
     * Whether Redis's default user takes the stack's password (requirepass), for apps that log in
     * without a user name (the stack's legacyDefaultUser). Otherwise it is off: every login names a user.
     */
    legacyDefaultUser: boolean;
    /** The application's user (components/core/aclUsers.ts): its password and whether it may run scripts. */
    app: { password: string; scripting: boolean };
    /** The password of the user the Sentinels log in with (components/core/aclUsers.ts SENTINEL_USER). */
    sentinelUserPassword: string;
    /** The password of the user every node replicates as (components/core/aclUsers.ts REPLICATION_USER). */
    replicationPassword: string;
    /** The password of the user the node's exporter logs in as (components/core/aclUsers.ts EXPORTER_REDIS_USER). */
    exporterPassword: string;
    persistence: Persistence;
    maxmemory: string;
    maxmemoryPolicy: MaxmemoryPolicy;
    minReplicasToWrite: number;
    minReplicasMaxLag: number;
    /** Lower wins a failover election; 0 would mean "never promote". Default 100. */
    replicaPriority?: number;
    /** Seconds the master waits for more replicas before a diskless full sync. Default 0 (Redis has 5; docs/failover.md). */
    replDisklessSyncDelay?: number;
    paths?: RedisPaths;
}

function persistenceLines(mode: Persistence): string[] {
    const save = savePoints(mode);
    return [
        `appendonly ${appendOnly(mode)}`,
        "appendfsync everysec",
        "aof-use-rdb-preamble yes",
        // An empty save list disables snapshots; Redis 7 reads `save ""` as "no save points".
        save ? `save ${save}` : 'save ""',
        "dbfilename dump.rdb",
        "stop-writes-on-bgsave-error yes",
    ];
}

/**
 * redis.conf for one data node. Written once at first boot; after that Sentinel (via CONFIG
 * REWRITE on failover) owns the replication lines, so this must never be re-applied to a live node.
 */
export function renderRedisConf(input: RedisConfInput): string {
    const paths = input.paths ?? DEBIAN_PATHS;
    const password = configToken("the Redis password", input.password);
    if (input.role === "replica" && !input.masterAddress) throw new Error(`${input.hostName}: a replica needs the master's address`);
    const lines = [
        `# redis.conf for ${input.hostName} (zone ${input.zone}), rendered by redis-ha.`,
        "# Written once at first boot. Sentinel rewrites the replication lines on failover:",
        "# change settings with CONFIG SET + CONFIG REWRITE (docs/operations.md), never by re-rendering.",
        "",
        "# Network: the private address and loopback only; Redis must never face the Internet.",
        `bind ${configToken("the bind address", input.bindAddress)} 127.0.0.1 -::1`,
        "protected-mode yes",
        `port ${input.port}`,
        "tcp-backlog 511",
        "timeout 0",
        "tcp-keepalive 60",
        "",
        "# Process",
        "daemonize no",
        `supervised ${paths.supervised}`,
        `pidfile ${paths.redisPid}`,
        "loglevel notice",
        `logfile ${paths.redisLog}`,
        `dir ${paths.dataDir}`,
        "",
        "# Auth. Every node may become a replica, so every node logs in to its master as the replication",
        "# user, which may only replicate.",
        ...(input.legacyDefaultUser
            ? ["# default takes the stack's password (legacyDefaultUser): apps that log in without a user name.", `requirepass ${password}`]
            : ["# default is off: every login names its user (apps: app), so the stack's password opens nothing without one.", "user default reset"]),
        `masteruser ${REPLICATION_USER}`,
        `masterauth ${configToken("the replication password", input.replicationPassword)}`,
        "# The operators' user, which the checks and the day-2 scripts log in as: the stack's password, everything.",
        `user ${OPERATOR_USER} ${aclUserSpec([password], OPERATOR_RULES).join(" ")}`,
        "# The application's user: data commands, INFO and ROLE; never CONFIG, FLUSHALL, DEBUG, REPLICAOF,",
        "# ACL or SHUTDOWN. Only the SHA-256 of its password is here.",
        `user ${APP_USER} ${aclUserSpec([configToken("the app password", input.app.password)], appUserRules({ scripting: input.app.scripting })).join(" ")}`,
        "# The Sentinels' user: monitor and fail over (the Redis docs' ACL for Sentinel, on the hello channel only).",
        `user ${SENTINEL_USER} ${aclUserSpec([configToken("the Sentinels' password", input.sentinelUserPassword)], SENTINEL_USER_RULES).join(" ")}`,
        "# The replication user: PSYNC, REPLCONF, PING and ROLE (the boot guard's question), nothing else.",
        `user ${REPLICATION_USER} ${aclUserSpec([configToken("the replication password", input.replicationPassword)], REPLICATION_USER_RULES).join(" ")}`,
        "# The exporter's user: INFO, PING, SLOWLOG, LATENCY LATEST and naming its connection; no key, no CONFIG.",
        `user ${EXPORTER_REDIS_USER} ${aclUserSpec([configToken("the exporter password", input.exporterPassword)], EXPORTER_REDIS_RULES).join(" ")}`,
        "",
        "# Persistence on every node: a replica is a future master.",
        ...persistenceLines(input.persistence),
        "",
        "# Replication",
        ...(input.role === "replica" ? [`replicaof ${configToken("the master address", input.masterAddress!)} ${input.masterPort ?? input.port}`] : []),
        // The master reports a replica by the address it announces, not the connection's source address,
        // which on a multi-homed VM (public + private) or behind NAT is not the one clients should use.
        `replica-announce-ip ${configToken("the bind address", input.bindAddress)}`,
        `replica-announce-port ${input.port}`,
        `replica-priority ${input.replicaPriority ?? 100}`,
        "replica-read-only yes",
        "replica-serve-stale-data yes",
        "repl-diskless-sync yes",
        `repl-diskless-sync-delay ${input.replDisklessSyncDelay ?? 0}`,
        // An isolated master stops taking writes that a failover on the other side would discard.
        `min-replicas-to-write ${input.minReplicasToWrite}`,
        `min-replicas-max-lag ${input.minReplicasMaxLag}`,
        "",
        "# Memory",
        `maxmemory ${configToken("maxmemory", input.maxmemory)}`,
        `maxmemory-policy ${input.maxmemoryPolicy}`,
        "",
    ];
    return lines.join("\n");
}
