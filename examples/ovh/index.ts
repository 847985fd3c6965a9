/**
 * A Pulumi program of your own with a self-healing Redis on OVHcloud Public Cloud: one node per
 * availability zone of a 3-AZ region. Credentials are the providers' own (OS_* from the OpenStack
 * RC file, OVH_* API keys), never component args.
 */
import * as pulumi from "@pulumi/pulumi";
import { FirewallRules, RedisReplicaSet, SentinelQuorum } from "redis-ha";
import { OvhPlatform } from "redis-ha/ovh";

const config = new pulumi.Config();
const appCidrs = config.requireObject<string[]>("appCidrs");
const adminCidrs = config.requireObject<string[]>("adminCidrs");
const region = config.get("region") ?? "EU-WEST-PAR";

const name = `cache-${pulumi.getStack()}`;
const platform = new OvhPlatform({ projectId: config.require("projectId"), region });
const firewall = new FirewallRules(name, { platform, appCidrs, adminCidrs });
const replicaSet = new RedisReplicaSet(name, {
    platform,
    firewall,
    zones: ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"],
    replicaCount: 2,
    redisPassword: config.requireSecret("redisPassword"),
    sentinel: { password: config.requireSecret("sentinelPassword") },
    redis: { maxmemory: "5gb" },
    instanceType: "b3-8",
    image: "Debian 12",
    sshPublicKeys: config.requireObject<string[]>("sshPublicKeys"),
    access: { user: "debian" },
});
const quorum = new SentinelQuorum(name, { replicaSet, checks: { user: "debian" } });

export const sentinelEndpoints = quorum.endpoints;
export const nodes = quorum.nodes;
// What the post-deploy checks found on every node (they fail `pulumi up` when unhealthy).
export const health = quorum.checkReports.apply((reports) => reports.map((r) => ({ ok: r.ok, agreedMaster: r.agreedMaster ?? null, failures: r.failures })));
