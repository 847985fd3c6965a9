import { ConfigValidationError } from "../../components/core/errors";
import { plan } from "../support/render";

const zoneOf = (p: ReturnType<typeof plan>) => Object.fromEntries(p.hosts.map((h) => [h.name, h.zone]));

describe("topology planner", () => {
    test("3 colocated nodes: one per zone, master first, fixed addresses from .11", () => {
        const p = plan();
        expect(p.hosts.map((h) => [h.name, h.zone, h.redisRole, h.sentinel, h.privateAddress])).toEqual([
            ["rha-redis-0", "eu-west-par-a", "master", true, "10.42.0.11"],
            ["rha-redis-1", "eu-west-par-b", "replica", true, "10.42.0.12"],
            ["rha-redis-2", "eu-west-par-c", "replica", true, "10.42.0.13"],
        ]);
        expect(p.quorum).toBe(2);
        expect(p.sentinels.map((h) => h.name)).toEqual(["rha-redis-0", "rha-redis-1", "rha-redis-2"]);
        expect(p.subnets).toEqual([{ zone: "*", cidr: "10.42.0.0/24", dhcpStart: "10.42.0.128", dhcpEnd: "10.42.0.254" }]);
    });

    test("dedicated Sentinels get VMs of their own, starting one zone after the master's", () => {
        const p = plan({ sentinelPlacement: "dedicated" });
        expect(p.hosts.filter((h) => h.kind === "sentinel").map((h) => [h.name, h.zone, h.privateAddress])).toEqual([
            ["rha-sentinel-0", "eu-west-par-b", "10.42.0.14"],
            ["rha-sentinel-1", "eu-west-par-c", "10.42.0.15"],
            ["rha-sentinel-2", "eu-west-par-a", "10.42.0.16"],
        ]);
        expect(p.hosts.filter((h) => h.kind === "redis").every((h) => !h.sentinel)).toBe(true);
    });

    test("no zone ever holds the master and a majority of Sentinels", () => {
        for (const zones of [["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]]) {
            for (const sentinelCount of [3, 5, 7]) {
                for (const replicaCount of [2, 4, 6]) {
                    for (const placement of ["colocated", "dedicated"] as const) {
                        let p;
                        try {
                            p = plan({ zones, sentinelCount, replicaCount, sentinelPlacement: placement });
                        } catch (e) {
                            expect(e).toBeInstanceOf(ConfigValidationError);
                            continue;
                        }
                        const masterZone = p.master.zone;
                        const inMasterZone = p.sentinels.filter((s) => s.zone === masterZone).length;
                        expect(inMasterZone).toBeLessThan(Math.floor(sentinelCount / 2) + 1);
                    }
                }
            }
        }
    });

    test("a rejected spread names the zone and the fix", () => {
        expect(() => plan({ zones: ["a", "b"] })).toThrow(/zone a would hold the master and 2 of 3 Sentinels.*sentinelPlacement dedicated/s);
    });

    test("cloud-assigned addresses: no fixed address, one VPC block per datacenter", () => {
        const p = plan({ addressing: "dynamic", zones: ["ams3", "fra1", "lon1"], zoneKind: "datacenter", privateNetworkCidr: "10.42.0.0/22" });
        expect(p.hosts.every((h) => h.privateAddress === undefined)).toBe(true);
        expect(p.subnets).toEqual([
            { zone: "ams3", cidr: "10.42.0.0/24" },
            { zone: "fra1", cidr: "10.42.1.0/24" },
            { zone: "lon1", cidr: "10.42.2.0/24" },
        ]);
        expect(zoneOf(p)).toEqual({ "rha-redis-0": "ams3", "rha-redis-1": "fra1", "rha-redis-2": "lon1" });
    });

    test("host names derive from the prefix, so two deployments can share a stack", () => {
        const a = plan({ namePrefix: "sessions" });
        const b = plan({ namePrefix: "cache" });
        const names = [...a.hosts, ...b.hosts].map((h) => h.name);
        expect(new Set(names).size).toBe(names.length);
    });
});
