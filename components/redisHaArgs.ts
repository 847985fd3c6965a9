// Generated from components/core/settingsSchema.ts by scripts/gen-pulumi-yaml.ts --redis-ha-args; edit the schema, not this file.
import type * as pulumi from "@pulumi/pulumi";

/** Where to deploy: ovh (OVHcloud Public Cloud, OpenStack), digitalocean, or lab (network namespaces on this machine). Default "ovh". */
export enum Cloud { Ovh = "ovh", Digitalocean = "digitalocean", Lab = "lab" }

/** colocated: a Sentinel beside each Redis node (no extra VMs); dedicated: Sentinels on small VMs of their own. Default "colocated". */
export enum SentinelPlacement { Colocated = "colocated", Dedicated = "dedicated" }

/** Eviction policy: noeviction for sessions/data, allkeys-lru for a pure cache. Default "noeviction". */
export enum MaxmemoryPolicy { Noeviction = "noeviction", AllkeysLru = "allkeys-lru", AllkeysLfu = "allkeys-lfu", AllkeysRandom = "allkeys-random", VolatileLru = "volatile-lru", VolatileLfu = "volatile-lfu", VolatileRandom = "volatile-random", VolatileTtl = "volatile-ttl" }

/** aof+rdb (AOF everysec plus snapshots), aof, rdb or none, on every node. Default "aof+rdb". */
export enum Persistence { AofRdb = "aof+rdb", Aof = "aof", Rdb = "rdb", None = "none" }

/** Address the checks SSH to: public, or private (when pulumi runs inside the private network). Default "public". */
export enum SshVia { Public = "public", Private = "private" }

/** OVHcloud's own settings (cloud ovh). */
export interface RedisHaOvhArgs {
    /** OVHcloud Public Cloud project id (service name). Required for cloud ovh. */
    projectId: string;
    /** vRack VLAN id of the private network (ovh). Default 0. */
    vlanId?: number;
}

/** The lab's own settings (cloud lab). */
export interface RedisHaLabArgs {
    /** Lab id: names the lab's link into this machine's network namespace and its state directory (1-12 lowercase letters, digits or '-'). Default: the component's name, made to fit. */
    id?: string;
}

/** A whole redis-ha deployment: every stack setting as an arg of the same name, checked by the same rules. */
export interface RedisHaArgs {
    /** OVHcloud's own settings: required for cloud ovh. */
    ovh?: RedisHaOvhArgs;
    /** The lab's own settings (cloud lab). */
    lab?: RedisHaLabArgs;
    /** Where to deploy: ovh (OVHcloud Public Cloud, OpenStack), digitalocean, or lab (network namespaces on this machine). Default "ovh". */
    cloud?: Cloud;
    /** OVHcloud region, or the DigitalOcean datacenter that holds the master. Default: EU-WEST-PAR (ovh), nyc3 (digitalocean). */
    region?: string;
    /** Availability zones to spread over (ovh), or DigitalOcean datacenters joined by VPC peering. Default: every zone of the region (ovh); [region] (digitalocean). */
    zones?: string[];
    /** Replicas of the master (1 to 8). Each is a failover candidate. Default 2. */
    replicaCount?: number;
    /** Redis Sentinels: odd, 3 or more, so a majority survives any single loss. Default 3. */
    sentinelCount?: number;
    /** colocated: a Sentinel beside each Redis node (no extra VMs); dedicated: Sentinels on small VMs of their own. Default "colocated". */
    sentinelPlacement?: SentinelPlacement;
    /** Sentinels that must agree the master is down; between a majority and sentinelCount. Default: a majority of sentinelCount. */
    quorum?: number;
    /** Silence after which a Sentinel considers a node down. 1500 was chosen from 50 crash drills and a 10-minute soak (docs/failover.md); below it risks false failovers. Default 1500. */
    downAfterMilliseconds?: number;
    /** Sentinel failover-timeout; must exceed downAfterMilliseconds. When the Sentinels split their vote (two left after a host loss can each vote for itself), the next election waits twice this, so it is what such a failover costs on top (docs/failover.md). Default 10000. */
    failoverTimeoutMilliseconds?: number;
    /** Replicas resynchronising with a new master at once (1 keeps the others serving reads). Default 1. */
    parallelSyncs?: number;
    /** Flavor (ovh) or droplet size (digitalocean) of the Redis nodes. A new one replaces the nodes one at a time (ovh; refused on digitalocean). Default: b3-8 (ovh), s-2vcpu-4gb (digitalocean). */
    instanceType?: string;
    /** Flavor or size of dedicated Sentinel VMs (placement dedicated only). Default: d2-2 (ovh), s-1vcpu-1gb (digitalocean). */
    sentinelInstanceType?: string;
    /** Debian 12 image name (ovh) or slug (digitalocean). A new one replaces the nodes one at a time (ovh; refused on digitalocean). Default: Debian 12 (ovh), debian-12-x64 (digitalocean). */
    image?: string;
    /** The image's login user, used by the post-deploy checks, the settings rollout and the handoffs. Default: debian (ovh), root (digitalocean). */
    sshUser?: string;
    /** OpenSSH public keys allowed to log in (ssh-ed25519, ssh-rsa or ecdsa-sha2-*). Required on ovh and digitalocean; the lab adds a key it generates. */
    sshPublicKeys?: string[];
    /** IPv4 CIDRs allowed to reach SSH (22): operators and the machine that runs pulumi up. */
    adminCidrs: string[];
    /** IPv4 CIDRs of the application servers allowed to reach Redis and Sentinel. */
    appCidrs: string[];
    /** IPv4 CIDRs of the Prometheus servers allowed to scrape the exporters (9121 for Redis, 9122 for Sentinel; docs/monitoring.md). Default: adminCidrs. */
    monitoringCidrs?: string[];
    /** Explicit opt-in to a port open to more than 65,536 public IPv4 addresses (a /16's worth, counted over every block that reaches it, however split; 0.0.0.0/0 is 3.7 billion). Leave false. Default false. */
    allowWorldAccess?: boolean;
    /** Private network for the nodes; fixed addresses start at .11 (ovh). Split per datacenter on digitalocean. Default "10.42.0.0/24". */
    privateNetworkCidr?: string;
    /** Redis maxmemory: bytes or a size such as 512mb or 3gb; 0 means no limit. Default "0". */
    maxmemory?: string;
    /** Eviction policy: noeviction for sessions/data, allkeys-lru for a pure cache. Default "noeviction". */
    maxmemoryPolicy?: MaxmemoryPolicy;
    /** aof+rdb (AOF everysec plus snapshots), aof, rdb or none, on every node. Default "aof+rdb". */
    persistence?: Persistence;
    /** The master refuses writes unless this many replicas are connected (0 disables). Default 1. */
    minReplicasToWrite?: number;
    /** Seconds of replica silence after which it stops counting for minReplicasToWrite; bounds what a master cut off from its replicas acknowledges and then loses (3 halved it against 10, docs/failover.md). Default 3. */
    minReplicasMaxLag?: number;
    /** Seconds a master waits for more replicas before a full sync (repl-diskless-sync-delay). 0 starts at once: at 5, 4 of 10 planned switchovers refused writes 4-6 s longer while a replica waited to resync (docs/failover.md). Default 0. */
    replDisklessSyncDelay?: number;
    /** The app user may run Lua scripts and functions (EVAL, EVALSHA, FCALL, SCRIPT, FUNCTION): ioredis's defineCommand and the WordPress plugin's selective flush need them. false takes scripting from a leaked app password (CVE-2025-49844 was a Lua bug); rolled out by ACL SETUSER. Default true. */
    appScripting?: boolean;
    /** Keep Redis's default user on, with redisPassword, for apps that still log in without a user name. false (the default) turns it off on every node: a new node boots with it off, and a running deployment's next pulumi up turns it off, replicas first, after the credentials steps, refusing (and changing nothing) while any node shows a connection running commands as default, named by its address. Set true only while such apps move to clientEnvironment's user (REDIS_USERNAME, REDIS_PASSWORD); rolled out by ACL SETUSER default. Default false. */
    legacyDefaultUser?: boolean;
    /** The name Sentinel and clients use for this master (letters, digits, . _ -). Default "redis-ha". */
    masterName?: string;
    /** Redis port. Default 6379. */
    redisPort?: number;
    /** Sentinel port. Default 26379. */
    sentinelPort?: number;
    /** Run the post-deploy health checks over SSH; pulumi up fails if they fail. Default true. */
    checks?: boolean;
    /** How long the checks wait for a healthy quorum (first boot installs packages). Default 600. */
    checkTimeoutSeconds?: number;
    /** Address the checks SSH to: public, or private (when pulumi runs inside the private network). Default "public". */
    sshVia?: SshVia;
    /** How the hosts get their passwords. ssh: the user-data carries none (the cloud keeps it and shows it through its API, and any process on the VM can read it from the metadata service); each host's configs wait, with tokens where the passwords go, until pulumi up delivers them over the checks' SSH right after the host is created, and only then install and start. user-data: the passwords travel in the user-data, as before 0.2.0; the only choice when checks is false. Applies to hosts created from now on; a running host keeps what it booted with. Default: ssh (user-data when checks is false). */
    secretsDelivery?: string;
    /** Password of Redis's operator user (and of default with legacyDefaultUser): the operators', the checks' and rollouts'; the app's, the Sentinels', replication's and the exporters' passwords are derived from it. 16-128 characters, no whitespace, quotes, backslash or #. A secret. */
    redisPassword: pulumi.Input<string>;
    /** The Redis password being rotated out. To rotate, set this to the password the nodes run now and redisPassword to the new one: pulumi up makes every node accept both and moves replication and the Sentinels to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one. A secret. */
    previousRedisPassword?: pulumi.Input<string>;
    /** Sentinels require sentinelPassword. false only for clients that cannot authenticate to Sentinels (Predis 1.1); the firewall is then all that guards them. Default true. */
    sentinelAuth?: boolean;
    /** Password of the Sentinels' admin user: the operators', the checks' and rollouts', and the Sentinels' to each other. Apps get a client password derived from it (clientEnvironment), which may only ask where the master is. Same rules as redisPassword; must differ from it. Leave unset with sentinelAuth false. Default: required while sentinelAuth is true. A secret. */
    sentinelPassword?: pulumi.Input<string>;
    /** The Sentinel password being rotated out. To rotate, set this to the password the Sentinels run now and sentinelPassword to the new one: pulumi up makes every Sentinel accept both and moves the Sentinels' logins to each other to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one. A secret. */
    previousSentinelPassword?: pulumi.Input<string>;
    /** Private key the checks use; without it they use the ssh-agent at SSH_AUTH_SOCK. A secret. */
    sshPrivateKey?: pulumi.Input<string>;
}
