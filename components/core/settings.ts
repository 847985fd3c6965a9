/**
 * The stack settings: one schema (also the source of Pulumi.yaml's `config:` block and the README's
 * reference), a parser from Pulumi's raw string config, and validation that reports every bad value
 * with the setting, the value and the fix, before any resource exists.
 */
import { ConfigValidationError, SettingProblem, describeSecret, showValue } from "./errors";
import { CIDR_SETTINGS_MESSAGES, checkCidrList } from "./cidrSettings";
import { CLOUDS, CLOUD_DEFAULTS, Cloud, knownRegions, regionZones } from "./regions";
import { checkConfigToken } from "./tokens";
import { TopologyInput, checkZoneSpread, majorityOf, planAddresses } from "./topology";

export const CONFIG_NAMESPACE = "redis-ha";

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
    allowWorldAccess: boolean;
    privateNetworkCidr: string;
    maxmemory: string;
    maxmemoryPolicy: MaxmemoryPolicy;
    persistence: Persistence;
    minReplicasToWrite: number;
    minReplicasMaxLag: number;
    replDisklessSyncDelay: number;
    masterName: string;
    redisPort: number;
    sentinelPort: number;
    checks: boolean;
    checkTimeoutSeconds: number;
    sshVia: SshVia;
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

function isUnset(schema: SettingSchema, value: string): boolean {
    if (schema.default !== undefined) return false;
    const unset = unsetValue(schema);
    return value.trim() === String(unset) || (schema.type === "array" && /^\[\s*\]$/.test(value.trim()));
}

export const SETTINGS_SCHEMA: readonly SettingSchema[] = [
    { key: "cloud", type: "string", default: "ovh", description: "Where to deploy: ovh (OVHcloud Public Cloud, OpenStack), digitalocean, or lab (network namespaces on this machine)." },
    { key: "region", type: "string", defaultText: "EU-WEST-PAR (ovh), nyc3 (digitalocean)", description: "OVHcloud region, or the DigitalOcean datacenter that holds the master." },
    { key: "zones", type: "array", defaultText: "every zone of the region (ovh); [region] (digitalocean)", description: "Availability zones to spread over (ovh), or DigitalOcean datacenters joined by VPC peering." },
    { key: "replicaCount", type: "integer", default: 2, description: "Replicas of the master (1 to 8). Each is a failover candidate." },
    { key: "sentinelCount", type: "integer", default: 3, description: "Redis Sentinels: odd, 3 or more, so a majority survives any single loss." },
    { key: "sentinelPlacement", type: "string", default: "colocated", description: "colocated: a Sentinel beside each Redis node (no extra VMs); dedicated: Sentinels on small VMs of their own." },
    { key: "quorum", type: "integer", defaultText: "a majority of sentinelCount", description: "Sentinels that must agree the master is down; between a majority and sentinelCount." },
    { key: "downAfterMilliseconds", type: "integer", default: 1500, description: "Silence after which a Sentinel considers a node down. 1500 was chosen from 50 crash drills and a 10-minute soak (docs/failover.md); below it risks false failovers." },
    { key: "failoverTimeoutMilliseconds", type: "integer", default: 60000, description: "Sentinel failover-timeout; must exceed downAfterMilliseconds." },
    { key: "parallelSyncs", type: "integer", default: 1, description: "Replicas resynchronising with a new master at once (1 keeps the others serving reads)." },
    { key: "instanceType", type: "string", defaultText: "b3-8 (ovh), s-2vcpu-4gb (digitalocean)", description: "Flavor (ovh) or droplet size (digitalocean) of the Redis nodes. A new one replaces the nodes one at a time (ovh; refused on digitalocean)." },
    { key: "sentinelInstanceType", type: "string", defaultText: "d2-2 (ovh), s-1vcpu-1gb (digitalocean)", description: "Flavor or size of dedicated Sentinel VMs (placement dedicated only)." },
    { key: "image", type: "string", defaultText: "Debian 12 (ovh), debian-12-x64 (digitalocean)", description: "Debian 12 image name (ovh) or slug (digitalocean). A new one replaces the nodes one at a time (ovh; refused on digitalocean)." },
    { key: "sshUser", type: "string", defaultText: "debian (ovh), root (digitalocean)", description: "The image's login user, used by the post-deploy checks, the settings rollout and the handoffs." },
    { key: "sshPublicKeys", type: "array", description: "OpenSSH public keys allowed to log in (ssh-ed25519, ssh-rsa or ecdsa-sha2-*). Required on ovh and digitalocean; the lab adds a key it generates." },
    { key: "adminCidrs", type: "array", required: true, description: "IPv4 CIDRs allowed to reach SSH (22): operators and the machine that runs pulumi up." },
    { key: "appCidrs", type: "array", required: true, description: "IPv4 CIDRs of the application servers allowed to reach Redis and Sentinel." },
    { key: "allowWorldAccess", type: "boolean", default: false, description: "Explicit opt-in to 0.0.0.0/0 in adminCidrs or appCidrs. Leave false." },
    { key: "privateNetworkCidr", type: "string", default: "10.42.0.0/24", description: "Private network for the nodes; fixed addresses start at .11 (ovh). Split per datacenter on digitalocean." },
    { key: "maxmemory", type: "string", default: "0", description: "Redis maxmemory: bytes or a size such as 512mb or 3gb; 0 means no limit." },
    { key: "maxmemoryPolicy", type: "string", default: "noeviction", description: "Eviction policy: noeviction for sessions/data, allkeys-lru for a pure cache." },
    { key: "persistence", type: "string", default: "aof+rdb", description: "aof+rdb (AOF everysec plus snapshots), aof, rdb or none, on every node." },
    { key: "minReplicasToWrite", type: "integer", default: 1, description: "The master refuses writes unless this many replicas are connected (0 disables)." },
    { key: "minReplicasMaxLag", type: "integer", default: 3, description: "Seconds of replica silence after which it stops counting for minReplicasToWrite; bounds what a master cut off from its replicas acknowledges and then loses (3 halved it against 10, docs/failover.md)." },
    { key: "replDisklessSyncDelay", type: "integer", default: 0, description: "Seconds a master waits for more replicas before a full sync (repl-diskless-sync-delay). 0 starts at once: at 5, 4 of 10 planned switchovers refused writes 4-6 s longer while a replica waited to resync (docs/failover.md)." },
    { key: "masterName", type: "string", default: "redis-ha", description: "The name Sentinel and clients use for this master (letters, digits, . _ -)." },
    { key: "redisPort", type: "integer", default: 6379, description: "Redis port." },
    { key: "sentinelPort", type: "integer", default: 26379, description: "Sentinel port." },
    { key: "checks", type: "boolean", default: true, description: "Run the post-deploy health checks over SSH; pulumi up fails if they fail." },
    { key: "checkTimeoutSeconds", type: "integer", default: 600, description: "How long the checks wait for a healthy quorum (first boot installs packages)." },
    { key: "sshVia", type: "string", default: "public", description: "Address the checks SSH to: public, or private (when pulumi runs inside the private network)." },
    { key: "ovhProjectId", type: "string", description: "OVHcloud Public Cloud project id (service name). Required for cloud ovh." },
    { key: "ovhVlanId", type: "integer", default: 0, description: "vRack VLAN id of the private network (ovh)." },
    { key: "redisPassword", type: "string", secret: true, required: true, description: "Password of Redis (requirepass and masterauth). 16-128 characters, no whitespace, quotes, backslash or #." },
    { key: "previousRedisPassword", type: "string", secret: true, description: "The Redis password being rotated out. To rotate, set this to the password the nodes run now and redisPassword to the new one: pulumi up makes every node accept both and moves replication and the Sentinels to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one." },
    { key: "sentinelAuth", type: "boolean", default: true, description: "Sentinels require sentinelPassword. false only for clients that cannot authenticate to Sentinels (Predis 1.1); the firewall is then all that guards them." },
    { key: "sentinelPassword", type: "string", secret: true, defaultText: "required while sentinelAuth is true", description: "Password of the Sentinels themselves. Same rules as redisPassword; must differ from it. Leave unset with sentinelAuth false." },
    { key: "previousSentinelPassword", type: "string", secret: true, description: "The Sentinel password being rotated out. To rotate, set this to the password the Sentinels run now and sentinelPassword to the new one: pulumi up makes every Sentinel accept both and moves the Sentinels' logins to each other to the new one. Remove it once every app uses the new one: the next pulumi up retires the old one." },
    { key: "sshPrivateKey", type: "string", secret: true, description: "Private key the checks use; without it they use the ssh-agent at SSH_AUTH_SOCK." },
];

const SCHEMA_BY_KEY = new Map(SETTINGS_SCHEMA.map((s) => [s.key as string, s]));

const FULL = (key: string) => `${CONFIG_NAMESPACE}:${key}`;

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

export const PASSWORD_MIN_LENGTH = 16;
export const PASSWORD_MAX_LENGTH = 128;

/** Why a password cannot be used, without ever including the password itself. */
export function passwordProblem(password: string): string | undefined {
    if (password.length < PASSWORD_MIN_LENGTH) {
        return `is ${password.length} characters long; at least ${PASSWORD_MIN_LENGTH} are required (Redis is brute-forced at network speed)`;
    }
    if (password.length > PASSWORD_MAX_LENGTH) return `is longer than ${PASSWORD_MAX_LENGTH} characters`;
    return checkConfigToken(password);
}

const MASTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAXMEMORY = /^(0|[1-9]\d*)(b|k|kb|m|mb|g|gb)?$/i;
const SSH_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;
const RESOURCE_TEXT = /^[A-Za-z0-9][A-Za-z0-9 ._\-/]{0,63}$/;

export interface ValidatedSettings {
    settings: StackSettings;
    /** Facts a user should read (single-datacenter spread, unlimited memory, ...), not errors. */
    warnings: string[];
}

/**
 * Parses and validates raw stack config: keys without the `redis-ha:` namespace, values as Pulumi
 * hands them to programs (strings; arrays as JSON). Throws ConfigValidationError listing every problem.
 */
export function validateStackConfig(given: Readonly<Record<string, string>>): ValidatedSettings {
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(given)) {
        const schema = SCHEMA_BY_KEY.get(key);
        if (value === undefined) continue;
        if (!schema || !isUnset(schema, value)) raw[key] = value;
    }
    const problems: SettingProblem[] = [];
    const warnings: string[] = [];
    const problem = (key: string, value: string, text: string, fix: string) =>
        problems.push({ setting: FULL(key), value, problem: text, fix });

    for (const key of Object.keys(raw)) {
        if (!SCHEMA_BY_KEY.has(key)) {
            const guess = closestSetting(key);
            problem(key, showValue(raw[key]), "is not a redis-ha setting",
                guess ? `did you mean ${FULL(guess)}? Run: pulumi config rm ${FULL(key)} && pulumi config set ${FULL(guess)} ...`
                    : `remove it with: pulumi config rm ${FULL(key)} (settings are listed in the README)`);
        }
    }

    const str = (key: SettingKey): string | undefined => raw[key];
    const int = (key: SettingKey, min: number, max: number, fallback?: number): number | undefined => {
        const text = raw[key];
        const schema = SCHEMA_BY_KEY.get(key)!;
        if (text === undefined) return fallback ?? (schema.default as number | undefined);
        if (!/^-?\d+$/.test(text.trim())) {
            problem(key, showValue(text), "is not a whole number", `pulumi config set ${FULL(key)} ${schema.default ?? min}`);
            return undefined;
        }
        const value = Number(text.trim());
        if (value < min || value > max) {
            problem(key, showValue(text), `must be between ${min} and ${max}`, `pulumi config set ${FULL(key)} ${schema.default ?? min}`);
            return undefined;
        }
        return value;
    };
    const bool = (key: SettingKey): boolean | undefined => {
        const text = raw[key];
        if (text === undefined) return SCHEMA_BY_KEY.get(key)!.default as boolean;
        if (text === "true" || text === "false") return text === "true";
        problem(key, showValue(text), "is not true or false", `pulumi config set ${FULL(key)} ${SCHEMA_BY_KEY.get(key)!.default}`);
        return undefined;
    };
    const oneOf = <T extends string>(key: SettingKey, allowed: readonly T[], fallback?: T): T | undefined => {
        const text = raw[key];
        if (text === undefined) return fallback ?? (SCHEMA_BY_KEY.get(key)!.default as T);
        if ((allowed as readonly string[]).includes(text)) return text as T;
        problem(key, showValue(text), `must be one of ${allowed.join(", ")}`, `pulumi config set ${FULL(key)} ${fallback ?? SCHEMA_BY_KEY.get(key)!.default}`);
        return undefined;
    };
    const list = (key: SettingKey): string[] | undefined => {
        const text = raw[key];
        if (text === undefined) return undefined;
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch {
            problem(key, showValue(text), "is not a list", `set it as a list: pulumi config set --path '${FULL(key)}[0]' VALUE`);
            return undefined;
        }
        if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "string")) {
            problem(key, showValue(text), "must be a list of strings", `set it as a list: pulumi config set --path '${FULL(key)}[0]' VALUE`);
            return undefined;
        }
        return parsed as string[];
    };
    const text = (key: SettingKey, fallback: string | undefined, pattern: RegExp, what: string): string | undefined => {
        const value = raw[key] ?? fallback;
        if (value === undefined) return undefined;
        if (!pattern.test(value)) {
            problem(key, showValue(value), `is not ${what}`, `pulumi config set ${FULL(key)} ${fallback ?? "VALUE"}`);
            return undefined;
        }
        return value;
    };

    const cloud = oneOf("cloud", CLOUDS);
    const defaults = CLOUD_DEFAULTS[cloud ?? "ovh"];

    const region = str("region") ?? defaults.region;
    let zones: string[] | undefined = list("zones");
    if (cloud) {
        const rz = regionZones(cloud, region);
        if (!rz.known) {
            problem("region", showValue(region), `is not a ${cloud} region redis-ha knows`,
                `use one of ${knownRegions(cloud).join(", ")}: pulumi config set ${FULL("region")} ${defaults.region}`);
        } else if (zones === undefined) {
            zones = cloud === "digitalocean" ? [region] : [...rz.zones];
        } else {
            if (zones.length === 0) problem("zones", showValue(raw.zones), "is empty", `remove it to use every zone: pulumi config rm ${FULL("zones")}`);
            const duplicates = zones.filter((z, i) => zones!.indexOf(z) !== i);
            if (duplicates.length > 0) problem("zones", showValue(raw.zones), `lists ${duplicates.join(", ")} more than once`, "list each zone once");
            const unknown = zones.filter((z) => !rz.zones.includes(z));
            if (cloud !== "digitalocean" && zones.length > rz.zones.length) {
                problem("zones", showValue(raw.zones), `asks for ${zones.length} zones but ${region} has ${rz.zones.length} (${rz.zones.join(", ")})`,
                    `list at most ${rz.zones.length}, or choose a 3-AZ region such as EU-WEST-PAR`);
            } else if (unknown.length > 0) {
                problem("zones", showValue(raw.zones), `${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not ${cloud === "digitalocean" ? "a DigitalOcean datacenter" : `a zone of ${region}`}`,
                    `use ${cloud === "digitalocean" ? `datacenters from ${rz.zones.join(", ")}` : rz.zones.join(", ")}`);
            } else if (cloud === "digitalocean" && zones.length > 0 && zones[0] !== region) {
                problem("zones", showValue(raw.zones), `must start with the region ${region} (the master's datacenter)`,
                    `pulumi config set --path '${FULL("zones")}[0]' ${region}`);
            } else if (cloud === "digitalocean" && zones.length > 4) {
                problem("zones", showValue(raw.zones), "lists more than 4 datacenters", "spread over at most 4 datacenters");
            }
        }
    }

    const replicaCount = int("replicaCount", 1, 8);
    const sentinelCount = int("sentinelCount", 1, 9);
    if (sentinelCount !== undefined && (sentinelCount < 3 || sentinelCount % 2 === 0)) {
        const suggestion = Math.max(3, sentinelCount % 2 === 0 ? sentinelCount + 1 : 3);
        problem("sentinelCount", showValue(raw.sentinelCount ?? String(sentinelCount)),
            sentinelCount < 3 ? "must be at least 3: failover needs a majority of Sentinels, and fewer than 3 cannot survive losing one"
                : "must be odd: an even count adds a Sentinel without tolerating one more loss, and can split into two halves that both fail to reach a majority",
            `pulumi config set ${FULL("sentinelCount")} ${suggestion}`);
    }
    const sentinelPlacement = oneOf("sentinelPlacement", SENTINEL_PLACEMENTS);
    const quorumText = raw.quorum;
    let quorum = int("quorum", 1, 9, sentinelCount !== undefined ? majorityOf(sentinelCount) : undefined);
    if (quorum !== undefined && sentinelCount !== undefined && quorumText !== undefined) {
        if (quorum > sentinelCount) {
            problem("quorum", showValue(quorumText), `is larger than sentinelCount (${sentinelCount}): no failover could ever be agreed`,
                `pulumi config set ${FULL("quorum")} ${majorityOf(sentinelCount)}`);
            quorum = undefined;
        } else if (quorum < majorityOf(sentinelCount)) {
            problem("quorum", showValue(quorumText), `is smaller than a majority of ${sentinelCount} Sentinels (${majorityOf(sentinelCount)}): a minority on the wrong side of a partition could declare the master down`,
                `pulumi config set ${FULL("quorum")} ${majorityOf(sentinelCount)}`);
            quorum = undefined;
        }
    }
    const sentinelCountValid = sentinelCount !== undefined && sentinelCount >= 3 && sentinelCount % 2 === 1;
    if (sentinelPlacement === "colocated" && sentinelCountValid && replicaCount !== undefined && sentinelCount! > replicaCount + 1) {
        problem("sentinelCount", showValue(String(sentinelCount)), `is more than the ${replicaCount + 1} Redis nodes that colocated Sentinels can sit beside`,
            `pulumi config set ${FULL("sentinelPlacement")} dedicated, or raise ${FULL("replicaCount")} to ${sentinelCount! - 1}`);
    }

    const downAfterMilliseconds = int("downAfterMilliseconds", 1000, 600000);
    const failoverTimeoutMilliseconds = int("failoverTimeoutMilliseconds", 1000, 3600000);
    if (downAfterMilliseconds !== undefined && failoverTimeoutMilliseconds !== undefined && failoverTimeoutMilliseconds <= downAfterMilliseconds) {
        problem("failoverTimeoutMilliseconds", showValue(String(failoverTimeoutMilliseconds)),
            `must be larger than downAfterMilliseconds (${downAfterMilliseconds})`,
            `pulumi config set ${FULL("failoverTimeoutMilliseconds")} ${Math.max(60000, downAfterMilliseconds * 4)}`);
    }
    if (downAfterMilliseconds !== undefined && downAfterMilliseconds < 1500) {
        warnings.push(`downAfterMilliseconds ${downAfterMilliseconds} is below 1500: expect false failovers, each losing what the demoted master acknowledged after the switch (see docs/failover.md).`);
    }
    const parallelSyncs = int("parallelSyncs", 1, 8);
    if (parallelSyncs !== undefined && replicaCount !== undefined && parallelSyncs > replicaCount) {
        problem("parallelSyncs", showValue(String(parallelSyncs)), `is more than replicaCount (${replicaCount})`, `pulumi config set ${FULL("parallelSyncs")} 1`);
    }

    const instanceType = text("instanceType", defaults.instanceType, RESOURCE_TEXT, "a flavor or size name");
    const sentinelInstanceType = text("sentinelInstanceType", defaults.sentinelInstanceType, RESOURCE_TEXT, "a flavor or size name");
    const image = text("image", defaults.image, RESOURCE_TEXT, "an image name");
    const sshUser = text("sshUser", defaults.sshUser, /^[a-z_][a-z0-9_-]{0,31}$/, "a Unix user name");

    const sshPublicKeys = list("sshPublicKeys");
    if (raw.sshPublicKeys === undefined && cloud !== "lab") {
        problem("sshPublicKeys", "(unset)", "is required: the checks and operators log in with these keys",
            `pulumi config set --path '${FULL("sshPublicKeys")}[0]' "$(cat ~/.ssh/id_ed25519.pub)"`);
    } else if (sshPublicKeys) {
        if (sshPublicKeys.length === 0) problem("sshPublicKeys", "[]", "is empty", `pulumi config set --path '${FULL("sshPublicKeys")}[0]' "$(cat ~/.ssh/id_ed25519.pub)"`);
        sshPublicKeys.forEach((key, i) => {
            if (!SSH_KEY.test(key)) {
                problem(`sshPublicKeys[${i}]`, showValue(key.length > 40 ? key.slice(0, 40) + "..." : key),
                    "is not a single-line OpenSSH public key (ssh-ed25519, ssh-rsa, ecdsa-sha2-*)", "paste the contents of your .pub file");
            }
        });
    }

    const allowWorldAccess = bool("allowWorldAccess");
    const adminCidrs = list("adminCidrs");
    const appCidrs = list("appCidrs");
    for (const [key, cidrs, ports] of [["adminCidrs", adminCidrs, "SSH (22)"], ["appCidrs", appCidrs, "Redis and Sentinel"]] as const) {
        if (raw[key] === undefined) {
            problem(key, "(unset)", `is required: it decides who may reach ${ports}`, `pulumi config set --path '${FULL(key)}[0]' ${CIDR_SETTINGS_MESSAGES[key]}`);
            continue;
        }
        if (cidrs === undefined) continue;
        for (const p of checkCidrList(key, cidrs, allowWorldAccess === true)) problems.push({ ...p, setting: FULL(p.setting) });
    }

    const privateNetworkCidr = str("privateNetworkCidr") ?? (SCHEMA_BY_KEY.get("privateNetworkCidr")!.default as string);
    const maxmemory = text("maxmemory", "0", MAXMEMORY, "a size such as 0, 536870912, 512mb or 3gb (units b, kb, mb, gb; no space)");
    if (maxmemory === "0") warnings.push("maxmemory is 0 (no limit): Redis can grow until the kernel kills it; set redis-ha:maxmemory to about 70% of the instance's RAM.");
    const maxmemoryPolicy = oneOf("maxmemoryPolicy", MAXMEMORY_POLICIES);
    const persistence = oneOf("persistence", PERSISTENCE_MODES);
    if (persistence === "none") warnings.push("persistence is none: a node that restarts comes back empty; use it only for a pure cache.");
    const minReplicasToWrite = int("minReplicasToWrite", 0, 8);
    if (minReplicasToWrite !== undefined && replicaCount !== undefined && minReplicasToWrite > replicaCount) {
        problem("minReplicasToWrite", showValue(String(minReplicasToWrite)), `is more than replicaCount (${replicaCount}): the master would refuse every write`,
            `pulumi config set ${FULL("minReplicasToWrite")} 1`);
    }
    if (minReplicasToWrite !== undefined && replicaCount !== undefined && minReplicasToWrite === replicaCount && minReplicasToWrite > 0) {
        warnings.push(`minReplicasToWrite equals replicaCount (${replicaCount}): losing any one replica stops writes.`);
    }
    const minReplicasMaxLag = int("minReplicasMaxLag", 1, 3600);
    const replDisklessSyncDelay = int("replDisklessSyncDelay", 0, 60);
    const masterName = text("masterName", "redis-ha", MASTER_NAME, "a Sentinel master name (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)");
    const redisPort = int("redisPort", 1, 65535);
    const sentinelPort = int("sentinelPort", 1, 65535);
    for (const [key, port] of [["redisPort", redisPort], ["sentinelPort", sentinelPort]] as const) {
        if (port === 22) problem(key, "22", "clashes with SSH (22)", `pulumi config set ${FULL(key)} ${SCHEMA_BY_KEY.get(key)!.default}`);
        else if (port !== undefined && port < 1024) problem(key, String(port), "is a privileged port (< 1024) that the redis user cannot bind", `pulumi config set ${FULL(key)} ${SCHEMA_BY_KEY.get(key)!.default}`);
    }
    if (redisPort !== undefined && redisPort === sentinelPort) {
        problem("sentinelPort", String(sentinelPort), `clashes with redisPort (${redisPort}): colocated Redis and Sentinel cannot share a port`, `pulumi config set ${FULL("sentinelPort")} 26379`);
    }

    const checks = bool("checks");
    const checkTimeoutSeconds = int("checkTimeoutSeconds", 30, 3600);
    const sshVia = oneOf("sshVia", SSH_VIA);
    const ovhProjectId = str("ovhProjectId");
    if (cloud === "ovh" && (ovhProjectId === undefined || !/^[0-9a-f]{32}$/.test(ovhProjectId))) {
        problem("ovhProjectId", showValue(ovhProjectId), ovhProjectId === undefined ? "is required for cloud ovh" : "is not an OVHcloud project id (32 hexadecimal characters)",
            `pulumi config set ${FULL("ovhProjectId")} <the id shown in the OVHcloud Control Panel under Public Cloud>`);
    }
    const ovhVlanId = int("ovhVlanId", 0, 4000);

    const sentinelAuth = bool("sentinelAuth");
    const passwords: Record<"redisPassword" | "sentinelPassword", string | undefined> = { redisPassword: undefined, sentinelPassword: sentinelAuth === false ? "" : undefined };
    if (sentinelAuth === false) {
        warnings.push("sentinelAuth is false: anyone who can reach a Sentinel port can reconfigure the quorum; keep appCidrs to the application servers.");
        if (raw.sentinelPassword !== undefined && raw.sentinelPassword !== "") {
            problem("sentinelPassword", describeSecret(raw.sentinelPassword), "is set while sentinelAuth is false: clients would be told to use a password the Sentinels never ask for",
                `pulumi config rm ${FULL("sentinelPassword")}, or pulumi config set ${FULL("sentinelAuth")} true`);
        }
    }
    for (const key of sentinelAuth === false ? (["redisPassword"] as const) : (["redisPassword", "sentinelPassword"] as const)) {
        const value = raw[key];
        if (value === undefined || value === "") {
            problem(key, "(unset)", "is required", `pulumi config set --secret ${FULL(key)} "$(openssl rand -base64 33 | tr -d '/+=')"`);
            continue;
        }
        const why = passwordProblem(value);
        if (why) {
            problem(key, describeSecret(value), why, `choose another: pulumi config set --secret ${FULL(key)} "$(openssl rand -base64 33 | tr -d '/+=')"`);
        } else {
            passwords[key] = value;
        }
    }
    if (passwords.redisPassword !== undefined && passwords.sentinelPassword !== "" && passwords.redisPassword === passwords.sentinelPassword) {
        problem("sentinelPassword", describeSecret(passwords.sentinelPassword), "is the same as redisPassword: a leaked Sentinel password would open the data",
            `pulumi config set --secret ${FULL("sentinelPassword")} "$(openssl rand -base64 33 | tr -d '/+=')"`);
    }
    const previousRedisPassword = raw.previousRedisPassword === "" ? undefined : raw.previousRedisPassword;
    if (previousRedisPassword !== undefined) {
        const why = passwordProblem(previousRedisPassword);
        if (why) {
            problem("previousRedisPassword", describeSecret(previousRedisPassword), why, `set it to the password the nodes run now (the old redisPassword), or pulumi config rm ${FULL("previousRedisPassword")}`);
        } else if (previousRedisPassword === passwords.redisPassword) {
            problem("previousRedisPassword", describeSecret(previousRedisPassword), "is the same as redisPassword: there is nothing to rotate",
                `pulumi config rm ${FULL("previousRedisPassword")}, or set redisPassword to the new password`);
        } else if (previousRedisPassword === passwords.sentinelPassword) {
            problem("previousRedisPassword", describeSecret(previousRedisPassword), "is the same as sentinelPassword: a leaked Sentinel password would open the data",
                `set it to the password the Redis nodes run now, or pulumi config rm ${FULL("previousRedisPassword")}`);
        }
    }
    const previousSentinelPassword = raw.previousSentinelPassword === "" ? undefined : raw.previousSentinelPassword;
    if (previousSentinelPassword !== undefined) {
        const why = passwordProblem(previousSentinelPassword);
        if (sentinelAuth === false) {
            problem("previousSentinelPassword", describeSecret(previousSentinelPassword), "is set while sentinelAuth is false: Sentinels without auth have no password to rotate",
                `pulumi config rm ${FULL("previousSentinelPassword")}`);
        } else if (why) {
            problem("previousSentinelPassword", describeSecret(previousSentinelPassword), why, `set it to the password the Sentinels run now (the old sentinelPassword), or pulumi config rm ${FULL("previousSentinelPassword")}`);
        } else if (previousSentinelPassword === passwords.sentinelPassword) {
            problem("previousSentinelPassword", describeSecret(previousSentinelPassword), "is the same as sentinelPassword: there is nothing to rotate",
                `pulumi config rm ${FULL("previousSentinelPassword")}, or set sentinelPassword to the new password`);
        } else if (previousSentinelPassword === passwords.redisPassword || previousSentinelPassword === previousRedisPassword) {
            problem("previousSentinelPassword", describeSecret(previousSentinelPassword), "is the same as a Redis password (redisPassword or previousRedisPassword): a leaked Sentinel password would open the data",
                `set it to the password the Sentinels run now, or pulumi config rm ${FULL("previousSentinelPassword")}`);
        }
    }
    const sshPrivateKey = raw.sshPrivateKey;
    if (sshPrivateKey !== undefined && !/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey.trim())) {
        problem("sshPrivateKey", describeSecret(sshPrivateKey), "is not a PEM/OpenSSH private key", `pulumi config set --secret ${FULL("sshPrivateKey")} < ~/.ssh/id_ed25519`);
    }

    // Cross-setting facts that need the topology: only meaningful once the parts parsed.
    if (cloud && zones && zones.length > 0 && replicaCount !== undefined && sentinelCountValid && sentinelPlacement) {
        const input: TopologyInput = {
            zones,
            replicaCount,
            sentinelCount: sentinelCount!,
            sentinelPlacement,
            zoneKind: regionZones(cloud, region).zoneKind,
        };
        const spread = checkZoneSpread(input);
        for (const p of spread.problems) problems.push(p);
        warnings.push(...spread.warnings);
        const addressProblem = planAddresses(cloud === "digitalocean" ? "dynamic" : "static", privateNetworkCidr, replicaCount + 1 + (sentinelPlacement === "dedicated" ? sentinelCount! : 0), zones.length);
        if (addressProblem.problem) problems.push(addressProblem.problem);
    }

    if (problems.length > 0) throw new ConfigValidationError(problems);
    return {
        settings: {
            cloud: cloud!, region, zones: zones!, replicaCount: replicaCount!, sentinelCount: sentinelCount!,
            sentinelPlacement: sentinelPlacement!, quorum: quorum!, downAfterMilliseconds: downAfterMilliseconds!,
            failoverTimeoutMilliseconds: failoverTimeoutMilliseconds!, parallelSyncs: parallelSyncs!,
            instanceType: instanceType!, sentinelInstanceType: sentinelInstanceType!, image: image!, sshUser: sshUser!,
            sshPublicKeys: sshPublicKeys ?? [], adminCidrs: adminCidrs!, appCidrs: appCidrs!, allowWorldAccess: allowWorldAccess!,
            privateNetworkCidr, maxmemory: maxmemory!.toLowerCase(), maxmemoryPolicy: maxmemoryPolicy!, persistence: persistence!,
            minReplicasToWrite: minReplicasToWrite!, minReplicasMaxLag: minReplicasMaxLag!, replDisklessSyncDelay: replDisklessSyncDelay!, masterName: masterName!,
            redisPort: redisPort!, sentinelPort: sentinelPort!, checks: checks!, checkTimeoutSeconds: checkTimeoutSeconds!,
            sshVia: sshVia!, ovhProjectId, ovhVlanId: ovhVlanId!, redisPassword: passwords.redisPassword!,
            previousRedisPassword, sentinelAuth: sentinelAuth!, sentinelPassword: passwords.sentinelPassword!, previousSentinelPassword, sshPrivateKey,
        },
        warnings,
    };
}
