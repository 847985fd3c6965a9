/**
 * A Pulumi program of your own with a self-healing Redis in it: the three redis-ha components on
 * the lab platform (network namespaces on this machine, as root). On a cloud only the platform
 * changes: `new OvhPlatform(...)` from "redis-ha/ovh" or `new DigitalOceanPlatform()` from
 * "redis-ha/digitalocean" (see ../ovh and ../digitalocean).
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallRules, RedisReplicaSet, SentinelQuorum, renderClientSnippets } from "redis-ha";
import { LabPlatform } from "redis-ha/lab";

const config = new pulumi.Config();
const privateNetworkCidr = config.require("privateNetworkCidr");
const appCidrs = config.requireObject<string[]>("appCidrs");
const adminCidrs = config.requireObject<string[]>("adminCidrs");

// Lab hosts are network namespaces named after the components: the stack in the name keeps two stacks apart.
const name = `cache-${pulumi.getStack()}`;
const platform = new LabPlatform({ id: config.get("labId") ?? `ex-${pulumi.getStack()}`.slice(0, 12), appCidrs, adminCidrs });
const firewall = new FirewallRules(name, { platform, appCidrs, adminCidrs });
const replicaSet = new RedisReplicaSet(name, {
    platform,
    firewall,
    zones: ["lab-a", "lab-b", "lab-c"],
    replicaCount: 2,
    masterName: "cache",
    redisPassword: config.requireSecret("redisPassword"),
    sentinel: { password: config.requireSecret("sentinelPassword") },
    redis: { maxmemory: "64mb" },
    instanceType: "namespace",
    image: "this-machine",
    privateNetworkCidr,
    access: { user: "root", via: "private" },
});
// The checks fail `pulumi up` unless the Sentinels agree on one master with every replica in sync.
const quorum = new SentinelQuorum(name, { replicaSet, checks: { user: "root", via: "private", timeoutSeconds: 120 } });

export const sentinelEndpoints = quorum.endpoints;
export const healthy = quorum.checkReports.apply((reports) => reports.length > 0 && reports.every((r) => r.ok));
export const agreedMaster = quorum.checkReports.apply((reports) => reports[0]?.agreedMaster ?? null);
/** The Node the program ran on (the language host runs the first `node` on PATH). */
export const nodeVersion = process.version;
export const phpredis = quorum.endpoints.apply((sentinels) => renderClientSnippets({ masterName: "cache", sentinels, sentinelAuth: true, minReplicasToWrite: 1 }).phpredis);
