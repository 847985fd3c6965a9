/**
 * The settings model: one entry per setting, with its type, default, bounds, what each component
 * calls it, and the words users read. Pulumi.yaml's `config:` block and the README's config table
 * are generated from it (scripts/gen-pulumi-yaml.ts; tests/unit/projectFiles.test.ts fails on drift);
 * the stack config parser (settings.ts) and the component args (replicaSetSettings.ts) are both checked
 * by it and by the same rules (settingRules.ts, passwordPolicy.ts).
 */
import { CLOUDS, Cloud } from "./regions";
import {
    MAXMEMORY_POLICIES, MaxmemoryPolicy, PERSISTENCE_MODES, Persistence, SECRETS_DELIVERY_MODES, SENTINEL_PLACEMENTS, SSH_VIA, SecretsDelivery, SentinelPlacement, SshVia,
} from "./model";

export const CONFIG_NAMESPACE = "redis-ha";

/** The components whose args carry settings, as the error messages name them. */
export type ComponentName = "RedisReplicaSet" | "SentinelQuorum" | "FirewallRules" | "OvhPlatform";

/** Validated, defaulted stack settings. Passwords are plain here; index.ts wraps them as secrets at once. */
export interface StackSettings {
    cloud: Cloud;
    region: string;
    zones: string[];
    replicaCount: number;
    sentinelCount: number;
    sentinelPlacement: SentinelPlacement;
    quorum: number;
    downAfterMilliseconds: number;
    failoverTimeoutMilliseconds: number;
    parallelSyncs: number;
    instanceType: string;
    sentinelInstanceType: string;
    image: string;
    sshUser: string;
    sshPublicKeys: string[];
    adminCidrs: string[];
    appCidrs: string[];
    /** Where Prometheus scrapes the exporters from; adminCidrs when unset. */
    monitoringCidrs: string[];
    allowWorldAccess: boolean;
    privateNetworkCidr: string;
    maxmemory: string;
    maxmemoryPolicy: MaxmemoryPolicy;
    persistence: Persistence;
    minReplicasToWrite: number;
    minReplicasMaxLag: number;
    replDisklessSyncDelay: number;
    appScripting: boolean;
    legacyDefaultUser: boolean;
    masterName: string;
    redisPort: number;
    sentinelPort: number;
    checks: boolean;
    checkTimeoutSeconds: number;
    sshVia: SshVia;
    secretsDelivery: SecretsDelivery;
    ovhProjectId?: string;
    ovhVlanId: number;
    redisPassword: string;
    /** The password being rotated out, accepted beside redisPassword until unset. */
    previousRedisPassword?: string;
    sentinelAuth: boolean;
    /** "" when sentinelAuth is false. */
    sentinelPassword: string;
    /** The Sentinel password being rotated out, accepted beside sentinelPassword until unset. */
    previousSentinelPassword?: string;
    sshPrivateKey?: string;
}

export type SettingKey = keyof StackSettings;
type SchemaType = "string" | "integer" | "boolean" | "array";

export interface SettingSchema {
    key: SettingKey;
    type: SchemaType;
    description: string;
    /** Static default, also declared in Pulumi.yaml. Absent when it depends on other settings or is required. */
    default?: string | number | boolean;
    /** Shown in docs when the default depends on other settings. */
    defaultText?: string;
    /** Integers: the bounds, inclusive. */
    min?: number;
    max?: number;
    /** Strings with a fixed set of values. */
    allowed?: readonly string[];
    /** Free strings: what they must look like, and how a problem describes that. */
    pattern?: RegExp;
    what?: string;
    /** The value a fix suggests when there is no default (a placeholder the user replaces). */
    example?: string;
    /** The arg that carries this setting, per component ("redis.minReplicasToWrite" is args.redis.minReplicasToWrite). */
    args?: Partial<Record<ComponentName, string>>;
    secret?: boolean;
    required?: boolean;
}

/**
 * The Pulumi CLI treats a project setting declared without a default as required, and refuses to
 * run before the program can explain anything. So every setting declares one; for settings whose
 * real default depends on others (the cloud, the Sentinel count) or that have none, it is this
 * "unset" value, which validation reads as "not set".
 */
export function unsetValue(schema: SettingSchema): string | number | boolean {
    if (schema.default !== undefined) return schema.default;
    return schema.type === "array" ? "[]" : schema.type === "integer" ? 0 : "";
}

export function isUnset(schema: SettingSchema, value: string): boolean {
    if (schema.default !== undefined) return false;
    const unset = unsetValue(schema);
    return value.trim() === String(unset) || (schema.type === "array" && /^\[\s*\]$/.test(value.trim()));
}

export const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAXMEMORY = /^(0|[1-9]\d*)(b|k|kb|m|mb|g|gb)?$/i;
export const RESOURCE_TEXT = /^[A-Za-z0-9][A-Za-z0-9 ._\-/]{0,63}$/;
export const UNIX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
export const OVH_PROJECT_ID = /^[0-9a-f]{32}$/;
export const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

export const SETTINGS_SCHEMA: readonly SettingSchema[] = [
    { key: "cloud", type: "string", default: "ovh", description: "Where to deploy: ovh (OVHcloud Public Cloud, OpenStack), digitalocean, or lab (network namespaces on this machine).", allowed: CLOUDS },
    { key: "region", type: "string", defaultText: "EU-WEST-PAR (ovh), nyc3 (digitalocean)", description: "OVHcloud region, or the DigitalOcean datacenter that holds the master.", args: { OvhPlatform: "region" } },
    { key: "zones", type: "array", defaultText: "every zone of the region (ovh); [region] (digitalocean)", description: "Availability zones to spread over (ovh), or DigitalOcean datacenters joined by VPC peering.", args: { RedisReplicaSet: "zones" } },
    { key: "replicaCount", type: "integer", default: 2, description: "Replicas of the master (1 to 8). Each is a failover candidate.", min: 1, max: 8, args: { RedisReplicaSet: "replicaCount" } },
    { key: "sentinelCount", type: "integer", default: 3, description: "Redis Sentinels: odd, 3 or more, so a majority survives any single loss.", min: 1, max: 9, args: { RedisReplicaSet: "sentinel.count" } },
    { key: "sentinelPlacement", type: "string", default: "colocated", description: "colocated: a Sentinel beside each Redis node (no extra VMs); dedicated: Sentinels on small VMs of their own.", allowed: SENTINEL_PLACEMENTS, args: { RedisReplicaSet: "sentinel.placement" } },
    { key: "quorum", type: "integer", defaultText: "a majority of sentinelCount", description: "Sentinels that must agree the master is down; between a majority and sentinelCount.", min: 1, max: 9, args: { RedisReplicaSet: "sentinel.quorum" } },
    { key: "downAfterMilliseconds", type: "integer", default: 1500, description: "Silence after which a Sentinel considers a node down. 1500 was chosen from 50 crash drills and a 10-minute soak (docs/failover.md); below it risks false failovers.", min: 1000, max: 600000, args: { RedisReplicaSet: "sentinel.downAfterMilliseconds" } },
    { key: "failoverTimeoutMilliseconds", type: "integer", default: 10000, description: "Sentinel failover-timeout; must exceed downAfterMilliseconds. When the Sentinels split their vote (two left after a host loss can each vote for itself), the next election waits twice this, so it is what such a failover costs on top (docs/failover.md).", min: 1000, max: 3600000, args: { RedisReplicaSet: "sentinel.failoverTimeoutMilliseconds" } },
    { key: "parallelSyncs", type: "integer", default: 1, description: "Replicas resynchronising with a new master at once (1 keeps the others serving reads).", min: 1, max: 8, args: { RedisReplicaSet: "sentinel.parallelSyncs" } },
    { key: "instanceType", type: "string", defaultText: "b3-8 (ovh), s-2vcpu-4gb (digitalocean)", description: "Flavor (ovh) or droplet size (digitalocean) of the Redis nodes. A new one replaces the nodes one at a time (ovh; refused on digitalocean).", pattern: RESOURCE_TEXT, what: "a flavor or size name", args: { RedisReplicaSet: "instanceType" } },
    { key: "sentinelInstanceType", type: "string", defaultText: "d2-2 (ovh), s-1vcpu-1gb (digitalocean)", description: "Flavor or size of dedicated Sentinel VMs (placement dedicated only).", pattern: RESOURCE_TEXT, what: "a flavor or size name", args: { SentinelQuorum: "instanceType" } },
    { key: "image", type: "string", defaultText: "Debian 12 (ovh), debian-12-x64 (digitalocean)", description: "Debian 12 image name (ovh) or slug (digitalocean). A new one replaces the nodes one at a time (ovh; refused on digitalocean).", pattern: RESOURCE_TEXT, what: "an image name", args: { RedisReplicaSet: "image" } },
    { key: "sshUser", type: "string", defaultText: "debian (ovh), root (digitalocean)", description: "The image's login user, used by the post-deploy checks, the settings rollout and the handoffs.", pattern: UNIX_USER, what: "a Unix user name", args: { RedisReplicaSet: "access.user", SentinelQuorum: "checks.user" } },
    { key: "sshPublicKeys", type: "array", description: "OpenSSH public keys allowed to log in (ssh-ed25519, ssh-rsa or ecdsa-sha2-*). Required on ovh and digitalocean; the lab adds a key it generates.", args: { RedisReplicaSet: "sshPublicKeys" } },
    { key: "adminCidrs", type: "array", required: true, description: "IPv4 CIDRs allowed to reach SSH (22): operators and the machine that runs pulumi up.", args: { FirewallRules: "adminCidrs" } },
    { key: "appCidrs", type: "array", required: true, description: "IPv4 CIDRs of the application servers allowed to reach Redis and Sentinel.", args: { FirewallRules: "appCidrs" } },
    { key: "monitoringCidrs", type: "array", defaultText: "adminCidrs", description: "IPv4 CIDRs of the Prometheus servers allowed to scrape the exporters (9121 for Redis, 9122 for Sentinel; docs/monitoring.md).", args: { FirewallRules: "monitoringCidrs" } },
    { key: "allowWorldAccess", type: "boolean", default: false, description: "Explicit opt-in to a port open to more than 65,536 public IPv4 addresses (a /16's worth, counted over every block that reaches it, however split; 0.0.0.0/0 is 3.7 billion). Leave false.", args: { FirewallRules: "allowWorldAccess" } },
    { key: "privateNetworkCidr", type: "string", default: "10.42.0.0/24", description: "Private network for the nodes; fixed addresses start at .11 (ovh). Split per datacenter on digitalocean.", args: { RedisReplicaSet: "privateNetworkCidr" } },
    { key: "maxmemory", type: "string", default: "0", description: "Redis maxmemory: bytes or a size such as 512mb or 3gb; 0 means no limit.", pattern: MAXMEMORY, what: "a size such as 0, 536870912, 512mb or 3gb (units b, kb, mb, gb; no space)", args: { RedisReplicaSet: "redis.maxmemory" } },
    { key: "maxmemoryPolicy", type: "string", default: "noeviction", description: "Eviction policy: noeviction for sessions/data, allkeys-lru for a pure cache.", allowed: MAXMEMORY_POLICIES, args: { RedisReplicaSet: "redis.maxmemoryPolicy" } },
    { key: "persistence", type: "string", default: "aof+rdb", description: "aof+rdb (AOF everysec plus snapshots), aof, rdb or none, on every node.", allowed: PERSISTENCE_MODES, args: { RedisReplicaSet: "redis.persistence" } },
    { key: "minReplicasToWrite", type: "integer", default: 1, description: "The master refuses writes unless this many replicas are connected (0 disables).", min: 0, max: 8, args: { RedisReplicaSet: "redis.minReplicasToWrite" } },
    { key: "minReplicasMaxLag", type: "integer", default: 3, description: "Seconds of replica silence after which it stops counting for minReplicasToWrite; bounds what a master cut off from its replicas acknowledges and then loses (3 halved it against 10, docs/failover.md).", min: 1, max: 3600, args: { RedisReplicaSet: "redis.minReplicasMaxLag", SentinelQuorum: "checks.maxLagSeconds" } },
    { key: "replDisklessSyncDelay", type: "integer", default: 0, description: "Seconds a master waits for more replicas before a full sync (repl-diskless-sync-delay). 0 starts at once: at 5, 4 of 10 planned switchovers refused writes 4-6 s longer while a replica waited to resync (docs/failover.md).", min: 0, max: 60, args: { RedisReplicaSet: "redis.replDisklessSyncDelay" } },
    { key: "appScripting", type: "boolean", default: true, description: "The app user may run Lua scripts and functions (EVAL, EVALSHA, FCALL, SCRIPT, FUNCTION): ioredis's defineCommand and the WordPress plugin's selective flush need them. false takes scripting from a leaked app password (CVE-2025-49844 was a Lua bug); rolled out by ACL SETUSER.", args: { RedisReplicaSet: "redis.appScripting" } },
    { key: "legacyDefaultUser", type: "boolean", default: false, description: "Keep Redis's default user on, with redisPassword, for apps that still log in without a user name. false (the default) turns it off on every node: a new node boots with it off, and a running deployment's next pulumi up turns it off, replicas first, after the credentials steps, refusing (and changing nothing) while any node shows a connection running commands as default, named by its address. Set true only while such apps move to clientEnvironment's user (REDIS_USERNAME, REDIS_PASSWORD); rolled out by ACL SETUSER default.", args: { RedisReplicaSet: "redis.legacyDefaultUser" } },
    { key: "masterName", type: "string", default: "redis-ha", description: "The name Sentinel and clients use for this master (letters, digits, . _ -).", pattern: MASTER_NAME, what: "a Sentinel master name (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)", args: { RedisReplicaSet: "masterName" } },
    { key: "redisPort", type: "integer", default: 6379, description: "Redis port.", min: 1, max: 65535, args: { RedisReplicaSet: "redis.port", FirewallRules: "redisPort" } },
    { key: "sentinelPort", type: "integer", default: 26379, description: "Sentinel port.", min: 1, max: 65535, args: { RedisReplicaSet: "sentinel.port", FirewallRules: "sentinelPort" } },
    { key: "checks", type: "boolean", default: true, description: "Run the post-deploy health checks over SSH; pulumi up fails if they fail.", args: { SentinelQuorum: "checks.enabled" } },
    { key: "checkTimeoutSeconds", type: "integer", default: 600, description: "How long the checks wait for a healthy quorum (first boot installs packages).", min: 30, max: 3600, args: { RedisReplicaSet: "access.timeoutSeconds", SentinelQuorum: "checks.timeoutSeconds" } },
    { key: "sshVia", type: "string", default: "public", description: "Address the checks SSH to: public, or private (when pulumi runs inside the private network).", allowed: SSH_VIA, args: { RedisReplicaSet: "access.via", SentinelQuorum: "checks.via" } },
    { key: "secretsDelivery", type: "string", defaultText: "ssh (user-data when checks is false)", description: "How the hosts get their passwords. ssh: the user-data carries none (the cloud keeps it and shows it through its API, and any process on the VM can read it from the metadata service); each host's configs wait, with tokens where the passwords go, until pulumi up delivers them over the checks' SSH right after the host is created, and only then install and start. user-data: the passwords travel in the user-data, as before 0.2.0; the only choice when checks is false. Applies to hosts created from now on; a running host keeps what it booted with.", allowed: SECRETS_DELIVERY_MODES, args: { RedisReplicaSet: "secretsDelivery" } },
    { key: "ovhProjectId", type: "string", description: "OVHcloud Public Cloud project id (service name). Required for cloud ovh.", pattern: OVH_PROJECT_ID, what: "an OVHcloud project id (32 hexadecimal characters)", example: "<the id shown in the OVHcloud Control Panel under Public Cloud>", args: { OvhPlatform: "projectId" } },
    { key: "ovhVlanId", type: "integer", default: 0, description: "vRack VLAN id of the private network (ovh).", min: 0, max: 4000, args: { OvhPlatform: "vlanId" } },
    { key: "redisPassword", type: "string", secret: true, required: true, description: "Password of Redis's operator user (and of default with legacyDefaultUser): the operators', the checks' and rollouts'; the app's, the Sentinels', replication's and the exporters' passwords are derived from it. 16-128 characters, no whitespace, quotes, backslash or #.", args: { RedisReplicaSet: "redisPassword" } },
    { key: "previousRedisPassword", type: "string", secret: true, description: "The Redis password being rotated out. To rotate, set this to the password the nodes run now and redisPassword to the new one: pulumi up makes every node accept both and moves replication and the Sentinels to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one.", args: { RedisReplicaSet: "previousRedisPassword" } },
    { key: "sentinelAuth", type: "boolean", default: true, description: "Sentinels require sentinelPassword. false only for clients that cannot authenticate to Sentinels (Predis 1.1); the firewall is then all that guards them.", args: { RedisReplicaSet: "sentinel.authentication" } },
    { key: "sentinelPassword", type: "string", secret: true, defaultText: "required while sentinelAuth is true", description: "Password of the Sentinels' admin user: the operators', the checks' and rollouts', and the Sentinels' to each other. Apps get a client password derived from it (clientEnvironment), which may only ask where the master is. Same rules as redisPassword; must differ from it. Leave unset with sentinelAuth false.", args: { RedisReplicaSet: "sentinel.password" } },
    { key: "previousSentinelPassword", type: "string", secret: true, description: "The Sentinel password being rotated out. To rotate, set this to the password the Sentinels run now and sentinelPassword to the new one: pulumi up makes every Sentinel accept both and moves the Sentinels' logins to each other to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one.", args: { RedisReplicaSet: "sentinel.previousPassword" } },
    { key: "sshPrivateKey", type: "string", secret: true, description: "Private key the checks use; without it they use the ssh-agent at SSH_AUTH_SOCK.", args: { RedisReplicaSet: "access.privateKey", SentinelQuorum: "checks.privateKey" } },
];

export const SETTINGS_BY_KEY: ReadonlyMap<string, SettingSchema> = new Map(SETTINGS_SCHEMA.map((s) => [s.key as string, s]));

/** A setting's static default, typed. */
export function defaultOf<K extends SettingKey>(key: K): StackSettings[K] {
    const schema = SETTINGS_BY_KEY.get(key)!;
    if (schema.default === undefined) throw new Error(`redis-ha: ${key} has no static default`);
    return schema.default as StackSettings[K];
}

function levenshtein(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
        let previous = row[0];
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const current = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
            previous = current;
        }
    }
    return row[b.length];
}

export function closestSetting(key: string): string | undefined {
    let best: { key: string; distance: number } | undefined;
    const typo = key.toLowerCase();
    for (const s of SETTINGS_SCHEMA) {
        // Compare with the whole name and with its beginning: "sentinals" is a typo of "sentinel..." more than of any whole name.
        const name = s.key.toLowerCase();
        const distance = Math.min(levenshtein(typo, name), levenshtein(typo, name.slice(0, typo.length)) + 1);
        if (!best || distance < best.distance) best = { key: s.key, distance };
    }
    return best && best.distance <= Math.max(3, Math.floor(key.length / 3)) ? best.key : undefined;
}
