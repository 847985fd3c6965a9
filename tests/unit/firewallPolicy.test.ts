import { buildFirewallPolicy, rulesFor } from "../../components/core/firewallPolicy";

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
            .toThrow(/redis-ha:monitoringCidrs = "\[\\"0.0.0.0\/0\\"\]": admits 3,702,258,688 public IPv4 addresses .* to port 9121 \(Prometheus scraping the Redis exporter\) and 9122/);
    });

    test("0.0.0.0/0 is refused without the opt-in and present in the rules with it", () => {
        expect(() => buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"] }))
            .toThrow(/redis-ha:appCidrs = "\[\\"0.0.0.0\/0\\"\]": admits 3,702,258,688 public IPv4 addresses .*Fix: .*pulumi config set redis-ha:allowWorldAccess true/);
        const open = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["0.0.0.0/0"], adminCidrs: ["203.0.113.10/32"], allowWorldAccess: true });
        expect(open.ingress.filter((r) => r.source.kind === "cidr" && r.source.cidr === "0.0.0.0/0").map((r) => r.port).sort()).toEqual([26379, 6379]);
    });

    const input = { redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.128/25"], adminCidrs: ["203.0.113.10/32"] };
    const publicSlash24s = (count: number, from = 0) => Array.from({ length: count }, (_, i) => `81.${80 + ((from + i) >> 8)}.${(from + i) & 255}.0/24`);
    test.each([
        ["the whole Internet", ["0.0.0.0/0"]],
        ["two halves", ["0.0.0.0/1", "128.0.0.0/1"]],
        ["256 /8s", Array.from({ length: 256 }, (_, i) => `${i}.0.0.0/8`)],
        ["every public /8 alone, the private ones left out", Array.from({ length: 224 }, (_, i) => `${i}.0.0.0/8`).filter((c) => !["0.", "10.", "127."].some((p) => c.startsWith(p)))],
        ["a /15 of public space as 512 /24s", publicSlash24s(512)],
        ["a /16 and one address more", [...publicSlash24s(256), "81.90.0.1/32"]],
        ["a public /16 written twice over as /17s and /18s, plus another /18", ["81.80.0.0/17", "81.80.128.0/18", "81.80.192.0/18", "81.81.0.0/18"]],
    ])("%s: refused for every list, on every port it feeds", (_what, cidrs) => {
        for (const key of ["appCidrs", "adminCidrs", "monitoringCidrs"] as const) {
            expect(() => buildFirewallPolicy({ ...input, [key]: cidrs })).toThrow(new RegExp(`redis-ha:${key} = .*: admits [\\d,]+ public IPv4 addresses`));
        }
    });

    test.each([
        ["exactly a public /16, as 256 /24s", publicSlash24s(256)],
        ["two /17s", ["81.80.0.0/17", "81.81.0.0/17"]],
        ["every private and reserved block there is", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3"]],
    ])("%s: admitted without the opt-in", (_what, cidrs) => {
        expect(buildFirewallPolicy({ ...input, appCidrs: cidrs }).ingress.length).toBeGreaterThan(cidrs.length);
    });

    test("two lists that feed one port are judged together: each /16 alone passes, both refused, both named", () => {
        // SSH moved onto the Redis exporter's port: admins' and Prometheus's blocks both reach 9121.
        const apart = { ...input, sshPort: 9121, adminCidrs: ["81.80.0.0/16"], monitoringCidrs: ["81.81.0.0/16"] };
        expect(() => buildFirewallPolicy({ ...apart, sshPort: 22 })).not.toThrow();
        expect(() => buildFirewallPolicy(apart)).toThrow(/redis-ha:adminCidrs \+ redis-ha:monitoringCidrs = .*: admit 131,072 public IPv4 addresses .* to port 9121/);
    });
});
