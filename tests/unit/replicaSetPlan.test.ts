/**
 * What RedisReplicaSet decides before creating anything, from planReplicaSet alone: no Pulumi
 * mocks, no spies (the component's constructor only turns this plan into resources).
 */
import { ConfigValidationError } from "../../components/core/errors";
import { ReplicaSetPlanArgs, planReplicaSet } from "../../components/core/replicaSetPlan";
import { REDIS_PASSWORD, SENTINEL_PASSWORD, SSH_KEY } from "../support/fixtures";

const onFixedAddresses = { addressing: "static", providesLoginKey: false } as const;
const onAssignedAddresses = { addressing: "dynamic", providesLoginKey: false } as const;
const args = (extra: Partial<ReplicaSetPlanArgs> = {}): ReplicaSetPlanArgs => ({
    platform: onFixedAddresses,
    zones: ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"],
    instanceType: "b3-8",
    image: "Debian 12",
    sshPublicKeys: [SSH_KEY],
    access: { user: "debian" },
    redisPassword: REDIS_PASSWORD,
    sentinel: { password: SENTINEL_PASSWORD },
    ...extra,
});
const refusalOf = (plan: ReturnType<typeof planReplicaSet>, key: string) => plan.identity.find((s) => s.key === key)?.refusal;

test("defaults: a master and two replicas, one per zone, a majority quorum of three colocated Sentinels", () => {
    const plan = planReplicaSet("cache", args());
    expect(plan.topology.hosts.map((h) => [h.name, h.zone, h.sentinel])).toEqual([
        ["cache-redis-0", "eu-west-par-a", true],
        ["cache-redis-1", "eu-west-par-b", true],
        ["cache-redis-2", "eu-west-par-c", true],
    ]);
    expect(plan.config.quorum).toBe(2);
    expect(plan.config.minReplicasToWrite).toBe(1);
    // With fixed addresses the boot guard is told every Sentinel up front.
    expect(plan.config.knownSentinels).toEqual(plan.topology.sentinels.map((h) => `${h.privateAddress}:26379`));
    expect(refusalOf(plan, "image")).toBe("");
});

test("where the cloud assigns addresses the Sentinels are discovered, and a new image is refused rather than replacing every VM at once", () => {
    const plan = planReplicaSet("cache", args({ platform: onAssignedAddresses, zones: ["ams3", "fra1", "lon1"], zoneKind: "datacenter" }));
    expect(plan.config.knownSentinels).toEqual([]);
    expect(refusalOf(plan, "image")).toMatch(/digitalocean.*replace every one at once/);
});

test("a rotation under way refuses new nodes, naming the setting as both users know it", () => {
    const plan = planReplicaSet("cache", args({ previousRedisPassword: "old-password-0123456789abcdef" }));
    expect(refusalOf(plan, "hosts")).toContain("redis-ha:previousRedisPassword (args.previousRedisPassword) set");
});

test("bad args: every problem at once, in the args' own names, before anything exists", () => {
    let thrown: unknown;
    try {
        planReplicaSet("cache", args({ replicaCount: 2, redis: { minReplicasToWrite: 3, maxmemory: "lots" }, sshPublicKeys: [] }));
    } catch (e) {
        thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigValidationError);
    expect((thrown as ConfigValidationError).problems.map((p) => p.setting).sort()).toEqual(["args.redis.maxmemory", "args.redis.minReplicasToWrite", "args.sshPublicKeys"]);
});
