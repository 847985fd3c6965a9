import { buildFirewallPolicy, rulesFor, worldOpenRules } from "../../components/core/firewallPolicy";

const policy = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"] });
const describe_ = (r: ReturnType<typeof rulesFor>[number]) => `${r.port}<-${r.source.kind === "cidr" ? r.source.cidr : "cluster"}`;

describe("firewall policy", () => {
    test("a colocated node admits Redis and Sentinel from the app and the cluster, SSH from admins, the exporters from monitoring (admins by default), nothing else", () => {
        expect(rulesFor(policy, { redis: true, sentinel: true }).map(describe_).sort()).toEqual([
            "22<-203.0.113.10/32",
            "26379<-10.42.0.128/25",
            "26379<-cluster",
            "6379<-10.42.0.128/25",
            "6379<-cluster",
            "9121<-203.0.113.10/32",
            "9122<-203.0.113.10/32",
        ]);
    });

    test("a dedicated Sentinel opens neither the Redis port nor the Redis exporter's", () => {
        const ports = rulesFor(policy, { redis: false, sentinel: true }).map((r) => r.port);
        expect(ports).not.toContain(6379);
        expect(ports).not.toContain(9121);
        expect(ports).toContain(9122);
    });

    test("the app never reaches SSH or the exporters, and admins never reach Redis", () => {
        const all = policy.ingress;
        const from = (port: number) => [...new Set(all.filter((r) => r.port === port).map((r) => (r.source.kind === "cidr" ? r.source.cidr : "cluster")))];
        expect(from(22)).toEqual(["203.0.113.10/32"]);
        expect(from(9121)).toEqual(["203.0.113.10/32"]);
        expect(from(9122)).toEqual(["203.0.113.10/32"]);
        expect(from(6379).sort()).toEqual(["10.42.0.128/25", "cluster"]);
        expect(from(26379).sort()).toEqual(["10.42.0.128/25", "cluster"]);
    });

    test("monitoringCidrs, when set, are the only sources of the exporter ports", () => {
        const watched = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"], monitoringCidrs: ["10.42.1.5/32", "10.42.2.0/28"] });
        expect(watched.ingress.filter((r) => r.port === 9121 || r.port === 9122).map(describe_).sort()).toEqual([
            "9121<-10.42.1.5/32", "9121<-10.42.2.0/28", "9122<-10.42.1.5/32", "9122<-10.42.2.0/28",
        ]);
        expect(watched.ingress.filter((r) => r.port !== 9121 && r.port !== 9122).map(describe_)).toEqual(policy.ingress.filter((r) => r.port !== 9121 && r.port !== 9122).map(describe_));
        expect(() => buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"], monitoringCidrs: ["0.0.0.0/0"] }))
            .toThrow(/redis-ha:monitoringCidrs\[0\] = "0.0.0.0\/0": opens the port to the whole Internet/);
    });

    test("0.0.0.0/0 is refused without the opt-in and visible with it", () => {
        expect(() => buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"] })).toThrow(/redis-ha:appCidrs\[0\] = "0.0.0.0\/0": opens the port to the whole Internet/);
        const open = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"], allowWorldAccess: true });
        expect(worldOpenRules(open).map((r) => r.port).sort()).toEqual([26379, 6379]);
        expect(worldOpenRules(policy)).toEqual([]);
    });
});
