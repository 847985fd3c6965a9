import { buildFirewallPolicy, rulesFor, worldOpenRules } from "../../components/core/firewallPolicy";

const policy = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"] });
const describe_ = (r: ReturnType<typeof rulesFor>[number]) => `${r.port}<-${r.source.kind === "cidr" ? r.source.cidr : "cluster"}`;

describe("firewall policy", () => {
    test("a colocated node admits Redis and Sentinel from the app and the cluster, SSH from admins, nothing else", () => {
        expect(rulesFor(policy, { redis: true, sentinel: true }).map(describe_).sort()).toEqual([
            "22<-203.0.113.10/32",
            "26379<-10.42.0.128/25",
            "26379<-cluster",
            "6379<-10.42.0.128/25",
            "6379<-cluster",
        ]);
    });

    test("a dedicated Sentinel does not open the Redis port", () => {
        expect(rulesFor(policy, { redis: false, sentinel: true }).map((r) => r.port)).not.toContain(6379);
    });

    test("the app never reaches SSH and admins never reach Redis", () => {
        const all = policy.ingress;
        expect(all.filter((r) => r.port === 22).every((r) => r.source.kind === "cidr" && r.source.cidr === "203.0.113.10/32")).toBe(true);
        expect(all.filter((r) => r.port !== 22 && r.source.kind === "cidr").every((r) => r.source.kind === "cidr" && r.source.cidr === "10.42.0.128/25")).toBe(true);
    });

    test("0.0.0.0/0 is refused without the opt-in and visible with it", () => {
        expect(() => buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"] })).toThrow(/redis-ha:appCidrs\[0\] = "0.0.0.0\/0": opens the port to the whole Internet/);
        const open = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"], allowWorldAccess: true });
        expect(worldOpenRules(open).map((r) => r.port).sort()).toEqual([26379, 6379]);
        expect(worldOpenRules(policy)).toEqual([]);
    });
});
