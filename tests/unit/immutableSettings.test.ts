import { deploymentIdentity, immutableChangeRefusals, replacementRefusal } from "../../components/core/immutableSettings";

const base: Parameters<typeof deploymentIdentity>[0] = {
    masterName: "redis-ha", redisPort: 6379, sentinelPort: 26379, privateNetworkCidr: "10.42.0.0/24", sentinelPlacement: "colocated",
    image: "Debian 12", instanceType: "b3-8", sentinelCount: 3,
    hosts: [
        { name: "n-redis-0", zone: "a", privateAddress: "10.42.0.11", sentinel: true },
        { name: "n-redis-1", zone: "b", privateAddress: "10.42.0.12", sentinel: true },
        { name: "n-redis-2", zone: "c", privateAddress: "10.42.0.13", sentinel: true },
        { name: "n-redis-3", zone: "a", privateAddress: "10.42.0.14", sentinel: false },
    ],
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
        const all = refusals({ masterName: "shop", redisPort: 6380, sentinelPort: 26380, privateNetworkCidr: "10.50.0.0/24", sentinelPlacement: "dedicated", sentinelCount: 5 });
        expect(all).toHaveLength(6);
        expect(new Set(all.map((m) => m.split(": ")[1])).size).toBe(6);
    });

    test("a new image or size is a rolling replacement where one can be done safely, and refused with the reason where not", () => {
        const safe = { fixedAddresses: true, sshAccess: true, replicaCount: 2, minReplicasToWrite: 1 };
        expect(replacementRefusal(safe)).toBeUndefined();
        expect(refusals({ image: "Debian 12 (2026-11)", instanceType: "b3-16" })).toEqual([]);
        expect(replacementRefusal({ ...safe, fixedAddresses: false })).toMatch(/^on a cloud that assigns addresses \(digitalocean\) the nodes are not replaced one at a time yet/);
        expect(replacementRefusal({ ...safe, sshAccess: false })).toMatch(/^without SSH access \(redis-ha:checks false\)/);
        // One replica away: a master that needs 2 would refuse every write meanwhile.
        expect(replacementRefusal({ ...safe, minReplicasToWrite: 2 })).toMatch(/^while one node is replaced the master has 1 replica\(s\), fewer than minReplicasToWrite \(2\), so it would refuse every write\. Add a replica first \(redis-ha:replicaCount 3, one pulumi up\)/);
        const why = replacementRefusal({ ...safe, replicaCount: 1 });
        expect(refusals({ image: "Debian 13", replacementRefusal: why })).toEqual([
            `image cannot change on a running deployment ("Debian 12" -> "Debian 13"): a new image replaces the VMs: ${why}.`,
        ]);
        expect(refusals({ instanceType: "b3-16", replacementRefusal: why })).toHaveLength(1);
    });

    test("zones of existing nodes are guarded (a reordered zones list moves every node); a node added at the end is not", () => {
        const [a, b, c, d] = base.hosts;
        const reordered = refusals({ hosts: [{ ...a, zone: "b" }, { ...b, zone: "c" }, { ...c, zone: "a" }, d] });
        expect(reordered).toHaveLength(3);
        expect(reordered[0]).toMatch(/^the zone of n-redis-0 \(redis-ha:zones \/ args\.zones\) cannot change on a running deployment \("a" -> "b"\): moving n-redis-0 to another zone replaces its VM/);
        expect(refusals({ hosts: [...base.hosts, { name: "n-redis-4", zone: "b", privateAddress: "10.42.0.15", sentinel: false }] })).toEqual([]);
    });

    test("a fixed address that would move (dedicated Sentinels behind more replicas) is refused, naming the host", () => {
        const moved = refusals({ hosts: base.hosts.map((h, i) => (i === 3 ? { ...h, privateAddress: "10.42.0.15" } : h)) });
        expect(moved).toEqual([expect.stringMatching(/^the private address of n-redis-3 cannot change on a running deployment \("10\.42\.0\.14" -> "10\.42\.0\.15"\): n-redis-3 would move to another fixed address/)]);
    });

    test("while a password rotation is under way, no node may be added, removed or replaced: a new one would know only the new password", () => {
        const rotating = { rotationsUnderWay: ["redis-ha:previousSentinelPassword (args.sentinel.previousPassword)"] };
        expect(refusals(rotating)).toEqual([]);
        const added = refusals({ ...rotating, hosts: [...base.hosts, { name: "n-redis-4", zone: "b", privateAddress: "10.42.0.15", sentinel: false }] });
        expect(added).toEqual([expect.stringMatching(/^hosts cannot change on a running deployment \("n-redis-0 n-redis-1 n-redis-2 n-redis-3" -> "n-redis-0 n-redis-1 n-redis-2 n-redis-3 n-redis-4"\): it adds or removes nodes: a password rotation is under way \(redis-ha:previousSentinelPassword \(args\.sentinel\.previousPassword\) set\)/)]);
        expect(added[0]).toMatch(/Finish the rotation first \(remove redis-ha:previousSentinelPassword \(args\.sentinel\.previousPassword\), pulumi up\), then make this change\.$/);
        expect(refusals({ ...rotating, hosts: base.hosts.slice(0, 3) })).toHaveLength(1);
        expect(refusals({ ...rotating, image: "Debian 12 (2026-11)" })).toEqual([expect.stringMatching(/^image cannot change on a running deployment .*: a new image replaces the VMs: a password rotation is under way/)]);
    });

    test("a replica without a Sentinel may be removed (the rollout retires it); a host with a Sentinel only with a lower sentinelCount", () => {
        expect(refusals({ hosts: base.hosts.slice(0, 3) })).toEqual([]);
        expect(refusals({ hosts: base.hosts.slice(0, 2), sentinelCount: 3 })).toEqual(["n-redis-2 would be removed, and it carries a Sentinel: pulumi up removes a Sentinel's host only when sentinelCount is lowered with it (the highest-numbered data nodes). Keep it, or lower sentinelCount too."]);
    });

    describe("a colocated Sentinel count changes with its hosts, never on a host that stays", () => {
        const host = (i: number, sentinel: boolean) => ({ name: `n-redis-${i}`, zone: "abc"[i % 3], privateAddress: `10.42.0.${11 + i}`, sentinel });
        const three = { ...base, hosts: [0, 1, 2].map((i) => host(i, true)) };
        const five = { ...base, sentinelCount: 5, hosts: [0, 1, 2, 3, 4].map((i) => host(i, true)) };
        const change = (from: typeof base, to: Partial<typeof base>) =>
            immutableChangeRefusals(Object.fromEntries(deploymentIdentity(from).map((s) => [s.key, s.value])), deploymentIdentity({ ...from, ...to }));

        test("3 -> 5 Sentinels with two new data nodes that carry them (and a third without one) passes", () => {
            expect(change(three, { sentinelCount: 5, hosts: [...five.hosts, host(5, false)] })).toEqual([]);
        });

        test("5 -> 3 with the hosts of the two Sentinels removed passes: the rollout stops them monitoring, then resets the others", () => {
            expect(change(five, { sentinelCount: 3, hosts: five.hosts.slice(0, 3) })).toEqual([]);
        });

        test("a Sentinel on a host that stays is neither started nor stopped: refused, naming the host and the way there", () => {
            // replicaCount 3 -> 3, sentinelCount 3 -> 5: n-redis-3 runs without a Sentinel.
            expect(change(base, { sentinelCount: 5, hosts: [...base.hosts.slice(0, 3), { ...base.hosts[3], sentinel: true }, host(4, true)] })).toEqual([
                "n-redis-3 runs without a Sentinel and would get one (sentinelCount 3 -> 5): pulumi up starts a Sentinel only on a host it creates. Colocated Sentinels sit on the first sentinelCount data nodes, so raise the count only while every data node carries one, together with redis-ha:replicaCount (args.replicaCount), so each new Sentinel comes with a new node; or keep the count.",
            ]);
            const stays = change(five, { sentinelCount: 3, hosts: five.hosts.map((h, i) => ({ ...h, sentinel: i < 3 })) });
            expect(stays).toHaveLength(2);
            expect(stays[0]).toBe("n-redis-3 carries a Sentinel and would keep running without it (sentinelCount 5 -> 3): pulumi up stops a Sentinel only with its host. Lower redis-ha:replicaCount (args.replicaCount) with it, to 2, so the hosts that lose their Sentinel are removed; or keep the count.");
        });

        test("dedicated Sentinel VMs are not added or removed: refused with the reason", () => {
            const dedicated = { ...base, sentinelPlacement: "dedicated" };
            expect(change(dedicated, { sentinelCount: 5 })).toEqual([expect.stringMatching(/^sentinelCount cannot change on a running deployment \("3" -> "5"\): pulumi up does not add or remove dedicated Sentinel VMs yet/)]);
        });
    });
});
