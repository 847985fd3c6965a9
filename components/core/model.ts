/**
 * The deployment model: what the renderers (redis.conf, sentinel.conf, cloud-config, the scripts)
 * take, whoever produced it. The stack config and the component args are both validated into it by
 * the settings model (settingsSchema.ts, settingRules.ts); nothing here knows where a value came from.
 */

export type SentinelPlacement = "colocated" | "dedicated";
export const SENTINEL_PLACEMENTS: readonly SentinelPlacement[] = ["colocated", "dedicated"];
export type Persistence = "aof+rdb" | "aof" | "rdb" | "none";
export const PERSISTENCE_MODES: readonly Persistence[] = ["aof+rdb", "aof", "rdb", "none"];
export type MaxmemoryPolicy =
    | "noeviction" | "allkeys-lru" | "allkeys-lfu" | "allkeys-random"
    | "volatile-lru" | "volatile-lfu" | "volatile-random" | "volatile-ttl";
export const MAXMEMORY_POLICIES: readonly MaxmemoryPolicy[] = [
    "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
    "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
];
export type SshVia = "public" | "private";
export const SSH_VIA: readonly SshVia[] = ["public", "private"];
/** How a host's passwords reach it: a delivery over SSH after boot, or the user-data (cloud-init/secretDelivery.ts). */
export type SecretsDelivery = "ssh" | "user-data";
export const SECRETS_DELIVERY_MODES: readonly SecretsDelivery[] = ["ssh", "user-data"];

/** The settings a running deployment takes without a restart (CONFIG SET, SENTINEL SET). */
export interface RuntimeConfig {
    persistence: Persistence;
    maxmemory: string;
    maxmemoryPolicy: MaxmemoryPolicy;
    minReplicasToWrite: number;
    minReplicasMaxLag: number;
    replDisklessSyncDelay: number;
    /** The app user may run scripts (EVAL, EVALSHA, FUNCTION, SCRIPT); an ACL rule, rolled out by ACL SETUSER. */
    appScripting: boolean;
    /** Redis's default user stays on with the stack's password (apps without a user name); off otherwise. Rolled out by ACL SETUSER default. */
    legacyDefaultUser: boolean;
    downAfterMilliseconds: number;
    failoverTimeoutMilliseconds: number;
    parallelSyncs: number;
    quorum: number;
}

/** Everything a host's files depend on apart from the plan: one deployment's Redis and Sentinel settings. */
export interface DeploymentConfig extends RuntimeConfig {
    masterName: string;
    redisPort: number;
    sentinelPort: number;
    sshPublicKeys: readonly string[];
    /** Sentinels whose addresses are known when rendering ("address:port"), for the boot guard; [] where the cloud assigns addresses. */
    knownSentinels: readonly string[];
    /** ssh: the user-data carries tokens for the passwords, and a delivery over SSH puts them in place; user-data: it carries them. */
    secretsDelivery: SecretsDelivery;
}

export interface DeploymentSecrets {
    redisPassword: string;
    /** "" when the Sentinels run without auth (sentinelAuth false). */
    sentinelPassword: string;
}

/** What deploymentConfigOf needs from validated settings: the stack's and the component's resolved settings both have it. */
export type DeploymentSettings = Omit<RuntimeConfig, "quorum"> & Pick<DeploymentConfig, "masterName" | "redisPort" | "sentinelPort" | "secretsDelivery"> & {
    sshPublicKeys?: readonly string[];
};

/**
 * The one way validated settings and a plan become the renderers' model, so the lab and the
 * component cannot render the same settings two ways. maxmemory is lowercased because Redis reads
 * it back lowercased (CONFIG GET), and the day-2 rollout compares the two.
 */
export function deploymentConfigOf(
    settings: DeploymentSettings,
    plan: { quorum: number; sentinels: ReadonlyArray<{ privateAddress?: string }> },
): DeploymentConfig {
    return {
        masterName: settings.masterName,
        redisPort: settings.redisPort,
        sentinelPort: settings.sentinelPort,
        quorum: plan.quorum,
        persistence: settings.persistence,
        maxmemory: settings.maxmemory.toLowerCase(),
        maxmemoryPolicy: settings.maxmemoryPolicy,
        minReplicasToWrite: settings.minReplicasToWrite,
        minReplicasMaxLag: settings.minReplicasMaxLag,
        replDisklessSyncDelay: settings.replDisklessSyncDelay,
        appScripting: settings.appScripting,
        legacyDefaultUser: settings.legacyDefaultUser,
        downAfterMilliseconds: settings.downAfterMilliseconds,
        failoverTimeoutMilliseconds: settings.failoverTimeoutMilliseconds,
        parallelSyncs: settings.parallelSyncs,
        sshPublicKeys: settings.sshPublicKeys ?? [],
        // Only where addresses are planned: a cloud that assigns them leaves the boot guard to discover Sentinels.
        knownSentinels: plan.sentinels.filter((h) => h.privateAddress).map((h) => `${h.privateAddress}:${settings.sentinelPort}`),
        secretsDelivery: settings.secretsDelivery,
    };
}
