/**
 * One settings model, every surface: every bad value below is refused by `pulumi preview` of the
 * stack (validateStackConfig, the stack's words), by the component that carries it (RedisReplicaSet,
 * FirewallRules, SentinelQuorum, OvhPlatform: their arg names) and by RedisHa (the whole deployment
 * as one component, for other languages), from the same rule, with the same explanation.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks } from "../../scripts/lib/mockCloud";
import { ConfigValidationError } from "../../components/core/errors";
import { SETTINGS_BY_KEY, SettingKey } from "../../components/core/settingsSchema";
import { validateStackConfig } from "../../components/core/settings";
import { redisHaArgPath } from "../../components/core/settingNames";
import { REDIS_PASSWORD, SENTINEL_PASSWORD, SSH_KEY } from "../support/fixtures";

installMocks(pulumi, "redis-ha", "settings-model-test");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { FirewallRules, RedisReplicaSet, SentinelQuorum } = require("../../components") as typeof import("../../components");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { DigitalOceanPlatform } = require("../../components/platforms/digitalocean") as typeof import("../../components/platforms/digitalocean");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { OvhPlatform } = require("../../components/platforms/ovh") as typeof import("../../components/platforms/ovh");

type Values = Partial<Record<SettingKey, unknown>>;

/** A valid DigitalOcean deployment, as settings: both surfaces start from it. */
const BASE: Values = {
    cloud: "digitalocean", region: "nyc3", zones: ["nyc3", "sfo3", "ams3"], instanceType: "s-2vcpu-4gb", image: "debian-12-x64",
    sshPublicKeys: [SSH_KEY], adminCidrs: ["203.0.113.10/32"], appCidrs: ["10.42.0.128/25"],
    redisPassword: REDIS_PASSWORD, sentinelPassword: SENTINEL_PASSWORD,
};

function stackProblems(values: Values): string {
    const raw = Object.fromEntries(Object.entries({ ...BASE, ...values }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    try {
        validateStackConfig(raw);
        return "";
    } catch (e) {
        if (e instanceof ConfigValidationError) return e.message;
        throw e;
    }
}

const platform = new DigitalOceanPlatform();
const firewall = new FirewallRules("model", { platform, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"] });

function componentProblems(values: Values): string {
    const args: Record<string, unknown> = { platform, firewall, zoneKind: "datacenter", sentinel: {} };
    for (const [key, value] of Object.entries({ ...BASE, ...values })) {
        const path = SETTINGS_BY_KEY.get(key)?.args?.RedisReplicaSet;
        if (path) setAt(args, path, value);
    }
    try {
        new RedisReplicaSet(`model-${Math.random().toString(36).slice(2, 8)}`, args as never);
        return "";
    } catch (e) {
        return (e as Error).message;
    }
}

const arg = (key: SettingKey) => `args.${SETTINGS_BY_KEY.get(key)!.args!.RedisReplicaSet}`;

/** Sets args.<path> ("redis.maxmemory"), making the objects on the way. */
function setAt(args: Record<string, unknown>, path: string, value: unknown): void {
    const parts = path.split(".");
    let into = args;
    for (const part of parts.slice(0, -1)) into = (into[part] ??= {}) as Record<string, unknown>;
    into[parts[parts.length - 1]] = value;
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** [what, the bad values, the setting reported, what the rule says] */
const CASES: Array<[string, Values, SettingKey, RegExp]> = [
    ["no replica", { replicaCount: 0 }, "replicaCount", /must be between 1 and 8/],
    ["an even Sentinel count", { sentinelCount: 4 }, "sentinelCount", /must be odd/],
    ["fewer than 3 Sentinels", { sentinelCount: 1 }, "sentinelCount", /must be at least 3/],
    ["more colocated Sentinels than Redis nodes", { sentinelCount: 5 }, "sentinelCount", /is more than the 3 Redis nodes that colocated Sentinels can sit beside/],
    ["a quorum below a majority", { quorum: 1 }, "quorum", /is smaller than a majority of 3 Sentinels/],
    ["a quorum above the Sentinel count", { quorum: 4 }, "quorum", /no failover could ever be agreed/],
    ["a down-after below the floor", { downAfterMilliseconds: 500 }, "downAfterMilliseconds", /must be between 1000 and 600000/],
    ["a failover timeout not above down-after", { downAfterMilliseconds: 5000, failoverTimeoutMilliseconds: 5000 }, "failoverTimeoutMilliseconds", /must be larger than .*downAfterMilliseconds \(5000\)/],
    ["more parallel syncs than replicas", { parallelSyncs: 3 }, "parallelSyncs", /is more than .*replicaCount \(2\)/],
    ["a master that would refuse every write", { minReplicasToWrite: 3 }, "minReplicasToWrite", /the master would refuse every write/],
    ["a replica lag of 0", { minReplicasMaxLag: 0 }, "minReplicasMaxLag", /must be between 1 and 3600/],
    ["a diskless sync delay above a minute", { replDisklessSyncDelay: 61 }, "replDisklessSyncDelay", /must be between 0 and 60/],
    ["a size with a space", { maxmemory: "3 gb" }, "maxmemory", /is not a size such as/],
    ["an unknown eviction policy", { maxmemoryPolicy: "lru" }, "maxmemoryPolicy", /must be one of noeviction, allkeys-lru/],
    ["an unknown persistence mode", { persistence: "always" }, "persistence", /must be one of aof\+rdb, aof, rdb, none/],
    ["a master name with a space", { masterName: "my master" }, "masterName", /is not a Sentinel master name/],
    ["Redis on the SSH port", { redisPort: 22 }, "redisPort", /clashes with SSH \(22\)/],
    ["a privileged Sentinel port", { sentinelPort: 80 }, "sentinelPort", /is a privileged port/],
    ["Redis and Sentinel on one port", { sentinelPort: 6379 }, "sentinelPort", /colocated Redis and Sentinel cannot share a port/],
    ["a short Redis password", { redisPassword: "short" }, "redisPassword", /is 5 characters long; at least 16/],
    ["a password that would inject a line", { redisPassword: "line-one-is-long\nrename-command CONFIG x" }, "redisPassword", /holds .* \(at character 17\)/],
    ["the Sentinel password equal to Redis's", { sentinelPassword: REDIS_PASSWORD }, "sentinelPassword", /is the same as .*redisPassword: a leaked Sentinel password would open the data/],
    ["no Sentinel password with auth on", { sentinelPassword: undefined }, "sentinelPassword", /is required/],
    ["a Sentinel password with auth off", { sentinelAuth: false }, "sentinelPassword", /is set while \S+ is false/],
    ["a rotation to the same password", { previousRedisPassword: REDIS_PASSWORD }, "previousRedisPassword", /there is nothing to rotate/],
    ["an old Sentinel password equal to Redis's", { previousSentinelPassword: REDIS_PASSWORD }, "previousSentinelPassword", /is the same as a Redis password/],
    ["a login key that is not one", { sshPublicKeys: ["ssh-ed25519"] }, "sshPublicKeys", /is not a single-line OpenSSH public key/],
    ["a private network too small", { privateNetworkCidr: "10.42.0.0/30" }, "privateNetworkCidr", /must be between \/16 and \/28/],
    ["two datacenters, one with a Sentinel majority", { zones: ["nyc3", "sfo3"] }, "zones", /zone nyc3 would hold the master and 2 of 3 Sentinels/],
    ["a size name with a shell character", { instanceType: "s-2vcpu;reboot" }, "instanceType", /is not a flavor or size name/],
];

test("the valid base passes on both surfaces", () => {
    expect(stackProblems({})).toBe("");
    expect(componentProblems({})).toBe("");
});

describe.each(CASES)("%s", (_what, values, key, rule) => {
    test("the stack refuses it as redis-ha:" + key + ", the component as its arg, with the same rule", () => {
        const stack = stackProblems(values);
        const component = componentProblems(values);
        const stackLine = new RegExp(`redis-ha:${escape(key)}(\\[\\d+\\])? = [^\\n]*`).exec(stack)?.[0];
        const componentLine = new RegExp(`${escape(arg(key))}(\\[\\d+\\])? = [^\\n]*`).exec(component)?.[0];
        expect({ stack: stackLine !== undefined, component: componentLine !== undefined }).toEqual({ stack: true, component: true });
        expect(stackLine).toMatch(rule);
        expect(componentLine).toMatch(rule);
        // Each in its own words: the component's message names no stack setting, and its fix is no CLI command.
        expect(componentLine).not.toMatch(/redis-ha:|pulumi config/);
    });
});

/** The other components' args, the same way: [what, the bad values, the setting, the rule]. */
const ON_OVH: Values = { cloud: "ovh", region: "EU-WEST-PAR", zones: undefined, instanceType: "b3-8", image: "Debian 12", ovhProjectId: "5f0e1d2c3b4a59687766554433221100" };
const OTHER_CASES: Array<["FirewallRules" | "SentinelQuorum" | "OvhPlatform", string, Values, SettingKey, RegExp]> = [
    ["OvhPlatform", "a project id that is not one", { ...ON_OVH, ovhProjectId: "my-project" }, "ovhProjectId", /is not an OVHcloud project id \(32 hexadecimal characters\)/],
    ["OvhPlatform", "a region redis-ha has no zones for", { ...ON_OVH, region: "EU-NOWHERE" }, "region", /is not a ovh region redis-ha knows.*use one of EU-WEST-PAR/],
    ["OvhPlatform", "a VLAN id above 4000", { ...ON_OVH, ovhVlanId: 4001 }, "ovhVlanId", /must be between 0 and 4000/],
    ["FirewallRules", "an app CIDR open to the world", { appCidrs: ["0.0.0.0/0"] }, "appCidrs", /admits 3,702,258,688 public IPv4 addresses/],
    ["FirewallRules", "the Internet as two halves", { appCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }, "appCidrs", /admits 3,702,258,688 public IPv4 addresses/],
    ["FirewallRules", "the public Internet in 40 pieces without the private blocks", { appCidrs: Array.from({ length: 40 }, (_, i) => `${(i + 1) * 4}.0.0.0/6`).filter((c) => !c.startsWith("224.") && !c.startsWith("240.")) }, "appCidrs", /public IPv4 addresses \(\d\d\.\d% of the Internet's/],
    ["FirewallRules", "a public /15 as 512 /24s", { adminCidrs: Array.from({ length: 512 }, (_, i) => `81.${80 + (i >> 8)}.${i & 255}.0/24`) }, "adminCidrs", /admits 131,072 public IPv4 addresses .*to port 22/],
    ["FirewallRules", "an admin CIDR that is no CIDR", { adminCidrs: ["203.0.113.300/32"] }, "adminCidrs", /is not a valid IPv4 CIDR/],
    ["FirewallRules", "overlapping app CIDRs", { appCidrs: ["10.42.0.0/24", "10.42.0.128/25"] }, "appCidrs", /overlaps \S+\[0\] \(10\.42\.0\.0\/24\)/],
    ["FirewallRules", "Redis on the SSH port", { redisPort: 22 }, "redisPort", /clashes with SSH \(22\)/],
    ["FirewallRules", "a monitoring CIDR open to the world", { monitoringCidrs: ["0.0.0.0/0"] }, "monitoringCidrs", /admits 3,702,258,688 public IPv4 addresses .*to port 9121/],
    ["FirewallRules", "overlapping monitoring CIDRs", { monitoringCidrs: ["10.42.1.0/24", "10.42.1.5/32"] }, "monitoringCidrs", /overlaps \S+\[0\] \(10\.42\.1\.0\/24\)/],
    ["SentinelQuorum", "a check budget under 30 s", { checkTimeoutSeconds: 5 }, "checkTimeoutSeconds", /must be between 30 and 3600/],
    ["SentinelQuorum", "an unknown way to SSH", { sshVia: "vpn" }, "sshVia", /must be one of public, private/],
    ["SentinelQuorum", "a login user with a space", { sshUser: "my user" }, "sshUser", /is not a Unix user name/],
];

function otherProblems(component: "FirewallRules" | "SentinelQuorum" | "OvhPlatform", values: Values): string {
    const args: Record<string, unknown> = component === "FirewallRules"
        ? { platform, appCidrs: BASE.appCidrs, adminCidrs: BASE.adminCidrs }
        : component === "OvhPlatform" ? {} : { checks: { user: "root" } };
    for (const [key, value] of Object.entries(values)) {
        // Settings this component has no arg for (the cloud, for OvhPlatform) are the stack's alone.
        const path = SETTINGS_BY_KEY.get(key)!.args?.[component];
        if (path) setAt(args, path, value);
    }
    try {
        if (component === "FirewallRules") new FirewallRules(`fw-${Math.random().toString(36).slice(2, 8)}`, args as never);
        else if (component === "OvhPlatform") new OvhPlatform(args as never);
        else {
            const replicaSet = new RedisReplicaSet(`rs-${Math.random().toString(36).slice(2, 8)}`, {
                platform, firewall, zones: BASE.zones as string[], zoneKind: "datacenter", instanceType: "s-2vcpu-4gb", image: "debian-12-x64",
                sshPublicKeys: [SSH_KEY], redisPassword: REDIS_PASSWORD, sentinel: { password: SENTINEL_PASSWORD },
            });
            new SentinelQuorum(`sq-${Math.random().toString(36).slice(2, 8)}`, { replicaSet, ...args } as never);
        }
        return "";
    } catch (e) {
        return (e as Error).message;
    }
}

describe.each(OTHER_CASES)("%s: %s", (component, _what, values, key, rule) => {
    test(`the stack refuses it as redis-ha:${key}, ${component} as its arg, with the same rule`, () => {
        const stackLine = new RegExp(`redis-ha:${escape(key)}(\\[\\d+\\])? = [^\\n]*`).exec(stackProblems(values))?.[0];
        const path = `args.${SETTINGS_BY_KEY.get(key)!.args![component]}`;
        const componentLine = new RegExp(`${escape(path)}(\\[\\d+\\])? = [^\\n]*`).exec(otherProblems(component, values))?.[0];
        expect(stackLine).toMatch(rule);
        expect(componentLine).toMatch(rule);
        expect(componentLine).not.toMatch(/redis-ha:|pulumi config/);
    });
});

/**
 * RedisHa, the whole deployment as one component for other languages, takes every setting as an arg
 * of its own name and refuses it by the same rule. Secrets are Inputs there, checked once they
 * resolve (by RedisReplicaSet), so the password cases are not in this table.
 */
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { RedisHa } = require("../../components/redisHa") as typeof import("../../components/redisHa");
const SECRET_KEYS = new Set(["redisPassword", "previousRedisPassword", "sentinelPassword", "previousSentinelPassword", "sshPrivateKey"]);

function redisHaProblems(values: Values): string {
    const args: Record<string, unknown> = {};
    for (const [key, value] of Object.entries({ ...BASE, ...values })) {
        if (value !== undefined) setAt(args, redisHaArgPath(key), value);
    }
    try {
        new RedisHa(`ha-${Math.random().toString(36).slice(2, 8)}`, args as never);
        return "";
    } catch (e) {
        return (e as Error).message;
    }
}

test("RedisHa: the valid base passes", () => {
    expect(redisHaProblems({})).toBe("");
});

describe.each([...CASES, ...OTHER_CASES.map(([, what, values, key, rule]) => [what, values, key, rule] as [string, Values, SettingKey, RegExp])]
    .filter(([, values, key]) => !SECRET_KEYS.has(key) && !Object.keys(values).some((k) => SECRET_KEYS.has(k))))("RedisHa: %s", (_what, values, key, rule) => {
    test(`refused as args.${key} by the same rule as redis-ha:${key}`, () => {
        const line = new RegExp(`args\\.${escape(redisHaArgPath(key))}(\\[\\d+\\])? = [^\\n]*`).exec(redisHaProblems(values))?.[0];
        expect(line).toMatch(rule);
        expect(line).not.toMatch(/redis-ha:|pulumi config/);
    });
});
