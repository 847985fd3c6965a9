/**
 * The three components used as a library, under Pulumi's mocks: options that only the engine sees
 * (ignoreChanges, dependsOn, parents) are captured with a transformation on the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { installMocks, settle, valueOf } from "../../scripts/lib/mockCloud";
import { SSH_KEY, REDIS_PASSWORD, SENTINEL_PASSWORD } from "../support/fixtures";

const recorded = installMocks(pulumi, "redis-ha", "component-test");
// Imported after the mocks are in place, as Pulumi's testing guide requires.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { FirewallRules, RedisReplicaSet, SentinelQuorum } = require("../../components") as typeof import("../../components");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { OvhPlatform } = require("../../components/platforms/ovh") as typeof import("../../components/platforms/ovh");
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { DigitalOceanPlatform } = require("../../components/platforms/digitalocean") as typeof import("../../components/platforms/digitalocean");

interface Seen { type: string; name: string; opts: pulumi.CustomResourceOptions; resource?: pulumi.Resource }
const seen: Seen[] = [];
const record: pulumi.ResourceTransformation = (args) => {
    seen.push({ type: args.type, name: args.name, opts: args.opts });
    return undefined;
};

function deployment(name: string, platform: InstanceType<typeof OvhPlatform> | InstanceType<typeof DigitalOceanPlatform>, placement: "colocated" | "dedicated" = "colocated", zones = ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"]) {
    const opts = { transformations: [record] };
    const firewall = new FirewallRules(name, { platform, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"] }, opts);
    const replicaSet = new RedisReplicaSet(name, {
        platform, firewall, zones, instanceType: "b3-8", image: "Debian 12", sshPublicKeys: [SSH_KEY],
        redisPassword: pulumi.secret(REDIS_PASSWORD), sentinel: { password: pulumi.secret(SENTINEL_PASSWORD), placement },
    }, opts);
    const quorum = new SentinelQuorum(name, { replicaSet, instanceType: "d2-2", checks: { user: "debian" } }, opts);
    return { firewall, replicaSet, quorum };
}

const ovh = new OvhPlatform({ projectId: "5f0e1d2c3b4a59687766554433221100", region: "EU-WEST-PAR" });
const sessions = deployment("sessions", ovh);
const cache = deployment("cache", ovh, "dedicated");

beforeAll(async () => {
    await valueOf(pulumi, cache.quorum.nodes);
    await valueOf(pulumi, sessions.quorum.checkReports);
    await settle(recorded);
});

test("two deployments live in one stack without a name clash", () => {
    const names = recorded.filter((r) => !r.type.startsWith("redis-ha:")).map((r) => `${r.type}::${r.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(recorded.some((r) => r.name === "sessions-redis-0")).toBe(true);
    expect(recorded.some((r) => r.name === "cache-redis-0")).toBe(true);
});

test("user-data changes never replace a VM", () => {
    const vms = seen.filter((s) => s.type === "openstack:compute/instance:Instance");
    expect(vms).toHaveLength(3 + 6);
    for (const vm of vms) expect(vm.opts.ignoreChanges).toEqual(["userData"]);
});

test("children are parented to their component (URNs carry the component type)", async () => {
    const urn = await valueOf(pulumi, sessions.replicaSet.hosts[0].resource.urn);
    expect(urn).toContain("redis-ha:index:RedisReplicaSet$openstack:compute/instance:Instance::sessions-redis-0");
    const checkUrn = await valueOf(pulumi, sessions.quorum.checkCommands[0].urn);
    expect(checkUrn).toContain("redis-ha:index:SentinelQuorum$command:remote:Command::sessions-redis-0-check");
});

test("each data node's boot guard is brought up to date, then the settings rollout runs, after every host of its deployment exists; the default user's step after the rollout and every credentials step, and each check (the data nodes' hardening too, as they have no Sentinel) after all of them", () => {
    const all = seen.filter((s) => s.type === "command:remote:Command" && s.name.startsWith("cache-"));
    const hosts = [...cache.replicaSet.hosts, ...cache.quorum.dedicatedHosts].map((h) => h.resource);
    // Only the data nodes have a boot guard; the dedicated Sentinels none.
    const guards = all.filter((c) => c.name.endsWith("-boot-guard"));
    expect(guards.map((c) => c.name)).toEqual([0, 1, 2].map((i) => `cache-redis-${i}-boot-guard`));
    for (const guard of guards) expect(guard.opts.dependsOn).toEqual(hosts);
    const commands = all.filter((c) => !guards.includes(c));
    expect(commands.map((c) => c.name)).toEqual([
        "cache-settings", ...[0, 1, 2].map((i) => `cache-redis-${i}-credentials`), ...[0, 1, 2].map((i) => `cache-sentinel-${i}-credentials`), "cache-default-user", "cache-sentinel-0-check", "cache-sentinel-1-check", "cache-sentinel-2-check",
        ...[0, 1, 2].map((i) => `cache-redis-${i}-hardening`),
    ]);
    // The rollout may change what an earlier redis-ha's guard relies on (masterauth): today's guard is in place first.
    expect(commands[0].opts.dependsOn).toEqual([...hosts, ...cache.quorum.bootGuards]);
    // The copies in files (boot guards', exporters') move only after the rollout made every node accept the stack's passwords.
    for (const credentials of commands.slice(1, 7)) expect(credentials.opts.dependsOn).toEqual([cache.quorum.settingsRollout]);
    // (Compared by identity, not toEqual: a failing diff of resources would print their whole graph.)
    const same = (resource: { name: string; opts: pulumi.CustomResourceOptions }, expected: pulumi.Resource[]) => {
        const dependsOn = resource.opts.dependsOn as pulumi.Resource[];
        return { resource: resource.name, count: dependsOn.length, same: dependsOn.every((d, i) => d === expected[i]) };
    };
    // Default goes off once no login of redis-ha's is on it: the exporters move in the credentials steps.
    expect(same(commands[7], [cache.quorum.settingsRollout!, ...cache.quorum.hostCredentials])).toEqual({ resource: "cache-default-user", count: 1 + 6, same: true });
    // After the credentials steps too: a host made by an earlier version has its operator credentials by then.
    const checkDependencies = [...hosts, cache.quorum.settingsRollout!, ...cache.quorum.hostCredentials, cache.quorum.defaultUser!];
    for (const check of commands.slice(8)) {
        expect(same(check, checkDependencies)).toEqual({ resource: check.name, count: 6 + 1 + 6 + 1, same: true }); // 6 hosts, the rollout, 6 credentials steps, the default user's
    }
});

test("hosts wait for the deployment guard, their network and firewall; the network waits for the guard too", () => {
    const vm = seen.find((s) => s.name === "sessions-redis-1" && s.type === "openstack:compute/instance:Instance")!;
    expect(vm.opts.dependsOn).toEqual([sessions.replicaSet.guard, ...sessions.replicaSet.network.readyWhen, ...sessions.replicaSet.firewall.attachment.readyWhen]);
    const dedicated = seen.find((s) => s.name === "cache-sentinel-0" && s.type === "openstack:compute/instance:Instance")!;
    expect((dedicated.opts.dependsOn as pulumi.Resource[])[0]).toBe(cache.replicaSet.guard);
    const network = seen.find((s) => s.name === "sessions-net")!;
    expect(network.opts.dependsOn).toEqual([sessions.replicaSet.guard]);
});

test("dedicated placement adds three Sentinel VMs of the Sentinel flavor, and only Sentinels on them", async () => {
    const sentinels = recorded.filter((r) => r.type === "openstack:compute/instance:Instance" && r.name.startsWith("cache-sentinel-"));
    expect(sentinels.map((s) => [s.name, s.inputs.availabilityZone, s.inputs.flavorName])).toEqual([
        ["cache-sentinel-0", "eu-west-par-b", "d2-2"],
        ["cache-sentinel-1", "eu-west-par-c", "d2-2"],
        ["cache-sentinel-2", "eu-west-par-a", "d2-2"],
    ]);
    for (const s of sentinels) {
        expect(s.inputs.userData).toContain("redis-sentinel");
        expect(s.inputs.userData).not.toContain("redis.conf");
    }
    expect(await valueOf(pulumi, cache.quorum.endpoints)).toEqual(["10.42.0.14:26379", "10.42.0.15:26379", "10.42.0.16:26379"]);
});

test("the Sentinel password and the Redis password stay secret on the VMs and in the rollout; the checks carry none", () => {
    for (const vm of recorded.filter((r) => r.type === "openstack:compute/instance:Instance")) expect(vm.secretInputs).toContain("userData");
    const commands = recorded.filter((r) => r.type === "command:remote:Command");
    // The rollout carries the passwords, for a rotation: only ever as a secret.
    const rollouts = commands.filter((c) => c.name.endsWith("-settings"));
    expect(rollouts.map((r) => r.name).sort()).toEqual(["cache-settings", "sessions-settings"]);
    for (const rollout of rollouts) expect(rollout.secretInputs).toContain("stdin");
    for (const check of commands.filter((c) => c.name.endsWith("-check"))) {
        expect(check.inputs.stdin).not.toContain(REDIS_PASSWORD);
        expect(check.inputs.stdin).not.toContain(SENTINEL_PASSWORD);
    }
});

describe("bad component args fail naming the arg", () => {
    const platform = new DigitalOceanPlatform();
    test("world-open app CIDRs without the opt-in", () => {
        expect(() => new FirewallRules("open", { platform, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"] })).toThrow(/FirewallRules open: args\.appCidrs = \["0.0.0.0\/0"\]: admits 3,702,258,688 public IPv4 addresses.*Fix: .*set args\.allowWorldAccess to true/s);
    });
    test("an even Sentinel count", () => {
        const firewall = new FirewallRules("even", { platform, appCidrs: ["10.0.0.0/24"], adminCidrs: ["203.0.113.10/32"] });
        expect(() => new RedisReplicaSet("even", {
            platform, firewall, zones: ["ams3", "fra1", "lon1"], zoneKind: "datacenter", instanceType: "s-2vcpu-4gb", image: "debian-12-x64",
            sshPublicKeys: [SSH_KEY], redisPassword: REDIS_PASSWORD, sentinel: { password: SENTINEL_PASSWORD, count: 4 },
        })).toThrow(/RedisReplicaSet even: args\.sentinel\.count = 4: must be odd: .*Fix: set args\.sentinel\.count to 5/);
    });
    test("a zone holding the master and a Sentinel majority names the arg and the fix", () => {
        const firewall = new FirewallRules("spread", { platform, appCidrs: ["10.0.0.0/24"], adminCidrs: ["203.0.113.10/32"] });
        expect(() => new RedisReplicaSet("spread", {
            platform, firewall, zones: ["ams3", "fra1"], zoneKind: "datacenter", instanceType: "s-2vcpu-4gb", image: "debian-12-x64",
            sshPublicKeys: [SSH_KEY], redisPassword: REDIS_PASSWORD, sentinel: { password: SENTINEL_PASSWORD },
        })).toThrow(/args\.zones = \["ams3","fra1"\]: zone ams3 would hold the master and 2 of 3 Sentinels.*set args\.sentinel\.placement to "dedicated"/);
    });
    test("passwords delivered over SSH without SSH to the hosts", () => {
        const firewall = new FirewallRules("blind", { platform, appCidrs: ["10.0.0.0/24"], adminCidrs: ["203.0.113.10/32"] });
        expect(() => new RedisReplicaSet("blind", {
            platform, firewall, zones: ["ams3", "fra1", "lon1"], zoneKind: "datacenter", instanceType: "s-2vcpu-4gb", image: "debian-12-x64", secretsDelivery: "ssh",
            sshPublicKeys: [SSH_KEY], redisPassword: REDIS_PASSWORD, sentinel: { password: SENTINEL_PASSWORD },
        })).toThrow(/args\.secretsDelivery = "ssh": needs SSH to the hosts, and args\.access is unset.*Fix: give args\.access \(the checks' login\), or set args\.secretsDelivery to "user-data"/);
    });
    test("a master name with a space", () => {
        const firewall = new FirewallRules("named", { platform, appCidrs: ["10.0.0.0/24"], adminCidrs: ["203.0.113.10/32"] });
        expect(() => new RedisReplicaSet("named", {
            platform, firewall, zones: ["ams3"], zoneKind: "datacenter", instanceType: "s-2vcpu-4gb", image: "debian-12-x64", masterName: "my master",
            sshPublicKeys: [SSH_KEY], redisPassword: REDIS_PASSWORD, sentinel: { password: SENTINEL_PASSWORD },
        })).toThrow(/args\.masterName = "my master": is not a Sentinel master name .*Fix: set args\.masterName to "redis-ha"/);
    });
});
