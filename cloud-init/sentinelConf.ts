import { SENTINEL_ADMIN_USER, SENTINEL_CLIENT_USER, sentinelAdminSpec, sentinelClientSpec } from "../components/core/aclUsers";
import { configToken } from "../components/core/tokens";
import { DEBIAN_PATHS, RedisPaths } from "./paths";

export interface SentinelConfInput {
    hostName: string;
    zone: string;
    bindAddress: string;
    port: number;
    masterName: string;
    masterAddress: string;
    redisPort: number;
    quorum: number;
    /** What the Sentinel logs in to the Redis nodes with (auth-pass): the stack's Redis password, or redisUser's. */
    redisPassword: string;
    /**
     * The Redis user it logs in as (auth-user); default none, the default user. First boot sets the
     * Sentinels' user where default is off (the nodes it joins have that user: the rollout made it
     * before any node turned default off), and leaves it unset with legacyDefaultUser, so that a
     * Sentinel joining nodes made by an earlier redis-ha still logs in; the settings rollout then
     * moves it (SENTINEL SET auth-user auth-pass), which Sentinel saves here.
     */
    redisUser?: string;
    /**
     * The stack's Sentinel password: the admin user's, and the Sentinels' to each other; apps get the
     * client password derived from it (components/core/aclUsers.ts). Undefined runs the Sentinel
     * without auth (clients that cannot authenticate to Sentinels).
     */
    sentinelPassword: string | undefined;
    downAfterMilliseconds: number;
    failoverTimeoutMilliseconds: number;
    parallelSyncs: number;
    paths?: RedisPaths;
}

/**
 * sentinel.conf for one Sentinel. Sentinel rewrites this file itself (known replicas, other
 * Sentinels, the current epoch and master), so it is written once at first boot and never again.
 */
export function renderSentinelConf(input: SentinelConfInput): string {
    const paths = input.paths ?? DEBIAN_PATHS;
    const name = configToken("the master name", input.masterName);
    const lines = [
        `# sentinel.conf for ${input.hostName} (zone ${input.zone}), rendered by redis-ha.`,
        "# Sentinel rewrites this file at runtime. Written once at first boot; never re-render it.",
        "",
        `bind ${configToken("the bind address", input.bindAddress)} 127.0.0.1 -::1`,
        `port ${input.port}`,
        // Without a password Redis 7 refuses every non-loopback client in protected mode, the other Sentinels included.
        `protected-mode ${input.sentinelPassword === undefined ? "no" : "yes"}`,
        "daemonize no",
        `supervised ${paths.supervised}`,
        `pidfile ${paths.sentinelPid}`,
        "loglevel notice",
        `logfile ${paths.sentinelLog}`,
        `dir ${paths.sentinelDir}`,
        "",
        ...(input.sentinelPassword === undefined
            ? [
                  "# No Sentinel password (redis-ha:sentinelAuth false, for clients such as Predis 1.1 that cannot",
                  "# authenticate to Sentinels): only the firewall keeps others from reconfiguring this quorum.",
                  "",
              ]
            : [
                  "# Apps ask as default (Predis cannot name a user to a Sentinel), which may only read where the",
                  "# master is; the stack's Sentinel password is admin's, for the operators and for the Sentinels'",
                  "# logins to each other.",
                  `user ${SENTINEL_CLIENT_USER} ${sentinelClientSpec(configToken("the Sentinel password", input.sentinelPassword), "").join(" ")}`,
                  `user ${SENTINEL_ADMIN_USER} ${sentinelAdminSpec(configToken("the Sentinel password", input.sentinelPassword), "").join(" ")}`,
                  `sentinel sentinel-user ${SENTINEL_ADMIN_USER}`,
                  `sentinel sentinel-pass ${configToken("the Sentinel password", input.sentinelPassword)}`,
                  "",
              ]),
        // Announce the private address to the other Sentinels and to clients, whatever interface the packet left by.
        `sentinel announce-ip ${configToken("the bind address", input.bindAddress)}`,
        `sentinel announce-port ${input.port}`,
        `sentinel monitor ${name} ${configToken("the master address", input.masterAddress)} ${input.redisPort} ${input.quorum}`,
        ...(input.redisUser === undefined ? [] : [`sentinel auth-user ${name} ${configToken("the Redis user", input.redisUser)}`]),
        `sentinel auth-pass ${name} ${configToken("the Redis password", input.redisPassword)}`,
        `sentinel down-after-milliseconds ${name} ${input.downAfterMilliseconds}`,
        `sentinel failover-timeout ${name} ${input.failoverTimeoutMilliseconds}`,
        `sentinel parallel-syncs ${name} ${input.parallelSyncs}`,
        "sentinel resolve-hostnames no",
        "sentinel announce-hostnames no",
        // Nobody with Sentinel access may point notification scripts at arbitrary binaries.
        "sentinel deny-scripts-reconfig yes",
        "",
    ];
    return lines.join("\n");
}
