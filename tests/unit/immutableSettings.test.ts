import { deploymentIdentity, immutableChangeRefusals } from "../../components/core/immutableSettings";

const base = {
    masterName: "redis-ha", redisPort: 6379, sentinelPort: 26379, privateNetworkCidr: "10.42.0.0/24", sentinelPlacement: "colocated",
    image: "Debian 12", instanceType: "b3-8",
    hosts: [{ name: "n-redis-0", zone: "a" }, { name: "n-redis-1", zone: "b" }, { name: "n-redis-2", zone: "c" }],
};
const recorded = Object.fromEntries(deploymentIdentity(base).map((s) => [s.key, s.value]));
const names: Record<string, string> = { redisPort: "redis-ha:redisPort (args.redis.port)" };
const refusals = (changes: Partial<typeof base>) => immutableChangeRefusals(recorded, deploymentIdentity({ ...base, ...changes }), (k) => names[k] ?? k);

describe("what a running deployment cannot change", () => {
    test("the same settings, and settings that can change at runtime, pass", () => {
        expect(refusals({})).toEqual([]);
    });

    test("a new port is refused, naming the setting, both values, why, and what to do instead", () => {
        expect(refusals({ redisPort: 6380 })).toEqual([
            'redis-ha:redisPort (args.redis.port) cannot change on a running deployment ("6379" -> "6380"): every client, replica and Sentinel reaches the nodes on this port, and a running Redis cannot move to another. Keep it, or deploy a second stack with the new value beside this one, move the data (REPLICAOF from the new master, or an RDB copy) and the clients, then destroy this stack.',
        ]);
    });

    test("every immutable setting is guarded, each with its own reason", () => {
        const all = refusals({ masterName: "shop", redisPort: 6380, sentinelPort: 26380, privateNetworkCidr: "10.50.0.0/24", sentinelPlacement: "dedicated", image: "Debian 13", instanceType: "b3-16" });
        expect(all).toHaveLength(7);
        expect(new Set(all.map((m) => m.split(": ")[1])).size).toBe(7);
    });

    test("zones of existing nodes are guarded (a reordered zones list moves every node); a node added at the end is not", () => {
        const reordered = refusals({ hosts: [{ name: "n-redis-0", zone: "b" }, { name: "n-redis-1", zone: "c" }, { name: "n-redis-2", zone: "a" }] });
        expect(reordered).toHaveLength(3);
        expect(reordered[0]).toMatch(/^the zone of n-redis-0 \(redis-ha:zones \/ args\.zones\) cannot change on a running deployment \("a" -> "b"\): moving n-redis-0 to another zone replaces its VM/);
        expect(refusals({ hosts: [...base.hosts, { name: "n-redis-3", zone: "a" }] })).toEqual([]);
    });

    test("a node that would be removed is refused until scale-down exists", () => {
        expect(refusals({ hosts: base.hosts.slice(0, 2) })).toEqual([expect.stringMatching(/^n-redis-2 would be removed \(replicaCount or sentinelCount lowered\): pulumi up does not remove nodes yet/)]);
    });
});
