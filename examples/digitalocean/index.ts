/**
 * A Pulumi program of your own with a self-healing Redis on DigitalOcean: one datacenter per node,
 * joined by VPC peering. The API token is the provider's own (DIGITALOCEAN_TOKEN), never a
 * component arg.
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallRules, RedisReplicaSet, SentinelQuorum } from "redis-ha";
import { DigitalOceanPlatform } from "redis-ha/digitalocean";

const config = new pulumi.Config();
const appCidrs = config.requireObject<string[]>("appCidrs");
const adminCidrs = config.requireObject<string[]>("adminCidrs");

const name = `cache-${pulumi.getStack()}`;
const platform = new DigitalOceanPlatform();
const firewall = new FirewallRules(name, { platform, appCidrs, adminCidrs });
const replicaSet = new RedisReplicaSet(name, {
    platform,
    firewall,
    zones: ["ams3", "fra1", "lon1"],
    replicaCount: 2,
    redisPassword: config.requireSecret("redisPassword"),
    sentinel: { password: config.requireSecret("sentinelPassword") },
    redis: { maxmemory: "1gb" },
    instanceType: "s-2vcpu-4gb",
    image: "debian-12-x64",
    sshPublicKeys: config.requireObject<string[]>("sshPublicKeys"),
    privateNetworkCidr: config.get("privateNetworkCidr") ?? "10.42.0.0/22",
    access: { user: "root" },
});
const quorum = new SentinelQuorum(name, { replicaSet, checks: { user: "root" } });

export const sentinelEndpoints = quorum.endpoints;
export const nodes = quorum.nodes;
// What the post-deploy checks found on every node (they fail `pulumi up` when unhealthy).
export const health = quorum.checkReports.apply((reports) => reports.map((r) => ({ ok: r.ok, agreedMaster: r.agreedMaster ?? null, failures: r.failures })));
