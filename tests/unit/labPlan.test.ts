import { renderNftables } from "../../cloud-init/nftables";
import { ConfigValidationError } from "../../components/core/errors";
import { buildFirewallPolicy, rulesFor } from "../../components/core/firewallPolicy";
import { planLabNetwork } from "../../components/platforms/lab/network";
import { plan } from "../support/render";

const settings = { appCidrs: ["10.42.0.192/27"], adminCidrs: ["10.42.0.224/28"] };

describe("lab network plan", () => {
    test("hosts keep the planner's names and addresses; app, admin and outsider sit where the policy says", () => {
        const network = planLabNetwork(plan(), "rha-lab", settings);
        expect(network.hosts.map((h) => [h.namespace, h.address])).toEqual([
            ["rha-redis-0", "10.42.0.11"],
            ["rha-redis-1", "10.42.0.12"],
            ["rha-redis-2", "10.42.0.13"],
        ]);
        expect(network.app).toEqual({ namespace: "rha-lab-app", address: "10.42.0.193", bridgePort: "vapp" });
        expect(network.admin).toEqual({ namespace: "rha-lab-admin", address: "10.42.0.225", bridgePort: "vadmin" });
        // The outsider is on the same wire but outside every allowed CIDR.
        expect(network.outsider.address).toBe("10.42.0.254");
        expect(network.operatorAddress).toBe("10.42.0.226");
        expect(network.prefixLength).toBe(24);
        expect(network.subnet).toBe("10.42.0.0/24");
        expect([...network.hosts, network.app, network.admin, network.outsider].every((e) => e.bridgePort.length <= 15)).toBe(true);
    });

    test("app CIDRs outside the private network cannot be placed, and the error says how to fix it", () => {
        expect(() => planLabNetwork(plan(), "rha-lab", { ...settings, appCidrs: ["192.168.50.0/24"] })).toThrow(ConfigValidationError);
        expect(() => planLabNetwork(plan(), "rha-lab", { ...settings, appCidrs: ["192.168.50.0/24"] })).toThrow(/redis-ha:appCidrs = \["192.168.50.0\/24"\]: has no block inside the lab's private network 10.42.0.0\/24.*Fix: add a block of 10.42.0.0\/24/s);
    });
});

describe("nftables from the firewall policy", () => {
    const policy = buildFirewallPolicy({ redisPort: 6379, sentinelPort: 26379, appCidrs: ["10.42.0.192/27"], adminCidrs: ["10.42.0.224/28"] });
    const rules = renderNftables({ hostName: "h", rules: rulesFor(policy, { redis: true, sentinel: true }), clusterAddresses: ["10.42.0.11", "10.42.0.12"] });

    test("drops by default and admits exactly the policy's rules", () => {
        expect(rules).toContain("type filter hook input priority filter; policy drop;");
        expect(rules.split("\n").filter((l) => l.includes(" accept comment ")).map((l) => l.trim().replace(/ comment .*/, ""))).toEqual([
            "tcp dport 6379 ip saddr @cluster accept",
            "tcp dport 6379 ip saddr 10.42.0.192/27 accept",
            "tcp dport 26379 ip saddr @cluster accept",
            "tcp dport 26379 ip saddr 10.42.0.192/27 accept",
            "tcp dport 22 ip saddr 10.42.0.224/28 accept",
            "tcp dport 9121 ip saddr 10.42.0.224/28 accept",
            "tcp dport 9122 ip saddr 10.42.0.224/28 accept",
        ]);
        expect(rules).toContain("elements = { 10.42.0.11, 10.42.0.12 }");
    });

    test("a dedicated Sentinel host does not admit the Redis port", () => {
        const sentinelOnly = renderNftables({ hostName: "s", rules: rulesFor(policy, { redis: false, sentinel: true }), clusterAddresses: ["10.42.0.11"] });
        expect(sentinelOnly).not.toContain("dport 6379");
    });

    test("reloading replaces the table instead of stacking rules", () => {
        const lines = rules.split("\n");
        expect(lines.indexOf("delete table inet redis_ha")).toBeLessThan(lines.indexOf("table inet redis_ha {"));
    });
});
